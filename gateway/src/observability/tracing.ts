import { LangfuseSpanProcessor } from '@langfuse/otel';
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Where spans go. With neither set, spans are still made (their trace id is logged) but not sent. */
export interface TracingOptions {
  /** Service name on every span. @default 'switchboard-gateway' */
  serviceName?: string;
  /** Distinguishes replicas (`service.instance.id`). */
  nodeId?: string;
  /** Deployment environment (`deployment.environment.name`, Langfuse environment). */
  environment?: string;
  /** OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces` as JSON. */
  otlpEndpoint?: string;
  /** Extra OTLP headers as `key=value,key2=value2` (`OTEL_EXPORTER_OTLP_HEADERS`). */
  otlpHeaders?: string;
  /** Langfuse keys and base URL; all three are required to enable it. */
  langfuse?: { publicKey?: string; secretKey?: string; baseUrl?: string };
  /** Batch delay before spans are sent (ms). @default 2000 */
  exportDelayMs?: number;
}

export interface Tracing {
  readonly tracer: Tracer;
  /** The exporters in use, e.g. `['otlp', 'langfuse']`. */
  readonly exporters: string[];
  /** Sends every finished span now. */
  flush(): Promise<void>;
  /** Flushes, then stops the exporters. */
  shutdown(): Promise<void>;
}

/** Parses `k=v,k2=v2` (values may be URL-encoded, as the OTel spec allows). */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    headers[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return headers;
}

/**
 * Creates the tracer provider the gateway's run spans go through. Not registered globally: two
 * gateways in one process keep their own.
 * @example
 * const tracing = createTracing({ otlpEndpoint: 'http://127.0.0.1:4318' });
 * const span = tracing.tracer.startSpan('run');
 */
export function createTracing(options: TracingOptions = {}): Tracing {
  const processors: SpanProcessor[] = [];
  const exporters: string[] = [];
  const delay = options.exportDelayMs ?? 2000;
  if (options.otlpEndpoint) {
    const url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
    const exporter = new OTLPTraceExporter({ url, headers: parseOtlpHeaders(options.otlpHeaders) });
    processors.push(new BatchSpanProcessor(exporter, { scheduledDelayMillis: delay }));
    exporters.push('otlp');
  }
  const lf = options.langfuse;
  if (lf?.publicKey && lf.secretKey && lf.baseUrl) {
    processors.push(
      new LangfuseSpanProcessor({
        publicKey: lf.publicKey,
        secretKey: lf.secretKey,
        baseUrl: lf.baseUrl.replace(/\/+$/, ''),
        environment: options.environment,
        flushInterval: delay / 1000,
        mediaUploadEnabled: false,
        // Every span of ours belongs to a run; Langfuse's default filter keeps only gen_ai ones.
        shouldExportSpan: () => true,
      }),
    );
    exporters.push('langfuse');
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName ?? 'switchboard-gateway',
      ...(options.nodeId ? { 'service.instance.id': options.nodeId } : {}),
      ...(options.environment ? { 'deployment.environment.name': options.environment } : {}),
    }),
    spanProcessors: processors,
  });
  let stopped: Promise<void> | null = null;
  return {
    tracer: provider.getTracer('switchboard-gateway'),
    exporters,
    flush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= provider.forceFlush().finally(() => provider.shutdown());
      return stopped;
    },
  };
}
