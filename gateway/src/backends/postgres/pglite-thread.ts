/**
 * PGlite in a worker thread, so the database's WASM never holds the event loop that serves the
 * sockets. The opening thread gets a client (`query`, `release`, `close`); each query crosses as a
 * message `{ id, holder, sql, params }` and comes back as `{ id, rows, tx }` or `{ id, error }`.
 * Values cross as structured clones (Date, Uint8Array, bigint survive); a database error comes back
 * as an Error with its SQLSTATE `code` and other fields, so error mapping works as in-process. A
 * statement with parameters is prepared the first time its text is seen and bound to that
 * statement afterwards.
 *
 * PGlite has one connection. Statements are pipelined: the opening thread sends them as they come
 * and the thread runs them in order, so the connection never waits for the opening thread's event
 * loop between two statements (a driver that lent the connection to one holder at a time held it
 * idle for the whole round trip, and under load queries queued behind that idle time). Each
 * statement names its holder (a Kysely connection); while a holder's transaction is open
 * (`BEGIN` … `COMMIT`/`ROLLBACK`, as PGlite reports it), other holders' statements wait in the
 * thread and run after it, in order, so none ever lands inside another's transaction.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What a statement's answer carries besides its rows: whether its holder's transaction is open after it. */
export interface PgliteResult<T> {
  rows: T[];
  affectedRows?: number;
  /** The holder has a transaction open after this statement (its next statements keep the connection). */
  inTransaction: boolean;
}

/** The database thread, as the opening thread sees it. */
export interface PgliteClient {
  /**
   * Runs one statement for `holder` (a connection's id; 0 when none): sent at once, run in order
   * with everyone's, except that while another holder's transaction is open it runs after that.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], holder?: number): Promise<PgliteResult<T>>;
  /** The holder is done with its connection: a transaction it left open is rolled back. */
  release(holder: number): void;
  close(): Promise<void>;
}

/** Options of {@link openPgliteThread}. */
export interface PgliteThreadOptions {
  /** Directory of the database files; in memory when absent. */
  dataDir?: string;
  /** Load pgvector. */
  vector: boolean;
}

type Answer =
  | { id: number; ok: true; rows: Record<string, unknown>[]; affectedRows?: number; tx?: boolean }
  | { id: number; ok: false; error: ErrorData; tx?: boolean };
type ErrorData = { message: string; fields: Record<string, unknown> };

