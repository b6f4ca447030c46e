import { runChat } from './chat.js';

describe('chat scenario (smoke)', () => {
  it('runs 2 virtual users through register → session → socket → send → done', async () => {
    const r = await runChat(
      { transport: 'auto', quiet: true, users: 2, duration: 1.5, ramp: 0, ttftMs: 20, tokensPerSecond: 200, tokens: 8, share429: 0 },
      'pnpm loadtest chat --users 2',
    );
    const d = r.data as { started: number; succeeded: number; tokens: number; errors: Record<string, number>; ttftMs: { count: number } };
    expect(d.errors).toEqual({});
    expect(d.started).toBeGreaterThanOrEqual(2);
    expect(d.succeeded).toBe(d.started);
    expect(d.tokens).toBe(d.started * 8);
    expect(d.ttftMs.count).toBe(d.started);
    expect(r.target.pid).toBeGreaterThan(0);
    expect(r.gatewayCpu?.seconds).toBeGreaterThan(0);
    expect(r.rows.find(([k]) => k === 'success')?.[1]).toBe('100.00 %');
  }, 90_000);

  it('keeps the runs of the warm-up out of the measured figures and reports them apart', async () => {
    const r = await runChat(
      { transport: 'auto', quiet: true, users: 2, duration: 1.5, ramp: 0, warmup: 1, ttftMs: 20, tokensPerSecond: 200, tokens: 8, share429: 0 },
      'pnpm loadtest chat --users 2 --warmup 1',
    );
    const d = r.data as {
      started: number;
      succeeded: number;
      tokens: number;
      ttftMs: { count: number };
      warmup: { seconds: number; started: number; succeeded: number; gatewayAddedTtftMs: { count: number } } | null;
    };
    expect(d.warmup?.seconds).toBe(1);
    expect(d.warmup?.started).toBeGreaterThanOrEqual(2);
    expect(d.warmup?.succeeded).toBe(d.warmup?.started);
    expect(d.warmup?.gatewayAddedTtftMs.count).toBe(d.warmup?.started);
    // Only the runs sent after the warm-up are timed and counted in the figures.
    expect(d.started).toBeGreaterThanOrEqual(2);
    expect(d.succeeded).toBe(d.started);
    expect(d.ttftMs.count).toBe(d.started);
    expect(d.tokens).toBe(d.started * 8);
    expect(r.rows.find(([k]) => k.startsWith('warm-up'))?.[1]).toMatch(/^1 s: \d+ \/ \d+ runs ok/);
  }, 90_000);
});
