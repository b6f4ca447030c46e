import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DbContext } from './database.js';
import { InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { RunRecordRepository } from './types.js';
import { checkSpend } from './spend.js';
import { isUuid, requireDay } from './util.js';

const MAX_TITLE = 200;

/**
 * What a finished run leaves in the database, in one transaction: the `seq` range of its user
 * message (stored at the send) and its end, its tool and assistant rows (once per run), the
 * session's `updated_at` and title (only when it has none), and the day's token usage. One
 * statement, one round trip.
 */
export function runRecordRepository({ db }: DbContext): RunRecordRepository {
  return {
    async record(r) {
      if (!isUuid(r.userId)) throw new NotFoundError('user not found');
      if (!isUuid(r.sessionId)) throw new NotFoundError('session not found');
      if (typeof r.runId !== 'string' || !r.runId) throw new InvalidInputError('runId is required');
      if (r.usage) {
        requireDay(r.usage.day);
        if (!Number.isSafeInteger(r.usage.tokens) || r.usage.tokens < 0) throw new InvalidInputError('tokens must be a non-negative integer');
      }
      if (r.spend) checkSpend(r.spend);
      for (const m of r.rows) {
        if (m.role !== 'assistant' && m.role !== 'tool') throw new InvalidInputError('a run records assistant and tool rows');
        if (typeof m.content !== 'string') throw new InvalidInputError('content must be a string');
      }
      const title = r.title === undefined ? null : r.title.slice(0, MAX_TITLE);
      // One statement (data-modifying CTEs are atomic without BEGIN/COMMIT): every write hangs on
      // the session update, so another user's or an unknown session writes nothing.
      const session = sql`UPDATE sessions SET updated_at = now()${title !== null ? sql`, title = COALESCE(title, ${title})` : sql``}
        WHERE id = ${r.sessionId}::uuid AND user_id = ${r.userId}::uuid RETURNING id`;
      const parts = [sql`s AS (${session})`];
      // The record closes the run (see `run-ends.ts`) in the same statement. A run already closed
      // (recorded by its own node and by the completion of a lost run, in either order) keeps
      // its user row's range and gets no second set of rows: the transcript is written once.
      const range = r.userSeq ? sql`, seq_from = ${r.userSeq.from}::integer, seq_to = ${r.userSeq.to}::integer` : sql``;
      parts.push(sql`closed AS (UPDATE messages SET run_open = false${range}
        WHERE session_id = (SELECT id FROM s) AND run_id = ${r.runId} AND role = 'user' AND run_open IS DISTINCT FROM false RETURNING 1)`);
      if (r.rows.length) {
        const values = r.rows.map(
          (m) =>
            sql`(${randomUUID()}::uuid, ${m.role}::text, ${m.content}::text, ${m.seqFrom ?? null}::integer, ${m.seqTo ?? null}::integer, ${m.toolName ?? null}::text)`,
        );
        parts.push(sql`rows AS (INSERT INTO messages (id, session_id, run_id, role, content, seq_from, seq_to, client_message_id, tool_name)
          SELECT v.id, (SELECT id FROM s), ${r.runId}::text, v.role, v.content, v.seq_from, v.seq_to, NULL, v.tool_name
          FROM (VALUES ${sql.join(values)}) AS v (id, role, content, seq_from, seq_to, tool_name) WHERE EXISTS (SELECT 1 FROM s)
          AND (EXISTS (SELECT 1 FROM closed) OR NOT EXISTS (SELECT 1 FROM messages m WHERE m.session_id = (SELECT id FROM s)
            AND m.run_id = ${r.runId} AND m.role = 'user')))`);
      }
      if (r.usage && r.usage.tokens > 0) {
        parts.push(sql`usage AS (INSERT INTO token_usage (user_id, day, tokens)
          SELECT ${r.userId}::uuid, ${r.usage.day}::date, ${r.usage.tokens}::bigint WHERE EXISTS (SELECT 1 FROM s)
          ON CONFLICT (user_id, day) DO UPDATE SET tokens = token_usage.tokens + excluded.tokens)`);
      }
      if (r.spend) {
        const x = r.spend;
        parts.push(sql`spend AS (INSERT INTO llm_spend (user_id, day, model, input_tokens, output_tokens, cost_nanos, runs, cached_runs)
          SELECT ${r.userId}::uuid, ${x.day}::date, ${x.model.slice(0, 200)}::text, ${x.inputTokens}::bigint, ${x.outputTokens}::bigint,
                 ${x.costNanos}::bigint, 1, ${x.cached ? 1 : 0}::integer WHERE EXISTS (SELECT 1 FROM s)
          ON CONFLICT (user_id, day, model) DO UPDATE SET input_tokens = llm_spend.input_tokens + excluded.input_tokens,
            output_tokens = llm_spend.output_tokens + excluded.output_tokens, cost_nanos = llm_spend.cost_nanos + excluded.cost_nanos,
            runs = llm_spend.runs + 1, cached_runs = llm_spend.cached_runs + excluded.cached_runs)`);
      }
      try {
        const { rows } = await sql<{ found: number }>`WITH ${sql.join(parts)} SELECT count(*)::int AS found FROM s`.execute(db);
        if (!rows[0]?.found) throw new NotFoundError('session not found');
      } catch (error) {
        if (sqlState(error) === PgState.ForeignKeyViolation) throw new NotFoundError('session or user not found', { cause: error });
        throw error;
      }
    },
  };
}
