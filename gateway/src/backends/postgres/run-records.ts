import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DbContext } from './database.js';
import { InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { RunRecordRepository } from './types.js';
import { isUuid, requireDay } from './util.js';

const MAX_TITLE = 200;

/**
 * What a finished run leaves in the database, in one transaction: the `seq` range of its user
 * message (stored at the send), its tool and assistant rows, the session's `updated_at` and title
 * (only when it has none), and the day's token usage.
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
      for (const m of r.rows) {
        if (m.role !== 'assistant' && m.role !== 'tool') throw new InvalidInputError('a run records assistant and tool rows');
        if (typeof m.content !== 'string') throw new InvalidInputError('content must be a string');
      }
      const title = r.title === undefined ? null : r.title.slice(0, MAX_TITLE);
      try {
        await db.transaction().execute(async (trx) => {
          const session = await trx
            .updateTable('sessions')
            .set({ updated_at: sql`now()`, ...(title !== null ? { title: sql<string>`COALESCE(title, ${title})` } : {}) })
            .where('id', '=', r.sessionId)
            .where('user_id', '=', r.userId)
            .returning('id')
            .executeTakeFirst();
          if (!session) throw new NotFoundError('session not found');
          if (r.userSeq) {
            await trx
              .updateTable('messages')
              .set({ seq_from: r.userSeq.from, seq_to: r.userSeq.to })
              .where('session_id', '=', r.sessionId)
              .where('run_id', '=', r.runId)
              .where('role', '=', 'user')
              .execute();
          }
          if (r.rows.length) {
            await trx
              .insertInto('messages')
              .values(
                r.rows.map((m) => ({
                  id: randomUUID(),
                  session_id: r.sessionId,
                  run_id: r.runId,
                  role: m.role,
                  content: m.content,
                  seq_from: m.seqFrom ?? null,
                  seq_to: m.seqTo ?? null,
                  client_message_id: null,
                  tool_name: m.toolName ?? null,
                })),
              )
              .execute();
          }
          if (r.usage && r.usage.tokens > 0) {
            await trx
              .insertInto('token_usage')
              .values({ user_id: r.userId, day: r.usage.day, tokens: r.usage.tokens })
              .onConflict((oc) => oc.columns(['user_id', 'day']).doUpdateSet({ tokens: sql`token_usage.tokens + excluded.tokens` }))
              .execute();
          }
        });
      } catch (error) {
        if (sqlState(error) === PgState.ForeignKeyViolation) throw new NotFoundError('session or user not found', { cause: error });
        throw error;
      }
    },
  };
}
