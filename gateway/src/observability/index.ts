export { createObservability } from './observability.js';
export { createMetrics } from './metrics.js';
export { createTracing, parseOtlpHeaders } from './tracing.js';
export { METRIC_HELP } from './instruments.js';
export { FRAME_TYPES } from './frame-counts.js';

export type { Observability, ObservabilityConfig } from './observability.js';
export type { Metrics, MetricSources, MetricsOptions } from './metrics.js';
export type { Tracing, TracingOptions } from './tracing.js';
export type { MetricName } from './instruments.js';
