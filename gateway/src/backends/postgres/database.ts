/** Opens either database behind one Kysely instance, prepares extensions, runs migrations. */
import { mkdirSync } from 'node:fs';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { Kysely, Migrator, PostgresDialect, sql, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { InvalidInputError, MigrationError, PgState, sqlState, StorageUnavailableError } from './errors.js';
import { migrationProvider } from './migrations.js';
import { kyselyPool, type PoolLike } from './pglite-pool.js';
import { PgliteThreadDialect } from './pglite-dialect.js';
import { openPgliteThread, type PgliteClient } from './pglite-thread.js';
import type { Database } from './schema.js';
import type { OpenStorageOptions, StorageKind, StorageLogger } from './types.js';

/** Everything the repositories share. Internal to the storage module. */
export interface DbContext {
  db: Kysely<Database>;
  kind: StorageKind;
  /** pgvector is installed and wanted: memory search uses the vector column and HNSW index. */
  hasVector: boolean;
  /** pgvector ≥ 0.8 (iterative index scans keep per-user filtered results complete). */
  iterativeScan: boolean;
  /**
   * `hnsw.iterative_scan` is already set for the session (PGlite's one connection, set at open;
   * each server connection by its start-up options), so a memory search needs no transaction of
   * its own for `SET LOCAL`.
   */
  iterativeScanSet: boolean;
  schema: string;
  logger: StorageLogger;
  /** The pool LangGraph's PostgresSaver runs on. */
  saverPool: PoolLike | pg.Pool;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const silent: StorageLogger = { info() {}, warn() {}, error() {} };

/** Opens, migrates and returns the shared context. */
export async function openDatabase(options: OpenStorageOptions): Promise<DbContext> {
  const logger = options.logger ?? silent;
  const wantVector = options.vector ?? true;
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new InvalidInputError(`schema must match ${SCHEMA_NAME}: ${schema}`);

  let ctx: DbContext;
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolMax ?? 10,
      // The schema first; `public` after it, where extensions such as pgvector live. pgvector ≥ 0.8
      // keeps scanning its index until a filtered search has its k rows: set for every connection
      // at its start, so a memory search needs no transaction for `SET LOCAL` (four round trips
      // instead of one). An older pgvector, or none, leaves the setting unused.
      options: `-c search_path=${schema},public -c hnsw.iterative_scan=strict_order`,
    });
    pool.on('error', (error) => logger.error('postgres pool error', { error: error.message }));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    ctx = base(db, 'postgres', schema, logger, pool, async () => void (await db.destroy()));
    try {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
    } catch (error) {
      await ctx.close().catch(() => {});
      throw new StorageUnavailableError(`cannot connect to Postgres: ${(error as Error).message}`, { cause: error });
    }
  } else {
    if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
    // PGlite runs in a worker thread: its WASM never holds the event loop that serves the sockets.
    let client: PgliteClient;
    try {
      client = await openPgliteThread({ ...(options.dataDir ? { dataDir: options.dataDir } : {}), vector: wantVector });
    } catch (error) {
      throw new StorageUnavailableError(`cannot open PGlite in ${options.dataDir ?? 'memory'}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const db = new Kysely<Database>({ dialect: new PgliteThreadDialect(client) });
    ctx = base(db, 'pglite', 'public', logger, kyselyPool(db), async () => void (await db.destroy()));
  }

  try {
    const prepare = async () => {
      if (wantVector) await enableVector(ctx);
      await migrate(ctx);
      await upgradeEmbeddingColumn(ctx);
      await setupCheckpointTables(ctx);
    };
    if (options.databaseUrl) await underMigrationLock(options.databaseUrl, schema, logger, prepare);
    else await prepare();
    if (ctx.kind === 'pglite' && ctx.iterativeScan) {
      // One connection: set once for the session, instead of a transaction per memory search.
      await sql`SET hnsw.iterative_scan = strict_order`.execute(ctx.db);
    }
    // Server connections have it from their start-up options (above).
    ctx.iterativeScanSet = ctx.iterativeScan;
  } catch (error) {
    await ctx.close().catch(() => {});
    throw error;
  }
  if (!ctx.hasVector) {
    logger.warn(
      wantVector
        ? 'pgvector is not available: memory search runs exact cosine similarity without an index'
        : 'pgvector disabled by configuration: memory search runs exact cosine similarity without an index',
      { kind: ctx.kind },
    );
  }
  logger.info('storage open', { kind: ctx.kind, vector: ctx.hasVector, schema: ctx.schema });
  return ctx;
}

/** The advisory lock's first key: the same for every Switchboard process (`hashtext('switchboard.migrate')` would do too; a constant is plainer). */
export const MIGRATION_LOCK_KEY = 0x5b0a_4d19;

/**
 * Runs `fn` (extensions, migrations, checkpoint tables) while holding a session-level Postgres
 * advisory lock on (`MIGRATION_LOCK_KEY`, hash of the schema) on a connection of its own, so
 * replicas that start together on a fresh database migrate one after the other: the first does
 * the work, the rest find it done. The lock is released on unlock or when the connection ends,
 * also if the process dies.
 */
async function underMigrationLock(url: string, schema: string, logger: StorageLogger, fn: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', (error) => logger.error('postgres migration lock connection error', { error: error.message }));
  try {
    await client.connect();
  } catch (error) {
    throw new StorageUnavailableError(`cannot connect to Postgres: ${(error as Error).message}`, { cause: error });
  }
  try {
    const started = Date.now();
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_KEY, schema]);
    const waitedMs = Date.now() - started;
    if (waitedMs > 100) logger.info('waited for another process to finish migrating', { waitedMs });
    try {
      await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_KEY, schema]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

function base(
  db: Kysely<Database>,
  kind: StorageKind,
  schema: string,
  logger: StorageLogger,
  saverPool: PoolLike | pg.Pool,
  close: () => Promise<void>,
): DbContext {
  let closing: Promise<void> | undefined;
  return {
    db,
    kind,
    schema,
    logger,
    saverPool,
    hasVector: false,
    iterativeScan: false,
    iterativeScanSet: false,
    close: () => (closing ??= close()),
  };
}

async function vectorVersion(ctx: DbContext): Promise<string | null> {
  const { rows } = await sql<{ v: string }>`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`.execute(ctx.db);
  return rows[0]?.v ?? null;
}

/** Creates the extension where possible; a server without pgvector (or without the right) is fine. */
async function enableVector(ctx: DbContext): Promise<void> {
  let version = await vectorVersion(ctx);
  if (!version) {
    try {
      await sql`CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public`.execute(ctx.db);
    } catch (error) {
      // Another process may have created it at the same moment (unique violation); anything else
      // means it is not installed or we may not create it, and the fallback takes over.
      if (sqlState(error) !== PgState.UniqueViolation) {
        ctx.logger.info('CREATE EXTENSION vector failed', { error: (error as Error).message });
      }
    }
    version = await vectorVersion(ctx);
  }
  if (!version) return;
  ctx.hasVector = true;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  ctx.iterativeScan = major > 0 || minor >= 8;
}

/** Runs the pending migrations of `provider` (the shipped ones by default), in name order, even those sorting before an applied one. */
export async function migrate(ctx: DbContext, provider: MigrationProvider = migrationProvider({ vector: ctx.hasVector })): Promise<void> {
  // The migration bookkeeping lives in the storage's own schema: found through the search path,
  // another schema's (e.g. public's) would make a fresh schema look migrated already.
  const migrator = new Migrator({
    db: ctx.db,
    provider,
    // Branches number their migrations independently: one that sorts before an applied one still runs.
    allowUnorderedMigrations: true,
    ...(ctx.kind === 'postgres' ? { migrationTableSchema: ctx.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  const applied = results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
  if (applied.length > 0) ctx.logger.info('storage migrations applied', { migrations: applied });
}

/** A database that gained pgvector after its first migration moves memories onto a vector column. */
async function upgradeEmbeddingColumn(ctx: DbContext): Promise<void> {
  if (!ctx.hasVector) return;
  const { rows } = await sql<{ udt: string }>`
    SELECT udt_name AS udt FROM information_schema.columns
    WHERE table_schema = ${ctx.schema} AND table_name = 'memories' AND column_name = 'embedding'`.execute(ctx.db);
  if (rows[0]?.udt === '_float4') {
    await sql`ALTER TABLE memories ALTER COLUMN embedding TYPE vector USING embedding::vector`.execute(ctx.db);
    ctx.logger.info('memories.embedding moved to a pgvector column');
  }
}

/** Creates LangGraph's checkpoint tables now, so deleting a session can always delete its checkpoints. */
async function setupCheckpointTables(ctx: DbContext): Promise<void> {
  const saver = new PostgresSaver(ctx.saverPool as pg.Pool, undefined, { schema: ctx.schema });
  try {
    await saver.setup();
  } catch (error) {
    // Two processes migrating at once: one wins the version row; the other's retry sees it.
    if (sqlState(error) !== PgState.UniqueViolation) throw error;
    await saver.setup();
  }
}
