import type { Authenticator } from '../auth/authenticator.js';
import { NANOS_PER_USD } from '../costs/prices.js';
import { GatewayError } from '../errors.js';
import type { SpendCounters, Storage } from '../ports.js';
import { requireUser } from './auth-guard.js';
import { json, type Router } from './router.js';

const DAY_MS = 24 * 3600 * 1000;
const MAX_DAYS = 90;
const usd = (nanos: number) => Math.round(nanos) / NANOS_PER_USD;

/**
 * `GET /v1/me/usage?days=7`: the user's own model spend per UTC day and model (newest day first),
 * today's tokens, and the daily spend limit with what is left of it.
 */
export function addUsageRoutes(
  router: Router,
  deps: { authn: Authenticator; storage: Storage; counters: SpendCounters; dailySpendLimitUsd: number; now?: () => number },
): void {
  const { authn, storage } = deps;
  const now = deps.now ?? Date.now;
  router.add('GET', '/v1/me/usage', async ({ req }) => {
    const userId = await requireUser(req, authn);
    const raw = req.query.get('days');
    const days = raw === null ? 7 : Number(raw);
    if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
      throw new GatewayError('bad_frame', `days must be an integer from 1 to ${MAX_DAYS}`);
    }
    const today = new Date(now()).toISOString().slice(0, 10);
    const from = new Date(now() - (days - 1) * DAY_MS).toISOString().slice(0, 10);
    const [rows, tokensToday, spent] = await Promise.all([
      storage.spend.list(userId, from),
      storage.usage.get(userId, today),
      deps.counters.get(userId, today).catch(() => null),
    ]);
    const byDay = new Map<string, { day: string; nanos: number; models: Array<Record<string, unknown>> }>();
    let total = 0;
    for (const r of rows) {
      let day = byDay.get(r.day);
      if (!day) byDay.set(r.day, (day = { day: r.day, nanos: 0, models: [] }));
      day.nanos += r.costNanos;
      total += r.costNanos;
      day.models.push({ model: r.model, inputTokens: r.inputTokens, outputTokens: r.outputTokens, costUsd: usd(r.costNanos), runs: r.runs, cachedRuns: r.cachedRuns });
    }
    const limit = deps.dailySpendLimitUsd;
    // Today's figure from the shared counters (a run's rows are written just after its done).
    const todayNanos = spent ? spent.user : (byDay.get(today)?.nanos ?? 0);
    return json(200, {
      days: [...byDay.values()].map((d) => ({ day: d.day, costUsd: usd(d.nanos), models: d.models })),
      totalCostUsd: usd(total),
      today: {
        day: today,
        tokens: tokensToday,
        costUsd: usd(todayNanos),
        spendLimitUsd: limit > 0 ? limit : null,
        remainingUsd: limit > 0 ? Math.max(0, usd(Math.round(limit * NANOS_PER_USD) - todayNanos)) : null,
      },
    });
  });
}
