import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RunRecordInput, RunSpend } from '../backends/postgres/types.js';
import type { Limiters, Storage } from '../ports.js';
import type { RunHooks } from './run-manager.js';

const utcDay = (d = new Date()) => d.toISOString().slice(0, 10);

/** What a run's effects need; `logger` and `onTranscriptFailed` make a failed write visible. */
export interface RunEffectsDeps {
  storage: Storage;
  limiters: Limiters;
  logger?: Logger;
  /** Counts a transcript write that failed (metrics). */
  onTranscriptFailed?(): void;
  /** The daily spend limits (cost control): throws a `quota_exceeded` GatewayError to refuse the run. */
  checkSpend?(userId: string): Promise<void>;
  /** The run's spend row, written with its record (cost control with `spendWithRun`). */
  takeSpend?(runId: string): RunSpend | undefined;
}

/** The tokens a run's `done` reports, input and output together (what the daily budget counts). */
const tokensUsed = (done: { usage?: { inputTokens?: number; outputTokens?: number } }) => (done.usage?.inputTokens ?? 0) + (done.usage?.outputTokens ?? 0);

/** Model output may hold U+0000, which Postgres cannot store in text: keep the rest of the turn. */
const storable = (text: string) => (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text);

/**
 * What happens around a run: before it, the send rate and the daily token budget are checked
 * (a refusal is a `rate_limited` / `quota_exceeded` error) and the user message is stored before
 * the ack; after its last frame and before its `done`, the tokens it used are charged to the
 * budget (a failed charge is logged, never a reason to skip the record) while one transaction
 * (tried three times) writes the tool and assistant rows, the user row's `seq` range, the usage,
 * the spend row (when cost control hands it over) and the title of an untitled session. A failed
 * write never skips the charge: it is logged as an error, counted, and the usage and spend are
 * still written on their own.
 * @example
 * const runs = new RunManager({ ...deps, hooks: createRunEffects({ storage, limiters, logger }) });
 */
