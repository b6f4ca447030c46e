/**
 * The session log contract (`seq` contiguous from 1 and the same on every node, replay after a
 * `seq`, gaps reported after retention), run against every {@link SessionLog}. A backend adds a
 * few-line harness: the in-process log in `backends/memory/session-log.test.ts`, Redis in
 * `backends/redis/session-log.int.test.ts`.
 */
import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import { LeaseLostError, PreviousRunOpenError, type LogRetention, type RunLock, type SeqReservations, type SessionLog } from '../../src/ports.js';

/** One test's view of a backend. */
export interface SessionLogHarness {
  /**
   * Opens a log. On a shared backend (`shared: true`) every log opened in one harness sees the
   * same data, each through its own connection: they stand for separate gateway nodes.
   */
  open(retention?: Partial<LogRetention>, options?: { reservations?: SeqReservations }): Promise<SessionLog>;
  /** The run lock the harness's logs fence appends with (shared by every log of the harness). */
  lock: RunLock;
  /** Lets `ms` pass for age-based retention (an injected clock, or a real wait). */
  elapse(ms: number): Promise<void>;
  /** Deletes what this harness stored and closes its connections. */
  close(): Promise<void>;
}

export interface SessionLogFactory {
  /** Whether logs opened by one harness share storage (several nodes). */
  shared: boolean;
  /** The smallest `maxAgeMs` the age tests may use; they wait about twice that. */
  ageMs: number;
  harness(): Promise<SessionLogHarness>;
}

const token = (sessionId: string, i: number): SessionFrameInput => ({ type: 'token', sessionId, runId: 'r1', text: `t${i}` });

async function appendTokens(log: SessionLog, sessionId: string, n: number): Promise<SessionFrame[]> {
  const out: SessionFrame[] = [];
  for (let i = 1; i <= n; i++) out.push(await log.append(token(sessionId, i)));
  return out;
}

const seqs = (frames: SessionFrame[]) => frames.map((f) => f.seq);

