/**
 * Checks that the session frames one client saw have contiguous `seq` numbers: none lost,
 * none repeated, none out of order.
 */

/** What a checker found for one stream. */
export interface SeqReport {
  /** Frames seen (duplicates included). */
  frames: number;
  first: number | null;
  last: number | null;
  /** Seq numbers missing between first and last (and before `expectFirst` / after to `expectLast`). */
  lost: number;
  /** Frames whose seq had been seen already. */
  duplicates: number;
  /** Frames that arrived with a lower seq than an earlier one (and were not duplicates). */
  outOfOrder: number;
  /** Up to 10 missing seq numbers, for the report. */
  missingSample: number[];
}

/**
 * Tracks one stream's seq numbers.
 * @example
 * const c = new SeqChecker(); c.see(1); c.see(2); c.see(4);
 * c.report({ expectLast: 4 }).lost // 1
 */
export class SeqChecker {
  private readonly seen = new Set<number>();
  private frames = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private highest = -Infinity;

  /** Records one frame's seq. */
  see(seq: number): void {
    this.frames++;
    if (this.seen.has(seq)) {
      this.duplicates++;
      return;
    }
    if (seq < this.highest) this.outOfOrder++;
    this.seen.add(seq);
    if (seq > this.highest) this.highest = seq;
  }

  /** Counts for the stream; `expectFirst`/`expectLast` widen the range checked for losses. */
  report(expect: { expectFirst?: number; expectLast?: number } = {}): SeqReport {
    if (this.seen.size === 0) {
      const span = expect.expectFirst !== undefined && expect.expectLast !== undefined ? expect.expectLast - expect.expectFirst + 1 : 0;
      return { frames: 0, first: null, last: null, lost: Math.max(0, span), duplicates: 0, outOfOrder: 0, missingSample: [] };
    }
    let min = Infinity;
    for (const s of this.seen) if (s < min) min = s;
    const from = Math.min(min, expect.expectFirst ?? min);
    const to = Math.max(this.highest, expect.expectLast ?? this.highest);
    let lost = 0;
    const missingSample: number[] = [];
    for (let s = from; s <= to; s++) {
      if (this.seen.has(s)) continue;
      lost++;
      if (missingSample.length < 10) missingSample.push(s);
    }
    return { frames: this.frames, first: min, last: this.highest, lost, duplicates: this.duplicates, outOfOrder: this.outOfOrder, missingSample };
  }
}

/** Adds up reports of many streams. */
export function mergeSeqReports(reports: SeqReport[]): Pick<SeqReport, 'frames' | 'lost' | 'duplicates' | 'outOfOrder'> & { streams: number; clean: number } {
  let frames = 0, lost = 0, duplicates = 0, outOfOrder = 0, clean = 0;
  for (const r of reports) {
    frames += r.frames;
    lost += r.lost;
    duplicates += r.duplicates;
    outOfOrder += r.outOfOrder;
    if (r.lost === 0 && r.duplicates === 0 && r.outOfOrder === 0) clean++;
  }
  return { streams: reports.length, frames, lost, duplicates, outOfOrder, clean };
}
