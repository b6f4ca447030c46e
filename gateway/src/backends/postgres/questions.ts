/**
 * The semantic cache's questions: per user, nearest by cosine similarity (pgvector's `<=>` when
 * installed, else computed here over the user's newest unexpired rows). Never across users.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { cosineSimilarity } from '@switchboard/agent-core';
import type { DbContext } from './database.js';
import { InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { QuestionCacheRepository } from './types.js';
import { isUuid } from './util.js';

const MAX_DIMS = 16_000;
const MAX_QUESTION = 4_000;
const MAX_ANSWER = 200_000;
/** Rows compared per lookup without pgvector (the newest ones). */
const EXACT_SCAN = 500;

function checkEmbedding(embedding: unknown): number[] {
  if (!Array.isArray(embedding) || embedding.length === 0 || embedding.length > MAX_DIMS) {
    throw new InvalidInputError(`embedding must be an array of 1..${MAX_DIMS} numbers`);
  }
  for (const x of embedding) if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidInputError('embedding must hold finite numbers');
  return embedding as number[];
}

export function questionCacheRepository(ctx: DbContext): QuestionCacheRepository {
  const { db, hasVector } = ctx;
  return {
    async add(userId, input) {
      const embedding = checkEmbedding(input.embedding);
      if (typeof input.question !== 'string' || !input.question.trim() || input.question.length > MAX_QUESTION) throw new InvalidInputError('question must be 1..4000 characters');
      if (typeof input.answer !== 'string' || input.answer.length > MAX_ANSWER) throw new InvalidInputError('answer too large');
      if (typeof input.tier !== 'string' || !input.tier) throw new InvalidInputError('tier is required');
      if (!Number.isFinite(input.ttlMs) || input.ttlMs <= 0) throw new InvalidInputError('ttlMs must be positive');
      if (!isUuid(userId)) throw new NotFoundError('user not found');
      const expires = new Date(Date.now() + input.ttlMs);
      try {
        await sql`
          INSERT INTO question_cache (id, user_id, tier, question, dims, embedding, answer, expires_at)
          VALUES (${randomUUID()}, ${userId}, ${input.tier}, ${input.question}, ${embedding.length}, ${embedding}::real[], ${input.answer}, ${expires.toISOString()})`.execute(db);
        // Expired rows of this user go as new ones come.
        await sql`DELETE FROM question_cache WHERE user_id = ${userId} AND expires_at < now()`.execute(db);
      } catch (error) {
        if (sqlState(error) === PgState.ForeignKeyViolation) throw new NotFoundError('user not found', { cause: error });
        throw error;
      }
    },

    async nearest(userId, tier, embedding) {
      const q = checkEmbedding(embedding);
      if (!isUuid(userId)) return null;
      if (hasVector) {
        const d = sql.raw(String(q.length));
        const literal = `[${q.join(',')}]`;
        const { rows } = await sql<{ question: string; answer: string; distance: number }>`
          SELECT question, answer, embedding::vector(${d}) <=> ${literal}::vector(${d}) AS distance
          FROM question_cache
          WHERE user_id = ${userId} AND tier = ${tier} AND dims = ${q.length} AND expires_at > now()
          ORDER BY embedding::vector(${d}) <=> ${literal}::vector(${d})
          LIMIT 1`.execute(db);
        const r = rows[0];
        return r ? { question: r.question, answer: r.answer, score: 1 - Number(r.distance) } : null;
      }
      const { rows } = await sql<{ question: string; answer: string; embedding: number[] }>`
        SELECT question, answer, embedding::real[] AS embedding FROM question_cache
        WHERE user_id = ${userId} AND tier = ${tier} AND dims = ${q.length} AND expires_at > now()
        ORDER BY created_at DESC LIMIT ${EXACT_SCAN}`.execute(db);
      let best: { question: string; answer: string; score: number } | null = null;
      for (const r of rows) {
        const score = cosineSimilarity(q, r.embedding.map(Number));
        if (!best || score > best.score) best = { question: r.question, answer: r.answer, score };
      }
      return best;
    },
  };
}
