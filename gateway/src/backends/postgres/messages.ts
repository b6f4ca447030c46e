import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { DbContext } from './database.js';
import type { MessagesTable } from './schema.js';
import { ConflictError, InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { Message, MessageRepository, MessageRole } from './types.js';
import { isUuid, iso, pageLimit } from './util.js';

const ROLES: ReadonlySet<string> = new Set<MessageRole>(['user', 'assistant', 'tool']);
const COLUMNS = [
  'id',
  'session_id',
  'run_id',
  'role',
  'content',
  'seq_from',
  'seq_to',
  'client_message_id',
  'tool_name',
  'created_at',
] as const;

/** A transcript row as selected (the paging column `n` and the run's open flag stay inside). */
type Row = Omit<Selectable<MessagesTable>, 'n' | 'run_open'>;

const toMessage = (r: Row): Message => ({
  id: r.id,
  sessionId: r.session_id,
  runId: r.run_id,
  role: r.role as MessageRole,
  content: r.content,
  seqFrom: r.seq_from,
  seqTo: r.seq_to,
  clientMessageId: r.client_message_id,
  toolName: r.tool_name,
  createdAt: iso(r.created_at),
});

function optionalSeq(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 2_147_483_647) {
    throw new InvalidInputError(`${name} must be a non-negative integer`);
  }
  return value as number;
}

function optionalText(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !value) throw new InvalidInputError(`${name} must be a non-empty string`);
  return value;
}

export function messageRepository({ db }: DbContext): MessageRepository {
  return {
    async append(input) {
      if (!isUuid(input.sessionId)) throw new NotFoundError('session not found');
      if (typeof input.runId !== 'string' || !input.runId) throw new InvalidInputError('runId is required');
      if (!ROLES.has(input.role)) throw new InvalidInputError('role must be user, assistant or tool');
      if (typeof input.content !== 'string') throw new InvalidInputError('content must be a string');
      const values = {
        id: randomUUID(),
        session_id: input.sessionId,
        run_id: input.runId,
        role: input.role,
        content: input.content,
        seq_from: optionalSeq(input.seqFrom, 'seqFrom'),
        seq_to: optionalSeq(input.seqTo, 'seqTo'),
        client_message_id: optionalText(input.clientMessageId, 'clientMessageId'),
        tool_name: optionalText(input.toolName, 'toolName'),
        // In the same insert: opening the run costs no round trip on the send's path.
        ...(input.opensRun && input.role === 'user' ? { run_open: true } : {}),
      };
      try {
        // One statement (the session's touch as a data-modifying CTE): atomic without a
        // transaction's BEGIN/COMMIT round trips, which matter on the send's path to its ack.
        const row = await db
          .with('touched', (q) => q.updateTable('sessions').set({ updated_at: sql`now()` }).where('id', '=', input.sessionId).returning('id'))
          .insertInto('messages')
          .values(values)
          .returning(COLUMNS)
          .executeTakeFirstOrThrow();
        return toMessage(row);
      } catch (error) {
        const state = sqlState(error);
        if (state === PgState.ForeignKeyViolation) throw new NotFoundError('session not found', { cause: error });
        if (state === PgState.UniqueViolation) {
          throw new ConflictError('a user message with this client message id is already stored', { cause: error });
        }
        throw error;
      }
    },

    async list(sessionId, options = {}) {
      const limit = pageLimit(options.limit);
      if (options.before !== undefined && !isUuid(options.before)) throw new InvalidInputError('before must be a message id');
      if (!isUuid(sessionId)) return { messages: [], nextCursor: null };
      let query = db
        .selectFrom('messages')
        .select(COLUMNS)
        .where('session_id', '=', sessionId)
        .orderBy('n', 'desc')
        .limit(limit + 1);
      if (options.before) {
        const cursor = db
          .selectFrom('messages')
          .select('n')
          .where('id', '=', options.before)
          .where('session_id', '=', sessionId);
        query = query.where('n', '<', cursor);
      }
      const rows = await query.execute();
      const page = rows.slice(0, limit);
      const nextCursor = rows.length > limit ? page[page.length - 1].id : null;
      return { messages: page.reverse().map(toMessage), nextCursor };
    },
  };
}