// The thread's program. Plain JavaScript run with `eval`, so the same code runs under the
// TypeScript loader (tests, `pnpm dev`) and from the compiled build; the modules it loads are
// resolved by the opening thread and passed in.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite, protocol, parse } = require(workerData.modules.pglite);
const errorData = (e) => {
  if (!(e instanceof Error)) return { message: String(e), fields: {} };
  const fields = {};
  for (const [k, v] of Object.entries(e)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[k] = v;
  return { message: e.message, fields };
};
(async () => {
  let db;
  try {
    const extensions = workerData.vector ? { vector: require(workerData.modules.vector).vector } : {};
    db = await PGlite.create({ ...(workerData.dataDir ? { dataDir: workerData.dataDir } : {}), extensions });
  } catch (e) {
    parentPort.postMessage({ id: 0, ok: false, error: errorData(e) });
    return;
  }
  parentPort.postMessage({ id: 0, ok: true, rows: [] });
  // bytea (type 17) through Buffer's native hex codec: PGlite's own serializer and parser go byte
  // by byte through strings (the checkpointer's blobs made them the thread's largest JS cost).
  const BYTEA = 17;
  const byteaOptions = {
    serializers: { [BYTEA]: (v) => {
      if (!(v instanceof Uint8Array)) throw new Error('Invalid input for bytea type');
      return '\\\\x' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    } },
    // A fresh exact-size array: a pooled Buffer's view would clone its whole 8 KiB pool slab.
    parsers: { [BYTEA]: (text) => new Uint8Array(Buffer.from(text.slice(2), 'hex')) },
  };
  // Statements with parameters are prepared once (named) and then bound and executed in one
  // protocol exchange: PGlite's query() parses, describes, binds, describes and executes in five
  // calls into the WASM, and parsing and planning the same text again each time was most of a
  // per-run statement's cost. Values are serialized and rows parsed as query() does.
  const { serialize } = protocol;
  const MAX_PREPARED = 256;
  const prepared = new Map();
  const concat = (parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.byteLength; }
    return out;
  };
  const statementOf = async (sql) => {
    let st = prepared.get(sql);
    if (st || prepared.size >= MAX_PREPARED) return st;
    const name = 'sb_' + prepared.size;
    const { messages } = await db.execProtocol(concat([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]), { syncToFs: false });
    const description = messages.find((m) => m.name === 'parameterDescription');
    st = { name, types: description ? description.dataTypeIDs : [] };
    prepared.set(sql, st);
    return st;
  };
  const forget = async (sql) => {
    const st = prepared.get(sql);
    if (!st) return;
    prepared.delete(sql);
    await db.execProtocol(concat([serialize.close({ type: 'S', name: st.name }), serialize.sync()]), { syncToFs: false, throwOnError: false });
  };
  const run = async (sql, params) => {
    if (params.length === 0) return db.query(sql, params, byteaOptions);
    const st = await statementOf(sql);
    if (!st) return db.query(sql, params, byteaOptions);
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      // bytea crosses in binary format: no hex text to build here and to decode in the WASM.
      if (st.types[i] === BYTEA && v instanceof Uint8Array) return v;
      const serializer = byteaOptions.serializers[st.types[i]] ?? db.serializers[st.types[i]];
      return serializer ? serializer(v) : v.toString();
    });
    try {
      const { messages } = await db.execProtocol(concat([serialize.bind({ statement: st.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]));
      return parse.parseResults(messages, db.parsers, byteaOptions)[0];
    } catch (e) {
      // A schema change under a prepared statement: prepare it again next time, run it as before now.
      if (e && e.code === '0A000') {
        await forget(sql);
        return db.query(sql, params, byteaOptions);
      }
      throw e;
    }
  };
  // In order, but for the holder of an open transaction: while one is open only its own
  // statements (and its release) run; the others wait in the queue, in their order.
  const queue = [];
  let holderInTx = 0;
  let pumping = false;
  const next = () => {
    if (holderInTx === 0) return queue.length > 0 ? 0 : -1;
    return queue.findIndex((r) => r.holder === holderInTx || r.op === 'close');
  };
  const handle = async (req) => {
    if (req.op === 'close') {
      await db.close();
      parentPort.postMessage({ id: req.id, ok: true, rows: [] });
      return;
    }
    if (req.op === 'release') {
      // A holder let go of its connection with its transaction still open: roll it back, so the
      // statements waiting behind it can run.
      if (holderInTx === req.holder && db.isInTransaction()) await db.query('ROLLBACK').catch(() => {});
      holderInTx = db.isInTransaction() ? holderInTx : 0;
      return;
    }
    let r, error, failed = false;
    try {
      r = await run(req.sql, req.params);
    } catch (e) {
      error = e;
      failed = true;
    }
    // Failed or not, the statement may have opened or ended its holder's transaction.
    const tx = db.isInTransaction();
    holderInTx = tx ? req.holder : 0;
    if (failed) return parentPort.postMessage({ id: req.id, ok: false, error: errorData(error), tx });
    // The parsed bytea arrays are fresh and exact-size: moved to the opening thread, not copied.
    const moved = [];
    for (const row of r.rows) for (const k in row) if (row[k] instanceof Uint8Array) moved.push(row[k].buffer);
    parentPort.postMessage({ id: req.id, ok: true, rows: r.rows, affectedRows: r.affectedRows, tx }, moved);
  };
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      for (let i = next(); i >= 0; i = next()) await handle(queue.splice(i, 1)[0]);
    } finally {
      pumping = false;
    }
  };
  parentPort.on('message', (req) => {
    queue.push(req);
    void pump();
  });
})();
`;

function toError(e: ErrorData): Error {
  return Object.assign(new Error(e.message), e.fields);
}

/**
 * Starts the database thread and opens PGlite in it.
 * @example const client = await openPgliteThread({ dataDir: './data/pg', vector: true });
 * @throws Error when PGlite cannot open `dataDir`
 */
export async function openPgliteThread(options: PgliteThreadOptions): Promise<PgliteClient> {
  const resolve = createRequire(import.meta.url).resolve;
  const modules = { pglite: resolve('@electric-sql/pglite'), vector: resolve('@electric-sql/pglite-pgvector') };
  const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { ...options, modules } });
  const waiting = new Map<number, (a: Answer) => void>();
  let nextId = 1;
  let failure: Error | null = null;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const settle of waiting.values()) settle({ id: 0, ok: false, error: { message: error.message, fields: {} } });
    waiting.clear();
  };
  const opened = new Promise<Answer>((r) => waiting.set(0, r));
  worker.on('message', (a: Answer) => {
    const settle = waiting.get(a.id);
    if (!settle) return;
    waiting.delete(a.id);
    settle(a);
    // Referenced only while a request is out: an idle database thread does not keep the process alive.
    if (waiting.size === 0) worker.unref();
  });
  worker.on('error', (e) => failAll(e));
  worker.on('exit', (code) => failAll(new Error(`the database thread exited (${code})`)));

  const request = (req: { op: 'query'; sql: string; params: unknown[]; holder: number } | { op: 'close' }): Promise<Answer> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    if (waiting.size === 0) worker.ref();
    return new Promise<Answer>((r) => {
      waiting.set(id, r);
      if (req.op === 'close') return worker.postMessage({ ...req, id });
      // Binary parameters cross as exact-size copies moved to the thread: a structured clone would
      // copy each view's whole backing store (a pooled Buffer's 8 KiB slab) on this thread.
      const moved: ArrayBuffer[] = [];
      const params = req.params.map((p) => {
        if (!(p instanceof Uint8Array)) return p;
        const copy = new Uint8Array(p);
        moved.push(copy.buffer);
        return copy;
      });
      worker.postMessage({ ...req, params, id }, moved);
    });
  };

  const first = await opened;
  if (!first.ok) {
    await worker.terminate();
    throw toError(first.error);
  }
  let closing: Promise<void> | undefined;
  return {
    async query<T>(sql: string, params: unknown[] = [], holder = 0) {
      const a = await request({ op: 'query', sql, params, holder });
      if (!a.ok) throw Object.assign(toError(a.error), { inTransaction: a.tx === true });
      return { rows: a.rows as T[], ...(a.affectedRows !== undefined ? { affectedRows: a.affectedRows } : {}), inTransaction: a.tx === true };
    },
    release(holder: number) {
      if (!failure) worker.postMessage({ op: 'release', holder });
    },
    close() {
      closing ??= (async () => {
        if (!failure) await request({ op: 'close' }).catch(() => {});
        failure ??= new Error('the database is closed');
        await worker.terminate();
      })();
      return closing;
    },
  };
}
