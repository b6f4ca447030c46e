/**
 * The named instruments of the gateway. Names are the Prometheus names as scraped (counters end in
 * `_total`); every label has a bounded set of values — never a user, session or run id.
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';

const SECONDS = {
  ttft: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30],
  gap: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
  run: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
  http: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  bus: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  tool: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
};
const USD = [0.00001, 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

/** Every metric name the gateway exports, with what it is for (the dashboard and alerts use these). */
export const METRIC_HELP = {
  switchboard_connections: 'Open WebSocket connections on this node',
  switchboard_connects_total: 'WebSocket connections opened',
  switchboard_disconnects_total: 'WebSocket connections closed, by close code',
  switchboard_frames_in_total: 'Socket frames received, by frame type (invalid = unparseable)',
  switchboard_frames_out_total: 'Socket frames delivered, by frame type; a publish to N sockets counts N',
  switchboard_bytes_in_total: 'Socket payload bytes received',
  switchboard_bytes_out_total: 'Socket payload bytes delivered (UTF-8), counted per receiving socket',
  switchboard_backpressure_closes_total: 'Sockets closed 4009 because their unsent buffer passed the limit',
  switchboard_rate_limited_total: 'Requests or frames refused by a limit, by limit',
  switchboard_transcript_write_failures_total: 'Runs whose transcript could not be written (the run was still charged)',
  switchboard_replayed_frames_total: 'Frames replayed from the session log on join or resume',
  switchboard_feedback_total: 'User feedback on runs, by score (up, down)',
  switchboard_resumes_total: 'Resume attempts by outcome (resumed, expired, gap)',
  switchboard_runs_active: 'Runs executing on this node',
  switchboard_runs_total: 'Runs ended, by done reason',
  switchboard_run_duration_seconds: 'Run duration from accepted send to done, by done reason',
  switchboard_time_to_first_token_seconds: 'Time from run start to its first answer token',
  switchboard_inter_token_gap_seconds: 'Time between consecutive answer tokens of a run',
  switchboard_tool_calls_total: 'Tool calls by tool and outcome (ok, error)',
  switchboard_tool_duration_seconds: 'Tool call duration, by tool',
  switchboard_llm_requests_total: 'Model attempts by model and outcome (ok or the failure kind)',
  switchboard_llm_first_token_seconds: 'Model attempt latency to its first token, by model',
  switchboard_llm_call_duration_seconds: 'Model call duration (first attempt to end of stream), by model',
  switchboard_llm_errors_total: 'Failed model attempts, by model and failure kind',
  switchboard_llm_retries_total: 'Retries on the same model, by model',
  switchboard_llm_fallbacks_total: 'Requests that moved on from a model to the next, by the model left',
  switchboard_llm_tokens_total: 'Tokens used, by model and kind (input, output)',
  switchboard_llm_breaker_state: 'Circuit breaker state by model: 0 closed, 1 half-open, 2 open',
  switchboard_llm_cost_total: 'Model spend in US dollars, by model (cache hits cost 0)',
  switchboard_run_cost_usd: 'Model spend of one run in US dollars, by tier',
  switchboard_user_spend_top_usd: "Today's spend of the top users in US dollars, by rank 1-5 (this node's view of the shared counters)",
  switchboard_route_decisions_total: 'Runs routed to a model tier, by tier and deciding rule',
  switchboard_cache_requests_total: 'Cache lookups by cache (answer, semantic, tool) and result (hit, miss)',
  switchboard_spend_limit_reached_total: 'Runs refused or cut by a daily spend limit, by limit (user, global) and phase (before, during)',
  switchboard_token_budget_daily_tokens: 'The per-user daily token budget (0 = unlimited)',
  switchboard_token_budget_max_used_ratio: "Highest share of the daily budget any user has used today (this node's view)",
  switchboard_bus_publish_seconds: 'Latency of a session bus publish (the bus lag a frame adds)',
  switchboard_bus_publish_errors_total: 'Failed session bus publishes',
  switchboard_memory_queue_depth: 'Turns waiting for memory extraction',
  switchboard_memory_dropped_total: 'Turns dropped because the memory queue was full',
  switchboard_dependency_up: 'Readiness of a dependency at scrape time (1 up, 0 down), by dependency',
  switchboard_event_loop_delay_seconds: 'How late the event loop ran a 20 ms timer since the previous scrape, by quantile (0.5, 0.99, 1 = max)',
  switchboard_gc_pause_seconds_total: 'Time the main thread spent in garbage collection, by kind (minor, major, incremental, weakcb)',
  switchboard_http_requests_total: 'HTTP requests by method, route pattern and status',
  switchboard_http_request_duration_seconds: 'HTTP request duration by method and route pattern',
} as const;
export type MetricName = keyof typeof METRIC_HELP;

