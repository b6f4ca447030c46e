/** Least-squares fits for the benches: cost per run and per token, memory per socket. */

/** Least squares for y = a·x1 + b·x2 (no intercept). */
export function fitTwo(x1: number[], x2: number[], y: number[]): { a: number; b: number; r2: number; residuals: number[] } {
  let s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0;
  for (let i = 0; i < y.length; i++) {
    s11 += x1[i]! * x1[i]!;
    s12 += x1[i]! * x2[i]!;
    s22 += x2[i]! * x2[i]!;
    s1y += x1[i]! * y[i]!;
    s2y += x2[i]! * y[i]!;
  }
  const det = s11 * s22 - s12 * s12;
  if (det === 0) throw new Error('the phases cannot separate runs from tokens (use at least two answer lengths)');
  const a = (s1y * s22 - s2y * s12) / det;
  const b = (s2y * s11 - s1y * s12) / det;
  const residuals = y.map((v, i) => v - a * x1[i]! - b * x2[i]!);
  const mean = y.reduce((p, v) => p + v, 0) / y.length;
  const ssTot = y.reduce((p, v) => p + (v - mean) ** 2, 0);
  const ssRes = residuals.reduce((p, v) => p + v * v, 0);
  return { a, b, r2: ssTot > 0 ? 1 - ssRes / ssTot : 1, residuals };
}

/** Least squares for y = a + b·x (a line with an intercept): `b` is the cost of one more x. */
export function fitLine(x: number[], y: number[]): { a: number; b: number; r2: number } {
  const n = y.length;
  if (n < 2 || new Set(x).size < 2) throw new Error('a line needs at least two different x');
  const mx = x.reduce((p, v) => p + v, 0) / n;
  const my = y.reduce((p, v) => p + v, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i]! - mx) ** 2;
    sxy += (x[i]! - mx) * (y[i]! - my);
    syy += (y[i]! - my) ** 2;
  }
  const b = sxy / sxx;
  return { a: my - b * mx, b, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1 };
}
