/**
 * Typed storage errors. Every failure the storage layer reports on purpose is one of these, with a
 * stable `code`; the HTTP/socket layer maps codes to statuses in one place (`conflict` → 409,
 * `not_found` → 404, `invalid_input` → 400, `unavailable` → 503).
 */

/** Stable codes of storage failures. */
export const StorageErrorCode = {
  /** A unique value is already taken (e.g. an email, case-insensitive). */
  Conflict: 'conflict',
  /** The row the operation refers to does not exist (or belongs to another user). */
  NotFound: 'not_found',
  /** An argument is malformed (bad id, empty text, wrong embedding). */
  InvalidInput: 'invalid_input',
  /** The database cannot be reached or refused to open. */
  Unavailable: 'unavailable',
  /** Migrations failed at open. */
  MigrationFailed: 'migration_failed',
} as const;

export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/** Base class of all storage errors. */
export class StorageError extends Error {
  override readonly name: string = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
}

/** A unique constraint was hit, e.g. `users.create` with an email that is already registered. */
export class ConflictError extends StorageError {
  override readonly name = 'ConflictError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(StorageErrorCode.Conflict, message, options);
  }
}

/** The referenced row does not exist, e.g. appending a message to a deleted session. */
export class NotFoundError extends StorageError {
  override readonly name = 'NotFoundError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(StorageErrorCode.NotFound, message, options);
  }
}

/** An argument is malformed; the message says which and why. */
export class InvalidInputError extends StorageError {
  override readonly name = 'InvalidInputError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(StorageErrorCode.InvalidInput, message, options);
  }
}

/** The database could not be opened or reached. */
export class StorageUnavailableError extends StorageError {
  override readonly name = 'StorageUnavailableError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(StorageErrorCode.Unavailable, message, options);
  }
}

/** A migration failed while opening the database. */
export class MigrationError extends StorageError {
  override readonly name = 'MigrationError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(StorageErrorCode.MigrationFailed, message, options);
  }
}

/** The SQLSTATE of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** SQLSTATEs the repositories translate. */
export const PgState = {
  UniqueViolation: '23505',
  ForeignKeyViolation: '23503',
  UndefinedTable: '42P01',
  DuplicateTable: '42P07',
  DuplicateObject: '42710',
} as const;
