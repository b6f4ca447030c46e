import { GatewayError } from '../errors.js';
import type { RunRecordInput } from '../backends/postgres/types.js';
import type { Limiters, Storage } from '../ports.js';
import type { RunHooks } from './run-manager.js';

const utcDay = (d = new Date()) => d.toISOString().slice(0, 10);

/**
 * What happens around a run: before it, the send rate and the daily token budget are checked
 * (a refusal is a `rate_limited` / `quota_exceeded` error) and the user message is stored before
 * the ack; after its `done`, one transaction writes the tool and assistant rows, the user row's
 * `seq` range, the usage and the title of an untitled session, and the tokens are charged.
 * @example
 * const runs = new RunManager({ ...deps, hooks: createRunEffects({ storage, limiters }) });
 */
export function createRunEffects(deps: { storage: Storage; limiters: Limiters }): Required<Pick<RunHooks, 'beforeRun' | 'accepted' | 'afterRun'>> {
  const { storage, limiters } = deps;
  return {
    async beforeRun({ userId }) {
      const sends = await limiters.sends.consume(userId);
      if (!sends.ok) throw new GatewayError('rate_limited', 'too many messages; wait before sending again', { retryAfterMs: sends.retryAfterMs });
      const budget = await limiters.tokens.check(userId);
      if (!budget.ok) throw new GatewayError('quota_exceeded', 'the daily token budget is used up', { retryAfterMs: budget.retryAfterMs, retryable: false });
    },
    async accepted(r) {
      await storage.messages.append({ sessionId: r.sessionId, runId: r.runId, role: 'user', content: r.text, clientMessageId: r.clientMessageId });
    },
    async afterRun(r) {
      const used = (r.done.usage?.inputTokens ?? 0) + (r.done.usage?.outputTokens ?? 0);
      const rows: RunRecordInput['rows'] = r.tools.map((t) => ({ role: 'tool', content: t.error ? `error: ${t.error}` : (t.output ?? ''), toolName: t.name }));
      if (r.answer) rows.push({ role: 'assistant', content: r.answer, seqFrom: r.seqFrom + 1, seqTo: r.seqTo });
      await storage.runs.record({
        userId: r.userId,
        sessionId: r.sessionId,
        runId: r.runId,
        userSeq: r.seqFrom > 0 ? { from: r.seqFrom, to: r.seqFrom } : undefined,
        rows,
        usage: used > 0 ? { day: utcDay(), tokens: used } : undefined,
        title: autoTitle(r.text),
      });
      if (used > 0) await limiters.tokens.consume(r.userId, used);
    },
  };
}

/** A short title from the first message. */
export function autoTitle(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= 60 ? oneLine : `${oneLine.slice(0, 57).replace(/\s+\S*$/, '')}…`;
}
