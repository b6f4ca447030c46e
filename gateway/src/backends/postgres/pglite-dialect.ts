/**
 * Kysely's dialect for the PGlite thread (pglite-thread.ts). Written here rather than taken from
 * `kysely-pglite-dialect`: that driver lends PGlite's one connection to one holder at a time, so a
 * query waits for the previous holder's answer to cross back to this thread and for this event
 * loop to get to it before it is even sent; under load the connection sat idle for most of that
 * and per-run statements queued behind it. Here every Kysely connection is a holder id: each
 * statement is sent at once, and the thread keeps a holder's open transaction to itself.
 */
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { PgliteClient } from './pglite-thread.js';

class ThreadConnection implements DatabaseConnection {
  constructor(
    private readonly client: PgliteClient,
    readonly holder: number,
  ) {}

  /** Whether the holder's transaction was open after its last statement. */
  inTransaction = false;

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.client.query<R>(compiledQuery.sql, [...compiledQuery.parameters], this.holder);
      this.inTransaction = result.inTransaction;
      return result.affectedRows ? { rows: result.rows, numAffectedRows: BigInt(result.affectedRows) } : { rows: result.rows };
    } catch (error) {
      this.inTransaction = (error as { inTransaction?: boolean }).inTransaction === true;
      throw error;
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new Error('chunkSize must be a positive integer');
    const { rows } = await this.executeQuery<R>(compiledQuery);
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) };
  }
}

class ThreadDriver implements Driver {
  #nextHolder = 1;

  constructor(private readonly client: PgliteClient) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new ThreadConnection(this.client, this.#nextHolder++);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const sql = settings.isolationLevel ? `start transaction isolation level ${settings.isolationLevel}` : 'begin';
    await connection.executeQuery(CompiledQuery.raw(sql));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    // Only a holder that left a transaction open needs the thread to hear of it (it rolls back).
    const c = connection as ThreadConnection;
    if (c.inTransaction) this.client.release(c.holder);
  }

  async destroy(): Promise<void> {
    await this.client.close();
  }
}

/** Kysely on the PGlite thread: Postgres SQL, statements pipelined to the thread. */
export class PgliteThreadDialect implements Dialect {
  constructor(private readonly client: PgliteClient) {}

  createAdapter() {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new ThreadDriver(this.client);
  }

  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's introspector takes any database.
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
}
