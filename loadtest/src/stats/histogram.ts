/**
 * HDR-histogram helpers: record latencies in microseconds, summarise in milliseconds.
 */
import * as hdr from 'hdr-histogram-js';

/** A recorder of non-negative durations (milliseconds, stored as integer microseconds). */
export interface LatencyRecorder {
  /** Records one duration in milliseconds (negative values are clamped to 0). */
  record(ms: number): void;
  /** Merges another recorder into this one. */
  add(other: LatencyRecorder): void;
  readonly count: number;
  /** Percentiles and extremes, in milliseconds. */
  summary(): LatencySummary;
  /** The underlying histogram (for merging). */
  readonly histogram: hdr.Histogram;
}

/** Percentiles of a recorder, in milliseconds (0 when empty). */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Largest value kept exactly: one hour in microseconds. */
const HIGHEST_US = 3_600_000_000;

/**
 * Creates a recorder (3 significant digits, up to one hour).
 * @example const h = createLatencyRecorder(); h.record(12.5); h.summary().p99;
 */
export function createLatencyRecorder(): LatencyRecorder {
  const histogram = hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  return {
    histogram,
    record(ms: number) {
      if (!Number.isFinite(ms)) return;
      histogram.recordValue(Math.min(HIGHEST_US, Math.max(0, Math.round(ms * 1000))));
    },
    add(other) {
      histogram.add(other.histogram);
    },
    get count() {
      return histogram.totalCount;
    },
    summary() {
      return summarize(histogram);
    },
  };
}

const round = (us: number) => Math.round(us) / 1000;

/** Summarises a histogram of microseconds into milliseconds. */
export function summarize(h: hdr.Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  const max = h.maxValue;
  const at = (p: number) => round(Math.min(max, h.getValueAtPercentile(p)));
  return {
    count: h.totalCount,
    min: round(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : Math.min(h.minNonZeroValue, h.getValueAtPercentile(0))),
    mean: round(h.mean),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: round(max),
  };
}

/** Formats a summary as `p50 / p90 / p99 / p99.9 / max` milliseconds. */
export function formatSummary(s: LatencySummary, digits = 1): string {
  if (s.count === 0) return 'n/a';
  const f = (v: number) => v.toFixed(digits);
  return `${f(s.p50)} / ${f(s.p90)} / ${f(s.p99)} / ${f(s.p999)} / ${f(s.max)} ms`;
}

/** A recorder as compressed base64 (to send it between processes). */
export function encodeRecorder(r: LatencyRecorder): string {
  return hdr.encodeIntoCompressedBase64(r.histogram);
}

/** Merges a recorder encoded by {@link encodeRecorder} into `r`. */
export function addEncoded(r: LatencyRecorder, encoded: string): void {
  r.histogram.add(hdr.decodeFromCompressedBase64(encoded, 64, false));
}
