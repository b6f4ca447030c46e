import { fitTwo, warmedUp } from './chat-cost.js';

describe('fitTwo (least squares, no intercept)', () => {
  it('recovers exact coefficients', () => {
    const runs = [240, 120, 60];
    const tokens = [1200, 6000, 12000];
    const y = runs.map((r, i) => 0.004 * r + 0.00005 * tokens[i]!);
    const f = fitTwo(runs, tokens, y);
    expect(f.a).toBeCloseTo(0.004, 9);
    expect(f.b).toBeCloseTo(0.00005, 9);
    expect(f.r2).toBeCloseTo(1, 9);
    for (const r of f.residuals) expect(Math.abs(r)).toBeLessThan(1e-9);
  });

  it('refuses phases that cannot separate runs from tokens', () => {
    expect(() => fitTwo([10, 20], [500, 1000], [1, 2])).toThrow(/two answer lengths/);
  });
});

describe('warmedUp (when the warm-up batches stop)', () => {
  const b = (...ms: number[]) => ms.map((msPerRun) => ({ msPerRun }));
  it('runs at least three batches', () => {
    expect(warmedUp(b(9, 9))).toBe(false);
    expect(warmedUp(b(9, 9, 9))).toBe(true);
  });
  it('goes on while the cost per run still moves by more than 5 %', () => {
    expect(warmedUp(b(14, 9.3, 8.5))).toBe(false);
    expect(warmedUp(b(14, 9.3, 8.5, 8.2))).toBe(true);
    expect(warmedUp(b(8, 8, 9))).toBe(false);
  });
});
