/** The persistence layer: storage contract, its PGlite/Postgres implementation, the checkpointer. */
export { openStorage } from './open-storage.js';
export { createCheckpointer } from './checkpointer.js';
export {
  ConflictError,
  InvalidInputError,
  MigrationError,
  NotFoundError,
  StorageError,
  StorageErrorCode,
  StorageUnavailableError,
} from './errors.js';
export type { Checkpointer } from './checkpointer.js';
export type {
  AppendMessageInput,
  MemoryHit,
  MemoryRecord,
  MemoryRepository,
  Message,
  MessagePage,
  MessageRepository,
  MessageRole,
  OpenStorageOptions,
  RefreshTokenRecord,
  RefreshTokenRepository,
  Session,
  SessionRepository,
  Storage,
  StorageKind,
  StorageLogger,
  UsageRepository,
  User,
  UserRepository,
  UserWithPassword,
} from './types.js';
