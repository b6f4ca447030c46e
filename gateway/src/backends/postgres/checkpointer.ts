/**
 * LangGraph checkpointer on the storage's own database: thread id = session id, so any gateway
 * process sharing the database can run a session's next turn, and PGlite keeps conversation
 * context across restarts.
 *
 * Both databases use the upstream PostgresSaver: its tables, its serialization and (for `list`,
 * `deleteThread` and old-format checkpoints) its SQL. Server Postgres: on the storage's `pg` pool
 * (same schema). PGlite: on a pool-shaped adapter over the storage's Kysely connection, so
 * checkpointer and storage transactions are serialized on PGlite's single connection (see
 * pglite-pool.ts for why not pglite-socket). Tables are created when the storage opens.
 *
 * Three methods run on every turn and are one statement each here, where upstream needs several
 * round trips (same rows, same tables, so either implementation reads what the other wrote):
 * - `put`: the changed channels' blobs and the checkpoint row in one INSERT (a data-modifying CTE
 *   is atomic without BEGIN/COMMIT); upstream sends BEGIN, one INSERT per blob, the checkpoint, COMMIT.
 * - `putWrites`: all writes of a task in one multi-row INSERT.
 * - `getTuple`: the checkpoint, its blobs and its pending writes as rows of one query, each blob a
 *   plain `bytea` column; upstream aggregates them into `bytea[][]` arrays, which the `pg` driver
 *   parses character by character (9% of a turn's CPU, growing with the conversation).
 *
 * Blobs are immutable per (thread, namespace, channel, version), so the values this process wrote
 * or read last for a thread are kept (bounded by their serialized size): the next turn's
 * `getTuple` asks only for the blobs it does not hold, and the conversation is not transferred
 * and revived again on every turn. A turn run by another process wrote new versions, which miss
 * and are read as before.
 */
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type { CheckpointTuple } from '@langchain/langgraph';
import type { RunnableConfig } from '@langchain/core/runnables';
import type pg from 'pg';
import { InvalidInputError } from './errors.js';
import { DB_CONTEXT, type OpenedStorage } from './open-storage.js';
import type { Storage } from './types.js';

type Checkpoint = Parameters<PostgresSaver['put']>[1];
type CheckpointMetadata = Parameters<PostgresSaver['put']>[2];
type ChannelVersions = Parameters<PostgresSaver['put']>[3];
type PendingWrite = Parameters<PostgresSaver['putWrites']>[1][number];

/** What both pools (pg and the PGlite adapter) offer. */
interface QueryPool {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** One row of {@link LeanPostgresSaver.getTuple}'s query: kind 0 the checkpoint, 1 a blob, 2 a pending write. */
interface TupleRow {
  k: number;
  checkpoint_id: string | null;
  parent_checkpoint_id: string | null;
  checkpoint: (Omit<Checkpoint, 'channel_values'> & { v: number }) | null;
  metadata: Record<string, unknown> | null;
  task_id: string | null;
  channel: string | null;
  type: string | null;
  blob: Uint8Array | null;
}

/** One channel's latest known blob in a thread: its version and deserialized value (absent: "empty"). */
interface CachedBlob {
  version: string;
  empty: boolean;
  value: unknown;
  bytes: number;
}

/**
 * Arrays and plain objects are copied on the way in and out, so that a caller changing a value it
 * got (or gave) in place cannot change what a later `getTuple` returns. Elements (messages) are
 * shared: LangGraph's reducers build new lists and never change a stored message.
 */
function detach(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return { ...value };
  return value;
}

/** Latest blobs per thread, least recently used first out, bounded by serialized bytes. */
class BlobCache {
  readonly #threads = new Map<string, Map<string, CachedBlob>>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  /** The thread's cached channels (marked as recently used), or undefined. */
  get(thread: string): Map<string, CachedBlob> | undefined {
    const channels = this.#threads.get(thread);
    if (channels) {
      this.#threads.delete(thread);
      this.#threads.set(thread, channels);
    }
    return channels;
  }