export function createRunEffects(deps: RunEffectsDeps): Required<Pick<RunHooks, 'beforeRun' | 'accepted' | 'afterRun' | 'lostRun' | 'fencedRun'>> {
  const { storage, limiters, logger } = deps;
  /** A run's spend row on its own, when its record is not written: a failure is logged, not thrown. */
  const spendAlone = async (ids: { sessionId: string; runId: string; userId: string }, spend: RunSpend | undefined) => {
    if (!spend) return;
    await storage.spend.add({ userId: ids.userId, ...spend }).catch((err) => logger?.error('spend write failed', { ...ids, nanos: spend.costNanos, error: String(err) }));
  };
  return {
    async beforeRun({ userId }) {
      const sends = await limiters.sends.consume(userId);
      if (!sends.ok) throw new GatewayError('rate_limited', 'too many messages; wait before sending again', { retryAfterMs: sends.retryAfterMs });
      const budget = await limiters.tokens.check(userId);
      if (!budget.ok) throw new GatewayError('quota_exceeded', 'the daily token budget is used up', { retryAfterMs: budget.retryAfterMs, retryable: false });
      await deps.checkSpend?.(userId);
    },
    async accepted(r) {
      // The row opens the run: until its record closes it, the run is acked and not ended.
      try {
        await storage.messages.append({ sessionId: r.sessionId, runId: r.runId, role: 'user', content: storable(r.text), clientMessageId: r.clientMessageId, opensRun: true });
      } catch (e) {
        // The send is refused; a write that landed anyway (its reply lost) would leave an open run
        // that the sweep ends with a `done` although no client was ever acked.
        await storage.runEnds.discard(r.sessionId, r.runId).catch(() => {});
        throw e;
      }
    },
    async lostRun({ sessionId, runId, frames }) {
      // The user message was stored before the ack; the rest of the turn is what the log holds.
      const userId = await storage.sessions.owner(sessionId);
      if (!userId) return;
      const user = frames.find((f) => f.type === 'user');
      const done = frames.find((f) => f.type === 'done');
      const tokens = frames.filter((f) => f.type === 'token');
      const answer = tokens.map((f) => f.text).join('');
      const rows: RunRecordInput['rows'] = frames.flatMap((f) =>
        f.type === 'tool' && f.phase === 'end' ? [{ role: 'tool' as const, content: storable(f.error ? `error: ${f.error}` : (f.output ?? '')), toolName: f.name }] : [],
      );
      if (answer) rows.push({ role: 'assistant', content: storable(answer), seqFrom: tokens[0]!.seq, seqTo: done?.seq ?? tokens.at(-1)!.seq });
      try {
        await storage.runs.record({ userId, sessionId, runId, userSeq: user ? { from: user.seq, to: user.seq } : undefined, rows, title: user ? autoTitle(user.text) : undefined });
      } catch (e) {
        deps.onTranscriptFailed?.();
        logger?.error('transcript write of a lost run failed', { sessionId, runId, error: String(e) });
      }
    },
    async fencedRun({ userId, runId, done }) {
      const spend = deps.takeSpend?.(runId);
      const used = tokensUsed(done);
      try {
        if (used > 0) {
          await limiters.tokens.consume(userId, used);
          await storage.usage.add(userId, utcDay(), used);
        }
      } finally {
        // The spend row too, whatever happened to the token charge.
        if (spend) await storage.spend.add({ userId, ...spend });
      }
    },
    async afterRun(r) {
      const ids = { sessionId: r.sessionId, runId: r.runId, userId: r.userId };
      const used = tokensUsed(r.done);
      const spend = deps.takeSpend?.(r.runId);
      // The budget's bucket lives in Redis, the record in Postgres: a bucket that cannot be charged
      // (Redis away) never holds the record back, and the charge runs beside the record (the
      // run's `done` waits for this hook). The record is what ends the run for good; the day's
      // usage row counts the tokens whatever happens to the bucket.
      const charged =
        used > 0
          ? limiters.tokens.consume(r.userId, used).then(
              () => {},
              (e: unknown) => logger?.error('token budget charge failed; the usage row still counts the run', { ...ids, tokens: used, error: String(e) }),
            )
          : undefined;
      const rows: RunRecordInput['rows'] = r.tools.map((t) => ({ role: 'tool', content: storable(t.error ? `error: ${t.error}` : (t.output ?? '')), toolName: t.name }));
      if (r.answer) rows.push({ role: 'assistant', content: storable(r.answer), seqFrom: r.seqFrom + 1, seqTo: r.seqTo });
      const usage = used > 0 ? { day: utcDay(), tokens: used } : undefined;
      try {
        await recordWithRetry(() => storage.runs.record({
          userId: r.userId,
          sessionId: r.sessionId,
          runId: r.runId,
          userSeq: r.seqFrom > 0 ? { from: r.seqFrom, to: r.seqFrom } : undefined,
          rows,
          usage,
          spend,
          title: autoTitle(r.text),
        }));
      } catch (e) {
        deps.onTranscriptFailed?.();
        logger?.error('transcript write failed; the run was charged', { ...ids, error: String(e) });
        if (usage) await storage.usage.add(r.userId, usage.day, usage.tokens).catch((err) => logger?.error('usage write failed', { ...ids, tokens: used, error: String(err) }));
        await spendAlone(ids, spend);
      } finally {
        await charged;
      }
    },
  };
}

/** Waits before the second and third try of a run's record: a Postgres blip does not leave the run open. */
const RECORD_RETRY_MS = [250, 1_000];

/**
 * A record adds its rows once, so it is tried again; only a commit whose reply was lost (the rare
 * case a retry follows a record that landed) counts its usage twice, which the fallback after a
 * failed record would do as well: a run is never left uncharged.
 */
async function recordWithRetry(write: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      const wait = RECORD_RETRY_MS[attempt];
      if (wait === undefined) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** A short title from the first message. */
export function autoTitle(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= 60 ? oneLine : `${oneLine.slice(0, 57).replace(/\s+\S*$/, '')}…`;
}
