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
} from '@switchboard/agent-core';
import type { Config } from '../config.js';
import { createLimiters } from '../limits/index.js';
import type { Logger } from '../logger.js';
import type {
  AgentRunner,
  IdempotencyStore,
  Limiters,
  PubSub,
  ReadinessProbe,
  ResumeRegistry,
  RunLock,
  SeqReservations,
  SessionLog,
  Storage,
} from '../ports.js';
import { createMemoryBackends } from './memory/index.js';
import { createCheckpointer, openStorage } from './postgres/index.js';
import { createRedisBackends } from './redis/index.js';

/** The agent and what the gateway reads of it. */
export interface AgentBackend {
  runner: AgentRunner;
  /** Long-term memory, for `/v1/me/memories` and the memory metrics. */
  memory?: Memory;
  /** The model chain's counters and breaker states (metrics and `/readyz`), when a chain is configured. */
  modelStats?(): ModelChainStats;
  /** Adds a listener for the model chain's events (metrics, traces). */
  onModelEvent(listener: ModelChainEventListener): void;
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
  const agent = await createAgentBackend(config, logger, storage, overrides.agent);

  const retention = { maxFrames: config.LOG_RETENTION_FRAMES, maxAgeMs: config.LOG_RETENTION_MS };
  const reservations = seqReservations(storage);
  const redis = config.REDIS_URL
    ? createRedisBackends(config.REDIS_URL, { retention, keyPrefix: overrides.redisKeyPrefix, logger, cluster: config.REDIS_CLUSTER, reservations })
    : null;
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
): Promise<AgentBackend & { label: string; memory: Memory }> {
  const checkpointer = createCheckpointer(storage);
  await checkpointer.setup();

  const modelsConfig = parseModelsConfig({
    LLM_MODELS: config.LLM_MODELS,
    OPENAI_API_KEY: config.OPENAI_API_KEY,
    OPENAI_BASE_URL: config.OPENAI_BASE_URL,
    OPENAI_MODEL: config.OPENAI_MODEL,
    LLM_BUDGET_MS: config.LLM_BUDGET_MS,
  });
  const modelListeners: ModelChainEventListener[] = [];
  const onModelEvent = (e: ModelChainEvent) => {
    logger.debug('model chain', { ...e });
    for (const listener of modelListeners) listener(e);
  };
  const chain = modelsConfig ? createModelChain({ ...modelsConfig, onEvent: onModelEvent }) : null;
  const model = chain ?? createLocalModel({ tokenDelayMs: config.LOCAL_MODEL_TOKEN_DELAY_MS });
  if (!modelsConfig) logger.info('using the offline local model (set LLM_MODELS or OPENAI_API_KEY for a real one)');

  const embedder = config.EMBEDDINGS_MODEL
    ? createOpenAIEmbedder({ baseURL: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY, model: config.EMBEDDINGS_MODEL, dims: config.EMBEDDINGS_DIMS })
    : createLocalEmbedder();
  const memory = createMemory({ store: storage.memories, embedder, logger });
  const runner =
    override ??
    createAgent({
      model,
      checkpointer,
      memory,
      tools: createMemoryTools(memory),
      maxContextTokens: config.MAX_CONTEXT_TOKENS,
      durability: config.CHECKPOINT_DURABILITY,
      maxToolRounds: config.MAX_TOOL_ROUNDS,
      toolTimeoutMs: config.TOOL_TIMEOUT_MS,
      logger,
    });
  return {
    runner,
    memory,
    label: modelsConfig ? modelsConfig.models.map((m) => m.name ?? m.model).join(' → ') : 'local',
    modelStats: chain ? () => chain.stats() : undefined,
    onModelEvent: (listener) => modelListeners.push(listener),
  };
}