  set(thread: string, channel: string, blob: CachedBlob): void {
    if (blob.bytes > this.maxBytes / 8) return this.#drop(thread, channel);
    let channels = this.get(thread);
    if (!channels) this.#threads.set(thread, (channels = new Map()));
    this.#bytes += blob.bytes - (channels.get(channel)?.bytes ?? 0);
    channels.set(channel, blob);
    for (const [oldest, old] of this.#threads) {
      if (this.#bytes <= this.maxBytes || oldest === thread) break;
      this.#evict(oldest, old);
    }
  }

  deleteThread(threadId: string): void {
    for (const [key, channels] of this.#threads) if (key.startsWith(`${threadId}\0`)) this.#evict(key, channels);
  }

  #drop(thread: string, channel: string): void {
    const channels = this.#threads.get(thread);
    const old = channels?.get(channel);
    if (!channels || !old) return;
    this.#bytes -= old.bytes;
    channels.delete(channel);
  }

  #evict(thread: string, channels: Map<string, CachedBlob>): void {
    for (const blob of channels.values()) this.#bytes -= blob.bytes;
    this.#threads.delete(thread);
  }
}

/** JSON of one list element, kept per element object (see {@link LeanPostgresSaver._dumpBlobs}). */
const elementJson = new WeakMap<object, Uint8Array>();
const OPEN = new Uint8Array([0x5b]);
const COMMA = new Uint8Array([0x2c]);
const CLOSE = new Uint8Array([0x5d]);

/** Serialized bytes of blobs kept per process (see the module comment). */
const BLOB_CACHE_BYTES = 32 * 1024 * 1024;

/** PostgresSaver with one statement per `put`, `putWrites` and `getTuple`; `end()` leaves the storage's pool open. */
class LeanPostgresSaver extends PostgresSaver {
  readonly #db: QueryPool;
  readonly #table: { checkpoints: string; blobs: string; writes: string };
  readonly #cache: BlobCache;

  constructor(pool: QueryPool, schema: string, cacheBytes: number) {
    super(pool as unknown as pg.Pool, undefined, { schema });
    this.#db = pool;
    const q = `"${schema.replace(/"/g, '""')}"`;
    this.#table = { checkpoints: `${q}.checkpoints`, blobs: `${q}.checkpoint_blobs`, writes: `${q}.checkpoint_writes` };
    this.#cache = new BlobCache(cacheBytes);
  }

  override async end(): Promise<void> {}

  /**
   * As upstream, but a list channel (the conversation) is written as the JSON of its elements,
   * each serialized once per process and kept with the element: a turn serializes only its new
   * messages, not the whole history again. The bytes are the serializer's own: JSON.stringify of
   * a list is `[` + its elements' JSON joined by `,` + `]`, and the default serializer's replacer
   * and the messages' `toJSON` do not depend on the key. Stored messages are never changed in
   * place (LangGraph's reducers build new lists and replace a message by a new one).
   */
  protected override async _dumpBlobs(
    threadId: string,
    checkpointNs: string,
    values: Record<string, unknown>,
    versions: ChannelVersions,
  ): Promise<[string, string, string, string, string, Uint8Array | undefined][]> {
    return Promise.all(
      Object.entries(versions).map(async ([channel, version]) => {
        if (!(channel in values)) return [threadId, checkpointNs, channel, String(version), 'empty', undefined];
        const value = values[channel];
        const [type, bytes] = Array.isArray(value) ? await this.#dumpList(value) : await this.serde.dumpsTyped(value);
        return [threadId, checkpointNs, channel, String(version), type, bytes];
      }),
    );
  }

