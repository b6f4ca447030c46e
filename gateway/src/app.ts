import { hostname } from 'node:os';
import { CloseCode, WS_PATH } from '@switchboard/protocol';
import { AuthService } from './auth/auth-service.js';
import { resolveJwtSecret } from './auth/secret.js';
import { TokenService } from './auth/tokens.js';
import type { Config } from './config.js';
import { addAuthRoutes } from './http/auth-routes.js';
import { addOpsRoutes, type ReadinessProbe } from './http/ops-routes.js';
import { addPageRoutes } from './http/page-routes.js';
import { errorResponse, Router } from './http/router.js';
import { addSessionRoutes } from './http/session-routes.js';
import { withLogContext, type Logger } from './logger.js';
import { RunManager, type AgentRunner, type RunHooks } from './runs/run-manager.js';
import { SessionHub } from './session/hub.js';
import { SessionAccessCache } from './session/access-cache.js';
import type { ConnectionRegistry, IdempotencyStore, PubSub, RunLock, SessionLog } from './session/types.js';
import type { Storage } from './storage/types.js';
import type { Limiters } from './limits/types.js';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Memory, ModelChainEventListener, ModelChainStats } from '@switchboard/agent-core';
import { addMemoryRoutes } from './http/memory-routes.js';
import { clientIp, parseTrustedProxies } from './http/client-ip.js';
import { createObservability } from './observability/index.js';
import { createTransport } from './transport/select.js';
import type { Transport } from './transport/types.js';
import { ConnectionManager, type ConnData } from './ws/connection-manager.js';