/** Durable reservations in memory, in blocks of `block`, counting their calls. */
function fakeReservations(block: number): SeqReservations & { reserved: Map<string, number>; calls: number } {
  const reserved = new Map<string, number>();
  return {
    reserved,
    calls: 0,
    async reserve(sessionId, atLeast) {
      this.calls++;
      const floor = reserved.get(sessionId) ?? 0;
      const ceiling = Math.max(floor, atLeast) + block;
      reserved.set(sessionId, ceiling);
      return { floor, ceiling };
    },
  };
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function describeSessionLogContract(name: string, factory: SessionLogFactory): void {
  describe(`SessionLog contract: ${name}`, () => {
    let h: SessionLogHarness;
    beforeEach(async () => {
      h = await factory.harness();
    });
    afterEach(async () => {
      await h.close();
    });

    it('assigns seq 1..n, contiguous, and returns the frame it stored', async () => {
      const log = await h.open();
      const frames = await appendTokens(log, 's1', 5);
      expect(seqs(frames)).toEqual([1, 2, 3, 4, 5]);
      expect(frames[2]).toEqual({ type: 'token', sessionId: 's1', runId: 'r1', text: 't3', seq: 3 });
      expect(await log.lastSeq('s1')).toBe(5);
    });

    it('round-trips every session frame type unchanged', async () => {
      const log = await h.open();
      const inputs: SessionFrameInput[] = [
        { type: 'user', sessionId: 's1', runId: 'r1', id: 'c1', text: 'héllo «wörld» 👋 "quoted" \n line' },
        { type: 'tool', sessionId: 's1', runId: 'r1', callId: 'k1', name: 'calculator', phase: 'start', input: { expr: '2+2', deep: [1, { a: null }] } },
        { type: 'tool', sessionId: 's1', runId: 'r1', callId: 'k1', name: 'calculator', phase: 'end', output: '4' },
        { type: 'token', sessionId: 's1', runId: 'r1', text: '' },
        { type: 'done', sessionId: 's1', runId: 'r1', reason: 'error', usage: { inputTokens: 3, outputTokens: 7 }, error: { code: 'node_lost', message: 'x' } },
      ];
      const appended: SessionFrame[] = [];
      for (const input of inputs) appended.push(await log.append(input));
      const { frames } = await log.readAfter('s1', 0);
      expect(frames).toEqual(appended);
      expect(frames).toEqual(inputs.map((f, i) => ({ ...f, seq: i + 1 })));
    });

    it('appendBatch assigns contiguous seqs in order, between single appends, with JSON equal to the replayed frame', async () => {
      const log = await h.open();
      await log.append(token('s1', 1));
      const inputs: SessionFrameInput[] = [
        token('s1', 2),
        { type: 'tool', sessionId: 's1', runId: 'r1', callId: 'k1', name: 'calculator', phase: 'start', input: { expr: '2+2', '2': [1, { a: null }] } },
        { type: 'token', sessionId: 's1', runId: 'r1', text: 'héllo «wörld» 👋 "quoted" \n line' },
        { type: 'done', sessionId: 's1', runId: 'r1', reason: 'stop', usage: { inputTokens: 3, outputTokens: 7 } },
      ];
      const written = await log.appendBatch(inputs);
      expect(written.map((w) => w.frame.seq)).toEqual([2, 3, 4, 5]);
      expect(written.map((w) => w.frame)).toEqual(inputs.map((f, i) => ({ ...f, seq: i + 2 })));
      await log.append(token('s1', 6));
      const { frames, lastSeq } = await log.readAfter('s1', 0);
      expect(lastSeq).toBe(6);
      expect(seqs(frames)).toEqual(range(1, 6));
      // What a reader serializes from the log is byte for byte what was sent live.
      expect(frames.slice(1, 5).map((f) => JSON.stringify(f))).toEqual(written.map((w) => w.json));
      expect(await log.appendBatch([])).toEqual([]);
    });

    it(`appendBatch keeps each batch contiguous among concurrent batches${factory.shared ? ' from two nodes' : ''}`, async () => {
      const a = await h.open();
      const b = factory.shared ? await h.open() : a;
      const batch = (log: SessionLog, runId: string) => log.appendBatch(range(1, 5).map((i) => ({ ...token('s1', i), runId })));
      const results = await Promise.all(range(1, 10).flatMap(() => [batch(a, 'ra'), batch(b, 'rb')]));
      for (const r of results) expect(r.map((w) => w.frame.seq)).toEqual(range(r[0]!.frame.seq, r[0]!.frame.seq + 4));
      expect(results.flatMap((r) => r.map((w) => w.frame.seq)).sort((x, y) => x - y)).toEqual(range(1, 100));
    });

    it('readAfter returns exact slices, honours limit, and reports lastSeq', async () => {
      const log = await h.open();
      await appendTokens(log, 's1', 6);
      expect(seqs((await log.readAfter('s1', 0)).frames)).toEqual(range(1, 6));
      expect(await log.readAfter('s1', 2)).toMatchObject({ gap: false, lastSeq: 6 });
      expect(seqs((await log.readAfter('s1', 2)).frames)).toEqual([3, 4, 5, 6]);
      expect(seqs((await log.readAfter('s1', 0, 2)).frames)).toEqual([1, 2]);
      expect(seqs((await log.readAfter('s1', 2, 3)).frames)).toEqual([3, 4, 5]);
      expect(await log.readAfter('s1', 1, 0)).toMatchObject({ frames: [], gap: false, lastSeq: 6 });
      expect(await log.readAfter('s1', 6)).toMatchObject({ frames: [], gap: false, lastSeq: 6 });
      expect(await log.readAfter('s1', 99)).toMatchObject({ frames: [], gap: false, lastSeq: 6 });
    });

    it('answers an unknown session with nothing and no gap', async () => {
      const log = await h.open();
      expect(await log.readAfter('nobody', 0)).toMatchObject({ frames: [], gap: false, lastSeq: 0 });
      expect(await log.readAfter('nobody', 5)).toMatchObject({ frames: [], gap: false, lastSeq: 0 });
      expect(await log.lastSeq('nobody')).toBe(0);
    });

    it('keeps sessions apart', async () => {
      const log = await h.open();
      await appendTokens(log, 'a', 3);
      await appendTokens(log, 'b', 2);
      expect(seqs((await log.readAfter('a', 0)).frames)).toEqual([1, 2, 3]);
      expect((await log.readAfter('b', 0)).frames.map((f) => [f.sessionId, f.seq])).toEqual([['b', 1], ['b', 2]]);
      await log.delete('a');
      expect(await log.lastSeq('b')).toBe(2);
    });

    it('delete removes the frames and resets seq', async () => {
      const log = await h.open();
      await appendTokens(log, 's1', 3);
      await log.delete('s1');
      expect(await log.lastSeq('s1')).toBe(0);
      expect(await log.readAfter('s1', 0)).toMatchObject({ frames: [], gap: false, lastSeq: 0 });
      expect((await log.append(token('s1', 1))).seq).toBe(1);
      await log.delete('never-existed');
    });

    it(`assigns unique contiguous seqs to concurrent appends${factory.shared ? ' from two nodes' : ''}`, async () => {
      const a = await h.open();
      const b = factory.shared ? await h.open() : a;
      const n = 60;
      const results = await Promise.all(
        range(1, n).flatMap((i) => [a.append(token('s1', i)), b.append({ ...token('s1', i), runId: 'r2' })]),
      );
      expect(seqs(results).sort((x, y) => x - y)).toEqual(range(1, 2 * n));
      for (const reader of [a, b]) {
        const { frames, lastSeq } = await reader.readAfter('s1', 0);
        expect(lastSeq).toBe(2 * n);
        expect(seqs(frames)).toEqual(range(1, 2 * n));
        expect(frames).toEqual([...results].sort((x, y) => x.seq - y.seq));
      }
    });

    it('reports a gap once the count cap trimmed frames after `after`', async () => {
      const log = await h.open({ maxFrames: 5 });
      await appendTokens(log, 's1', 12);
      const all = await log.readAfter('s1', 0);
      expect(all.gap).toBe(true);
      expect(seqs(all.frames)).toEqual(range(8, 12));
      expect(await log.readAfter('s1', 6)).toMatchObject({ gap: true, lastSeq: 12 });
      const exact = await log.readAfter('s1', 7);
      expect(exact.gap).toBe(false);
      expect(seqs(exact.frames)).toEqual(range(8, 12));
      expect(await log.readAfter('s1', 12)).toMatchObject({ frames: [], gap: false, lastSeq: 12 });
    });

    it('reports a gap once the age limit trimmed frames, and keeps counting seq', async () => {
      const log = await h.open({ maxAgeMs: factory.ageMs });
      await appendTokens(log, 's1', 3);
      await h.elapse(factory.ageMs * 1.5);
      expect(await log.readAfter('s1', 0)).toMatchObject({ frames: [], gap: true, lastSeq: 3 });
      expect(await log.readAfter('s1', 3)).toMatchObject({ frames: [], gap: false, lastSeq: 3 });
      await appendTokens(log, 's1', 2);
      const after = await log.readAfter('s1', 1);
      expect(after.gap).toBe(true);
      expect(seqs(after.frames)).toEqual([4, 5]);
      expect((await log.readAfter('s1', 3)).gap).toBe(false);
    });

    it('trims by age only the frames older than the limit', async () => {
      const maxAgeMs = factory.ageMs * 2;
      const log = await h.open({ maxAgeMs });
      await appendTokens(log, 's1', 3);
      await h.elapse(maxAgeMs * 0.6);
      await appendTokens(log, 's1', 3);
      await h.elapse(maxAgeMs * 0.6);
      // frames 1-3 are older than maxAgeMs now, 4-6 are not
      const read = await log.readAfter('s1', 0);
      expect(read).toMatchObject({ gap: true, lastSeq: 6 });
      expect(seqs(read.frames)).toEqual([4, 5, 6]);
      await appendTokens(log, 's1', 1);
      expect(seqs((await log.readAfter('s1', 3)).frames)).toEqual([4, 5, 6, 7]);
      expect((await log.readAfter('s1', 3)).gap).toBe(false);
    });
    it('fencing: refuses frames of a lease that was taken over, and writes nothing of the batch', async () => {
      const a = await h.open();
      const b = factory.shared ? await h.open() : a;
      expect(await h.lock.acquire('s1', 'run-a', 60_000)).toBe(true);
      expect((await a.append(token('s1', 1), { lease: 'run-a' })).seq).toBe(1);
      await h.lock.release('s1', 'run-a');
      // The lease lapsed and nobody else wrote: the run goes on.
      expect((await a.append(token('s1', 2), { lease: 'run-a' })).seq).toBe(2);
      expect(await h.lock.acquire('s1', 'run-b', 60_000)).toBe(true);
      await expect(a.appendBatch([token('s1', 3), token('s1', 4)], { lease: 'run-a' })).rejects.toBeInstanceOf(LeaseLostError);
      await expect(b.append(token('s1', 3), { lease: 'run-a' })).rejects.toThrow(/lost its lease/);
      expect(await a.lastSeq('s1')).toBe(2);
      expect((await b.append({ ...token('s1', 3), runId: 'r2' }, { lease: 'run-b' })).seq).toBe(3);
      await h.lock.release('s1', 'run-b');
      // Free again, but run-b wrote last: run-a stays out.
      await expect(a.append(token('s1', 4), { lease: 'run-a' })).rejects.toBeInstanceOf(LeaseLostError);
      expect(seqs((await b.readAfter('s1', 0)).frames)).toEqual([1, 2, 3]);
    });

    it('fencing: exactly one done per run, whoever writes it', async () => {
      const log = await h.open();
      const done = { type: 'done', sessionId: 's1', runId: 'r1', reason: 'stop' } as const;
      expect(await h.lock.acquire('s1', 'r1', 60_000)).toBe(true);
      await log.append({ type: 'user', sessionId: 's1', runId: 'r1', id: 'c1', text: 'hi' }, { lease: 'r1' });
      await h.lock.release('s1', 'r1');
      // Another node reaps the run under its own lease, then the run itself tries to finish.
      expect(await h.lock.acquire('s1', 'reaper:r1', 60_000)).toBe(true);
      await log.append({ ...done, reason: 'error', error: { code: 'node_lost', message: 'x' } }, { lease: 'reaper:r1' });
      await expect(log.append(done, { lease: 'reaper:r1' })).rejects.toBeInstanceOf(LeaseLostError);
      await h.lock.release('s1', 'reaper:r1');
      await expect(log.appendBatch([token('s1', 9), done], { lease: 'r1' })).rejects.toBeInstanceOf(LeaseLostError);
      const { frames } = await log.readAfter('s1', 0);
      expect(frames.filter((f) => f.type === 'done')).toHaveLength(1);
      expect(frames.at(-1)).toMatchObject({ type: 'done', error: { code: 'node_lost' } });
      // A run's own done ends it too.
      expect(await h.lock.acquire('s1', 'r2', 60_000)).toBe(true);
      await log.appendBatch([{ ...token('s1', 1), runId: 'r2' }, { ...done, runId: 'r2' }], { lease: 'r2' });
      await expect(log.append({ ...done, runId: 'r2' }, { lease: 'r2' })).rejects.toBeInstanceOf(LeaseLostError);
    });

    it('ifPreviousEnded: refuses a run\'s frames while the previous run has no done, and writes nothing', async () => {
      const log = await h.open();
      const user = (runId: string) => ({ type: 'user', sessionId: 's1', runId, id: `c-${runId}`, text: 'hi' }) as const;
      const done = (runId: string) => ({ type: 'done', sessionId: 's1', runId, reason: 'stop' }) as const;
      expect(await h.lock.acquire('s1', 'r1', 60_000)).toBe(true);
      // No frame yet: nothing to end.
      expect((await log.append(user('r1'), { lease: 'r1', ifPreviousEnded: true })).seq).toBe(1);
      // The run's own last frame is no previous run.
      expect((await log.append(user('r1'), { lease: 'r1', ifPreviousEnded: true })).seq).toBe(2);
      await log.append({ ...token('s1', 1), runId: 'r1' }, { lease: 'r1' });
      // r1 stops without its done (its lease lapses); r2 takes the session.
      await h.lock.release('s1', 'r1');
      expect(await h.lock.acquire('s1', 'r2', 60_000)).toBe(true);
      const refused = await log.appendBatch([user('r2'), { ...token('s1', 2), runId: 'r2' }], { lease: 'r2', ifPreviousEnded: true }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PreviousRunOpenError);
      expect(refused).toMatchObject({ previousRunId: 'r1' });
      expect(await log.lastSeq('s1')).toBe(3);
      // Once the previous run has its done, the next run's frames go in.
      await log.append(done('r1'), { lease: 'r2' });
      expect((await log.append(user('r2'), { lease: 'r2', ifPreviousEnded: true })).seq).toBe(5);
      expect((await log.readAfter('s1', 0)).frames.map((f) => `${f.type}:${f.runId}`)).toEqual(['user:r1', 'user:r1', 'token:r1', 'done:r1', 'user:r2']);
    });

    it('releaseOnEnd: the batch with the run\'s done releases the lease it holds, no other batch does', async () => {
      const log = await h.open();
      if (!log.releasesLease) return;
      expect(await h.lock.acquire('s1', 'r1', 60_000)).toBe(true);
      await log.appendBatch([{ type: 'user', sessionId: 's1', runId: 'r1', id: 'c1', text: 'hi' }], { lease: 'r1', releaseOnEnd: true });
      await log.appendBatch([token('s1', 1)], { lease: 'r1', releaseOnEnd: true });
      expect(await h.lock.holder('s1')).toBe('r1');
      // A run's done written by another lease (a reaper, a next run) releases nothing of it.
      expect(await h.lock.acquire('s1', 'r0', 60_000)).toBe(false);
      await log.appendBatch([token('s1', 2), { type: 'done', sessionId: 's1', runId: 'r1', reason: 'stop' }], { lease: 'r1', releaseOnEnd: true });
      expect(await h.lock.holder('s1')).toBeNull();
      // The run is over: its frames stay out, and the session is free for the next run.
      await expect(log.append(token('s1', 3), { lease: 'r1' })).rejects.toBeInstanceOf(LeaseLostError);
      expect(await h.lock.acquire('s1', 'r2', 60_000)).toBe(true);
      await log.appendBatch([{ type: 'done', sessionId: 's1', runId: 'r1', reason: 'stop' }], { lease: 'r1', releaseOnEnd: true }).catch(() => {});
      expect(await h.lock.holder('s1')).toBe('r2');
      expect((await log.append({ ...token('s1', 4), runId: 'r2' }, { lease: 'r2' })).seq).toBe(5);
    });

    it('epochs: an append through any node reports the epoch the log is in, after another node recreated it', async () => {
      const a = await h.open();
      const b = factory.shared ? await h.open() : a;
      const [first] = await b.appendBatch([token('s1', 1)]);
      expect((await b.appendBatch([token('s1', 2)]))[0]!.epoch).toBe(first!.epoch);
      await a.delete('s1');
      const [again] = await a.appendBatch([token('s1', 3)]);
      expect(again!.epoch).not.toBe(first!.epoch);
      expect((await b.appendBatch([token('s1', 4)]))[0]!.epoch).toBe(again!.epoch);
      expect((await b.appendBatch([token('s1', 5)]))[0]!.epoch).toBe(again!.epoch);
      expect(await b.open('s1')).toBe(again!.epoch);
    });

    it('epochs: a log has one epoch until it is recreated, then a new one', async () => {
      const a = await h.open();
      const b = factory.shared ? await h.open() : a;
      expect((await a.readAfter('s1', 0)).epoch).toBe('');
      const [w] = await a.appendBatch([token('s1', 1)]);
      expect(w!.epoch).toMatch(/^[\w-]{8,64}$/);
      expect((await b.readAfter('s1', 0)).epoch).toBe(w!.epoch);
      expect((await b.appendBatch([token('s1', 2)]))[0]!.epoch).toBe(w!.epoch);
      await a.delete('s1'); // what a store that lost its data looks like
      const [again] = await b.appendBatch([token('s1', 3)]);
      expect(again!.epoch).not.toBe(w!.epoch);
      expect((await a.readAfter('s1', 0)).epoch).toBe(again!.epoch);
    });

    // The hub relies on this: a node that holds an epoch and reads '' is on a lost log.
    it("epochs: a lost log reads epoch '' until something opens or writes it, then a new epoch above the reservation", async () => {
      const reservations = fakeReservations(10);
      const log = await h.open(undefined, { reservations });
      await appendTokens(log, 's1', 3);
      const old = (await log.readAfter('s1', 0)).epoch;
      await log.delete('s1');
      expect(await log.readAfter('s1', 0)).toMatchObject({ frames: [], epoch: '', lastSeq: 0 });
      expect(await log.readAfter('s1', 3)).toMatchObject({ frames: [], epoch: '', lastSeq: 0 });
      const reopened = await log.open('s1');
      expect(reopened).not.toBe('');
      expect(reopened).not.toBe(old);
      expect(await log.readAfter('s1', 0)).toMatchObject({ frames: [], epoch: reopened, lastSeq: 10 });
      expect((await log.append(token('s1', 1))).seq).toBe(11);
    });

    it(`epochs: a new log opened${factory.shared ? ' by two nodes' : ' twice'} at once starts at seq 1, with one reservation`, async () => {
      const reservations = fakeReservations(10);
      // The first reservation answers late: a second one made meanwhile would start above it.
      let late = true;
      const slowFirst: SeqReservations = {
        async reserve(sessionId, atLeast) {
          const r = await reservations.reserve(sessionId, atLeast);
          if (late) {
            late = false;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return r;
        },
      };
      const a = await h.open(undefined, { reservations: slowFirst });
      const b = factory.shared ? await h.open(undefined, { reservations: slowFirst }) : a;
      const [ea, eb] = await Promise.all([a.open('s1'), b.open('s1')]);
      expect(ea).toBe(eb);
      expect(reservations.calls).toBe(1);
      expect((await b.append(token('s1', 1))).seq).toBe(1);
      expect((await a.append(token('s1', 2))).seq).toBe(2);
    });

    it('epochs: a recreated log numbers above the durable reservation, so no seq is reused', async () => {
      const reservations = fakeReservations(10);
      const log = await h.open(undefined, { reservations });
      await appendTokens(log, 's1', 3);
      expect(reservations.reserved.get('s1')).toBe(10);
      await log.appendBatch(range(4, 15).map((i) => token('s1', i)));
      expect(reservations.reserved.get('s1')).toBe(25);
      const calls = reservations.calls;
      await appendTokens(log, 's1', 3); // within the reservation: no call
      expect(reservations.calls).toBe(calls);
      const before = await log.lastSeq('s1');
      expect(before).toBe(18);
      await log.delete('s1');
      const next = await log.append(token('s1', 1));
      expect(next.seq).toBe(26);
      const read = await log.readAfter('s1', before);
      expect(read).toMatchObject({ gap: true, lastSeq: 26 });
      expect(seqs(read.frames)).toEqual([26]);
    });
  });
}
