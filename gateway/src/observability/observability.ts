import type { ServerFrame } from '@switchboard/protocol';
import type { Config } from '../config.js';
import type { Router } from '../http/router.js';
import type { Logger } from '../logger.js';
import type { RunHooks } from '../runs/run-manager.js';
import type { AgentRunner } from '../ports.js';
import type { PubSub } from '../ports.js';
import type { TransportHandlers } from '../transport/types.js';
import type { Limiters } from '../limits/types.js';
import { addMetricsRoute, instrumentRouter } from './http.js';
import { instrumentLimiters } from './limits.js';
import { createMetrics, type Metrics, type MetricSources } from './metrics.js';
import { createRunObserver } from './run-observer.js';
import { createTracing, type Tracing } from './tracing.js';

/** The part of the configuration observability reads. */
export type ObservabilityConfig = Pick<
  Config,
  | 'APP_ENV'
  | 'METRICS_TOKEN'
  | 'DAILY_TOKEN_BUDGET'
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_HEADERS'
  | 'OTEL_SERVICE_NAME'
  | 'LANGFUSE_PUBLIC_KEY'
  | 'LANGFUSE_SECRET_KEY'
  | 'LANGFUSE_BASE_URL'
>;

/**
 * Metrics, traces and the hooks that feed them, for one gateway. Every hook is cheap enough for
 * the per-frame path: frame counts are array increments.
 * @example
 * const obs = createObservability(config, logger, nodeId);
 * const router = obs.instrumentRouter(new Router());
 * obs.addMetricsRoute(router);
 */
export function createObservability(config: ObservabilityConfig, logger: Logger, nodeId: string) {
  const metrics: Metrics = createMetrics();
  const tracing: Tracing = createTracing({
    serviceName: config.OTEL_SERVICE_NAME,
    nodeId,
    environment: config.APP_ENV,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    otlpHeaders: config.OTEL_EXPORTER_OTLP_HEADERS,
    langfuse: { publicKey: config.LANGFUSE_PUBLIC_KEY, secretKey: config.LANGFUSE_SECRET_KEY, baseUrl: config.LANGFUSE_BASE_URL },
  });
  if (tracing.exporters.length) logger.info('exporting traces', { exporters: tracing.exporters.join(',') });
  metrics.observe({ dailyTokenBudget: config.DAILY_TOKEN_BUDGET });
  const runs = createRunObserver({ tracer: tracing.tracer, metrics });
  const frames = metrics.frames;

  return {
    metrics,
    tracing,
    observe: (sources: MetricSources) => metrics.observe(sources),
    runHooks: (base?: RunHooks): RunHooks => runs.hooks(base),
    wrapAgent: (agent: AgentRunner): AgentRunner => runs.wrapAgent(agent),
    /** The model chain's `onEvent` listener. */
    onModelEvent: runs.onModelEvent,
    instrumentRouter: (router: Router) => instrumentRouter(router, metrics),
    /** Counts limiter refusals by limit (patches the object in place). */
    instrumentLimiters: (limiters: Limiters) => instrumentLimiters(limiters, metrics),
    addMetricsRoute: (router: Router) => addMetricsRoute(router, { metrics, token: config.METRICS_TOKEN }),

    /** Times every publish of the session bus. */
    wrapBus(bus: PubSub): PubSub {
      return {
        publish: async (channel, message) => {
          const started = performance.now();
          let ok = false;
          try {
            await bus.publish(channel, message);
            ok = true;
          } finally {
            metrics.busPublished((performance.now() - started) / 1000, ok);
          }
        },
        subscribe: (channel, handler) => bus.subscribe(channel, handler),
        unsubscribe: (channel) => bus.unsubscribe(channel),
        close: () => bus.close(),
      };
    },

    /** Counts opens, closes (by code) and inbound bytes at the transport. */
    wrapTransport<D>(handlers: TransportHandlers<D>): TransportHandlers<D> {
      return {
        ...handlers,
        open(socket) {
          metrics.socketOpened();
          handlers.open(socket);
        },
        message(socket, message, bytes) {
          frames.bytesIn += bytes;
          handlers.message(socket, message, bytes);
        },
        close(socket, code) {
          metrics.socketClosed(code);
          handlers.close(socket, code);
        },
      };
    },

    /** Options for the connection manager. */
    connectionHooks: {
      onFrameIn: (type: string) => frames.in(type),
      onFrameOut(frame: ServerFrame, bytes: number) {
        frames.out(frame.type, bytes);
        if (frame.type === 'ready') {
          if (frame.resumed) metrics.resume('resumed');
        } else if (frame.type === 'error') {
          if (frame.code === 'resume_expired') metrics.resume('expired');
          else if (frame.code === 'replay_gap') metrics.resume('gap');
        }
      },
      onServerClose: (code: number) => metrics.serverClose(code),
    },

    /** Options for the session hub. */
    hubHooks: {
      onDelivered: (json: string, sockets: number) => frames.delivered(json, sockets),
      onReplayed: (count: number) => metrics.replayed(count),
    },

    /** Flushes traces and stops the meter (at gateway stop). */
    async shutdown(): Promise<void> {
      await tracing.shutdown().catch((e: unknown) => logger.warn('trace flush failed', { error: String(e) }));
      await metrics.shutdown();
    },
  };
}

export type Observability = ReturnType<typeof createObservability>;