/** The backends a gateway runs on (embedded or Redis/Postgres), built by the caller. */
export interface GatewayBackends {
  storage: Storage;
  log: SessionLog;
  bus: PubSub;
  lock: RunLock;
  idempotency: IdempotencyStore;
  agent: AgentRunner;
  /** Extra readiness probes (Redis). */
  probes?: ReadinessProbe[];
  hooks?: RunHooks;
  deleteCheckpoints?(sessionId: string): Promise<void>;
  /** Rate limits and quotas. */
  limits: Limiters;
  /** Records of closed connections for resume. */
  connections: ConnectionRegistry;
  /** Builds the login-attempt limiters (on Redis when there is one). */
  authLimiter?: (opts: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;
  /** Long-term memory, for `/v1/me/memories`. */
  memory?: Memory;
  /** Labels shown in `/readyz`, e.g. `{ database: 'pglite', bus: 'memory', model: 'local' }`. */
  describe?: Record<string, string>;
  /** The model chain's counters and breaker states (metrics and `/readyz`), when a chain is configured. */
  modelStats?(): ModelChainStats;
  /** Adds a listener for the model chain's events (metrics, traces). */
  onModelEvent?(listener: ModelChainEventListener): void;
  /** Closed after the server stops. */
  close?(): Promise<void>;
}

export interface Gateway {
  readonly port: number;
  readonly url: string;
  readonly transport: 'uws' | 'ws';
  readonly nodeId: string;
  readonly connections: ConnectionManager;
  readonly runs: RunManager;
  /** Graceful stop: not ready, `goaway`, runs finish (bounded), sockets close 1012. */
  stop(options?: { drainTimeoutMs?: number }): Promise<void>;
}

/**
 * Starts a gateway on the given backends.
 * @example
 * const gw = await startGateway(loadConfig({ PORT: '0' }), backends, logger);
 * console.log(gw.url);
 */
export async function startGateway(config: Config, backends: GatewayBackends, logger: Logger): Promise<Gateway> {
  const nodeId = config.NODE_ID ?? `${hostname()}-${process.pid}`;
  const secret = await resolveJwtSecret(config.JWT_SECRET, config.APP_ENV === 'test' ? null : config.DATA_DIR);
  const tokens = new TokenService(secret, { accessS: config.ACCESS_TOKEN_TTL_S, resumeS: config.RESUME_TOKEN_TTL_S });
  const obs = createObservability(config, logger, nodeId);
  backends.onModelEvent?.(obs.onModelEvent);
  const bus = obs.wrapBus(backends.bus);
  const router = obs.instrumentRouter(new Router());
  let draining = false;
  // The transport and the connection manager refer to each other; both exist before the first socket.
  let transport!: Transport<ConnData>;
  let connections!: ConnectionManager;

  const access = new SessionAccessCache(async (userId, sessionId) => (await backends.storage.sessions.get(userId, sessionId)) !== null);
  const hub = new SessionHub({
    log: backends.log,
    bus,
    publish: (topic, message) => transport.publish(topic, message),
    onSlowConsumer: (socket) => {
      if (!socket.closed) obs.metrics.serverClose(CloseCode.slowConsumer);
      (socket as unknown as { close(code: number, reason: string): void }).close(CloseCode.slowConsumer, 'slow consumer');
    },
    ...obs.hubHooks,
    maxBackpressureBytes: config.MAX_BACKPRESSURE_BYTES,
    logger,
  });
  const runs = new RunManager({
    hub,
    lock: backends.lock,
    idempotency: backends.idempotency,
    bus,
    agent: obs.wrapAgent(backends.agent),
    logger,
    nodeId,
    lockTtlMs: config.RUN_LOCK_TTL_MS,
    hooks: obs.runHooks(backends.hooks),
    notify: (connectionId, frame) => connections.notify(connectionId, frame),
  });
  await runs.start();
  const stopWatching = runs.watchLostRuns(() => hub.openRuns());
  connections = new ConnectionManager({
    tokens,
    hub,
    runs,
    canAccess: (userId, sessionId) => access.canAccess(userId, sessionId),
    limits: {
      maxFrameBytes: config.MAX_FRAME_BYTES,
      helloTimeoutMs: config.HELLO_TIMEOUT_MS,
      heartbeatMs: config.HEARTBEAT_MS,
      maxBadFrames: config.MAX_BAD_FRAMES,
      messagesPerSecond: config.RATE_MESSAGES_PER_SECOND,
      messageBurst: config.RATE_MESSAGE_BURST,
      maxBackpressureBytes: config.MAX_BACKPRESSURE_BYTES,
    },
    logger,
    nodeId,
    limiters: obs.instrumentLimiters(backends.limits),
    registry: backends.connections,
    resumeTtlMs: config.RESUME_TOKEN_TTL_S * 1000,
    ...obs.connectionHooks,
  });
  obs.observe({
    connections: () => connections.size,
    runs: () => runs.localRuns,
    modelStats: backends.modelStats,
    memoryStats: backends.memory ? () => backends.memory!.stats() : undefined,
    probes: [{ name: 'database', check: () => backends.storage.ping() }, ...(backends.probes ?? [])],
  });

  const auth = new AuthService({
    storage: backends.storage,
    tokens,
    logger,
    refreshTtlS: config.REFRESH_TOKEN_TTL_S,
    loginAttempts: config.LOGIN_ATTEMPTS_PER_15_MIN,
    limiter: backends.authLimiter,
  });
  addAuthRoutes(router, { auth, tokens, storage: backends.storage });
  addSessionRoutes(router, {
    tokens,
    storage: backends.storage,
    runs,
    hub,
    log: backends.log,
    deleteCheckpoints: backends.deleteCheckpoints,
    onDeleted: (userId, sessionId) => access.forget(userId, sessionId),
  });
  const trustedProxies = parseTrustedProxies(config.TRUST_PROXY);
  const chosen = createTransport<ConnData>(
    config.TRANSPORT,
    obs.wrapTransport({
      wsPath: WS_PATH,
      http: (raw) => {
        const req = { ...raw, remoteAddress: clientIp(raw.remoteAddress, raw.headers['x-forwarded-for'], trustedProxies) };
        return withLogContext({ requestId: Math.random().toString(36).slice(2, 10) }, () =>
          router.handle(req).catch((e) => {
            logger.error('http handler failed', { path: req.path, error: String(e) });
            return errorResponse(e);
          }),
        );
      },
      upgrade: (req) =>
        connections.upgrade({ ...req, remoteAddress: clientIp(req.remoteAddress, req.headers['x-forwarded-for'], trustedProxies) }),
      open: (s) => connections.open(s),
      message: (s, m, bytes) => connections.message(s, m, bytes),
      close: (s, code) => connections.close(s, code),
    }),
    {
      maxFrameBytes: config.MAX_FRAME_BYTES,
      maxBodyBytes: config.MAX_BODY_BYTES,
      maxBackpressureBytes: config.MAX_BACKPRESSURE_BYTES,
      idleTimeoutSec: Math.max(8, Math.ceil((config.HEARTBEAT_MS * 4) / 1000)),
    },
  );
  transport = chosen.transport;
  if (chosen.degraded) logger.warn('uWebSockets.js cannot load on this runtime; running on the ws transport');
  const info = () => ({
    node: nodeId,
    transport: transport.name,
    degradedTransport: chosen.degraded,
    connections: connections.size,
    runs: runs.localRuns,
    ...backends.describe,
    ...(backends.modelStats ? { models: backends.modelStats() } : {}),
  });
  addOpsRoutes(router, {
    probes: [{ name: 'database', check: () => backends.storage.ping() }, ...(backends.probes ?? [])],
    info,
    draining: () => draining,
  });
  addMemoryRoutes(router, { tokens, storage: backends.storage });
  obs.addMetricsRoute(router);
  addPageRoutes(router);

  const port = await transport.listen(config.HOST, config.PORT);
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  logger.info('gateway listening', { port, transport: transport.name, node: nodeId, ...backends.describe });

  let stopping: Promise<void> | null = null;
  return {
    port,
    url: `http://${host}:${port}`,
    transport: transport.name,
    nodeId,
    connections,
    runs,
    stop(options = {}) {
      stopping ??= (async () => {
        draining = true;
        stopWatching();
        const drainMs = options.drainTimeoutMs ?? config.DRAIN_TIMEOUT_MS;
        connections.goaway(Math.min(1000, drainMs));
        await runs.drain(drainMs);
        connections.closeAll(CloseCode.restart, 'server restarting');
        await transport.close();
        await hub.close();
        await backends.close?.();
        await obs.shutdown();
        logger.info('gateway stopped', { node: nodeId });
      })();
      return stopping;
    },
  };
}

