import type { ModelChainEvent, ModelChainStats } from '@switchboard/agent-core';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { FRAME_ATTRS, FRAME_TYPES, FrameCounts } from './frame-counts.js';
import { createInstruments, LabelSet, METRIC_HELP, type MetricName } from './instruments.js';

/** Limit names counted by `switchboard_rate_limited_total` (the limiters' names, plus HTTP login). */
export const LIMIT_NAMES = ['messages', 'sends', 'connections', 'sockets', 'tokens', 'login', 'registrations', 'sessions'] as const;

/** Where gauges read their values at scrape time; each is optional and may be set later. */
export interface MetricSources {
  connections?(): number;
  runs?(): number;
  modelStats?(): ModelChainStats;
  memoryStats?(): { queueDepth: number; dropped: number };
  /** Readiness checks run at scrape time for `switchboard_dependency_up`. */
  probes?: Array<{ name: string; check(): Promise<void> }>;
  /** The per-user daily token budget (0 = unlimited). */
  dailyTokenBudget?: number;
}

export interface MetricsOptions {
  /** How long a dependency probe may take during a scrape. @default 1000 */
  probeTimeoutMs?: number;
  /** Most distinct users tracked for the token-budget gauge per UTC day. @default 100000 */
  maxBudgetUsers?: number;
}

const defaults = { probeTimeoutMs: 1000, maxBudgetUsers: 100_000 } satisfies Required<MetricsOptions>;

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
const KNOWN_CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1008, 1009, 1011, 1012, 4001, 4002, 4003, 4008, 4009]);
const EMPTY = Object.freeze({});
const SLOW_CONSUMER = 4009;
const FEEDBACK_UP = Object.freeze({ score: 'up' });
const FEEDBACK_DOWN = Object.freeze({ score: 'down' });

/** The timer the event loop delay is sampled with (a wake-up each, so not finer). */
const LOOP_RESOLUTION_MS = 20;
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const GC_ATTRS = Object.fromEntries(Object.values(GC_KINDS).map((kind) => [kind, Object.freeze({ kind })]));
const QUANTILES = [
  [50, Object.freeze({ quantile: '0.5' })],
  [99, Object.freeze({ quantile: '0.99' })],
] as const;
const MAX = Object.freeze({ quantile: '1' });

const pair = <A extends string, B extends string>(a: A, b: B) =>
  new LabelSet<A | B>((v) => {
    const [x = '', y = ''] = v.split('\n');
    return { [a]: x, [b]: y } as Record<A | B, string>;
  }, 256);

/**
 * Creates the gateway's metrics: OpenTelemetry instruments read by a Prometheus exporter that
 * starts no server of its own; `scrape()` returns the text for the gateway's `/metrics` route.
 * @example
 * const metrics = createMetrics();
 * metrics.observe({ connections: () => manager.size });
 * const text = await metrics.scrape();
 */
