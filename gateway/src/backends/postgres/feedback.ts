import type { DbContext } from './database.js';
import { InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { FeedbackRepository } from './types.js';
import { isUuid } from './util.js';

const MAX_COMMENT_CHARS = 1000;
const MAX_RUN_ID_CHARS = 100;

export function feedbackRepository({ db }: DbContext): FeedbackRepository {
  return {
    async record(input) {
      if (input.score !== 1 && input.score !== -1) throw new InvalidInputError('score must be 1 or -1');
      if (input.comment !== undefined && input.comment.length > MAX_COMMENT_CHARS) throw new InvalidInputError(`comment is over ${MAX_COMMENT_CHARS} characters`);
      if (input.comment?.includes('\u0000')) throw new InvalidInputError('comment contains U+0000');
      if (!input.runId || input.runId.length > MAX_RUN_ID_CHARS) throw new InvalidInputError('bad run id');
      if (!isUuid(input.userId) || !isUuid(input.sessionId)) throw new NotFoundError('session not found');
      const row = {
        user_id: input.userId,
        session_id: input.sessionId,
        run_id: input.runId,
        score: input.score,
        comment: input.comment ?? null,
        trace_id: input.traceId ?? null,
      };
      try {
        await db
          .insertInto('feedback')
          .values(row)
          .onConflict((oc) =>
            oc.columns(['user_id', 'run_id']).doUpdateSet({ score: row.score, comment: row.comment, trace_id: row.trace_id, updated_at: new Date() }),
          )
          .execute();
      } catch (error) {
        if (sqlState(error) === PgState.ForeignKeyViolation) throw new NotFoundError('session not found', { cause: error });
        throw error;
      }
    },

    async hasRun(sessionId, runId) {
      if (!isUuid(sessionId) || !runId || runId.length > MAX_RUN_ID_CHARS) return false;
      const row = await db
        .selectFrom('messages')
        .select('run_id')
        .where('session_id', '=', sessionId)
        .where('run_id', '=', runId)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    async get(userId, runId) {
      if (!isUuid(userId)) return null;
      const row = await db
        .selectFrom('feedback')
        .select(['score', 'comment', 'trace_id'])
        .where('user_id', '=', userId)
        .where('run_id', '=', runId)
        .executeTakeFirst();
      return row ? { score: row.score === 1 ? 1 : -1, comment: row.comment, traceId: row.trace_id } : null;
    },
  };
}
