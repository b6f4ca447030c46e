import { join } from 'node:path';
import {
  createAgent,
  createLocalEmbedder,
  createLocalModel,
  createMemory,
  createMemoryTools,
  createOpenAIEmbedder,
  createModelChain,
  parseModelsConfig,
  type Memory,
  type ModelChainEvent,
  type ModelChainEventListener,
  type ModelChainStats,
  type ModelSpec,
  type Embedder,
} from '@switchboard/agent-core';
import { modelsEnv, type Config } from '../config.js';
import { createLimiters } from '../limits/index.js';
import type { Logger } from '../logger.js';
import type {
  AgentRunner,
  CacheStore,
  IdempotencyStore,
  Limiters,
  PubSub,
  ReadinessProbe,
  ResumeRegistry,
  RunLock,
  SeqReservations,
  SessionLog,
  SpendCounters,
  Storage,
} from '../ports.js';
import { createMemoryCacheStore, createMemorySpendCounters } from './memory/cost-state.js';
import { createMemoryBackends } from './memory/index.js';
import { createRedisCacheStore, createRedisSpendCounters } from './redis/cost-state.js';
import { createCheckpointer, openStorage } from './postgres/index.js';
import { createRedisBackends } from './redis/index.js';
import { toolCache } from '../costs/tool-cache.js';

/** The agent and what the gateway reads of it. */
export interface AgentBackend {
  runner: AgentRunner;
  /** Long-term memory, for `/v1/me/memories` and the memory metrics. */
  memory?: Memory;
  /** The model chain's counters and breaker states (metrics and `/readyz`), when a chain is configured. */
  modelStats?(): ModelChainStats;
  /** Adds a listener for the model chain's events (metrics, traces). */
  onModelEvent(listener: ModelChainEventListener): void;
  /** Adds a listener for tool-result cache lookups (metrics). */
  onToolCache(listener: (hit: boolean) => void): void;
  /** The embedder of long-term memory (also the semantic cache's). */
  embedder: Embedder;
  /** Every configured model (prices), empty for the local model. */
  models: ModelSpec[];
  /** With `LLM_TIERS`: one agent per tier, each on its own chain (own retries and breakers). */
  tiers?: Map<string, { runner: AgentRunner; models: string[] }>;
}

/** The backends a gateway runs on (embedded or Redis/Postgres), one of each port. */
export interface Backends {
  storage: Storage;
  log: SessionLog;
  bus: PubSub;
  lock: RunLock;
  idempotency: IdempotencyStore;
  resume: ResumeRegistry;
  limiters: Limiters;
  agent: AgentBackend;
  /** Today's spend per user and deployment (Redis when configured), and the cache store (answers). */
  costs: { counters: SpendCounters; cache: CacheStore };
  /** Labels shown in `/readyz` (e.g. `{ database: 'pglite', bus: 'memory', model: 'local' }`) and probes beyond the database. */
  health: { labels: Record<string, string>; probes: ReadinessProbe[] };
  /** Closed after the server stops. */
  close(): Promise<void>;
}

/** Overrides for tests: an in-memory database, a faster local model. */
export interface BackendOverrides {
  /** Use an in-memory PGlite instead of `DATA_DIR`. */
  inMemoryDatabase?: boolean;
  /** Replace the agent (tests). */
  agent?: AgentRunner;
  /** Use this storage instead of opening one. */
  storage?: Storage;
  /** Prefix of every Redis key (tests isolate themselves with it). @default 'sb:' */
  redisKeyPrefix?: string;
}

/**
 * Builds the backends from the configuration: embedded defaults (PGlite, in-process bus, the
 * offline `local` model) or the real ones (`DATABASE_URL`, `REDIS_URL`, OpenAI-compatible models).
 * @example
 * const backends = await createBackends(loadConfig(process.env), logger);
 */
export async function createBackends(config: Config, logger: Logger, overrides: BackendOverrides = {}): Promise<Backends> {
  const storage =
    overrides.storage ??
    (await openStorage({
      databaseUrl: config.DATABASE_URL,
      dataDir: overrides.inMemoryDatabase ? undefined : join(config.DATA_DIR, 'pg'),
      logger,
    }));
  const retention = { maxFrames: config.LOG_RETENTION_FRAMES, maxAgeMs: config.LOG_RETENTION_MS };
  const reservations = seqReservations(storage);
  const redis = config.REDIS_URL
    ? createRedisBackends(config.REDIS_URL, { retention, keyPrefix: overrides.redisKeyPrefix, logger, cluster: config.REDIS_CLUSTER, reservations })
    : null;
  const costs = redis
    ? { counters: createRedisSpendCounters(redis.redis, storage.spend, { keyPrefix: overrides.redisKeyPrefix }), cache: createRedisCacheStore(redis.redis, { keyPrefix: overrides.redisKeyPrefix }) }
    : { counters: createMemorySpendCounters(storage.spend), cache: createMemoryCacheStore() };
  const agent = await createAgentBackend(config, logger, storage, overrides.agent, costs.cache);

  const shared = redis ?? createMemoryBackends({ retention, reservations });
  const limiters = createLimiters(
    {
      messagesPerSecond: config.RATE_MESSAGES_PER_SECOND,
      messageBurst: config.RATE_MESSAGE_BURST,
      sendsPerMinute: config.RATE_SENDS_PER_MINUTE,
      connectionsPerIpPerMinute: config.RATE_CONNECTIONS_PER_IP_PER_MINUTE,
      socketsPerUser: config.RATE_SOCKETS_PER_USER,
      registrationsPerIpPerHour: config.RATE_REGISTRATIONS_PER_IP_PER_HOUR,
      sessionsPerUserPerMinute: config.RATE_SESSIONS_PER_USER_PER_MINUTE,
      dailyTokenBudget: config.DAILY_TOKEN_BUDGET,
    },
    redis?.redis,
    { keyPrefix: overrides.redisKeyPrefix },
  );

  return {
    storage,
    costs,
    log: shared.log,
    bus: shared.bus,
    lock: shared.lock,
    idempotency: shared.idempotency,
    resume: shared.resume,
    limiters,
    agent,
    health: {
      labels: { database: storage.kind, bus: redis ? (redis.cluster ? 'redis-cluster' : 'redis') : 'memory', model: agent.label },
      probes: redis ? [redis.probe] : [],
    },
    async close() {
      await agent.memory?.drain();
      await redis?.close();
      await storage.close();
    },
  };
}

