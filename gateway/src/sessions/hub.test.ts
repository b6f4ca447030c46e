import type { SessionFrame } from '@switchboard/protocol';
import { createLogger } from '../logger.js';
import { SessionHub, busSeq, decodeBus, encodeBus, sessionChannel, sessionTopic, type HubSocket } from './hub.js';
import { createMemoryPubSub } from '../backends/memory/shared-state.js';
import { createMemorySessionLog } from '../backends/memory/session-log.js';

/** A socket that records what it receives, directly or through its topics. */
class FakeSocket implements HubSocket {
  closed = false;
  direct?: boolean;
  topics = new Set<string>();
  received: number[] = [];
  send(json: string) {
    this.received.push((JSON.parse(json) as SessionFrame).seq);
    return 'ok' as const;
  }
  bufferedAmount() {
    return 0;
  }
  subscribe(t: string) {
    this.topics.add(t);
  }
  unsubscribe(t: string) {
    this.topics.delete(t);
  }
}

function setup() {
  const log = createMemorySessionLog();
  const bus = createMemoryPubSub();
  const sockets: FakeSocket[] = [];
  const hub = new SessionHub({
    log,
    bus,
    publish: (topic, json) => sockets.filter((s) => s.topics.has(topic)).forEach((s) => s.send(json)),
    onSlowConsumer: () => {},
    maxBackpressureBytes: 1e9,
    logger: createLogger({ level: 'error', env: 'test', silent: true }),
  });
  const socket = () => {
    const s = new FakeSocket();
    sockets.push(s);
    return s;
  };
  return { log, bus, hub, socket };
}

