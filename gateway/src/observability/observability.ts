import { join } from 'node:path';
import { createScoreSink, langfuseKeysFrom, type ScoreSink } from './scores.js';
import type { Config } from '../config.js';
import type { Router } from '../http/router.js';
import type { Instrumentation } from '../ports.js';
import type { Logger } from '../logger.js';
import type { RunHooks } from '../runs/run-manager.js';
import type { AgentRunner } from '../ports.js';
import type { PubSub } from '../ports.js';
import { addMetricsRoute } from './http.js';
import { createInstrumentation } from './instrumentation.js';
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
  | 'DATA_DIR'
  | 'SCORES_FILE'
>;

/**
 * Metrics, traces and the hooks that feed them, for one gateway. Every hook is cheap enough for
 * the per-frame path: frame counts are array increments.
 * @example
 * const obs = createObservability(config, logger, nodeId);
 * const router = new Router({ logger, instrumentation: obs.instrumentation });
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
  const instrumentation: Instrumentation = createInstrumentation(metrics, runs.onModelEvent, runs.annotate);
  const scores: ScoreSink = createScoreSink({
    langfuse: langfuseKeysFrom({ LANGFUSE_PUBLIC_KEY: config.LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY: config.LANGFUSE_SECRET_KEY, LANGFUSE_BASE_URL: config.LANGFUSE_BASE_URL }),
    file: config.SCORES_FILE ?? join(config.DATA_DIR, 'scores.jsonl'),
  });

  return {
    metrics,
    tracing,
    observe: (sources: MetricSources) => metrics.observe(sources),
    runHooks: (base?: RunHooks): RunHooks => runs.hooks(base),
    wrapAgent: (agent: AgentRunner): AgentRunner => runs.wrapAgent(agent),
    /** The events every component reports; metrics subscribe here. */
    instrumentation,
    /** Scores on run traces (user feedback): Langfuse when its keys are set, else a JSONL file. */
    scores,
    addMetricsRoute: (router: Router) => addMetricsRoute(router, { metrics, token: config.METRICS_TOKEN }),

    /** Times every publish of the session bus. */
    wrapBus(bus: PubSub): PubSub {
      return {
        // Kept: the hub skips the bus for session frames when every subscriber is in this process.
        inProcess: bus.inProcess,
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

    /** Flushes traces and stops the meter (at gateway stop). */
    async shutdown(): Promise<void> {
      await tracing.shutdown().catch((e: unknown) => logger.warn('trace flush failed', { error: String(e) }));
      await metrics.shutdown();
      await scores.close().catch((e: unknown) => logger.warn('score flush failed', { error: String(e) }));
    },
  };
}

export type Observability = ReturnType<typeof createObservability>;
