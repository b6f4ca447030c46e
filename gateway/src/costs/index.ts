/**
 * Cost control from the configuration: prices from `LLM_MODELS`, the tier router, the daily spend
 * limits, the exact answer cache. `createCostControlFor` only picks the parts; the behaviour lives
 * in `cost-control.ts`, `router.ts`, `answer-cache.ts` and `prices.ts`.
 */
import { createHash } from 'node:crypto';
import { loadPrompt } from '@switchboard/agent-core';
import type { AgentBackend } from '../backends/index.js';
import { clientTiers, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { CacheStore, Instrumentation, SpendCounters, Storage } from '../ports.js';
import { normalizeText } from './answer-cache.js';
import { createCostControl, type RunHistory } from './cost-control.js';
import { PriceBook } from './prices.js';
import { createRouter } from './router.js';

export { createCostControl, type CostControl } from './cost-control.js';
export { createRouter, type RouteDecision, type RouteRule } from './router.js';
export { PriceBook, costNanos, toUsd, NANOS_PER_USD } from './prices.js';

const RECENT_TURNS = 2;

/** The session's depth (earlier user turns) and its last turns before `runId`, from the transcript. */
export function transcriptHistory(storage: Storage) {
  return async (sessionId: string, runId: string): Promise<RunHistory> => {
    const page = await storage.messages.list(sessionId, { limit: 50 });
    const earlier = page.messages.filter((m) => m.runId !== runId && m.role !== 'tool');
    const recent = earlier
      .slice(-RECENT_TURNS)
      .map((m) => `${m.role}: ${normalizeText(m.content)}`)
      .join('\n');
    return { depth: earlier.filter((m) => m.role === 'user').length, recent };
  };
}

/** Picks the cost control's parts from the configuration and the backends. */
export function createCostControlFor(
  config: Pick<Config, 'ROUTER_CLIENT_TIERS' | 'ROUTER_FAST_MAX_CHARS' | 'ROUTER_FAST_MAX_DEPTH' | 'DAILY_SPEND_LIMIT_USD' | 'GLOBAL_DAILY_SPEND_LIMIT_USD' | 'ANSWER_CACHE' | 'ANSWER_CACHE_TTL_S' | 'SEMANTIC_CACHE' | 'SEMANTIC_CACHE_THRESHOLD'>,
  deps: { agent: AgentBackend; storage: Storage; counters: SpendCounters; cache: CacheStore; events: Instrumentation; logger: Logger; spendWithRun?: boolean },
) {
  const { agent } = deps;
  const tierNames = agent.tiers ? [...agent.tiers.keys()] : [];
  const router = agent.tiers
    ? createRouter({ clientTiers: clientTiers(config.ROUTER_CLIENT_TIERS, tierNames), fastMaxChars: config.ROUTER_FAST_MAX_CHARS, fastMaxDepth: config.ROUTER_FAST_MAX_DEPTH })
    : undefined;
  const systemPrompt = loadPrompt('system');
  const promptVersion = createHash('sha256').update(systemPrompt).digest('hex').slice(0, 16);
  return createCostControl({
    agent: agent.runner,
    models: agent.models.map((m) => m.name),
    tiers: agent.tiers,
    router,
    prices: new PriceBook(agent.models),
    history: transcriptHistory(deps.storage),
    counters: deps.counters,
    spend: deps.storage.spend,
    spendWithRun: deps.spendWithRun,
    limits: { userUsd: config.DAILY_SPEND_LIMIT_USD, globalUsd: config.GLOBAL_DAILY_SPEND_LIMIT_USD },
    answerCache: config.ANSWER_CACHE ? { store: deps.cache, ttlMs: config.ANSWER_CACHE_TTL_S * 1000, promptVersion } : undefined,
    semanticCache: config.SEMANTIC_CACHE
      ? { embedder: agent.embedder, questions: deps.storage.questions, threshold: config.SEMANTIC_CACHE_THRESHOLD, ttlMs: config.ANSWER_CACHE_TTL_S * 1000 }
      : undefined,
    baseInputTokens: Math.ceil(systemPrompt.length / 4),
    events: deps.events,
    logger: deps.logger,
  });
}
