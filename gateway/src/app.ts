import { hostname } from 'node:os';
import { CloseCode, WS_PATH } from '@switchboard/protocol';
import { AuthService } from './auth/auth-service.js';
import { resolveJwtSecret } from './auth/secret.js';
import { Authenticator } from './auth/authenticator.js';
import { TokenService } from './auth/tokens.js';
import type { Backends } from './backends/index.js';
import type { Config } from './config.js';
import { ConnectionManager, type ConnData } from './connections/connection-manager.js';
import { createCostControlFor } from './costs/index.js';
import { addAuthRoutes } from './http/auth-routes.js';
import { parseCorsOrigins } from './http/browser-policy.js';
import { createClientAddress, createHttpHandler } from './http/handler.js';
import { addFeedbackRoutes } from './http/feedback-routes.js';
import { startMetricsServer } from './http/metrics-server.js';
import { addMemoryRoutes } from './http/memory-routes.js';
import { addOpsRoutes } from './http/ops-routes.js';
import { addPageRoutes } from './http/page-routes.js';
import { Router } from './http/router.js';
import { addSessionRoutes } from './http/session-routes.js';
import { addUsageRoutes } from './http/usage-routes.js';
import type { Logger } from './logger.js';
import { createObservability } from './observability/index.js';
import { createRunEffects } from './runs/run-effects.js';
import { RunManager } from './runs/run-manager.js';
import { SessionAccessCache } from './sessions/access-cache.js';
import { SessionHub } from './sessions/hub.js';
import { createTransport } from './transport/select.js';
import type { Transport } from './transport/types.js';

export interface Gateway {
  readonly port: number;
  readonly url: string;
  readonly transport: 'uws' | 'ws';
  readonly nodeId: string;
  readonly connections: ConnectionManager;
  readonly runs: RunManager;
  /** The port of the metrics-only listener when `METRICS_PORT` is set. */
  readonly metricsPort?: number;
  /** Graceful stop: not ready, `goaway`, runs finish (bounded), sockets close 1012. */
  stop(options?: { drainTimeoutMs?: number }): Promise<void>;
}

/**
 * Starts a gateway on the given backends: picks the parts and passes them in, nothing more.
 * @example
 * const gw = await startGateway(loadConfig({ PORT: '0' }), await createBackends(config, logger), logger);
 * console.log(gw.url);
 */
