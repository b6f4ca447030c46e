import { GatewayError } from '../errors.js';
import type { Limiters, Storage } from '../ports.js';
import type { RunHooks } from './run-manager.js';

const utcDay = (d = new Date()) => d.toISOString().slice(0, 10);

/**
 * What happens around a run: before it, the send rate and the daily token budget are checked
 * (a refusal is a `rate_limited` / `quota_exceeded` error); after its `done`, the transcript rows
 * are written, the tokens it used are charged and counted, and an untitled session gets a title.
 * @example
 * const runs = new RunManager({ ...deps, hooks: createRunEffects({ storage, limiters }) });
 */
export function createRunEffects(deps: { storage: Storage; limiters: Limiters }): Required<Pick<RunHooks, 'beforeRun' | 'afterRun'>> {
  const { storage, limiters } = deps;
  return {
    async beforeRun({ userId }) {
      const sends = await limiters.sends.consume(userId);
      if (!sends.ok) throw new GatewayError('rate_limited', 'too many messages; wait before sending again', { retryAfterMs: sends.retryAfterMs });
      const budget = await limiters.tokens.check(userId);
      if (!budget.ok) throw new GatewayError('quota_exceeded', 'the daily token budget is used up', { retryAfterMs: budget.retryAfterMs, retryable: false });
    },
    async afterRun(r) {
      await storage.messages.append({ sessionId: r.sessionId, runId: r.runId, role: 'user', content: r.text, seqFrom: r.seqFrom, seqTo: r.seqFrom, clientMessageId: r.clientMessageId });
      for (const t of r.tools)
        await storage.messages.append({ sessionId: r.sessionId, runId: r.runId, role: 'tool', content: t.error ? `error: ${t.error}` : (t.output ?? ''), toolName: t.name });
      if (r.answer) await storage.messages.append({ sessionId: r.sessionId, runId: r.runId, role: 'assistant', content: r.answer, seqFrom: r.seqFrom + 1, seqTo: r.seqTo });
      const used = (r.done.usage?.inputTokens ?? 0) + (r.done.usage?.outputTokens ?? 0);
      if (used > 0) {
        await limiters.tokens.consume(r.userId, used);
        await storage.usage.add(r.userId, utcDay(), used);
      }
      const session = await storage.sessions.get(r.userId, r.sessionId);
      if (session && !session.title) await storage.sessions.update(r.userId, r.sessionId, { title: autoTitle(r.text) });
    },
  };
}

/** A short title from the first message. */
export function autoTitle(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= 60 ? oneLine : `${oneLine.slice(0, 57).replace(/\s+\S*$/, '')}…`;
}
