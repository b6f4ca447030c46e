import { sql } from 'kysely';
import type { DbContext } from './database.js';
import { InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { UsageRepository } from './types.js';
import { isUuid, requireDay } from './util.js';

export function usageRepository({ db }: DbContext): UsageRepository {
  return {
    async add(userId, day, tokens) {
      requireDay(day);
      if (!Number.isSafeInteger(tokens) || tokens < 0) throw new InvalidInputError('tokens must be a non-negative integer');
      if (!isUuid(userId)) throw new NotFoundError('user not found');
      try {
        const row = await db
          .insertInto('token_usage')
          .values({ user_id: userId, day, tokens })
          .onConflict((oc) => oc.columns(['user_id', 'day']).doUpdateSet({ tokens: sql`token_usage.tokens + excluded.tokens` }))
          .returning('tokens')
          .executeTakeFirstOrThrow();
        return Number(row.tokens);
      } catch (error) {
        if (sqlState(error) === PgState.ForeignKeyViolation) throw new NotFoundError('user not found', { cause: error });
        throw error;
      }
    },

    async get(userId, day) {
      requireDay(day);
      if (!isUuid(userId)) return 0;
      const row = await db
        .selectFrom('token_usage')
        .select('tokens')
        .where('user_id', '=', userId)
        .where('day', '=', day)
        .executeTakeFirst();
      return row ? Number(row.tokens) : 0;
    },
  };
}
