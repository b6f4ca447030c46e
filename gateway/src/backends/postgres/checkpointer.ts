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

/** PostgresSaver with one statement per `put`, `putWrites` and `getTuple`; `end()` leaves the storage's pool open. */
class LeanPostgresSaver extends PostgresSaver {
  readonly #db: QueryPool;
  readonly #table: { checkpoints: string; blobs: string; writes: string };

  constructor(pool: QueryPool, schema: string) {
    super(pool as unknown as pg.Pool, undefined, { schema });
    this.#db = pool;
    const q = `"${schema.replace(/"/g, '""')}"`;
    this.#table = { checkpoints: `${q}.checkpoints`, blobs: `${q}.checkpoint_blobs`, writes: `${q}.checkpoint_writes` };
  }

  override async end(): Promise<void> {}

  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const { thread_id, checkpoint_ns = '', checkpoint_id } = config.configurable ?? {};
    const args: unknown[] = [thread_id, checkpoint_ns];
    let pick = 'thread_id = $1 AND checkpoint_ns = $2 ORDER BY checkpoint_id DESC LIMIT 1';
    if (checkpoint_id) {
      pick = 'thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3';
      args.push(checkpoint_id);
    }
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
    for (const row of rows) {
      if (row.k === 1 && row.type !== 'empty') {
        channelValues[row.channel!] = await this.serde.loadsTyped(row.type!, row.blob!);
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
  return new LeanPostgresSaver(ctx.saverPool as QueryPool, ctx.schema);
}
