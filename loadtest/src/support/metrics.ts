/**
 * Gateway-side truth: the counters on `GET /metrics`, when the gateway exports them.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { byLabel, parsePrometheusText, sumMetric } from '../stats/prometheus.js';

/** The counters a run compares with what its clients saw; `available: false` when absent. */
export type GatewayCounters =
  | { available: false; reason: string }
  | {
      available: true;
      framesIn: Record<string, number>;
      framesOut: Record<string, number>;
      backpressureCloses: number | null;
      connections: number | null;
      /** Event loop delay quantiles (ms) over the time since the previous scrape; null when not exported. */
      loopDelayMs: LoopDelay | null;
      /** Main-thread garbage collection time (s) by kind, since the process started. */
      gcSeconds: Record<string, number>;
    };

/** How late an event loop ran a periodic timer (ms), at the median, the 99th percentile and worst. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/**
 * The lateness in a `monitorEventLoopDelay` histogram sampled every `resolutionMs`: it holds the
 * time between two runs of its timer, so lateness is what exceeds the period.
 */
export function loopLateness(h: Pick<IntervalHistogram, 'percentile' | 'max'>, resolutionMs: number): LoopDelay {
  const late = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
  return { p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max) };
}

/** `p50 / p99 / max ms`, as the reports print a {@link LoopDelay}. */
export function formatLoopDelay(d: LoopDelay): string {
  return `${d.p50.toFixed(1)} / ${d.p99.toFixed(1)} / ${d.max.toFixed(1)} ms`;
}

/** Reads and parses `/metrics`; never throws. */
export async function readGatewayCounters(baseUrl: string, token?: string): Promise<GatewayCounters> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (!res.ok) return { available: false, reason: `GET /metrics answered ${res.status}` };
    return gatewayCounters(await res.text());
  } catch (e) {
    return { available: false, reason: `GET /metrics failed: ${(e as Error).message}` };
  }
}

/** The counters in a `/metrics` text. */
export function gatewayCounters(text: string): GatewayCounters {
  const samples = parsePrometheusText(text);
  const framesIn = byLabel(samples, 'switchboard_frames_in_total', 'type');
  const framesOut = byLabel(samples, 'switchboard_frames_out_total', 'type');
  if (!Object.keys(framesIn).length && !Object.keys(framesOut).length)
    return { available: false, reason: '/metrics has no switchboard_frames_* counters' };
  return {
    available: true,
    framesIn,
    framesOut,
    backpressureCloses: sumMetric(samples, 'switchboard_backpressure_closes_total') ?? null,
    connections: sumMetric(samples, 'switchboard_connections') ?? null,
    loopDelayMs: loopDelay(samples),
    gcSeconds: byLabel(samples, 'switchboard_gc_pause_seconds_total', 'kind'),
  };
}

function loopDelay(samples: ReturnType<typeof parsePrometheusText>): LoopDelay | null {
  const q = byLabel(samples, 'switchboard_event_loop_delay_seconds', 'quantile');
  if (q['1'] === undefined) return null;
  const ms = (v: number | undefined) => (v ?? 0) * 1000;
  return { p50: ms(q['0.5']), p99: ms(q['0.99']), max: ms(q['1']) };
}

/** Counter growth between two readings (frames by type), or null when either is unavailable. */
export function counterDelta(before: GatewayCounters, after: GatewayCounters): GatewayCounters {
  if (!after.available) return after;
  if (!before.available) return after;
  const diff = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
  return {
    available: true,
    framesIn: diff(after.framesIn, before.framesIn),
    framesOut: diff(after.framesOut, before.framesOut),
    backpressureCloses:
      after.backpressureCloses === null ? null : after.backpressureCloses - (before.backpressureCloses ?? 0),
    connections: after.connections,
    // Quantiles since the previous scrape: `after` already covers the interval from `before`.
    loopDelayMs: after.loopDelayMs,
    gcSeconds: diff(after.gcSeconds, before.gcSeconds),
  };
}

/**
 * The gateway's event loop and collector over a window read by {@link counterDelta} (the delay
 * covers it only when nothing else scraped in between).
 */
export function describeRuntime(c: GatewayCounters, windowS: number): string {
  if (!c.available) return `not available (${c.reason})`;
  const d = c.loopDelayMs;
  const loop = d ? `event loop delay p50/p99/max ${formatLoopDelay(d)}` : 'event loop delay not exported';
  const gc = Object.entries(c.gcSeconds);
  if (gc.length === 0) return loop;
  const total = gc.reduce((sum, [, s]) => sum + s, 0);
  const kinds = gc.filter(([, s]) => s > 0).map(([k, s]) => `${k} ${s.toFixed(2)} s`).join(', ');
  return `${loop}; GC ${total.toFixed(2)} s on the main thread (${((total / Math.max(windowS, 1e-9)) * 100).toFixed(1)} % of the window${kinds ? `: ${kinds}` : ''})`;
}

/** One line for the report. */
export function describeCounters(c: GatewayCounters): string {
  if (!c.available) return `not available (${c.reason})`;
  const fmt = (r: Record<string, number>) =>
    Object.entries(r)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'none';
  return `in: ${fmt(c.framesIn)}; out: ${fmt(c.framesOut)}; backpressure closes: ${c.backpressureCloses ?? 'n/a'}; connections: ${c.connections ?? 'n/a'}`;
}
