import { fitLine, fitTwo } from './fit.js';

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

describe('fitLine (least squares with an intercept)', () => {
  it('recovers slope and intercept', () => {
    const sockets = [2000, 6000, 10000, 14000];
    const f = fitLine(sockets, sockets.map((n) => 80_000 + 0.25 * n));
    expect(f.b).toBeCloseTo(0.25, 9);
    expect(f.a).toBeCloseTo(80_000, 6);
    expect(f.r2).toBeCloseTo(1, 9);
  });

  it('reports a poor fit through R²', () => {
    expect(fitLine([1, 2, 3, 4], [10, 0, 10, 0]).r2).toBeLessThan(0.5);
  });

  it('refuses a single x', () => {
    expect(() => fitLine([5, 5], [1, 2])).toThrow(/two different x/);
  });
});
