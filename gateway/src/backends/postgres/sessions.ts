import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DbContext } from './database.js';
import { InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { Session, SessionRepository } from './types.js';
import { isUuid, iso, pageLimit } from './util.js';

const MAX_TITLE = 500;
const COLUMNS = ['id', 'title', 'created_at', 'updated_at'] as const;

const toSession = (r: { id: string; title: string | null; created_at: Date; updated_at: Date }): Session => ({
  id: r.id,
  title: r.title,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

function checkTitle(title: unknown): string | null {
  if (title === undefined || title === null) return null;
  if (typeof title !== 'string') throw new InvalidInputError('title must be a string or null');
  if (title.length > MAX_TITLE) throw new InvalidInputError(`title must be at most ${MAX_TITLE} characters`);
  return title;
}

/** The LangGraph checkpoint tables a session's thread lives in (thread id = session id). */
const CHECKPOINT_TABLES = ['checkpoint_writes', 'checkpoint_blobs', 'checkpoints'] as const;

export function sessionRepository({ db, schema }: DbContext): SessionRepository {
  return {
    async create(userId, input = {}) {
      if (!isUuid(userId)) throw new NotFoundError('user not found');
      const title = checkTitle(input.title);
      try {
        const row = await db
          .insertInto('sessions')
          .values({ id: randomUUID(), user_id: userId, title })
          .returning(COLUMNS)
          .executeTakeFirstOrThrow();
        return toSession(row);
      } catch (error) {
        if (sqlState(error) === PgState.ForeignKeyViolation) throw new NotFoundError('user not found', { cause: error });
        throw error;
      }
    },

    async list(userId, options = {}) {
      const limit = pageLimit(options.limit);
      if (!isUuid(userId)) return [];
      if (options.before !== undefined && !isUuid(options.before)) throw new InvalidInputError('before must be a session id');
      let query = db
        .selectFrom('sessions')
        .select(COLUMNS)
        .where('user_id', '=', userId)
        .orderBy('updated_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit);
      if (options.before) {
        query = query.where(
          sql<boolean>`(updated_at, id) < (SELECT s.updated_at, s.id FROM sessions s WHERE s.id = ${options.before} AND s.user_id = ${userId})`,
        );
      }
      return (await query.execute()).map(toSession);
    },

    async get(userId, id) {
      if (!isUuid(userId) || !isUuid(id)) return null;
      const row = await db
        .selectFrom('sessions')
        .select(COLUMNS)
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row ? toSession(row) : null;
    },

    async update(userId, id, input) {
      const title = checkTitle(input?.title);
      if (!isUuid(userId) || !isUuid(id)) return null;
      const row = await db
        .updateTable('sessions')
        .set({ title, updated_at: sql`now()` })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .returning(COLUMNS)
        .executeTakeFirst();
      return row ? toSession(row) : null;
    },

    async delete(userId, id) {
      if (!isUuid(userId) || !isUuid(id)) return false;
      return db.transaction().execute(async (trx) => {
        const deleted = await trx
          .deleteFrom('sessions')
          .where('id', '=', id)
          .where('user_id', '=', userId)
          .executeTakeFirst(); // messages go with it (ON DELETE CASCADE)
        if (Number(deleted.numDeletedRows) !== 1) return false;
        for (const table of CHECKPOINT_TABLES) {
          await sql`DELETE FROM ${sql.table(`${schema}.${table}`)} WHERE thread_id = ${id}`.execute(trx);
        }
        return true;
      });
    },

    async touch(id) {
      if (!isUuid(id)) return;
      await db.updateTable('sessions').set({ updated_at: sql`now()` }).where('id', '=', id).execute();
    },

    async owner(id) {
      if (!isUuid(id)) return null;
      const row = await db.selectFrom('sessions').select('user_id').where('id', '=', id).executeTakeFirst();
      return row?.user_id ?? null;
    },

    async reserveSeq(id, atLeast, block) {
      if (!isUuid(id)) return null;
      if (!Number.isSafeInteger(atLeast) || atLeast < 0 || !Number.isSafeInteger(block) || block < 1) throw new InvalidInputError('atLeast and block must be non-negative integers');
      const { rows } = await sql<{ floor: string; ceiling: string }>`
        WITH old AS (SELECT seq_reserved FROM sessions WHERE id = ${id} FOR UPDATE)
        UPDATE sessions s SET seq_reserved = GREATEST(old.seq_reserved, ${atLeast}) + ${block}
        FROM old WHERE s.id = ${id}
        RETURNING old.seq_reserved AS floor, s.seq_reserved AS ceiling`.execute(db);
      const r = rows[0];
      return r ? { floor: Number(r.floor), ceiling: Number(r.ceiling) } : null;
    },
  };
}
