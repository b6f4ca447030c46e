/**
 * The runtime series of `createMetrics`: event loop delay since the previous scrape and the time
 * the collector took, read from the Prometheus text as a scraper would.
 */
import { createMetrics, type Metrics } from './metrics.js';

function series(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m?.[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

/** Keeps the event loop busy for `ms` (what a stalled loop looks like to its timers). */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let metrics: Metrics;
beforeEach(() => {
  metrics = createMetrics();
});
afterEach(async () => {
  await metrics.shutdown();
});

describe('event loop delay', () => {
  it('reports a stall of the loop at its max, then starts over after the scrape', async () => {
    await tick(50);
    block(300);
    await tick(50);
    const first = series(await metrics.scrape(), 'switchboard_event_loop_delay_seconds');
    expect([...first.keys()].sort()).toEqual(['quantile="0.5"', 'quantile="0.99"', 'quantile="1"']);
    // The timer due during the stall ran at least 300 ms - 20 ms late.
    expect(first.get('quantile="1"')).toBeGreaterThanOrEqual(0.25);
    expect(first.get('quantile="0.5"')).toBeLessThanOrEqual(first.get('quantile="1"')!);

    await tick(100);
    const second = series(await metrics.scrape(), 'switchboard_event_loop_delay_seconds');
    // The stall belongs to the previous interval: this one's max is below it.
    expect(second.get('quantile="1"') ?? 0).toBeLessThan(first.get('quantile="1"')!);
  });
});

describe('garbage collection', () => {
  it('counts the time of young-generation collections, with every kind present from the start', async () => {
    const before = series(await metrics.scrape(), 'switchboard_gc_pause_seconds_total');
    expect([...before.keys()].sort()).toEqual(['kind="incremental"', 'kind="major"', 'kind="minor"', 'kind="weakcb"']);
    let keep: unknown[] = [];
    for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${i}` });
    keep = [];
    await tick(20); // the observer is told of collections asynchronously
    const after = series(await metrics.scrape(), 'switchboard_gc_pause_seconds_total');
    expect(after.get('kind="minor"')!).toBeGreaterThan(before.get('kind="minor"')!);
    expect(keep).toHaveLength(0);
  });
});
