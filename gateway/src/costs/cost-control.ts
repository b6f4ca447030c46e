/**
 * Cost control around the agent: each run is routed to a tier, answered from the exact answer
 * cache when it can be, metered while it streams (cut with `done{reason:"length"}` and a
 * `quota_exceeded` error when a daily spend limit is crossed), and charged once at its end —
 * the shared counters first (the next run's check sees it), then the spend rows in the database.
 */
import type { AgentEvent, DoneEvent, Embedder, TokenUsage } from '@switchboard/agent-core';
import { GatewayError } from '../errors.js';
import { withLogContext, type Logger } from '../logger.js';
import type { RunSpend, SpendInput } from '../backends/postgres/types.js';
import type { AgentRunner, CacheStore, Instrumentation, SpendCounters, Storage } from '../ports.js';
import { AnswerRecorder, answerKey, parseCached, replay, SIDE_EFFECT_HINT, type CachedAnswer } from './answer-cache.js';
import { relayEvents, Step, type Relay } from './event-relay.js';
import { costNanos, fromUsd, toUsd, type PriceBook } from './prices.js';
import type { TierRouter } from './router.js';

const DAY_MS = 24 * 3600 * 1000;
const CHARS_PER_TOKEN = 4;
const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** One tier's agent and the models of its chain. */
export interface TierAgent {
  runner: AgentRunner;
  models: readonly string[];
}

/** What came before this run in its session: for the router's depth rule and the cache key. */
export interface RunHistory {
  /** Earlier user turns. */
  depth: number;
  /** The last turns before this one, as text (part of the answer cache key). */
  recent: string;
}

export interface CostControlDeps {
  /** The agent when the deployment has no tiers. */
  agent: AgentRunner;
  /** Models of the untiered agent's chain (for the price bound while streaming). */
  models: readonly string[];
  /** With `router`: the agent of each tier. */
  tiers?: ReadonlyMap<string, TierAgent>;
  router?: TierRouter;
  prices: PriceBook;
  history(sessionId: string, runId: string): Promise<RunHistory>;
  counters: SpendCounters;
  spend: Storage['spend'];
  /**
   * When set, a run's spend row is not written on its own: it is kept for the run's record, which
   * takes it with `takeSpend(runId)` and writes it in the same statement (run effects do; a row
   * nobody takes is written on its own once more than a few thousand wait).
   * @default false
   */
  spendWithRun?: boolean;
  /** Daily spend limits in USD; 0 = none. */
  limits: { userUsd: number; globalUsd: number };
  answerCache?: { store: CacheStore; ttlMs: number; promptVersion: string };
  /**
   * The opt-in semantic cache: an opening question (no earlier turn in its session, no hint of a
   * side-effecting tool) answered from the same user's most similar earlier question in the tier,
   * when the cosine similarity reaches `threshold`.
   */
  semanticCache?: { embedder: Embedder; questions: Storage['questions']; threshold: number; ttlMs: number; timeoutMs?: number };
  /** Input tokens every request carries besides the turn (the system prompt), for the estimate while streaming. @default 0 */
  baseInputTokens?: number;
  events: Instrumentation;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
}

type Limit = 'user' | 'global';

/** Spend rows that wait for their run's record at most; past this the oldest are written on their own. */
const MAX_WAITING_SPEND = 4096;

/**
 * Creates the cost control: `runner` wraps the agent(s); `checkBeforeRun` refuses a run whose
 * user or deployment has spent its daily limit (`quota_exceeded` with `retryAfterMs` until 00:00 UTC).
 * @example
 * const costs = createCostControl({ agent, models, prices, history, counters, spend: storage.spend, limits, events, logger });
 * const runs = new RunManager({ agent: costs.runner, hooks: createRunEffects({ ..., checkSpend: costs.checkBeforeRun }) });
 */
