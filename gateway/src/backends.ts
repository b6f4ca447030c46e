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
  type AgentEvent,
  type ModelChainEvent,
  type ModelChainEventListener,
} from '@switchboard/agent-core';
import type { GatewayBackends } from './app.js';
import type { Config } from './config.js';
import { GatewayError } from './errors.js';
import type { Logger } from './logger.js';
import type { RunHooks } from './runs/run-manager.js';
import {
  createMemoryConnectionRegistry,
  createMemoryIdempotencyStore,
  createMemoryPubSub,
  createMemoryRunLock,
} from './session/memory-coordination.js';
import { createMemorySessionLog } from './session/memory-log.js';
import { createCheckpointer, openStorage } from './storage/index.js';
import { createRedisCoordination } from './redis-backends.js';
import { createLimiters } from './limits/index.js';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Storage } from './storage/types.js';

/** Overrides for tests: an in-memory database, a faster local model. */
export interface BackendOverrides {
  /** Use an in-memory PGlite instead of `DATA_DIR`. */
  inMemoryDatabase?: boolean;
  /** Replace the agent (tests). */
  agent?: { stream(input: Parameters<GatewayBackends['agent']['stream']>[0]): AsyncIterable<AgentEvent> };
  /** Use this storage instead of opening one. */
  storage?: Storage;
  /** Prefix of every Redis key (tests isolate themselves with it). @default 'sb:' */
  redisKeyPrefix?: string;
}

const utcDay = (d = new Date()) => d.toISOString().slice(0, 10);

/**
 * Builds the backends from the configuration: embedded defaults (PGlite, in-process bus, the
 * offline `local` model) or the real ones (`DATABASE_URL`, `REDIS_URL`, OpenAI-compatible models).
 */
export async function createBackends(config: Config, logger: Logger, overrides: BackendOverrides = {}): Promise<GatewayBackends> {
  const storage =
    overrides.storage ??
    (await openStorage({
      databaseUrl: config.DATABASE_URL,
      dataDir: overrides.inMemoryDatabase ? undefined : join(config.DATA_DIR, 'pg'),
      logger,
    }));
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
  const modelLabel = modelsConfig ? modelsConfig.models.map((m) => m.name ?? m.model).join(' → ') : 'local';
  if (!modelsConfig) logger.info('using the offline local model (set LLM_MODELS or OPENAI_API_KEY for a real one)');

  const embedder = config.EMBEDDINGS_MODEL
    ? createOpenAIEmbedder({ baseURL: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY, model: config.EMBEDDINGS_MODEL, dims: config.EMBEDDINGS_DIMS })
    : createLocalEmbedder();
  const memory = createMemory({ store: storage.memories, embedder, logger });
  const agent =
    overrides.agent ??
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

  const retention = { maxFrames: config.LOG_RETENTION_FRAMES, maxAgeMs: config.LOG_RETENTION_MS };
  const shared = config.REDIS_URL
    ? createRedisCoordination(config.REDIS_URL, { retention, keyPrefix: overrides.redisKeyPrefix, logger })
    : null;
  const limits = createLimiters(
    {
      messagesPerSecond: config.RATE_MESSAGES_PER_SECOND,
      messageBurst: config.RATE_MESSAGE_BURST,
      sendsPerMinute: config.RATE_SENDS_PER_MINUTE,
      connectionsPerIpPerMinute: config.RATE_CONNECTIONS_PER_IP_PER_MINUTE,
      socketsPerUser: config.RATE_SOCKETS_PER_USER,
      dailyTokenBudget: config.DAILY_TOKEN_BUDGET,
    },
    shared?.redis,
    { keyPrefix: overrides.redisKeyPrefix },
  );

  const hooks: RunHooks = {
    async beforeRun({ userId }) {
      const sends = await limits.sends.consume(userId);
      if (!sends.ok) throw new GatewayError('rate_limited', 'too many messages; wait before sending again', { retryAfterMs: sends.retryAfterMs });
      const budget = await limits.tokens.check(userId);
      if (!budget.ok) throw new GatewayError('quota_exceeded', 'the daily token budget is used up', { retryAfterMs: budget.retryAfterMs, retryable: false });
    },
    async afterRun(r) {
      await storage.messages.append({ sessionId: r.sessionId, runId: r.runId, role: 'user', content: r.text, seqFrom: r.seqFrom, seqTo: r.seqFrom, clientMessageId: r.clientMessageId });
      for (const t of r.tools)
        await storage.messages.append({ sessionId: r.sessionId, runId: r.runId, role: 'tool', content: t.error ? `error: ${t.error}` : (t.output ?? ''), toolName: t.name });
      if (r.answer) await storage.messages.append({ sessionId: r.sessionId, runId: r.runId, role: 'assistant', content: r.answer, seqFrom: r.seqFrom + 1, seqTo: r.seqTo });
      const used = (r.done.usage?.inputTokens ?? 0) + (r.done.usage?.outputTokens ?? 0);
      if (used > 0) {
        await limits.tokens.consume(r.userId, used);
        await storage.usage.add(r.userId, utcDay(), used);
      }
      const session = await storage.sessions.get(r.userId, r.sessionId);
      if (session && !session.title) await storage.sessions.update(r.userId, r.sessionId, { title: autoTitle(r.text) });
    },
  };

  return {
    storage,
    log: shared?.log ?? createMemorySessionLog(retention),
    bus: shared?.bus ?? createMemoryPubSub(),
    lock: shared?.lock ?? createMemoryRunLock(),
    idempotency: shared?.idempotency ?? createMemoryIdempotencyStore(),
    connections: shared?.connections ?? createMemoryConnectionRegistry(),
    probes: shared ? [shared.probe] : [],
    limits,
    authLimiter: (opts): RateLimiterAbstract =>
      shared
        ? new RateLimiterRedis({
            ...opts,
            storeClient: shared.redis,
            keyPrefix: `${overrides.redisKeyPrefix ?? 'sb:'}rl:${opts.keyPrefix}`,
            insuranceLimiter: new RateLimiterMemory(opts),
            rejectIfRedisNotReady: true,
          })
        : new RateLimiterMemory(opts),
    agent,
    hooks,
    deleteCheckpoints: (sessionId) => checkpointer.deleteThread(sessionId),
    describe: { database: storage.kind, bus: shared ? 'redis' : 'memory', model: modelLabel },
    modelStats: chain ? () => chain.stats() : undefined,
    onModelEvent: (listener) => modelListeners.push(listener),
    memory,
    async close() {
      await memory.drain();
      await shared?.close();
      await storage.close();
    },
  };
}

/** A short title from the first message. */
export function autoTitle(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= 60 ? oneLine : `${oneLine.slice(0, 57).replace(/\s+\S*$/, '')}…`;
}
