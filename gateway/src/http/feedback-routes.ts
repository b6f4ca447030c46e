import { FeedbackBody } from '@switchboard/protocol';
import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import { feedbackScore, type ScoreSink } from '../observability/scores.js';
import type { Instrumentation, SessionLog, Storage } from '../ports.js';
import { requireUser } from './auth-guard.js';
import { json, parseBody, type Router } from './router.js';

export interface FeedbackRouteDeps {
  tokens: TokenService;
  storage: Storage;
  /** Where the run's `done` (and so its trace id) is looked up while the log still holds it. */
  log: SessionLog;
  instrumentation: Instrumentation;
  /** Langfuse when its keys are set, else a local JSONL file. */
  scores: ScoreSink;
}

/** The trace id on the run's `done`, while the session log still holds it. */
async function traceIdOf(log: SessionLog, sessionId: string, runId: string): Promise<string | undefined> {
  const { frames } = await log.readAfter(sessionId, 0);
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!;
    if (f.type === 'done' && f.runId === runId) return f.traceId;
  }
  return undefined;
}

/** `POST /v1/sessions/:id/runs/:runId/feedback`: a user's thumbs up or down on one of their runs. */
export function addFeedbackRoutes(router: Router, deps: FeedbackRouteDeps): void {
  const { tokens, storage, log, instrumentation, scores } = deps;
  router.add('POST', '/v1/sessions/:id/runs/:runId/feedback', async ({ req, params }) => {
    const userId = await requireUser(req, tokens);
    const sessionId = params.id!;
    const runId = params.runId!;
    const body = parseBody(req, FeedbackBody);
    if (!(await storage.sessions.get(userId, sessionId))) throw new GatewayError('not_found', 'no such session');
    if (!(await storage.feedback.hasRun(sessionId, runId))) throw new GatewayError('not_found', 'no such run');
    const traceId = await traceIdOf(log, sessionId, runId).catch(() => undefined);
    await storage.feedback.record({ userId, sessionId, runId, score: body.score, comment: body.comment, traceId });
    instrumentation.feedback(body.score);
    scores.score(feedbackScore({ traceId, runId, sessionId, score: body.score, comment: body.comment }));
    void scores.flush().catch(() => {});
    return json(204, null);
  });
}
