/**
 * The seam of a join: the replay read from the log and the live stream from the bus hand over at
 * one `seq`, whatever order log reads, bus messages and appends happen in. Every interleaving of
 * three appends by another node, their three bus messages (in any order, each after its append),
 * the join's start, the moment its log read sees the log and the moment that read returns is
 * driven by hand; the joining socket and a socket already live must each see every frame exactly
 * once, in order.
 *
 * Found by a chaos run: `join{after:247}` → `joined{seq:251}`, 248-251 replayed, then 251 again
 * when the bus caught up (the log was ahead of the node's bus stream).
 */
import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import { createLogger } from '../logger.js';
import { SessionHub, type HubSocket } from './hub.js';
import type { AppendedFrame, PubSub, ReadResult, SessionLog } from '../ports.js';

const SESSION = 's';

/** A log whose next read can be held: it sees the log at `snapshot()` and returns at `release()`. */
class ControlledLog implements SessionLog {
  frames: SessionFrame[] = [];
  private gate: { after: number; limit: number; resolve: (r: ReadResult) => void; seen?: ReadResult } | null = null;
  private holdNext = false;
  readsHeld = 0;

  /** Another node's append: in the log, not yet on this node's bus. */
  put(input: SessionFrameInput): SessionFrame {
    const frame = { ...input, seq: this.frames.length + 1 } as SessionFrame;
    this.frames.push(frame);
    return frame;
  }
  hold(): void {
    this.holdNext = true;
  }
  snapshot(): void {
    if (this.gate) this.gate.seen = this.read(this.gate.after, this.gate.limit);
  }
  release(): void {
    const g = this.gate;
    if (!g?.seen) throw new Error('release before snapshot');
    this.gate = null;
    g.resolve(g.seen);
  }
  private read(after: number, limit: number): ReadResult {
    return { frames: this.frames.filter((f) => f.seq > after).slice(0, limit), gap: false, lastSeq: this.frames.length, epoch: 'e1' };
  }
  async append(input: SessionFrameInput): Promise<SessionFrame> {
    return this.put(input);
  }
  async appendBatch(inputs: SessionFrameInput[]): Promise<AppendedFrame[]> {
    return inputs.map((i) => {
      const frame = this.put(i);
      return { frame, json: JSON.stringify(frame), epoch: 'e1' };
    });
  }
  readAfter(_sessionId: string, after: number, limit = 10_000): Promise<ReadResult> {
    if (!this.holdNext) return Promise.resolve(this.read(after, limit));
    this.holdNext = false;
    this.readsHeld++;
    return new Promise((resolve) => (this.gate = { after, limit, resolve }));
  }
  async open(): Promise<string> {
    return 'e1';
  }
  async lastSeq(): Promise<number> {
    return this.frames.length;
  }
  async delete(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A bus whose messages are delivered only when the test says so. */
class ControlledBus implements PubSub {
  handler: ((m: string) => void) | null = null;
  async publish(): Promise<void> {}
  async subscribe(_c: string, h: (m: string) => void): Promise<void> {
    this.handler = h;
  }
  async unsubscribe(): Promise<void> {}
  async close(): Promise<void> {}
  deliver(frame: SessionFrame): void {
    this.handler?.(`${frame.seq} e1 ${JSON.stringify(frame)}`);
  }
}

class RecordingSocket implements HubSocket {
  readonly direct = true;
  closed = false;
  received: number[] = [];
  send(json: string) {
    this.received.push((JSON.parse(json) as SessionFrame).seq);
    return 'ok' as const;
  }
  bufferedAmount() {
    return 0;
  }
  subscribe() {}
  unsubscribe() {}
}

const settle = () => new Promise((r) => setImmediate(r));

type Step = `A${number}` | `B${number}` | 'S' | 'R' | 'J';

/** Every order of the steps that respects: A3<A4<A5, Ai<Bi, S<R<J. */
function interleavings(): Step[][] {
  const all: Step[] = ['A3', 'A4', 'A5', 'B3', 'B4', 'B5', 'S', 'R', 'J'];
  const before: Record<string, string[]> = { A4: ['A3'], A5: ['A4'], B3: ['A3'], B4: ['A4'], B5: ['A5'], R: ['S'], J: ['R'] };
  const out: Step[][] = [];
  const walk = (done: Step[], left: Step[]) => {
    if (left.length === 0) return void out.push(done);
    for (const s of left) if ((before[s] ?? []).every((p) => done.includes(p as Step))) walk([...done, s], left.filter((x) => x !== s));
  };
  walk([], all);
  return out;
}

const frame = (i: number): SessionFrameInput =>
  i === 1 ? { type: 'user', sessionId: SESSION, runId: 'r1', id: 'm1', text: 'hi' } : { type: 'token', sessionId: SESSION, runId: 'r1', text: `t${i}` };

/** Runs one interleaving; `after` is what the joining client already has (at most what was written when it joins). */
async function run(order: Step[], afterOf: (written: number) => number) {
  const log = new ControlledLog();
  const bus = new ControlledBus();
  const hub = new SessionHub({
    log,
    bus,
    publish: () => {},
    onSlowConsumer: () => {},
    maxBackpressureBytes: 1e9,
    logger: createLogger({ level: 'error', env: 'test', silent: true }),
  });
  // Frames 1 and 2 are written and delivered before the scenario; a socket is live from the start.
  const live = new RecordingSocket();
  await hub.join(SESSION, live, 0, () => {});
  for (const i of [1, 2]) bus.deliver(log.put(frame(i)));
  await settle();
  const joining = new RecordingSocket();
  let joined: Promise<unknown> | null = null;
  let after = 0;
  for (const step of order) {
    if (step === 'S') {
      after = afterOf(log.frames.length);
      log.hold();
      joined = hub.join(SESSION, joining, after, () => {});
      await settle();
      if (log.readsHeld !== 1) throw new Error('the join did not read the log');
    } else if (step === 'R') log.snapshot();
    else if (step === 'J') log.release();
    else if (step[0] === 'A') log.put(frame(Number(step.slice(1))));
    else bus.deliver(log.frames[Number(step.slice(1)) - 1]!);
    await settle();
  }
  await joined;
  await settle();
  return { after, live: live.received, joining: joining.received };
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe('SessionHub.join seam', () => {
  const orders = interleavings();

  it('covers every interleaving', () => {
    expect(orders.length).toBeGreaterThan(1000);
  });

  for (const [name, afterOf] of [
    ['a client that saw everything written', (written: number) => written],
    ['a client that saw what the bus delivered before the scenario', () => 2],
    ['a client that saw nothing', () => 0],
  ] as const) {
    it(`hands replay to live at one seq for ${name}`, async () => {
      const failures: string[] = [];
      for (const order of orders) {
        const r = await run(order, afterOf);
        const want = range(r.after + 1, 5);
        if (JSON.stringify(r.joining) !== JSON.stringify(want) || JSON.stringify(r.live) !== JSON.stringify(range(1, 5)))
          failures.push(`${order.join(' ')} (after ${r.after}): joining got [${r.joining}], live got [${r.live}]`);
      }
      expect(failures.slice(0, 5), `${failures.length} of ${orders.length} interleavings failed`).toEqual([]);
    });
  }
});