export function createMetrics(options: MetricsOptions = {}) {
  const o = { ...defaults, ...options };
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter('switchboard-gateway');
  const i = createInstruments(meter);
  const frames = new FrameCounts();
  let sources: MetricSources = {};

  const codeLabels = new LabelSet<'code'>((code) => ({ code }), 32);
  const limitLabels = new LabelSet<'limit'>((limit) => ({ limit }), 32);
  const resumeLabels = new LabelSet<'outcome'>((outcome) => ({ outcome }), 8);
  const reasonLabels = new LabelSet<'reason'>((reason) => ({ reason }), 16);
  const modelLabels = new LabelSet<'model'>((model) => ({ model }), 64);
  const toolLabels = new LabelSet<'tool'>((tool) => ({ tool }), 64);
  const toolOutcome = pair('tool', 'outcome');
  const modelOutcome = pair('model', 'outcome');
  const modelReason = pair('model', 'reason');
  const modelKind = pair('model', 'kind');
  const http = new LabelSet<'method' | 'route' | 'status'>((v) => {
    const [method = '', route = '', status = ''] = v.split('\n');
    return { method, route, status };
  }, 512);
  const httpRoute = pair('method', 'route');
  const tierRule = pair('tier', 'rule');
  const cacheResult = pair('cache', 'result');
  const limitPhase = pair('limit', 'phase');
  const tierLabels = new LabelSet<'tier'>((tier) => ({ tier }), 16);

  // Spend per user, bounded: the day's totals of users this node charged, read as a top 5.
  let spendDay = '';
  const spentToday = new Map<string, number>();

  // Token budget: highest usage of any user today, as seen by this node's runs.
  let budgetDay = '';
  const usedToday = new Map<string, number>();
  let maxUsed = 0;

  const observable = (name: MetricName, kind: 'gauge' | 'counter', cb: (add: (v: number, attrs?: Record<string, string>) => void) => void | Promise<void>) => {
    const inst =
      kind === 'gauge'
        ? meter.createObservableGauge(name, { description: METRIC_HELP[name] })
        : meter.createObservableCounter(name, { description: METRIC_HELP[name] });
    inst.addCallback((r) => cb((v, attrs) => r.observe(v, attrs)));
  };
  observable('switchboard_connections', 'gauge', (add) => add(sources.connections?.() ?? 0));
  observable('switchboard_runs_active', 'gauge', (add) => add(sources.runs?.() ?? 0));
  const perType = (counts: Float64Array) => (add: (v: number, a?: Record<string, string>) => void) => {
    for (let k = 0; k < FRAME_TYPES.length; k++) if (counts[k]! > 0) add(counts[k]!, FRAME_ATTRS[k]);
  };
  observable('switchboard_frames_in_total', 'counter', perType(frames.framesIn));
  observable('switchboard_frames_out_total', 'counter', perType(frames.framesOut));
  observable('switchboard_bytes_in_total', 'counter', (add) => add(frames.bytesIn));
  observable('switchboard_bytes_out_total', 'counter', (add) => add(frames.bytesOut));
  observable('switchboard_llm_breaker_state', 'gauge', (add) => {
    for (const m of sources.modelStats?.().models ?? []) add(BREAKER_VALUE[m.breaker] ?? 0, modelLabels.get(m.name));
  });
  observable('switchboard_token_budget_daily_tokens', 'gauge', (add) => add(sources.dailyTokenBudget ?? 0));
  observable('switchboard_token_budget_max_used_ratio', 'gauge', (add) => {
    const budget = sources.dailyTokenBudget ?? 0;
    add(budget > 0 && budgetDay === utcDay() ? maxUsed / budget : 0);
  });
  observable('switchboard_user_spend_top_usd', 'gauge', (add) => {
    const top = spendDay === utcDay() ? [...spentToday.values()].sort((a, b) => b - a).slice(0, 5) : [];
    top.forEach((usd, k) => add(usd, { rank: String(k + 1) }));
  });
  observable('switchboard_memory_queue_depth', 'gauge', (add) => add(sources.memoryStats?.().queueDepth ?? 0));
  observable('switchboard_memory_dropped_total', 'counter', (add) => add(sources.memoryStats?.().dropped ?? 0));
  observable('switchboard_dependency_up', 'gauge', async (add) => {
    await Promise.all(
      (sources.probes ?? []).map(async (p) => {
        const up = await withTimeout(p.check(), o.probeTimeoutMs).then(
          () => 1,
          () => 0,
        );
        add(up, { dependency: p.name });
      }),
    );
  });

  // The runtime: how late the loop runs (what every socket of this node waits on) and what the
  // collector takes of it. Delay quantiles cover the time since the previous scrape, then restart.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  observable('switchboard_event_loop_delay_seconds', 'gauge', (add) => {
    if (loopDelay.count === 0) return;
    // The histogram holds the time between two runs of the timer: lateness is what exceeds its period.
    const late = (ns: number) => Math.max(0, ns / 1e9 - LOOP_RESOLUTION_MS / 1000);
    for (const [q, attrs] of QUANTILES) add(late(loopDelay.percentile(q)), attrs);
    add(late(loopDelay.max), MAX);
    loopDelay.reset();
  });
  const gcSeconds = new Map<string, number>(Object.values(GC_KINDS).map((kind) => [kind, 0]));
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[((entry as { detail?: { kind?: number } }).detail)?.kind ?? -1];
      if (kind) gcSeconds.set(kind, gcSeconds.get(kind)! + entry.duration / 1000);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  observable('switchboard_gc_pause_seconds_total', 'counter', (add) => {
    for (const [kind, seconds] of gcSeconds) add(seconds, GC_ATTRS[kind]);
  });

  // Series that should exist from the first scrape, so dashboards and alerts see 0 rather than nothing.
  i.connects.add(0);
  i.backpressureCloses.add(0);
  i.replayed.add(0);
  i.feedback.add(0, FEEDBACK_UP);
  i.feedback.add(0, FEEDBACK_DOWN);
  i.busErrors.add(0);
  i.transcriptFailures.add(0);
  for (const limit of LIMIT_NAMES) i.rateLimited.add(0, limitLabels.get(limit));
  for (const limit of ['user', 'global']) for (const phase of ['before', 'during']) i.spendLimits.add(0, limitPhase.get(`${limit}\n${phase}`));
  for (const route of ['fast\nshort', 'smart\ntools']) i.routes.add(0, tierRule.get(route));
  for (const cache of ['answer', 'semantic', 'tool']) for (const result of ['hit', 'miss']) i.cacheRequests.add(0, cacheResult.get(`${cache}\n${result}`));

  return {
    /** Frame and byte counts (the per-frame hot path writes here directly). */
    frames,
    /** Sets where gauges read from; merges with earlier sources. */
    observe(more: MetricSources): void {
      sources = { ...sources, ...more };
    },
    socketOpened(): void {
      i.connects.add(1);
    },
    socketClosed(code: number): void {
      i.disconnects.add(1, codeLabels.get(KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other'));
    },
    /** The server decided to close a socket with `code`. */
    serverClose(code: number): void {
      if (code === SLOW_CONSUMER) i.backpressureCloses.add(1);
    },
    /** A run's transcript write failed (its tokens were charged regardless). */
    transcriptWriteFailed(): void {
      i.transcriptFailures.add(1);
    },
    rateLimited(limit: string): void {
      i.rateLimited.add(1, limitLabels.get(limit));
    },
    replayed(count: number): void {
      if (count > 0) i.replayed.add(count);
    },
    feedback(score: 1 | -1): void {
      i.feedback.add(1, score === 1 ? FEEDBACK_UP : FEEDBACK_DOWN);
    },
    resume(outcome: 'resumed' | 'expired' | 'gap'): void {
      i.resumes.add(1, resumeLabels.get(outcome));
    },
    runEnded(reason: string, seconds: number): void {
      const attrs = reasonLabels.get(reason);
      i.runs.add(1, attrs);
      i.runDuration.record(seconds, attrs);
    },
    firstToken(seconds: number): void {
      i.ttft.record(seconds, EMPTY);
    },
    tokenGap(seconds: number): void {
      i.tokenGap.record(seconds, EMPTY);
    },
    toolCall(tool: string, ok: boolean, seconds: number): void {
      i.toolCalls.add(1, toolOutcome.get(`${tool}\n${ok ? 'ok' : 'error'}`));
      i.toolDuration.record(seconds, toolLabels.get(tool));
    },
    modelEvent(e: ModelChainEvent): void {
      switch (e.type) {
        case 'first-token':
          i.llmRequests.add(1, modelOutcome.get(`${e.model}\nok`));
          i.llmFirstToken.record(e.latencyMs / 1000, modelLabels.get(e.model));
          return;
        case 'failure':
          i.llmRequests.add(1, modelOutcome.get(`${e.model}\n${e.reason}`));
          i.llmErrors.add(1, modelReason.get(`${e.model}\n${e.reason}`));
          return;
        case 'retry':
          i.llmRetries.add(1, modelLabels.get(e.model));
          return;
        case 'fallback':
          i.llmFallbacks.add(1, modelLabels.get(e.from));
          return;
      }
    },
    llmCall(model: string, seconds: number): void {
      i.llmCallDuration.record(seconds, modelLabels.get(model));
    },
    tokens(model: string, input: number, output: number, userId?: string): void {
      if (input > 0) i.llmTokens.add(input, modelKind.get(`${model}\ninput`));
      if (output > 0) i.llmTokens.add(output, modelKind.get(`${model}\noutput`));
      if (!userId) return;
      const day = utcDay();
      if (day !== budgetDay) {
        budgetDay = day;
        usedToday.clear();
        maxUsed = 0;
      }
      if (!usedToday.has(userId) && usedToday.size >= o.maxBudgetUsers) return;
      const used = (usedToday.get(userId) ?? 0) + input + output;
      usedToday.set(userId, used);
      if (used > maxUsed) maxUsed = used;
    },
    /** A run's model spend (`usd`), and its user's total today (the shared counter), for the top-N gauge. */
    cost(model: string, tier: string | undefined, usd: number, userId: string, userTodayUsd: number): void {
      i.llmCost.add(usd, modelLabels.get(model));
      i.runCost.record(usd, tierLabels.get(tier ?? 'none'));
      const day = utcDay();
      if (day !== spendDay) {
        spendDay = day;
        spentToday.clear();
      }
      if (!spentToday.has(userId) && spentToday.size >= o.maxBudgetUsers) return;
      spentToday.set(userId, userTodayUsd);
    },
    routed(tier: string, rule: string): void {
      i.routes.add(1, tierRule.get(`${tier}\n${rule}`));
    },
    cacheLookup(cache: 'answer' | 'semantic' | 'tool', hit: boolean): void {
      i.cacheRequests.add(1, cacheResult.get(`${cache}\n${hit ? 'hit' : 'miss'}`));
    },
    spendLimit(limit: 'user' | 'global', phase: 'before' | 'during'): void {
      i.spendLimits.add(1, limitPhase.get(`${limit}\n${phase}`));
    },
    busPublished(seconds: number, ok: boolean): void {
      i.busPublish.record(seconds, EMPTY);
      if (!ok) i.busErrors.add(1);
    },
    http(method: string, route: string, status: number, seconds: number): void {
      i.httpRequests.add(1, http.get(`${method}\n${route}\n${status}`));
      i.httpDuration.record(seconds, httpRoute.get(`${method}\n${route}`));
    },
    /** The Prometheus text exposition of every metric. */
    async scrape(): Promise<string> {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    },
    async shutdown(): Promise<void> {
      loopDelay.disable();
      gc.disconnect();
      await provider.shutdown().catch(() => {});
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const utcDay = () => new Date().toISOString().slice(0, 10);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const t = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
