/**
 * Epochs at the hub: a session log that was recreated (Redis lost it) is a new epoch, numbered
 * above the durable reservation. Sockets live on the session are told (`joined{gap:true}` with the
 * new epoch, `replay_gap`) and get the new epoch from its start; a client joining with the old
 * epoch gets the same.
 */
import type { ServerFrame } from '@switchboard/protocol';
import { createLogger } from '../logger.js';
import { SessionHub } from './hub.js';
import { createMemoryPubSub } from '../backends/memory/shared-state.js';
import { createMemorySessionLog } from '../backends/memory/session-log.js';
import { memoryReservations, RecordingSocket } from '../../test/support/hub-doubles.js';


const token = (text: string) => ({ type: 'token' as const, sessionId: 's', runId: 'r1', text });
const tick = () => new Promise((r) => setTimeout(r, 10));

function setup() {
  const reservations = memoryReservations();
  const log = createMemorySessionLog({}, Date.now, { reservations });
  const sockets: RecordingSocket[] = [];
  const hub = new SessionHub({
    log,
    bus: createMemoryPubSub(),
    publish: (_topic, json) => sockets.forEach((s) => s.send(json)),
    onSlowConsumer: () => {},
    maxBackpressureBytes: 1e9,
    logger: createLogger({ level: 'error', env: 'test', silent: true }),
  });
  return { log, hub, sockets };
}

