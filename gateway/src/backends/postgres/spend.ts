import { sql } from 'kysely';
import type { DbContext } from './database.js';
import { InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { RunSpend, SpendRepository } from './types.js';
import { isUuid, requireDay } from './util.js';

const count = (name: string, value: number) => {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidInputError(`${name} must be a non-negative integer`);
};

/** Checks one run's spend before it is written (here or with its run record). */
export function checkSpend(r: RunSpend): void {
  requireDay(r.day);
  if (typeof r.model !== 'string' || r.model === '') throw new InvalidInputError('model is required');
  count('inputTokens', r.inputTokens);
  count('outputTokens', r.outputTokens);
  count('costNanos', r.costNanos);
}

/** Model spend per user, UTC day and model: one upserted row per (user, day, model). */
export function spendRepository({ db }: DbContext): SpendRepository {
  return {
    async add(r) {
      checkSpend(r);
      if (!isUuid(r.userId)) throw new NotFoundError('user not found');
      const cached = r.cached ? 1 : 0;
      try {
        await db
          .insertInto('llm_spend')
          .values({
            user_id: r.userId,
            day: r.day,
            model: r.model.slice(0, 200),
            input_tokens: r.inputTokens,
            output_tokens: r.outputTokens,
            cost_nanos: r.costNanos,
            runs: 1,
            cached_runs: cached,
          })
          .onConflict((oc) =>
            oc.columns(['user_id', 'day', 'model']).doUpdateSet({
              input_tokens: sql`llm_spend.input_tokens + excluded.input_tokens`,
              output_tokens: sql`llm_spend.output_tokens + excluded.output_tokens`,
              cost_nanos: sql`llm_spend.cost_nanos + excluded.cost_nanos`,
              runs: sql`llm_spend.runs + 1`,
              cached_runs: sql`llm_spend.cached_runs + excluded.cached_runs`,
            }),
          )
          .execute();
      } catch (error) {
        if (sqlState(error) === PgState.ForeignKeyViolation) throw new NotFoundError('user not found', { cause: error });
        throw error;
      }
    },

    async list(userId, fromDay) {
      requireDay(fromDay);
      if (!isUuid(userId)) return [];
      const rows = await db
        .selectFrom('llm_spend')
        .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'model', 'input_tokens', 'output_tokens', 'cost_nanos', 'runs', 'cached_runs'])
        .where('user_id', '=', userId)
        .where('day', '>=', fromDay)
        .orderBy('day', 'desc')
        .orderBy('model')
        .execute();
      return rows.map((r) => ({
        day: r.day,
        model: r.model,
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        costNanos: Number(r.cost_nanos),
        runs: Number(r.runs),
        cachedRuns: Number(r.cached_runs),
      }));
    },

    async userTotal(userId, day) {
      requireDay(day);
      if (!isUuid(userId)) return 0;
      const row = await db
        .selectFrom('llm_spend')
        .select(sql<string>`COALESCE(SUM(cost_nanos), 0)`.as('total'))
        .where('user_id', '=', userId)
        .where('day', '=', day)
        .executeTakeFirst();
      return Number(row?.total ?? 0);
    },

    async globalTotal(day) {
      requireDay(day);
      const row = await db
        .selectFrom('llm_spend')
        .select(sql<string>`COALESCE(SUM(cost_nanos), 0)`.as('total'))
        .where('day', '=', day)
        .executeTakeFirst();
      return Number(row?.total ?? 0);
    },
  };
}
