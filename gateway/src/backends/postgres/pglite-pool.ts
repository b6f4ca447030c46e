/**
 * A `pg.Pool`-shaped view of the embedded database, for LangGraph's PostgresSaver.
 *
 * Why not PostgresSaver over @electric-sql/pglite-socket: PGlite has exactly one backend
 * connection. A second client (the socket) would interleave its statements into whatever
 * transaction the Kysely side has open, and vice versa. Here every checkpointer query goes through
 * the same Kysely driver, and the database thread keeps an open transaction to the connection
 * that opened it (pglite-thread.ts), so a checkpointer transaction (`connect` → BEGIN … COMMIT →
 * `release`) and a storage transaction are serialized, never mixed. The checkpointer SQL itself
 * is the tested upstream one, and both databases run the same conformance suite.
 */
import { CompiledQuery, type Kysely } from 'kysely';

export interface PoolQueryResult {
  rows: Record<string, unknown>[];
}

/** The subset of `pg.PoolClient` that PostgresSaver uses. */
export interface PoolClientLike {
  query(text: string, params?: readonly unknown[]): Promise<PoolQueryResult>;
  release(): void;
}

/** The subset of `pg.Pool` that PostgresSaver uses. */
export interface PoolLike {
  query(text: string, params?: readonly unknown[]): Promise<PoolQueryResult>;
  connect(): Promise<PoolClientLike>;
  end(): Promise<void>;
}

/** Wraps a Kysely instance (on the PGlite dialect) as a pool of one serialized connection. */
export function kyselyPool<DB>(db: Kysely<DB>): PoolLike {
  return {
    async query(text, params = []) {
      const result = await db.executeQuery(CompiledQuery.raw(text, [...params]));
      return { rows: result.rows as Record<string, unknown>[] };
    },
    connect() {
      return new Promise<PoolClientLike>((resolve, reject) => {
        let release!: () => void;
        const released = new Promise<void>((r) => (release = r));
        db.connection()
          .execute(async (conn) => {
            let done = false;
            resolve({
              async query(text, params = []) {
                if (done) throw new Error('query on a released client');
                const result = await conn.executeQuery(CompiledQuery.raw(text, [...params]));
                return { rows: result.rows as Record<string, unknown>[] };
              },
              release() {
                done = true;
                release();
              },
            });
            await released;
          })
          .catch(reject);
      });
    },
    // The connection belongs to the storage; closing it is the storage's job.
    async end() {},
  };
}
