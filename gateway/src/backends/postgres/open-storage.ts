import { sql } from 'kysely';
import { openDatabase, type DbContext } from './database.js';
import { StorageUnavailableError } from './errors.js';
import { memoryRepository } from './memories.js';
import { messageRepository } from './messages.js';
import { refreshTokenRepository } from './refresh-tokens.js';
import { runRecordRepository } from './run-records.js';
import { runEndRepository } from './run-ends.js';
import { sessionRepository } from './sessions.js';
import type { OpenStorageOptions, Storage } from './types.js';
import { questionCacheRepository } from './questions.js';
import { spendRepository } from './spend.js';
import { usageRepository } from './usage.js';
import { feedbackRepository } from './feedback.js';
import { userRepository } from './users.js';

/** Where `createCheckpointer` finds the database behind a Storage. */
export const DB_CONTEXT: unique symbol = Symbol('switchboard.storage.db');

/** A Storage as returned by {@link openStorage}, with its internals reachable for the checkpointer. */
export interface OpenedStorage extends Storage {
  readonly [DB_CONTEXT]: DbContext;
}

/**
 * Opens the persistence layer: server Postgres when `databaseUrl` is set, else PGlite in
 * `dataDir` (or in memory). Runs migrations, enables pgvector where it can, and creates
 * LangGraph's checkpoint tables.
 *
 * @example
 * const storage = await openStorage({ dataDir: './data/pg', logger });
 * const user = await storage.users.create({ email, passwordHash });
 * @throws StorageUnavailableError when the database cannot be opened or reached
 * @throws MigrationError when a migration fails
 */
export async function openStorage(options: OpenStorageOptions = {}): Promise<Storage> {
  const ctx = await openDatabase(options);
  let closed = false;
  const storage: OpenedStorage = {
    kind: ctx.kind,
    hasVector: ctx.hasVector,
    users: userRepository(ctx),
    refreshTokens: refreshTokenRepository(ctx),
    sessions: sessionRepository(ctx),
    messages: messageRepository(ctx),
    usage: usageRepository(ctx),
    spend: spendRepository(ctx),
    questions: questionCacheRepository(ctx),
    memories: memoryRepository(ctx),
    runs: runRecordRepository(ctx),
    runEnds: runEndRepository(ctx),
    feedback: feedbackRepository(ctx),
    async ping() {
      if (closed) throw new StorageUnavailableError('storage is closed');
      try {
        await sql`SELECT 1`.execute(ctx.db);
      } catch (error) {
        throw new StorageUnavailableError(`database does not answer: ${(error as Error).message}`, { cause: error });
      }
    },
    async close() {
      closed = true;
      await ctx.close();
    },
    [DB_CONTEXT]: ctx,
  };
  return storage;
}
