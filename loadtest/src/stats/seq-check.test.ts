import { mergeSeqReports, SeqChecker } from './seq-check.js';

const check = (seqs: number[], expect?: { expectFirst?: number; expectLast?: number }) => {
  const c = new SeqChecker();
  for (const s of seqs) c.see(s);
  return c.report(expect);
};

describe('seq contiguity checker', () => {
  it('passes a contiguous stream', () => {
    expect(check([1, 2, 3, 4])).toMatchObject({ frames: 4, first: 1, last: 4, lost: 0, duplicates: 0, outOfOrder: 0 });
  });

  it('counts holes and samples the missing seqs', () => {
    const r = check([1, 2, 5, 6, 9]);
    expect(r.lost).toBe(4);
    expect(r.missingSample).toEqual([3, 4, 7, 8]);
  });

  it('counts duplicates separately from losses', () => {
    const r = check([1, 2, 2, 3, 3, 3]);
    expect(r).toMatchObject({ frames: 6, lost: 0, duplicates: 3, outOfOrder: 0 });
  });

  it('counts frames that arrive out of order', () => {
    const r = check([1, 3, 2, 4]);
    expect(r).toMatchObject({ lost: 0, duplicates: 0, outOfOrder: 1 });
  });

  it('widens the range to the expected first and last seq', () => {
    expect(check([3, 4], { expectFirst: 1, expectLast: 6 })).toMatchObject({ lost: 4, missingSample: [1, 2, 5, 6] });
    expect(check([], { expectFirst: 1, expectLast: 3 }).lost).toBe(3);
    expect(check([]).lost).toBe(0);
  });

  it('merges reports and counts clean streams', () => {
    const m = mergeSeqReports([check([1, 2, 3]), check([1, 3]), check([1, 1])]);
    expect(m).toEqual({ streams: 3, frames: 7, lost: 1, duplicates: 1, outOfOrder: 0, clean: 1 });
  });
});
