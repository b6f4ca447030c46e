import type { LimitDecision, Limiters, SocketSlot } from '../limits/types.js';
import type { Metrics } from './metrics.js';

/** Limit names counted by `switchboard_rate_limited_total` (the limiters' names, plus HTTP login). */
export const LIMIT_NAMES = ['messages', 'sends', 'connections', 'sockets', 'tokens', 'login'] as const;

/**
 * Counts every refusal of the gateway's limiters by the limit that refused. Patches the methods of
 * the given object in place, so every holder of it (connection manager, run hooks) is counted.
 */
export function instrumentLimiters(limiters: Limiters, metrics: Metrics): Limiters {
  const count = <T extends LimitDecision | SocketSlot>(d: T): T => {
    if (!d.ok) metrics.rateLimited(d.limit);
    return d;
  };
  for (const name of ['messages', 'sends', 'connections'] as const) {
    const limit = limiters[name];
    const consume = limit.consume.bind(limit);
    limit.consume = async (key) => count(await consume(key));
  }
  const sockets = limiters.sockets;
  const acquire = sockets.acquire.bind(sockets);
  sockets.acquire = async (userId) => count(await acquire(userId));
  const tokens = limiters.tokens;
  const check = tokens.check.bind(tokens);
  tokens.check = async (userId) => count(await check(userId));
  return limiters;
}
