import { randomUUID } from 'node:crypto';
import { CreateSessionBody, PostMessageBody, UpdateSessionBody, type SessionFrame } from '@switchboard/protocol';
import type { Authenticator } from '../auth/authenticator.js';
import { GatewayError } from '../errors.js';
import type { RateLimit } from '../limits/types.js';
import type { Logger } from '../logger.js';
import { securityLog, SecurityEvent } from '../observability/security-log.js';
import type { RunManager } from '../runs/run-manager.js';
import type { SessionHub } from '../sessions/hub.js';
import type { SessionLog, Storage } from '../ports.js';
import type { HttpResponse } from '../transport/types.js';
import { requireUser } from './auth-guard.js';
import { json, parseBody, type Router } from './router.js';

export interface SessionRouteDeps {
  authn: Authenticator;
  storage: Storage;
  runs: RunManager;
  hub: SessionHub;
  log: SessionLog;
  /** Called after a session is deleted (caches). */
  onDeleted?(userId: string, sessionId: string): void;
  /** Sessions created per user. @default unlimited */
  creations?: RateLimit;
  /** For security events (limit refusals). */
  logger?: Logger;
}

function limitParam(raw: string | null, def: number): number {
  if (raw === null) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new GatewayError('bad_frame', 'limit must be an integer from 1 to 200');
  return n;
}

/** `/v1/sessions` and its transcript and turn routes. */
export function addSessionRoutes(router: Router, deps: SessionRouteDeps): void {
  const { authn, storage } = deps;
  const owned = async (userId: string, id: string) => {
    const s = await storage.sessions.get(userId, id);
    if (!s) throw new GatewayError('not_found', 'no such session');
    return s;
  };
  router
    .add('POST', '/v1/sessions', async ({ req }) => {
      const userId = await requireUser(req, authn);
      const body = parseBody(req, CreateSessionBody);
      const allowed = (await deps.creations?.consume(userId)) ?? { ok: true as const };
      if (!allowed.ok) {
        if (deps.logger) securityLog(deps.logger, SecurityEvent.rateLimited, { limit: 'sessions', userId, address: req.remoteAddress, surface: 'http' });
        throw new GatewayError('rate_limited', 'too many new sessions; wait before creating more', { retryAfterMs: allowed.retryAfterMs });
      }
      return json(201, await storage.sessions.create(userId, { title: body.title ?? null }));
    })
    .add('GET', '/v1/sessions', async ({ req }) => {
      const userId = await requireUser(req, authn);
      const limit = limitParam(req.query.get('limit'), 50);
      const sessions = await storage.sessions.list(userId, { limit, before: req.query.get('before') ?? undefined });
      return json(200, { sessions });
    })
    .add('GET', '/v1/sessions/:id', async ({ req, params }) => {
      const session = await owned(await requireUser(req, authn), params.id!);
      // What a reloaded page needs to join{after} and follow a run it did not start.
      const [lastSeq, activeRunId] = await Promise.all([deps.log.lastSeq(session.id), deps.runs.activeRunId(session.id)]);
      return json(200, { ...session, lastSeq, activeRunId: activeRunId ?? null });
    })
    .add('PATCH', '/v1/sessions/:id', async ({ req, params }) => {
      const userId = await requireUser(req, authn);
      const body = parseBody(req, UpdateSessionBody);
      const s = await storage.sessions.update(userId, params.id!, { title: body.title });
      if (!s) throw new GatewayError('not_found', 'no such session');
      return json(200, s);
    })
    .add('DELETE', '/v1/sessions/:id', async ({ req, params }) => {
      const userId = await requireUser(req, authn);
      await owned(userId, params.id!);
      if (await deps.runs.activeRunId(params.id!)) throw new GatewayError('busy', 'the session has a running run; cancel it first');
      // Deleting the session row also deletes its checkpoints (same transaction).
      await storage.sessions.delete(userId, params.id!);
      deps.onDeleted?.(userId, params.id!);
      await deps.log.delete(params.id!);
      return json(204, null);
    })
    .add('GET', '/v1/sessions/:id/messages', async ({ req, params }) => {
      const userId = await requireUser(req, authn);
      await owned(userId, params.id!);
      const limit = limitParam(req.query.get('limit'), 50);
      return json(200, await storage.messages.list(params.id!, { before: req.query.get('before') ?? undefined, limit }));
    })
    .add('POST', '/v1/sessions/:id/messages', async ({ req, params }) => {
      const userId = await requireUser(req, authn);
      const sessionId = params.id!;
      await owned(userId, sessionId);
      const body = parseBody(req, PostMessageBody);
      return turn(deps, { userId, sessionId, body, req });
    });
}

async function turn(
  deps: SessionRouteDeps,
  t: { userId: string; sessionId: string; body: PostMessageBody; req: { headers: Record<string, string>; signal: AbortSignal } },
): Promise<HttpResponse> {
  const sse = (t.req.headers.accept ?? '').includes('text/event-stream');
  const lastEventId = Number(t.req.headers['last-event-id']);
  const resumeAfter = Number.isInteger(lastEventId) && lastEventId >= 0 ? lastEventId : undefined;
  const frames: SessionFrame[] = [];
  let wake: (() => void) | null = null;
  let runId: string | null = null;
  let duplicate = false;
  const onFrame = (f: SessionFrame) => {
    frames.push(f);
    wake?.();
  };
  // Tap before the run starts so its first frame is seen; a repeated id (resume) replays from the log.
  let tap = await deps.hub.tap(t.sessionId, resumeAfter, onFrame);
  try {
    await deps.runs.send({ userId: t.userId, connectionId: `http:${randomUUID()}` }, { type: 'send', sessionId: t.sessionId, ...t.body }, (id, dup) => {
      runId = id;
      duplicate = dup;
    });
  } catch (e) {
    tap.close();
    throw e;
  }
  if (duplicate && resumeAfter === undefined) {
    // The client retried without Last-Event-ID: replay the log; frames of other runs are skipped.
    tap.close();
    frames.length = 0;
    tap = await deps.hub.tap(t.sessionId, 0, onFrame);
  }
  async function* runFrames(): AsyncGenerator<SessionFrame> {
    // One abort listener for the whole turn (not one per wait), removed when the turn ends.
    const onAbort = () => wake?.();
    t.req.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        while (frames.length) {
          const f = frames.shift()!;
          if (f.runId !== runId) continue;
          yield f;
          if (f.type === 'done') return;
        }
        if (t.req.signal.aborted) return;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      t.req.signal.removeEventListener('abort', onAbort);
      tap.close();
    }
  }
  if (sse) {
    async function* events(): AsyncGenerator<string> {
      yield `retry: 1000\n\n`;
      for await (const f of runFrames()) yield `id: ${f.seq}\nevent: ${f.type}\ndata: ${JSON.stringify(f)}\n\n`;
    }
    return {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'x-run-id': String(runId) },
      stream: events(),
    };
  }
  const collected: SessionFrame[] = [];
  for await (const f of runFrames()) collected.push(f);
  const done = collected.find((f) => f.type === 'done');
  const text = collected.map((f) => (f.type === 'token' ? f.text : '')).join('');
  return json(200, { runId, text, done, frames: collected });
}
