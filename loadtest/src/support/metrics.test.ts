import { counterDelta, describeRuntime, formatLoopDelay, gatewayCounters, loopLateness } from './metrics.js';

const scrape = (gcMinor: number, gcMajor: number, maxDelay: number) => `# HELP switchboard_frames_out_total x
switchboard_frames_out_total{type="token"} 10
switchboard_event_loop_delay_seconds{quantile="0.5"} 0.0012
switchboard_event_loop_delay_seconds{quantile="0.99"} 0.0105
switchboard_event_loop_delay_seconds{quantile="1"} ${maxDelay}
switchboard_gc_pause_seconds_total{kind="minor"} ${gcMinor}
switchboard_gc_pause_seconds_total{kind="major"} ${gcMajor}
`;

describe('the gateway runtime over a window', () => {
  it('takes the loop delay of the later scrape and the GC time between the two', () => {
    const window = counterDelta(gatewayCounters(scrape(1.5, 0.25, 0.2)), gatewayCounters(scrape(2.5, 0.5, 0.0871)));
    expect(window).toMatchObject({ available: true, loopDelayMs: { p50: 1.2, p99: 10.5, max: 87.1 }, gcSeconds: { minor: 1, major: 0.25 } });
    expect(describeRuntime(window, 10)).toBe('event loop delay p50/p99/max 1.2 / 10.5 / 87.1 ms; GC 1.25 s on the main thread (12.5 % of the window: minor 1.00 s, major 0.25 s)');
  });

  it('says so when a gateway exports no runtime series', () => {
    const c = gatewayCounters('switchboard_frames_in_total{type="send"} 1\n');
    expect(c).toMatchObject({ loopDelayMs: null, gcSeconds: {} });
    expect(describeRuntime(c, 10)).toBe('event loop delay not exported');
  });
});

describe('loop lateness from a timer histogram', () => {
  it('is what exceeds the timer period, never below zero', () => {
    const ns = { 50: 20_400_000, 99: 31_000_000 } as Record<number, number>;
    const d = loopLateness({ percentile: (q: number) => ns[q]!, max: 148_100_000 }, 20);
    expect(d.p50).toBeCloseTo(0.4, 9);
    expect(d.p99).toBeCloseTo(11, 9);
    expect(d.max).toBeCloseTo(128.1, 9);
    expect(loopLateness({ percentile: () => 19_000_000, max: 19_500_000 }, 20)).toEqual({ p50: 0, p99: 0, max: 0 });
    expect(formatLoopDelay(d)).toBe('0.4 / 11.0 / 128.1 ms');
  });
});
