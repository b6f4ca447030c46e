import { addGarbage, newGarbageScore } from './garbage-score.js';

describe('garbage score', () => {
  it('D8: counts bad frames whatever comes between them', () => {
    const g = newGarbageScore(0);
    const scores = [0, 10, 20, 30].map((t) => addGarbage(g, 5000, t));
    expect(scores.at(-1)).toBeCloseTo(4, 1);
  });
  it('decays by one per decay period and never below zero', () => {
    const g = newGarbageScore(0);
    addGarbage(g, 1000, 0);
    addGarbage(g, 1000, 0);
    expect(addGarbage(g, 1000, 1500)).toBeCloseTo(1.5);
    expect(addGarbage(g, 1000, 60_000)).toBe(1);
  });
});