type Attrs = Record<string, string>;

/** The synchronous instruments (observable ones are registered by `createMetrics`). */
export interface Instruments {
  connects: Counter;
  disconnects: Counter<Attrs>;
  backpressureCloses: Counter;
  rateLimited: Counter<Attrs>;
  transcriptFailures: Counter;
  replayed: Counter;
  feedback: Counter<Attrs>;
  resumes: Counter<Attrs>;
  runs: Counter<Attrs>;
  runDuration: Histogram<Attrs>;
  ttft: Histogram;
  tokenGap: Histogram;
  toolCalls: Counter<Attrs>;
  toolDuration: Histogram<Attrs>;
  llmRequests: Counter<Attrs>;
  llmFirstToken: Histogram<Attrs>;
  llmCallDuration: Histogram<Attrs>;
  llmErrors: Counter<Attrs>;
  llmRetries: Counter<Attrs>;
  llmFallbacks: Counter<Attrs>;
  llmTokens: Counter<Attrs>;
  llmCost: Counter<Attrs>;
  runCost: Histogram<Attrs>;
  routes: Counter<Attrs>;
  cacheRequests: Counter<Attrs>;
  spendLimits: Counter<Attrs>;
  busPublish: Histogram;
  busErrors: Counter;
  httpRequests: Counter<Attrs>;
  httpDuration: Histogram<Attrs>;
}

export function createInstruments(meter: Meter): Instruments {
  const counter = (name: MetricName) => meter.createCounter(name, { description: METRIC_HELP[name] });
  const histogram = (name: MetricName, buckets: number[]) =>
    meter.createHistogram(name, { description: METRIC_HELP[name], unit: 's', advice: { explicitBucketBoundaries: buckets } });
  return {
    connects: counter('switchboard_connects_total'),
    disconnects: counter('switchboard_disconnects_total'),
    backpressureCloses: counter('switchboard_backpressure_closes_total'),
    rateLimited: counter('switchboard_rate_limited_total'),
    transcriptFailures: counter('switchboard_transcript_write_failures_total'),
    replayed: counter('switchboard_replayed_frames_total'),
    feedback: counter('switchboard_feedback_total'),
    resumes: counter('switchboard_resumes_total'),
    runs: counter('switchboard_runs_total'),
    runDuration: histogram('switchboard_run_duration_seconds', SECONDS.run),
    ttft: histogram('switchboard_time_to_first_token_seconds', SECONDS.ttft),
    tokenGap: histogram('switchboard_inter_token_gap_seconds', SECONDS.gap),
    toolCalls: counter('switchboard_tool_calls_total'),
    toolDuration: histogram('switchboard_tool_duration_seconds', SECONDS.tool),
    llmRequests: counter('switchboard_llm_requests_total'),
    llmFirstToken: histogram('switchboard_llm_first_token_seconds', SECONDS.ttft),
    llmCallDuration: histogram('switchboard_llm_call_duration_seconds', SECONDS.run),
    llmErrors: counter('switchboard_llm_errors_total'),
    llmRetries: counter('switchboard_llm_retries_total'),
    llmFallbacks: counter('switchboard_llm_fallbacks_total'),
    llmTokens: counter('switchboard_llm_tokens_total'),
    llmCost: counter('switchboard_llm_cost_total'),
    runCost: meter.createHistogram('switchboard_run_cost_usd', { description: METRIC_HELP.switchboard_run_cost_usd, unit: 'USD', advice: { explicitBucketBoundaries: USD } }),
    routes: counter('switchboard_route_decisions_total'),
    cacheRequests: counter('switchboard_cache_requests_total'),
    spendLimits: counter('switchboard_spend_limit_reached_total'),
    busPublish: histogram('switchboard_bus_publish_seconds', SECONDS.bus),
    busErrors: counter('switchboard_bus_publish_errors_total'),
    httpRequests: counter('switchboard_http_requests_total'),
    httpDuration: histogram('switchboard_http_request_duration_seconds', SECONDS.http),
  };
}

/**
 * Interns label values so a label never has more than `max` distinct values (the rest become
 * `other`) and each value's attribute object is built once.
 */
export class LabelSet<K extends string> {
  private readonly cache = new Map<string, Readonly<Record<K, string>>>();
  constructor(
    private readonly build: (value: string) => Record<K, string>,
    private readonly max = 64,
  ) {}

  get(value: string): Readonly<Record<K, string>> {
    const hit = this.cache.get(value);
    if (hit) return hit;
    const key = this.cache.size >= this.max ? 'other' : value;
    let attrs = this.cache.get(key);
    if (!attrs) {
      attrs = Object.freeze(this.build(key));
      this.cache.set(key, attrs);
    }
    return attrs;
  }
}