  async #dumpList(list: unknown[]): Promise<[string, Uint8Array]> {
    const parts: Uint8Array[] = [OPEN];
    let size = 2;
    for (let i = 0; i < list.length; i++) {
      const element = list[i];
      if (element === null || typeof element !== 'object' || element instanceof Uint8Array) return this.serde.dumpsTyped(list);
      let json = elementJson.get(element);
      if (json === undefined) {
        const [type, bytes] = await this.serde.dumpsTyped(element);
        // Only objects (a `{…}`): anything else is left to the serializer's own path.
        if (type !== 'json' || bytes[0] !== 0x7b) return this.serde.dumpsTyped(list);
        elementJson.set(element, (json = bytes));
      }
      if (i > 0) parts.push(COMMA);
      parts.push(json);
      size += json.byteLength + (i > 0 ? 1 : 0);
    }
    parts.push(CLOSE);
    const out = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    return ['json', out];
  }

  override async deleteThread(threadId: string): Promise<void> {
    this.#cache.deleteThread(threadId);
    await super.deleteThread(threadId);
    this.#cache.deleteThread(threadId);
  }

  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const { thread_id, checkpoint_ns = '', checkpoint_id } = config.configurable ?? {};
    const args: unknown[] = [thread_id, checkpoint_ns];
    let pick = 'thread_id = $1 AND checkpoint_ns = $2 ORDER BY checkpoint_id DESC LIMIT 1';
    if (checkpoint_id) {
      pick = 'thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3';
      args.push(checkpoint_id);
    }
    const thread = `${thread_id}\0${checkpoint_ns}`;
    const cached = this.#cache.get(thread);
    const known = cached ? [...cached] : [];
    args.push(known.map(([channel]) => channel), known.map(([, blob]) => blob.version));
    const n = args.length;
    const t = this.#table;
    const { rows } = (await this.#db.query(
      `WITH cp AS (SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata FROM ${t.checkpoints} WHERE ${pick})
       SELECT 0 AS k, checkpoint_id, parent_checkpoint_id, checkpoint, metadata,
              NULL::text AS task_id, NULL::text AS channel, NULL::text AS type, NULL::bytea AS blob, 0 AS idx
         FROM cp
       UNION ALL
       SELECT 1, NULL, NULL, NULL, NULL, NULL, bl.channel, bl.type, bl.blob, 0
         FROM cp CROSS JOIN jsonb_each_text(cp.checkpoint -> 'channel_versions') AS v
         JOIN ${t.blobs} bl ON bl.thread_id = cp.thread_id AND bl.checkpoint_ns = cp.checkpoint_ns
                            AND bl.channel = v.key AND bl.version = v.value
        WHERE (v.key, v.value) NOT IN (SELECT * FROM unnest($${n - 1}::text[], $${n}::text[]))
       UNION ALL
       SELECT 2, NULL, NULL, NULL, NULL, cw.task_id::text, cw.channel, cw.type, cw.blob, cw.idx
         FROM cp JOIN ${t.writes} cw ON cw.thread_id = cp.thread_id AND cw.checkpoint_ns = cp.checkpoint_ns
                                    AND cw.checkpoint_id = cp.checkpoint_id
       ORDER BY 1, 6, 10`,
      args,
    )) as unknown as { rows: TupleRow[] };
    const head = rows[0];
    if (head === undefined || head.k !== 0 || !head.checkpoint) return undefined;
    // Checkpoints older than format 4 need upstream's migration of pending sends.
    if (head.checkpoint.v < 4 && head.parent_checkpoint_id != null) return super.getTuple(config);
    const channelValues: Record<string, unknown> = {};
    const pendingWrites: [string, string, unknown][] = [];
    for (const [channel, version] of Object.entries(head.checkpoint.channel_versions ?? {})) {
      const hit = cached?.get(channel);
      if (hit && hit.version === String(version) && !hit.empty) channelValues[channel] = detach(hit.value);
    }
    for (const row of rows) {
      if (row.k === 1) {
        const empty = row.type === 'empty';
        const value = empty ? undefined : await this.serde.loadsTyped(row.type!, row.blob!);
        if (!empty) channelValues[row.channel!] = value;
        const version = String(head.checkpoint.channel_versions[row.channel!]);
        this.#cache.set(thread, row.channel!, { version, empty, value: detach(value), bytes: row.blob?.byteLength ?? 0 });
      } else if (row.k === 2) {
        pendingWrites.push([row.task_id!, row.channel!, await this.serde.loadsTyped(row.type!, row.blob!)]);
      }
    }
    const at = (id: string) => ({ configurable: { thread_id, checkpoint_ns, checkpoint_id: id } });
    return {
      config: at(head.checkpoint_id!),
      checkpoint: {
        ...head.checkpoint,
        channel_versions: head.checkpoint.channel_versions ?? {},
        versions_seen: head.checkpoint.versions_seen ?? {},
        channel_values: channelValues,
      } as Checkpoint,
      metadata: await this._loadMetadata(head.metadata ?? {}),
      parentConfig: head.parent_checkpoint_id ? at(head.parent_checkpoint_id) : undefined,
      pendingWrites,
    };
  }

  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    if (config.configurable === undefined) throw new Error('Missing "configurable" field in "config" param');
    const { thread_id, checkpoint_ns = '', checkpoint_id } = config.configurable;
    const [blobs, dumpedMetadata] = await Promise.all([
      this._dumpBlobs(thread_id, checkpoint_ns, checkpoint.channel_values, newVersions),
      this._dumpMetadata(metadata),
    ]);
    const params: unknown[] = [thread_id, checkpoint_ns, checkpoint.id, checkpoint_id, this._dumpCheckpoint(checkpoint), dumpedMetadata];
    const values = blobs.map(([, , channel, version, type, blob]) => {
      params.push(channel, version, type, blob ?? null);
      const n = params.length;
      return `($1, $2, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    const t = this.#table;
    const insertBlobs = values.length
      ? `WITH blobs AS (INSERT INTO ${t.blobs} (thread_id, checkpoint_ns, channel, version, type, blob) VALUES ${values.join(', ')}
           ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING) `
      : '';
    await this.#db.query(
      `${insertBlobs}INSERT INTO ${t.checkpoints} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata`,
      params,
    );
    const thread = `${thread_id}\0${checkpoint_ns}`;
    for (const [, , channel, version, type, blob] of blobs) {
      const empty = type === 'empty';
      this.#cache.set(thread, channel, { version, empty, value: detach(checkpoint.channel_values[channel]), bytes: blob?.byteLength ?? 0 });
    }
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
    if (writes.length === 0) return;
    const { thread_id, checkpoint_ns, checkpoint_id } = config.configurable ?? {};
    const dumped = await this._dumpWrites(thread_id, checkpoint_ns, checkpoint_id, taskId, writes);
    // As upstream: a batch of only special channels (error, interrupt, …: each has a fixed negative
    // idx, where other writes take their position) is upserted; other batches insert-if-absent.
    const upsert = dumped.every((row) => row[4] < 0);
    // One statement cannot touch a row twice: keep the write that upstream's sequence would leave.
    const byIdx = new Map<number, (typeof dumped)[number]>();
    for (const row of dumped) if (upsert || !byIdx.has(row[4])) byIdx.set(row[4], row);
    const params: unknown[] = [thread_id, checkpoint_ns, checkpoint_id, taskId];
    const values = [...byIdx.values()].map(([, , , , idx, channel, type, blob]) => {
      params.push(idx, channel, type, blob);
      const n = params.length;
      return `($1, $2, $3, $4, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    const onConflict = upsert
      ? 'DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob'
      : 'DO NOTHING';
    await this.#db.query(
      `INSERT INTO ${this.#table.writes} (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob)
       VALUES ${values.join(', ')} ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) ${onConflict}`,
      params,
    );
  }
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
  return new LeanPostgresSaver(ctx.saverPool as QueryPool, ctx.schema, BLOB_CACHE_BYTES);
}
