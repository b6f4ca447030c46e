import type { ModelChainEvent } from '@switchboard/agent-core';
import type { Instrumentation } from '../ports.js';
import type { Metrics } from './metrics.js';

/**
 * The gateway's {@link Instrumentation}: every event becomes a metric (frame and byte counts are
 * array increments); model chain events also feed the run traces through `onModelEvent`, and
 * routing decisions land on the run's span through `annotateRun`.
 */
export function createInstrumentation(
  metrics: Metrics,
  onModelEvent: (e: ModelChainEvent) => void,
  annotateRun: (runId: string | undefined, attributes: Record<string, string>) => void = () => {},
): Instrumentation {
  const frames = metrics.frames;
  return {
    socketOpened: () => metrics.socketOpened(),
    socketClosed: (code) => metrics.socketClosed(code),
    serverClose: (code) => metrics.serverClose(code),
    bytesIn: (bytes) => {
      frames.bytesIn += bytes;
    },
    frameIn: (type) => frames.in(type),
    frameOut(frame, bytes) {
      frames.out(frame.type, bytes);
      if (frame.type === 'ready') {
        if (frame.resumed) metrics.resume('resumed');
      } else if (frame.type === 'error') {
        if (frame.code === 'resume_expired') metrics.resume('expired');
        else if (frame.code === 'replay_gap') metrics.resume('gap');
      }
    },
    delivered: (json, sockets) => frames.delivered(json, sockets),
    replayed: (count) => metrics.replayed(count),
    limited: (limit) => metrics.rateLimited(limit),
    http(method, route, status, seconds) {
      metrics.http(method, route, status, seconds);
      // Other 429s come from the limiters, which report their own refusals.
      if (status === 429 && route === '/v1/auth/login') metrics.rateLimited('login');
    },
    modelEvent: (e) => onModelEvent(e),
    feedback: (score) => metrics.feedback(score),
    routed(tier, rule, runId) {
      metrics.routed(tier, rule);
      annotateRun(runId, { 'switchboard.route.tier': tier, 'switchboard.route.rule': rule });
    },
    cacheLookup: (cache, hit) => metrics.cacheLookup(cache, hit),
    spendLimit: (limit, phase) => metrics.spendLimit(limit, phase),
    cost: (c) => metrics.cost(c.model, c.tier, c.usd, c.userId, c.userTodayUsd),
  };
}
