/**
 * Per-user long-term memory on either database. With pgvector: a `vector` column, one partial HNSW
 * index (cosine ops) per embedding size, ordering by `<=>` in SQL. Without it (or with
 * `vector: false`): exact cosine similarity over the user's rows, computed here. On PGlite a user
 * known to hold no memories is answered without a query (see {@link KnownEmpty}).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DbContext } from './database.js';
import { InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { MemoryHit, MemoryRecord, MemoryRepository } from './types.js';
import { isUuid, iso } from './util.js';
import { cosineSimilarity } from '@switchboard/agent-core';

const MAX_DIMS = 16_000;
/** pgvector's HNSW limit for the `vector` type. */
const MAX_INDEXED_DIMS = 2_000;
const MAX_TEXT = 4_000;
const MAX_K = 100;

function checkEmbedding(embedding: unknown): number[] {
  if (!Array.isArray(embedding) || embedding.length === 0 || embedding.length > MAX_DIMS) {
    throw new InvalidInputError(`embedding must be an array of 1..${MAX_DIMS} numbers`);
  }
  for (const x of embedding) {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidInputError('embedding must hold finite numbers');
  }
  return embedding as number[];
}


const toRecord = (r: { id: string; text: string; created_at: Date }): MemoryRecord => ({
  id: r.id,
  text: r.text,
  createdAt: iso(r.created_at),
});

/**
 * Users known to hold no memories of an embedding size, so their search needs no query: only for
 * PGlite, whose database this one process owns (every write goes through this repository). A
 * search marks a user only if no add of theirs finished while it ran (a per-user generation).
 */
class KnownEmpty {
  readonly #empty = new Set<string>();
  readonly #generation = new Map<string, number>();

  has(userId: string, dims: number): boolean {
    return this.#empty.has(`${userId}:${dims}`);
  }
  generation(userId: string): number {
    return this.#generation.get(userId) ?? 0;
  }
  /** A search of `userId` that began at generation `since` found nothing. */
  found(userId: string, dims: number, since: number): void {
    if (this.generation(userId) !== since) return;
    if (this.#empty.size >= KNOWN_EMPTY_MAX) this.#empty.clear();
    this.#empty.add(`${userId}:${dims}`);
  }
  /** A memory of `userId` was stored. */
  added(userId: string, dims: number): void {
    if (this.#generation.size >= KNOWN_EMPTY_MAX) this.#generation.clear(), this.#empty.clear();
    this.#generation.set(userId, this.generation(userId) + 1);
    this.#empty.delete(`${userId}:${dims}`);
  }
}
const KNOWN_EMPTY_MAX = 100_000;

export function memoryRepository(ctx: DbContext): MemoryRepository {
  const { db, hasVector, schema } = ctx;
  const indexed = new Set<number>();
  const knownEmpty = ctx.kind === 'pglite' ? new KnownEmpty() : null;

  /** One partial HNSW index per embedding size, created the first time that size is seen. */
  async function ensureIndex(dims: number): Promise<void> {
    if (!hasVector || dims > MAX_INDEXED_DIMS || indexed.has(dims)) return;
    const name = `memories_embedding_hnsw_${dims}`;
    try {
      await sql`
        CREATE INDEX IF NOT EXISTS ${sql.id(name)} ON ${sql.table(`${schema}.memories`)}
        USING hnsw ((embedding::vector(${sql.raw(String(dims))})) vector_cosine_ops)
        WHERE dims = ${sql.raw(String(dims))}`.execute(db);
    } catch (error) {
      const state = sqlState(error);
      if (state !== PgState.UniqueViolation && state !== PgState.DuplicateTable) throw error;
    }
    indexed.add(dims);
  }

  async function searchVector(userId: string, q: number[], k: number): Promise<MemoryHit[]> {
    const d = sql.raw(String(q.length));
    const literal = `[${q.join(',')}]`;
    const search = async (on: typeof db) => {
      const { rows } = await sql<{ id: string; text: string; created_at: Date; distance: number }>`
        SELECT id, text, created_at, embedding::vector(${d}) <=> ${literal}::vector(${d}) AS distance
        FROM memories
        WHERE user_id = ${userId} AND dims = ${q.length}
        ORDER BY embedding::vector(${d}) <=> ${literal}::vector(${d})
        LIMIT ${k}`.execute(on);
      return rows.map((r) => ({ ...toRecord(r), score: 1 - Number(r.distance) }));
    };
    // pgvector ≥ 0.8: keep scanning the index until k rows pass the user filter. Set once for
    // PGlite's session at open and by each server connection's start-up options; a context that
    // has it unset sets it per search, in a transaction of its own.
    if (!ctx.iterativeScan || ctx.iterativeScanSet) return search(db);
    return db.transaction().execute(async (trx) => {
      await sql`SET LOCAL hnsw.iterative_scan = strict_order`.execute(trx);
      return search(trx);
    });
  }

  async function searchExact(userId: string, q: number[], k: number): Promise<MemoryHit[]> {
    const { rows } = await sql<{ id: string; text: string; created_at: Date; embedding: number[] }>`
      SELECT id, text, created_at, embedding::real[] AS embedding
      FROM memories WHERE user_id = ${userId} AND dims = ${q.length}`.execute(db);
    return rows
      .map((r) => ({ ...toRecord(r), score: cosineSimilarity(q, r.embedding.map(Number)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }

  return {
    async add(userId, input) {
      const text = typeof input?.text === 'string' ? input.text.trim() : '';
      if (!text) throw new InvalidInputError('memory text is required');
      if (text.length > MAX_TEXT) throw new InvalidInputError(`memory text must be at most ${MAX_TEXT} characters`);
      const embedding = checkEmbedding(input.embedding);
      if (!isUuid(userId)) throw new NotFoundError('user not found');
      await ensureIndex(embedding.length);
      try {
        // A real[] parameter; on a vector column pgvector's assignment cast converts it.
        const { rows } = await sql<{ id: string; text: string; created_at: Date }>`
          INSERT INTO memories (id, user_id, text, dims, embedding)
          VALUES (${randomUUID()}, ${userId}, ${text}, ${embedding.length}, ${embedding}::real[])
          RETURNING id, text, created_at`.execute(db);
        knownEmpty?.added(userId, embedding.length);
        return toRecord(rows[0]);
      } catch (error) {
        if (sqlState(error) === PgState.ForeignKeyViolation) throw new NotFoundError('user not found', { cause: error });
        throw error;
      }
    },

    async search(userId, embedding, k) {
      const q = checkEmbedding(embedding);
      if (!Number.isInteger(k) || k < 1) throw new InvalidInputError('k must be a positive integer');
      if (!isUuid(userId)) return [];
      const limit = Math.min(k, MAX_K);
      if (knownEmpty?.has(userId, q.length)) return [];
      const since = knownEmpty?.generation(userId) ?? 0;
      let hits: MemoryHit[];
      if (hasVector) {
        await ensureIndex(q.length);
        hits = await searchVector(userId, q, limit);
      } else hits = await searchExact(userId, q, limit);
      if (hits.length === 0) knownEmpty?.found(userId, q.length, since);
      return hits;
    },

    async list(userId) {
      if (!isUuid(userId)) return [];
      const rows = await db
        .selectFrom('memories')
        .select(['id', 'text', 'created_at'])
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toRecord);
    },

    async delete(userId, id) {
      if (!isUuid(userId)) return 0;
      if (id !== undefined && !isUuid(id)) return 0;
      let query = db.deleteFrom('memories').where('user_id', '=', userId);
      if (id !== undefined) query = query.where('id', '=', id);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
