/**
 * One request/response pair of the mock, with the helpers every route shares:
 * paced sleeps that stop when the client disconnects, JSON answers, and injected faults.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { MockFault, ResolvedScenario } from './scenario.js';
import type { MockOutcome, MockRequestRecord, MockStatsRecorder } from './stats.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: MockRequestRecord;
  scenario: ResolvedScenario;
  /** The fault to apply to this request (after `failFirst` is accounted for). */
  fault: MockFault;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
  stats: MockStatsRecorder;
  /** Set when the request is deliberately left unanswered. */
  hanging?: boolean;
}

/** Ends the exchange with an outcome (counted once). */
export function finish(ex: Exchange, outcome: MockOutcome): void {
  ex.stats.end(ex.record, outcome);
}

/** Sends a JSON answer. */
export function sendJson(
  ex: Exchange,
  status: number,
  body: unknown,
  outcome: MockOutcome,
  headers: Record<string, string> = {},
): void {
  if (ex.signal.aborted) return;
  const payload = JSON.stringify(body);
  finish(ex, outcome);
  ex.res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  ex.res.end(payload);
}

/** Sends an OpenAI-style error body. */
export function sendError(
  ex: Exchange,
  status: number,
  message: string,
  outcome: MockOutcome,
  headers: Record<string, string> = {},
): void {
  const type =
    status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(ex, status, { error: { message, type, code: outcome, param: null } }, outcome, headers);
}

/** Resolves after `ms` (± jitter), or early with `false` when the client has gone. */
export async function pause(ex: Exchange, ms: number): Promise<boolean> {
  const jitter = ex.scenario.jitterMs;
  const delay = Math.max(0, ms + (jitter > 0 ? (Math.random() * 2 - 1) * jitter : 0));
  if (ex.signal.aborted) return false;
  if (delay <= 0) return true;
  try {
    await sleepTimer(delay, undefined, { signal: ex.signal });
    return true;
  } catch {
    return false;
  }
}

/** Destroys the socket after what was written has been flushed. */
export function cutConnection(ex: Exchange): void {
  finish(ex, 'cut');
  const socket = ex.req.socket;
  if (ex.res.headersSent) ex.res.write('', () => setImmediate(() => socket.destroy()));
  else socket.destroy();
}

/**
 * Applies the faults that happen before any answer: 429, 500, 503, hang, and `cut` for
 * non-streaming requests. Returns true when the exchange was handled.
 */
export function applyUpfrontFault(ex: Exchange, streaming: boolean): boolean {
  const retryAfter = String(ex.scenario.retryAfterSec);
  switch (ex.fault) {
    case '429':
      sendError(ex, 429, 'Rate limit reached (mock)', '429', { 'retry-after': retryAfter });
      return true;
    case '500':
      sendError(ex, 500, 'Internal server error (mock)', '500');
      return true;
    case '503':
      sendError(ex, 503, 'Service unavailable (mock)', '503', { 'retry-after': retryAfter });
      return true;
    case 'hang':
      // Never answer; counted as 'hang' (and as a client disconnect) when the client gives up.
      ex.hanging = true;
      return true;
    case 'cut':
      if (streaming) return false;
      cutConnection(ex);
      return true;
    default:
      return false;
  }
}