describe('SessionHub epochs', () => {
  it('tells live sockets of a recreated log and streams its new epoch, with seqs above the old ones', async () => {
    const { log, hub, sockets } = setup();
    const s = new RecordingSocket();
    sockets.push(s);
    await hub.join('s', s, 0, () => {});
    for (const t of ['a', 'b', 'c']) await hub.append(token(t));
    const oldEpoch = hub.epoch('s');
    expect(oldEpoch).not.toBe('');
    await log.delete('s'); // the store lost the session's log
    await hub.append(token('d'));
    await tick();
    await hub.append(token('e'));
    await tick();
    const seen = s.frames.map((f) => (f.type === 'joined' ? `joined(${f.gap},${f.epoch === oldEpoch ? 'old' : 'new'})` : f.type === 'error' ? f.code : `${f.type}${'seq' in f ? f.seq : ''}`));
    expect(seen).toEqual(['token1', 'token2', 'token3', 'joined(true,new)', 'replay_gap', 'token101', 'token102']);
    expect(hub.epoch('s')).not.toBe(oldEpoch);
  });

  it('gives a client joining with another epoch gap:true and the new epoch from its start', async () => {
    const { log, hub } = setup();
    for (const t of ['a', 'b']) await log.append(token(t));
    const old = (await log.readAfter('s', 0)).epoch;
    await log.delete('s');
    await log.append(token('c'));
    const s = new RecordingSocket();
    const r = await hub.join('s', s, 2, () => {}, old);
    expect(r).toMatchObject({ gap: true, replayed: 1, lastSeq: 101 });
    expect(r.epoch).not.toBe(old);
    expect(s.frames.map((f) => ('seq' in f ? f.seq : f.type))).toEqual([101]);
    // The same epoch: an ordinary join.
    const again = await hub.join('s', new RecordingSocket(), 101, () => {}, r.epoch);
    expect(again).toMatchObject({ gap: false, replayed: 0 });
  });

  // The chaos suite's last failures: a run ended, Redis came back empty and nothing wrote to the
  // session again. The read script answers epoch '' for such a log; the hub took it for "not
  // known yet", so a client resuming from before the run's `done` got nothing (no gap, no done).
  /** A socket live on session `s` and a run `r1` streaming there (its `user` frame and a token). */
  async function streaming() {
    const { log, hub, sockets } = setup();
    const live = new RecordingSocket();
    sockets.push(live);
    await hub.join('s', live, 0, () => {});
    await hub.append({ type: 'user', sessionId: 's', runId: 'r1', id: 'm1', text: 'hi' });
    await hub.append(token('a'));
    return { log, hub, live };
  }
  const describeFrames = (frames: ServerFrame[], oldEpoch: string) =>
    frames.map((f) => (f.type === 'joined' ? `joined(${f.gap},${f.epoch === oldEpoch ? 'old' : 'new'})` : f.type === 'error' ? f.code : `${f.type}${'seq' in f ? f.seq : ''}`));

  it('takes a lost log that nobody opened again for a new epoch when a client resumes on it', async () => {
    const { log, hub, live } = await streaming();
    await hub.append({ type: 'done', sessionId: 's', runId: 'r1', reason: 'stop' });
    const oldEpoch = hub.epoch('s');
    await log.delete('s'); // the store lost the log; nothing writes to the session again
    expect(await log.readAfter('s', 0)).toMatchObject({ epoch: '', lastSeq: 0 });
    // A client that dropped after the user frame resumes in the epoch it knows.
    const resumed = new RecordingSocket();
    const r = await hub.join('s', resumed, 1, () => {}, oldEpoch);
    expect(r.gap).toBe(true);
    expect(r.epoch).not.toBe('');
    expect(r.epoch).not.toBe(oldEpoch);
    expect(r.lastSeq).toBeGreaterThan(3); // numbered above the old epoch: no seq reused
    expect((await log.readAfter('s', 0)).epoch).toBe(r.epoch); // the join opened the new log
    await tick();
    expect(describeFrames(live.frames, oldEpoch)).toEqual(['user1', 'token2', 'done3', 'joined(true,new)', 'replay_gap']);
    expect(hub.epoch('s')).toBe(r.epoch);
  });

  it('notices a lost log that nobody opened again on catch-up, and keeps its open run as cut', async () => {
    const { log, hub, live } = await streaming();
    const oldEpoch = hub.epoch('s');
    await log.delete('s'); // the run's `done` (never delivered here) went with the log
    await hub.catchUp('s');
    await tick();
    expect(describeFrames(live.frames, oldEpoch)).toEqual(['user1', 'token2', 'joined(true,new)', 'replay_gap']);
    expect(hub.epoch('s')).not.toBe(oldEpoch);
    expect(hub.epoch('s')).not.toBe('');
    // The run stays open for the lost-run watcher, which writes its `done` into the new epoch.
    expect(hub.openRuns()).toEqual([{ sessionId: 's', runId: 'r1' }]);
  });

  // A join whose log read was under way when the epoch changed: the read answers from the old
  // log, yet the socket was already re-joined on the new epoch. The stale join must not put it
  // back on the old stream (old `joined`, old frames again) or take it off the new one.
  it('a join still reading the old log when the epoch changes leaves the socket on the new epoch only', async () => {
    const reservations = memoryReservations();
    const inner = createMemorySessionLog({}, Date.now, { reservations });
    let hold: Promise<void> | null = null;
    const log = {
      ...inner,
      open: (id: string) => inner.open(id),
      lastSeq: (id: string) => inner.lastSeq(id),
      appendBatch: inner.appendBatch.bind(inner),
      async readAfter(id: string, after: number, limit?: number) {
        const page = await inner.readAfter(id, after, limit);
        if (hold) await hold; // answered from the log as it was, delivered late
        return page;
      },
    };
    const sockets: RecordingSocket[] = [];
    const hub = new SessionHub({ log, bus: createMemoryPubSub(), publish: (_t, json) => sockets.forEach((x) => !x.closed && x.frames.push(JSON.parse(json))), onSlowConsumer: () => {}, maxBackpressureBytes: 1e9, logger: createLogger({ level: 'error', env: 'test', silent: true }) });
    const live = new RecordingSocket();
    sockets.push(live);
    await hub.join('s', live, 0, () => {});
    await hub.append({ type: 'user', sessionId: 's', runId: 'r1', id: 'm1', text: 'hi' });
    await hub.append(token('a'));
    const oldEpoch = hub.epoch('s');
    // The socket joins again (its client re-synced); the read of the old log is slow to answer.
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const stale = hub.join('s', live, 2, (r) => live.send(JSON.stringify({ type: 'joined', sessionId: 's', seq: r.lastSeq, epoch: r.epoch, replayed: r.replayed, gap: r.gap })), oldEpoch);
    await tick();
    // Meanwhile the store loses the log and a frame of the new epoch arrives: the epoch changes.
    hold = null;
    await inner.delete('s');
    await hub.append({ type: 'done', sessionId: 's', runId: 'r1', reason: 'error', error: { code: 'node_lost', message: 'x' } });
    await tick();
    release();
    await stale;
    await tick();
    await hub.append({ type: 'user', sessionId: 's', runId: 'r2', id: 'm2', text: 'again' });
    await tick();
    const seen = describeFrames(live.frames, oldEpoch);
    expect(seen.slice(0, 2)).toEqual(['user1', 'token2']);
    // After the change: the new epoch only, each frame once, nothing of the old log again.
    const after = seen.slice(seen.indexOf('joined(true,new)'));
    expect(after.filter((f) => f.startsWith('joined'))).toEqual(['joined(true,new)']);
    expect(after.filter((f) => /^(user|token|done)/.test(f))).toEqual(['done101', 'user102']);
  });
});
