/**
 * Gateway-side truth: the counters on `GET /metrics`, when the gateway exports them.
 */
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
    };

/** Reads and parses `/metrics`; never throws. */
export async function readGatewayCounters(baseUrl: string, token?: string): Promise<GatewayCounters> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (!res.ok) return { available: false, reason: `GET /metrics answered ${res.status}` };
    const samples = parsePrometheusText(await res.text());
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
    };
  } catch (e) {
    return { available: false, reason: `GET /metrics failed: ${(e as Error).message}` };
  }
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
  };
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
