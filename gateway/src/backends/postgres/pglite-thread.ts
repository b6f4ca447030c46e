/**
 * PGlite in a worker thread, so the database's WASM never holds the event loop that serves the
 * sockets. The opening thread gets an object with the two methods the Kysely PGlite dialect calls
 * (`query`, `close`); each query crosses as a message `{ id, sql, params }` and comes back as
 * `{ id, rows }` or `{ id, error }`. Values cross as structured clones (Date, Uint8Array, bigint
 * survive); a database error comes back as an Error with its SQLSTATE `code` and other fields, so
 * error mapping works as in-process. The thread answers strictly in order: PGlite has one
 * connection, and the Kysely driver above hands it to one holder at a time. A statement with
 * parameters is prepared the first time its text is seen and bound to that statement afterwards.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The part of PGlite the Kysely dialect uses. */
export interface PgliteClient {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  close(): Promise<void>;
}

/** Options of {@link openPgliteThread}. */
export interface PgliteThreadOptions {
  /** Directory of the database files; in memory when absent. */
  dataDir?: string;
  /** Load pgvector. */
  vector: boolean;
}

type Answer = { id: number; ok: true; rows: Record<string, unknown>[]; affectedRows?: number } | { id: number; ok: false; error: ErrorData };
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
  let chain = Promise.resolve();
  parentPort.on('message', (req) => {
    chain = chain.then(async () => {
      try {
        if (req.op === 'close') {
          await db.close();
          parentPort.postMessage({ id: req.id, ok: true, rows: [] });
          return;
        }
        const r = await run(req.sql, req.params);
        // The parsed bytea arrays are fresh and exact-size: moved to the opening thread, not copied.
        const moved = [];
        for (const row of r.rows) for (const k in row) if (row[k] instanceof Uint8Array) moved.push(row[k].buffer);
        parentPort.postMessage({ id: req.id, ok: true, rows: r.rows, affectedRows: r.affectedRows }, moved);
      } catch (e) {
        parentPort.postMessage({ id: req.id, ok: false, error: errorData(e) });
      }
    });
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

  const request = (req: { op: 'query'; sql: string; params: unknown[] } | { op: 'close' }): Promise<Answer> => {
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
    async query<T>(sql: string, params: unknown[] = []) {
      const a = await request({ op: 'query', sql, params });
      if (!a.ok) throw toError(a.error);
      return { rows: a.rows as T[], ...(a.affectedRows !== undefined ? { affectedRows: a.affectedRows } : {}) };
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
