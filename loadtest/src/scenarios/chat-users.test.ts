import { thinkMs } from './chat-users.js';

describe('thinkMs', () => {
  it('is 0 without think time', () => {
    expect(thinkMs(0, 'exponential')).toBe(0);
    expect(thinkMs(-1, 'uniform')).toBe(0);
  });

  it('draws uniform on [0, 2·mean]', () => {
    expect(thinkMs(30, 'uniform', () => 0)).toBe(0);
    expect(thinkMs(30, 'uniform', () => 0.5)).toBe(30_000);
    expect(thinkMs(30, 'uniform', () => 0.999)).toBeCloseTo(59_940);
  });

  it('draws exponential with the given mean (inverse CDF)', () => {
    expect(thinkMs(30, 'exponential', () => 0)).toBe(0);
    expect(thinkMs(30, 'exponential', () => 1 - Math.exp(-1))).toBeCloseTo(30_000);
    // The sample mean of many draws is near the mean.
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += thinkMs(5, 'exponential', random);
    expect(sum / 20_000 / 1000).toBeGreaterThan(4.8);
    expect(sum / 20_000 / 1000).toBeLessThan(5.2);
  });
});
