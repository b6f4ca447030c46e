/**
 * LangGraph checkpointer on the storage's own database: thread id = session id, so any gateway
 * process sharing the database can run a session's next turn, and PGlite keeps conversation
 * context across restarts.
 *
 * Both databases use the upstream PostgresSaver and its SQL. Server Postgres: on the storage's
 * `pg` pool (same schema). PGlite: on a pool-shaped adapter over the storage's Kysely connection,
 * so checkpointer and storage transactions are serialized on PGlite's single connection (see
 * pglite-pool.ts for why not pglite-socket). Tables are created when the storage opens.
 */
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type pg from 'pg';
import { InvalidInputError } from './errors.js';
import { DB_CONTEXT, type OpenedStorage } from './open-storage.js';
import type { Storage } from './types.js';

/** PostgresSaver whose pool belongs to the storage: `end()` leaves it open. */
class StoragePostgresSaver extends PostgresSaver {
  override async end(): Promise<void> {}
}

/** A checkpointer as LangGraph expects it, plus `deleteThread` (used when a session is deleted). */
export type Checkpointer = PostgresSaver;

/**
 * Creates a checkpointer on the storage's database. Closing the storage closes it too.
 *
 * @example
 * const checkpointer = createCheckpointer(storage);
 * const graph = builder.compile({ checkpointer });
 * await checkpointer.deleteThread(sessionId);
 */
export function createCheckpointer(storage: Storage): Checkpointer {
  const ctx = (storage as Partial<OpenedStorage>)[DB_CONTEXT];
  if (!ctx) throw new InvalidInputError('createCheckpointer needs a Storage returned by openStorage');
  // Tables were created at open (setup() is idempotent if a caller runs it again).
  return new StoragePostgresSaver(ctx.saverPool as pg.Pool, undefined, { schema: ctx.schema });
}