export async function startGateway(config: Config, backends: Backends, logger: Logger): Promise<Gateway> {
  const nodeId = config.NODE_ID ?? `${hostname()}-${process.pid}`;
  const secret = await resolveJwtSecret(config.JWT_SECRET, config.APP_ENV === 'test' ? null : config.DATA_DIR);
  const tokens = new TokenService(secret, { accessS: config.ACCESS_TOKEN_TTL_S, resumeS: config.RESUME_TOKEN_TTL_S });
  const { storage, agent, limiters } = backends;
  const authn = new Authenticator({ tokens, storage });
  const obs = createObservability(config, logger, nodeId);
  const events = obs.instrumentation;
  agent.onModelEvent((e) => events.modelEvent(e));
  agent.onToolCache((hit) => events.cacheLookup('tool', hit));
  limiters.onDenied((limit) => events.limited(limit));
  const bus = obs.wrapBus(backends.bus);
  const router = new Router({ logger, instrumentation: events });
  const browser = parseCorsOrigins(config.CORS_ORIGINS);
  let draining = false;
  // The hub publishes through the transport, whose handlers are the connection manager's: the
  // transport is created last and bound here, before the first socket can arrive.
  let transport!: Transport<ConnData>;
  let connections!: ConnectionManager;

  const access = new SessionAccessCache(async (userId, sessionId) => (await storage.sessions.get(userId, sessionId)) !== null);
  const hub = new SessionHub({
    log: backends.log,
    bus,
    publish: (topic, message) => transport.publish(topic, message),
    onSlowConsumer: (socket) => {
      if (!socket.closed) events.serverClose(CloseCode.slowConsumer);
      (socket as unknown as { close(code: number, reason: string): void }).close(CloseCode.slowConsumer, 'slow consumer');
    },
    instrumentation: events,
    maxBackpressureBytes: config.MAX_BACKPRESSURE_BYTES,
    logger,
  });
  const costs = createCostControlFor(config, { agent, storage, ...backends.costs, events, logger, spendWithRun: true });
  const runs = new RunManager({
    hub,
    lock: backends.lock,
    idempotency: backends.idempotency,
    bus,
    agent: obs.wrapAgent(costs.runner),
    logger,
    nodeId,
    lockTtlMs: config.RUN_LOCK_TTL_MS,
    tokenCoalesceMs: config.TOKEN_COALESCE_MS,
    hooks: obs.runHooks(
      createRunEffects({ storage, limiters, logger, onTranscriptFailed: () => obs.metrics.transcriptWriteFailed(), checkSpend: (userId) => costs.checkBeforeRun(userId), takeSpend: (runId) => costs.takeSpend(runId) }),
    ),
    notify: (connectionId, frame) => connections.notify(connectionId, frame),
    runEnds: storage.runEnds,
  });
  await runs.start();
  const stopWatching = runs.watchLostRuns(() => hub.openRuns());
  const stopSweeping = runs.sweepUnended(storage.runEnds);
  connections = new ConnectionManager({
    tokens,
    authn,
    hub,
    runs,
    canAccess: (userId, sessionId) => access.canAccess(userId, sessionId),
    bounds: {
      maxFrameBytes: config.MAX_FRAME_BYTES,
      helloTimeoutMs: config.HELLO_TIMEOUT_MS,
      heartbeatMs: config.HEARTBEAT_MS,
      maxBadFrames: config.MAX_BAD_FRAMES,
      maxBackpressureBytes: config.MAX_BACKPRESSURE_BYTES,
    },
    logger,
    nodeId,
    limiters,
    resume: backends.resume,
    resumeTtlMs: config.RESUME_TOKEN_TTL_S * 1000,
    instrumentation: events,
    browser,
  });
  const probes = [{ name: 'database', check: () => storage.ping() }, ...backends.health.probes];
  obs.observe({
    connections: () => connections.size,
    runs: () => runs.localRuns,
    modelStats: agent.modelStats,
    memoryStats: agent.memory ? () => agent.memory!.stats() : undefined,
    probes,
  });

  const auth = new AuthService({
    storage,
    tokens,
    logger,
    refreshTtlS: config.REFRESH_TOKEN_TTL_S,
    loginAttempts: config.LOGIN_ATTEMPTS_PER_15_MIN,
    accountCeiling: config.LOGIN_ACCOUNT_CEILING_PER_15_MIN,
    limiter: (o) => limiters.loginAttempts(o),
    registrations: limiters.registrations,
  });
  addAuthRoutes(router, { auth, authn, storage });
  addSessionRoutes(router, { authn, storage, creations: limiters.sessions, logger, runs, hub, log: backends.log, onDeleted: (userId, sessionId) => access.forget(userId, sessionId) });
  addMemoryRoutes(router, { authn, storage });
  addUsageRoutes(router, { authn, storage, counters: backends.costs.counters, dailySpendLimitUsd: config.DAILY_SPEND_LIMIT_USD });
  addFeedbackRoutes(router, { authn, storage, log: backends.log, instrumentation: events, scores: obs.scores });
  // With METRICS_PORT the scrape is served on its own listener only, off the public port.
  if (config.METRICS_PORT === undefined) obs.addMetricsRoute(router);
  addPageRoutes(router);

  const address = createClientAddress(config.TRUST_PROXY);
  const chosen = createTransport<ConnData>(
    config.TRANSPORT,
    {
      wsPath: WS_PATH,
      http: createHttpHandler(router, { address, logger, browser }),
      upgrade: (req) => connections.upgrade({ ...req, remoteAddress: address(req) }),
      open: (s) => connections.open(s),
      message: (s, m, bytes) => connections.message(s, m, bytes),
      close: (s, code) => connections.close(s, code),
    },
    {
      maxFrameBytes: config.MAX_FRAME_BYTES,
      maxBodyBytes: config.MAX_BODY_BYTES,
      maxBackpressureBytes: config.MAX_BACKPRESSURE_BYTES,
      idleTimeoutSec: Math.max(8, Math.ceil((config.HEARTBEAT_MS * 4) / 1000)),
    },
  );
  transport = chosen.transport;
  if (chosen.degraded) logger.warn('uWebSockets.js cannot load on this runtime; running on the ws transport');
  addOpsRoutes(router, {
    probes,
    info: () => ({
      node: nodeId,
      transport: transport.name,
      degradedTransport: chosen.degraded,
      connections: connections.size,
      runs: runs.localRuns,
      ...backends.health.labels,
      ...(agent.modelStats ? { models: agent.modelStats() } : {}),
    }),
    draining: () => draining,
  });

  const port = await transport.listen(config.HOST, config.PORT);
  const metricsServer =
    config.METRICS_PORT === undefined
      ? null
      : await startMetricsServer({ host: config.HOST, port: config.METRICS_PORT, scrape: () => obs.metrics.scrape(), token: config.METRICS_TOKEN });
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  logger.info('gateway listening', { port, transport: transport.name, node: nodeId, ...backends.health.labels });

  let stopping: Promise<void> | null = null;
  return {
    port,
    url: `http://${host}:${port}`,
    transport: transport.name,
    nodeId,
    connections,
    runs,
    metricsPort: metricsServer?.port,
    stop(options = {}) {
      stopping ??= (async () => {
        draining = true;
        stopWatching();
        stopSweeping();
        const drainMs = options.drainTimeoutMs ?? config.DRAIN_TIMEOUT_MS;
        connections.goaway(Math.min(1000, drainMs));
        await runs.drain(drainMs);
        connections.closeAll(CloseCode.restart, 'server restarting');
        await transport.close();
        await metricsServer?.close();
        await hub.close();
        await backends.close();
        await obs.shutdown();
        logger.info('gateway stopped', { node: nodeId });
      })();
      return stopping;
    },
  };
}
