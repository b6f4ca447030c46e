import { sql } from 'kysely';
import type { DbContext } from './database.js';
import { InvalidInputError } from './errors.js';
import type { RunEndRepository } from './types.js';
import { isUuid } from './util.js';

const MAX_UNENDED = 1000;

/**
 * Which acked runs have ended, read from the transcript's user rows: `run_open` is set by the
 * send's user row (before the ack) and cleared by the run's record, so finding the runs whose end
 * went missing is one indexed read, and nothing is added to a run's own path.
 */
export function runEndRepository({ db }: DbContext): RunEndRepository {
  return {
    async unended(olderThanMs, limit) {
      if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw new InvalidInputError('olderThanMs must be a non-negative number');
      const n = Math.max(1, Math.min(MAX_UNENDED, Math.floor(limit)));
      const { rows } = await sql<{ session_id: string; run_id: string; content: string; client_message_id: string | null }>`
        SELECT session_id, run_id, content, client_message_id FROM messages
        WHERE run_open AND created_at < now() - make_interval(secs => ${olderThanMs / 1000}::double precision)
        ORDER BY created_at LIMIT ${n}::integer`.execute(db);
      return rows.map((r) => ({ sessionId: r.session_id, runId: r.run_id, text: r.content, clientMessageId: r.client_message_id }));
    },
    async ended(sessionId, runId) {
      if (!isUuid(sessionId) || typeof runId !== 'string' || !runId) return false;
      const { rows } = await sql<{ ended: boolean }>`
        SELECT EXISTS (SELECT 1 FROM messages WHERE session_id = ${sessionId}::uuid AND run_id = ${runId}
          AND role = 'user' AND run_open = false) AS ended`.execute(db);
      return rows[0]?.ended === true;
    },
    async discard(sessionId, runId) {
      if (!isUuid(sessionId) || typeof runId !== 'string' || !runId) return;
      await sql`DELETE FROM messages WHERE session_id = ${sessionId}::uuid AND run_id = ${runId} AND role = 'user' AND run_open`.execute(db);
    },
  };
}
