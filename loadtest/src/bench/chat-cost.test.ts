import { warmedUp } from './chat-cost.js';

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