const token = (sessionId: string, text = 't') => ({ type: 'token' as const, sessionId, runId: 'r1', text });
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('SessionHub', () => {
  it('replays after `after`, then goes live with nothing lost or repeated', async () => {
    const { hub, socket } = setup();
    for (let i = 0; i < 5; i++) await hub.append(token('s'));
    const s = socket();
    const joined = await hub.join('s', s, 2, () => {});
    expect(joined).toMatchObject({ replayed: 3, gap: false, lastSeq: 5 });
    for (let i = 0; i < 3; i++) await hub.append(token('s'));
    await tick();
    expect(s.received).toEqual([3, 4, 5, 6, 7, 8]);
    expect(s.topics.has(sessionTopic('s'))).toBe(true);
  });

  it('does not lose frames appended while a join is reading the log', async () => {
    const { hub, log, socket } = setup();
    for (let i = 0; i < 3; i++) await hub.append(token('s'));
    const s = socket();
    const slowRead = log.readAfter.bind(log);
    let appended = false;
    log.readAfter = async (...args) => {
      const r = await slowRead(...args);
      if (!appended) {
        appended = true;
        await hub.append(token('s')); // lands between the read and going live
        await hub.append(token('s'));
      }
      return r;
    };
    await hub.join('s', s, 0, () => {});
    await hub.append(token('s'));
    await tick();
    expect(s.received).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('fills a hole in the bus stream from the log, in order', async () => {
    const { hub, log, bus, socket } = setup();
    const s = socket();
    await hub.join('s', s, 0, () => {});
    // Another node appends three frames but only the third reaches us over the bus.
    await log.append(token('s'));
    await log.append(token('s'));
    const third = await log.append(token('s'));
    await bus.publish(sessionChannel('s'), encodeBus(third.seq, '', JSON.stringify(third)));
    await tick();
    expect(s.received).toEqual([1, 2, 3]);
  });

  it('catches up from the log when the last frame never came over the bus', async () => {
    const { hub, log, socket } = setup();
    const s = socket();
    await hub.join('s', s, 0, () => {});
    await hub.append(token('s'));
    // Another node writes the run's done; its bus message is lost.
    await log.append({ type: 'done', sessionId: 's', runId: 'r1', reason: 'stop' });
    expect(hub.openRuns()).toEqual([{ sessionId: 's', runId: 'r1' }]);
    await hub.catchUp('s');
    await hub.catchUp('s');
    expect(s.received).toEqual([1, 2]);
    expect(hub.openRuns()).toEqual([]);
  });

  it('closes a slow consumer once an eighth of the backpressure limit has gone out since the last check, leaving the others', async () => {
    const log = createMemorySessionLog();
    const slow: HubSocket[] = [];
    const sockets: FakeSocket[] = [];
    const hub = new SessionHub({
      log,
      bus: createMemoryPubSub(),
      publish: (topic, json) => sockets.filter((x) => x.topics.has(topic)).forEach((x) => x.send(json)),
      onSlowConsumer: (x) => slow.push(x),
      maxBackpressureBytes: 8000,
      logger: createLogger({ level: 'error', env: 'test', silent: true }),
    });
    const fast = new FakeSocket();
    const stuck = new FakeSocket();
    let queued = 0;
    stuck.bufferedAmount = () => queued;
    sockets.push(fast, stuck);
    await hub.join('s', fast, 0, () => {});
    await hub.join('s', stuck, 0, () => {});
    const text = 'x'.repeat(100);
    let frames = 0;
    while (slow.length === 0 && frames < 100) {
      await hub.append(token('s', text));
      queued += 160; // the stuck socket takes nothing
      frames++;
    }
    expect(slow).toEqual([stuck]);
    // Past the limit (8,000 bytes queued) by at most one check interval (1,000 bytes of frames).
    expect(queued).toBeGreaterThan(8000);
    expect(queued).toBeLessThanOrEqual(8000 + 1000 + 2 * 160);
    expect(fast.received).toHaveLength(frames);
  });

  it('sends to direct sockets one by one and to the others through the topic, once each', async () => {
    const { hub, socket } = setup();
    const topical = socket();
    const direct = socket();
    direct.direct = true;
    await hub.join('s', topical, 0, () => {});
    await hub.join('s', direct, 0, () => {});
    await hub.append(token('s'));
    hub.leave('s', direct);
    await hub.append(token('s'));
    expect(topical.received).toEqual([1, 2]);
    expect(direct.received).toEqual([1]);
  });

  it('drops bus duplicates of frames already delivered locally', async () => {
    const { hub, bus, socket } = setup();
    const s = socket();
    await hub.join('s', s, 0, () => {});
    const f = await hub.append(token('s'));
    await bus.publish(sessionChannel('s'), encodeBus(f.seq, '', JSON.stringify(f)));
    await tick();
    expect(s.received).toEqual([1]);
  });

  it('reports a gap when retention dropped what the client asked for', async () => {
    const log = createMemorySessionLog({ maxFrames: 3 });
    const { bus } = setup();
    const hub = new SessionHub({ log, bus, publish: () => {}, onSlowConsumer: () => {}, maxBackpressureBytes: 1e9, logger: createLogger({ level: 'error', env: 'test', silent: true }) });
    for (let i = 0; i < 6; i++) await hub.append(token('s'));
    const s = new FakeSocket();
    expect(await hub.join('s', s, 1, () => {})).toMatchObject({ gap: true, replayed: 3, lastSeq: 6 });
    expect(s.received).toEqual([4, 5, 6]);
  });

  it('tracks the open run until its done, for lost-node detection', async () => {
    const { hub, socket } = setup();
    await hub.join('s', socket(), 0, () => {});
    await hub.append(token('s'));
    expect(hub.openRuns()).toEqual([{ sessionId: 's', runId: 'r1' }]);
    await hub.append({ type: 'done', sessionId: 's', runId: 'r1', reason: 'stop' });
    expect(hub.openRuns()).toEqual([]);
  });

  it('releases the bus subscription when the last socket leaves', async () => {
    const { hub, socket } = setup();
    const a = socket();
    await hub.join('s', a, 0, () => {});
    expect(hub.sessionCount).toBe(1);
    hub.leave('s', a);
    expect(hub.sessionCount).toBe(0);
    expect(a.topics.size).toBe(0);
  });
});

describe('busSeq', () => {
  it('reads the seq of a bus message in place, as decodeBus does, and 0 for anything else', () => {
    const message = encodeBus(1234, 'ep', '{"type":"token"}');
    expect(busSeq(message)).toBe(1234);
    expect(busSeq(message)).toBe(decodeBus(message)?.seq);
    for (const bad of ['', ' 1 e {}', 'x12 e {}', '12', '0', '-3 e {}']) expect(busSeq(bad)).toBe(0);
  });
});