/** `seq` numbers reserved in blocks: one Postgres write per this many frames of a session. */
const SEQ_BLOCK = 1000;

/** The session logs' durable `seq` reservations, in the sessions table (a session not stored there gets none). */
function seqReservations(storage: Storage): SeqReservations {
  return {
    async reserve(sessionId, atLeast) {
      return (await storage.sessions.reserveSeq(sessionId, atLeast, SEQ_BLOCK)) ?? { floor: 0, ceiling: Number.MAX_SAFE_INTEGER };
    },
  };
}

/** The agent on the configured model (a chain of OpenAI-compatible models, or the offline `local` one). */
async function createAgentBackend(
  config: Config,
  logger: Logger,
  storage: Storage,
  override: AgentRunner | undefined,
  cache: CacheStore,
): Promise<AgentBackend & { label: string; memory: Memory }> {
  const checkpointer = createCheckpointer(storage);
  await checkpointer.setup();

  const modelsConfig = parseModelsConfig(modelsEnv(config));
  const modelListeners: ModelChainEventListener[] = [];
  const onModelEvent = (e: ModelChainEvent) => {
    logger.debug('model chain', { ...e });
    for (const listener of modelListeners) listener(e);
  };
  const tierChains = override ? [] : (modelsConfig?.tiers ?? []).map((t) => ({ name: t.name, models: t.models, chain: createModelChain({ models: t.models, totalBudgetMs: modelsConfig?.totalBudgetMs, onEvent: onModelEvent }) }));
  const chain = modelsConfig && tierChains.length === 0 ? createModelChain({ models: modelsConfig.models, totalBudgetMs: modelsConfig.totalBudgetMs, onEvent: onModelEvent }) : null;
  const model = chain ?? createLocalModel({ tokenDelayMs: config.LOCAL_MODEL_TOKEN_DELAY_MS });
  if (!modelsConfig) logger.info('using the offline local model (set LLM_MODELS or OPENAI_API_KEY for a real one)');

  const embedder = config.EMBEDDINGS_MODEL
    ? createOpenAIEmbedder({ baseURL: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY, model: config.EMBEDDINGS_MODEL, dims: config.EMBEDDINGS_DIMS })
    : createLocalEmbedder();
  const memory = createMemory({ store: storage.memories, embedder, logger });
  const cacheListeners: Array<(hit: boolean) => void> = [];
  const wrapTool = toolCache({ store: cache, ttlMs: config.TOOL_CACHE_TTL_S * 1000, onLookup: (hit) => cacheListeners.forEach((l) => l(hit)) });
  const agentOn = (chatModel: typeof model) =>
    createAgent({
      model: chatModel,
      checkpointer,
      memory,
      tools: createMemoryTools(memory),
      maxContextTokens: config.MAX_CONTEXT_TOKENS,
      durability: config.CHECKPOINT_DURABILITY,
      engine: config.AGENT_ENGINE,
      maxToolRounds: config.MAX_TOOL_ROUNDS,
      toolTimeoutMs: config.TOOL_TIMEOUT_MS,
      wrapTool,
      logger,
    });
  // Tiers share the checkpointer and memory: a conversation continues whichever tier answers.
  const tiers = tierChains.length ? new Map(tierChains.map((t) => [t.name, { runner: agentOn(t.chain), models: t.models.map((m) => m.name) }])) : undefined;
  const runner = override ?? (tiers ? tiers.get('smart')!.runner : agentOn(model));
  const chains = chain ? [{ name: '', chain }] : tierChains.map((t) => ({ name: t.name, chain: t.chain }));
  const label = tierChains.length
    ? tierChains.map((t) => `${t.name}: ${t.models.map((m) => m.name).join(' → ')}`).join('; ')
    : modelsConfig
      ? modelsConfig.models.map((m) => m.name ?? m.model).join(' → ')
      : 'local';
  return {
    runner,
    memory,
    label,
    models: modelsConfig?.models ?? [],
    embedder,
    tiers,
    modelStats: chains.length ? () => mergedStats(chains) : undefined,
    onModelEvent: (listener) => modelListeners.push(listener),
    onToolCache: (listener) => cacheListeners.push(listener),
  };
}

/** One chain's stats, or every tier's (a model in two tiers is shown as `tier/model`: its breakers are separate). */
function mergedStats(chains: Array<{ name: string; chain: { stats(): ModelChainStats } }>): ModelChainStats {
  if (chains.length === 1) return chains[0].chain.stats();
  const all = chains.flatMap((c) => c.chain.stats().models.map((m) => ({ tier: c.name, m })));
  const count = new Map<string, number>();
  for (const { m } of all) count.set(m.name, (count.get(m.name) ?? 0) + 1);
  return {
    models: all.map(({ tier, m }) => ((count.get(m.name) ?? 0) > 1 ? { ...m, name: `${tier}/${m.name}` } : m)),
    fallbacks: chains.reduce((n, c) => n + c.chain.stats().fallbacks, 0),
  };
}
