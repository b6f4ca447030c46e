import { createLatencyRecorder, formatSummary, summarize } from './histogram.js';

describe('latency recorder', () => {
  it('reports percentiles in milliseconds from microsecond buckets', () => {
    const h = createLatencyRecorder();
    for (let i = 1; i <= 1000; i++) h.record(i); // 1..1000 ms
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(500, -1);
    expect(s.p90).toBeCloseTo(900, -1);
    expect(s.p99).toBeCloseTo(990, -1);
    expect(s.max).toBeCloseTo(1000, 0);
    expect(s.p999).toBeLessThanOrEqual(s.max);
    expect(s.min).toBeCloseTo(1, 1);
  });

  it('keeps sub-millisecond values', () => {
    const h = createLatencyRecorder();
    h.record(0.25);
    h.record(0.75);
    expect(h.summary().max).toBeCloseTo(0.75, 2);
  });

  it('is all zeros when empty and formats as n/a', () => {
    const s = createLatencyRecorder().summary();
    expect(s).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
    expect(formatSummary(s)).toBe('n/a');
  });

  it('ignores non-finite values and clamps negatives to zero', () => {
    const h = createLatencyRecorder();
    h.record(Number.NaN);
    h.record(Number.POSITIVE_INFINITY);
    h.record(-5);
    expect(h.count).toBe(1);
    expect(h.summary().max).toBe(0);
  });

  it('merges recorders', () => {
    const a = createLatencyRecorder();
    const b = createLatencyRecorder();
    a.record(1);
    b.record(100);
    a.add(b);
    expect(summarize(a.histogram).count).toBe(2);
    expect(a.summary().max).toBeCloseTo(100, 0);
  });

  it('formats p50 / p90 / p99 / p99.9 / max', () => {
    const h = createLatencyRecorder();
    h.record(2);
    expect(formatSummary(h.summary(), 0)).toBe('2 / 2 / 2 / 2 / 2 ms');
  });
});