export function createCostControl(deps: CostControlDeps) {
  const { prices, counters, events, logger } = deps;
  const now = deps.now ?? Date.now;
  const userLimit = fromUsd(deps.limits.userUsd);
  const globalLimit = fromUsd(deps.limits.globalUsd);
  const limited = userLimit > 0 || globalLimit > 0;
  const untilMidnight = () => DAY_MS - (now() % DAY_MS);
  const cache = deps.answerCache;

  /** What is left of the binding limit today (Infinity when none is set); fails open when the counters are down. */
  async function allowance(userId: string, day: string): Promise<{ left: number; limit: Limit | null }> {
    if (!limited) return { left: Number.POSITIVE_INFINITY, limit: null };
    try {
      const spent = await counters.get(userId, day);
      const user = userLimit > 0 ? userLimit - spent.user : Number.POSITIVE_INFINITY;
      const global = globalLimit > 0 ? globalLimit - spent.global : Number.POSITIVE_INFINITY;
      return user <= global ? { left: user, limit: 'user' } : { left: global, limit: 'global' };
    } catch (error) {
      logger.warn('spend counters unavailable; the spend limits are not enforced for this run', { error: String(error) });
      return { left: Number.POSITIVE_INFINITY, limit: null };
    }
  }

  function reached(limit: Limit, phase: 'before' | 'during', userId: string): GatewayError {
    events.spendLimit(limit, phase);
    logger.warn(phase === 'before' ? 'daily spend limit reached; run refused' : 'daily spend limit reached during a run; answer cut', { limit, userId });
    const message =
      limit === 'user'
        ? 'your daily spend limit is used up; it resets at 00:00 UTC'
        : "the service's daily spend limit is used up; try again after 00:00 UTC";
    return new GatewayError('quota_exceeded', message, { retryable: false, retryAfterMs: untilMidnight() });
  }

  /** The logger of a run's lines: the run's ids on each (handed on, not from an async context). */
  const runLog = (input: { userId: string; runId: string; sessionId?: string }) => withLogContext(logger, { sessionId: input.sessionId, runId: input.runId, userId: input.userId });

  /** Spend rows by run id, waiting for their run's record. */
  const waiting = new Map<string, SpendInput>();

  function writeSpend(row: SpendInput): void {
    void deps.spend.add(row).catch((error) => logger.error('spend write failed (the counters have it)', { error: String(error), model: row.model, nanos: row.costNanos }));
  }

  async function charge(input: { userId: string; runId: string; sessionId?: string }, day: string, model: string, tier: string | undefined, usage: TokenUsage, nanos: number, cached: boolean) {
    const { userId } = input;
    let userToday = 0;
    try {
      userToday = (await counters.add(userId, day, nanos)).user;
    } catch (error) {
      runLog(input).warn('spend counter update failed', { error: String(error), nanos });
    }
    events.cost({ model, tier, usd: toUsd(nanos), userId, userTodayUsd: toUsd(userToday) });
    const row = { userId, day, model, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costNanos: nanos, cached };
    if (!deps.spendWithRun) return writeSpend(row);
    const earlier = waiting.get(input.runId);
    if (earlier) writeSpend(earlier); // one row per run; a second charge of a run is not lost
    waiting.set(input.runId, row);
    for (const [runId, old] of waiting) {
      if (waiting.size <= MAX_WAITING_SPEND) break;
      waiting.delete(runId);
      writeSpend(old);
    }
  }

  type RunInput = Parameters<AgentRunner['stream']>[0];

  /** A cached answer, replayed with the frame shapes of a live one, at cost 0. */
  async function* fromCache(input: RunInput, day: string, hit: CachedAnswer, tier: string | undefined, withTier: (done: DoneEvent) => DoneEvent): AsyncGenerator<AgentEvent> {
    for (const event of replay(hit)) {
      if (input.signal.aborted) break;
      yield event;
    }
    const usage = { inputTokens: 0, outputTokens: 0 };
    await charge(input, day, hit.model, tier, usage, 0, true);
    yield withTier({ type: 'done', reason: input.signal.aborted ? 'cancelled' : 'stop', model: hit.model, usage: { ...usage, costUsd: 0, cached: true } });
  }

  /**
   * Routes, looks up the caches and the allowance, then meters the agent's events as they pass
   * (a step per event, no generator: a run streams hundreds of tokens through here) and charges
   * the run at its end.
   */
  async function open(input: RunInput): Promise<Relay<AgentEvent>> {
    const day = utcDay(now());
    const history: RunHistory =
      deps.router || cache ? await deps.history(input.sessionId, input.runId).catch(() => ({ depth: 0, recent: '' })) : { depth: 0, recent: '' };
    let tier: string | undefined;
    let runner = deps.agent;
    let models = deps.models;
    if (deps.router && deps.tiers) {
      const decision = await deps.router.route({ text: input.text, depth: history.depth, hint: input.tier });
      const chosen = deps.tiers.get(decision.tier);
      if (chosen) {
        tier = decision.tier;
        runner = chosen.runner;
        models = chosen.models;
        events.routed(decision.tier, decision.rule, input.runId);
      }
    }
    const withTier = (done: DoneEvent): DoneEvent => (tier === undefined ? done : { ...done, tier });

    const key = cache ? answerKey({ userId: input.userId, promptVersion: cache.promptVersion, tier: tier ?? '', recent: history.recent, text: input.text }) : undefined;
    const semantic = deps.semanticCache;
    const opening = semantic !== undefined && history.depth === 0 && !SIDE_EFFECT_HINT.test(input.text);
    let vector: number[] | undefined;
    let hit: CachedAnswer | null = null;
    if (cache && key) {
      hit = parseCached(await cache.store.get(key).catch(() => null));
      events.cacheLookup('answer', hit !== null);
    }
    if (!hit && semantic && opening) {
      try {
        [vector] = await semantic.embedder.embed([input.text], AbortSignal.timeout(semantic.timeoutMs ?? 1000));
        const near = vector ? await semantic.questions.nearest(input.userId, tier ?? '', vector) : null;
        if (near && near.score >= semantic.threshold) hit = parseCached(near.answer);
      } catch (error) {
        runLog(input).warn('semantic cache lookup failed; asking the model', { error: String(error) });
      }
      events.cacheLookup('semantic', hit !== null);
    }
    if (hit) return { source: fromCache(input, day, hit, tier, withTier), see: () => Step.pass, end: async () => [] };

    const budget = await allowance(input.userId, day);
    const inputTokens = (deps.baseInputTokens ?? 0) + Math.ceil((input.text.length + history.recent.length) / CHARS_PER_TOKEN);
    let price = prices.highest(models);
    let model: string | undefined;
    let outputChars = 0;
    const recorder = key || vector ? new AnswerRecorder() : undefined;
    let done: DoneEvent | undefined;
    let cut = false;

    const see = (event: AgentEvent): Step => {
      if (event.type === 'model-start') {
        model = event.model;
        price = prices.price(event.model);
        return Step.skip;
      }
      if (event.type === 'done') {
        done = event;
        return Step.stop;
      }
      recorder?.add(event);
      if (event.type === 'token' && budget.limit) {
        outputChars += event.text.length;
        if (costNanos(price, { inputTokens, outputTokens: Math.ceil(outputChars / CHARS_PER_TOKEN) }) >= budget.left) {
          cut = true;
          return Step.passThenStop; // closes the agent's stream: its model request is aborted
        }
      }
      return Step.pass;
    };

    const end = async (): Promise<AgentEvent[]> => {
      if (cut && budget.limit) {
        const usage = { inputTokens, outputTokens: Math.ceil(outputChars / CHARS_PER_TOKEN) };
        const nanos = costNanos(price, usage);
        const error = reached(budget.limit, 'during', input.userId);
        await charge(input, day, model ?? 'unknown', tier, usage, nanos, false);
        return [
          { type: 'error', code: error.code, message: error.message, retryable: false, retryAfterMs: error.options.retryAfterMs },
          withTier({ type: 'done', reason: 'length', model: model ?? models[0], usage: { ...usage, costUsd: toUsd(nanos) } }),
        ];
      }
      if (!done) return []; // the agent always ends with done; the run manager reports it if not
      const usage = done.usage ?? { inputTokens: 0, outputTokens: 0 };
      const answeredBy = done.model ?? model ?? 'unknown';
      const nanos = costNanos(prices.price(answeredBy), usage);
      await charge(input, day, answeredBy, tier, usage, nanos, false);
      if (recorder?.cacheable && done.reason === 'stop' && recorder.steps.some((s) => 'text' in s && s.text.trim() !== '')) {
        const entry = JSON.stringify({ model: answeredBy, steps: recorder.steps } satisfies CachedAnswer);
        if (cache && key) void cache.store.set(key, entry, cache.ttlMs).catch((error) => runLog(input).warn('answer cache write failed', { error: String(error) }));
        if (semantic && vector) {
          void semantic.questions
            .add(input.userId, { tier: tier ?? '', question: input.text, embedding: vector, answer: entry, ttlMs: semantic.ttlMs })
            .catch((error) => runLog(input).warn('semantic cache write failed', { error: String(error) }));
        }
      }
      return [withTier({ ...done, usage: { ...usage, costUsd: toUsd(nanos) } })];
    };

    return { source: runner.stream(input), see, end };
  }

  const stream = (input: RunInput): AsyncIterable<AgentEvent> => relayEvents(() => open(input));

  return {
    runner: { stream } satisfies AgentRunner,
    /**
     * The spend row of a run that was charged, for its run record (with `spendWithRun`); undefined
     * when the run was not charged or its row was already taken.
     */
    takeSpend(runId: string): RunSpend | undefined {
      const row = waiting.get(runId);
      if (!row) return undefined;
      waiting.delete(runId);
      const { userId: _, ...spend } = row;
      return spend;
    },
    /** Refuses a run when the user's or the deployment's daily spend limit is used up. */
    async checkBeforeRun(userId: string): Promise<void> {
      const { left, limit } = await allowance(userId, utcDay(now()));
      if (limit && left <= 0) throw reached(limit, 'before', userId);
    },
  };
}

export type CostControl = ReturnType<typeof createCostControl>;
