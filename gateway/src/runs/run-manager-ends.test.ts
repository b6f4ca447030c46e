/**
 * The durable record of run ends (Postgres through the storage port, PGlite here): an acked run
 * whose node died and whose log Redis lost, with no node following its session, still gets its
 * one `done`; a run recorded as ended never gets a second one when its log is lost; a run whose
 * `done` the log would not take is ended once the lease is free.
 */
import type { AgentEvent } from '@switchboard/agent-core';
import type { ServerFrame, SessionFrame } from '@switchboard/protocol';
import { createLogger } from '../logger.js';
import { SessionHub } from '../sessions/hub.js';
import { RunManager, type RunHooks } from './run-manager.js';
import { createRunEffects } from './run-effects.js';
import { createMemoryIdempotencyStore, createMemoryPubSub, createMemoryRunLock } from '../backends/memory/shared-state.js';
import { createMemorySessionLog } from '../backends/memory/session-log.js';
import { createLimiters } from '../limits/limiters.js';
import { openStorage } from '../backends/postgres/open-storage.js';
import type { Storage, User } from '../backends/postgres/types.js';
import { LeaseLostError, type AgentRunner, type SessionLog } from '../ports.js';
import { memoryReservations, RecordingSocket } from '../../test/support/hub-doubles.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, what: string, tries = 1500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const dones = (frames: ServerFrame[], runId: string) => frames.filter((f): f is SessionFrame => f.type === 'done' && f.runId === runId);

let storage: Storage;
let user: User;
beforeAll(async () => {
  storage = await openStorage();
  user = await storage.users.create({ email: 'ends@example.com', passwordHash: 'h' });
});
afterAll(async () => {
  await storage?.close();
});

/** An agent that answers `text` in one token and ends with `stop`. */
const answering = (text: string): AgentRunner => ({
  async *stream(): AsyncIterable<AgentEvent> {
    yield { type: 'token', text } as AgentEvent;
    yield { type: 'done', reason: 'stop' } as AgentEvent;
  },
});

/** Sends `hi` on the session; resolves with the run's id once it is accepted. */
async function sendHi(runs: RunManager, sessionId: string): Promise<string> {
  let runId = '';
  await runs.send({ userId: user.id, connectionId: 'c1' }, { type: 'send', id: 'm1', sessionId, text: 'hi' }, (r) => (runId = r));
  return runId;
}

/** One node (its hub and run manager) on shared state: the lock, the log and the storage. */
function node(nodeId: string, shared: { lock: ReturnType<typeof createMemoryRunLock>; log: SessionLog }, agent?: AgentRunner, wrapHooks: (h: RunHooks) => RunHooks = (h) => h) {
  const logger = createLogger({ level: 'error', env: 'test', silent: true });
  const bus = createMemoryPubSub();
  const sockets: RecordingSocket[] = [];
  const hub = new SessionHub({ log: shared.log, bus, publish: (_t, json) => sockets.forEach((s) => s.send(json)), onSlowConsumer: () => {}, maxBackpressureBytes: 1e9, logger });
  const quiet: AgentRunner = { async *stream() {} };
  const runs = new RunManager({
    hub,
    lock: shared.lock,
    idempotency: createMemoryIdempotencyStore(),
    bus,
    agent: agent ?? quiet,
    logger,
    nodeId,
    lockTtlMs: 400,
    hooks: wrapHooks(createRunEffects({ storage, limiters: createLimiters(), logger })),
    runEnds: storage.runEnds,
  });
  const follow = async (sessionId: string) => {
    const socket = new RecordingSocket();
    sockets.push(socket);
    await hub.join(sessionId, socket, 0, () => {});
    return socket;
  };
  return { hub, runs, follow };
}

function sharedState(wrap: (log: SessionLog) => SessionLog = (l) => l) {
  const lock = createMemoryRunLock();
  const inner = createMemorySessionLog({}, Date.now, { holder: (s) => lock.holderNow(s), reservations: memoryReservations() });
  return { lock, inner, log: wrap(inner) };
}

/** Shared state whose log's `appendBatch` goes through `append` (failure injection). */
function sharedStateAppending(append: (inner: SessionLog, ...args: Parameters<SessionLog['appendBatch']>) => ReturnType<SessionLog['appendBatch']>) {
  return sharedState((inner) => ({
    ...inner,
    open: (id) => inner.open(id),
    readAfter: (id, after, limit) => inner.readAfter(id, after, limit),
    lastSeq: (id) => inner.lastSeq(id),
    appendBatch: (inputs, options) => append(inner, inputs, options),
  }));
}

/** A run of a node that then died: acked (its user row stored), frames in the log, lease lapsed. */
async function deadNodeRun(shared: ReturnType<typeof sharedState>, sessionId: string, runId: string) {
  await storage.messages.append({ sessionId, runId, role: 'user', content: 'hi', clientMessageId: `c-${runId}`, opensRun: true });
  expect(await shared.lock.acquire(sessionId, runId, 400)).toBe(true);
  await shared.inner.appendBatch([{ type: 'user', sessionId, runId, id: `c-${runId}`, text: 'hi' }, { type: 'token', sessionId, runId, text: 'half an ans' }], { lease: runId });
  await shared.lock.release(sessionId, runId);
}

describe('RunManager and the record of run ends', () => {
  it('sweep: a dead node’s run whose log was lost, with no node following the session, gets exactly one done in the new epoch', async () => {
    const shared = sharedState();
    const session = await storage.sessions.create(user.id);
    await deadNodeRun(shared, session.id, 'r-dead');
    await shared.inner.delete(session.id); // Redis came back without the log
    const survivor = node('n2', shared);
    // Too young to sweep yet: the record is only read for runs older than a lease.
    expect(await storage.runEnds.unended(60_000, 100)).toEqual([]);
    const stop = survivor.runs.sweepUnended(storage.runEnds, 100);
    try {
      await until(async () => storage.runEnds.ended(session.id, 'r-dead'), 'the sweep to end the run');
      const page = await shared.inner.readAfter(session.id, 0);
      expect(dones(page.frames, 'r-dead')).toHaveLength(1);
      expect(dones(page.frames, 'r-dead')[0]).toMatchObject({ reason: 'error', error: { code: 'node_lost' } });
      // Numbered above everything the lost log handed out; the user frame first (from the
      // stored row), so no client sees a run that is only its done.
      expect(page.frames[0]!.seq).toBeGreaterThan(2);
      expect(page.frames.map((f) => f.type)).toEqual(['user', 'done']);
      expect(page.frames[0]).toMatchObject({ runId: 'r-dead', id: 'c-r-dead', text: 'hi' });
      // Later sweeps leave it alone.
      await sleep(1_000);
      expect(dones((await shared.inner.readAfter(session.id, 0)).frames, 'r-dead')).toHaveLength(1);
      expect((await storage.messages.list(session.id)).messages.map((m) => [m.role, m.runId, m.seqFrom])).toEqual([['user', 'r-dead', page.frames[0]!.seq]]);
    } finally {
      stop();
    }
  });

  it('sweep: a dead node’s run still in the log is ended once and its transcript completed from the log', async () => {
    const shared = sharedState();
    const session = await storage.sessions.create(user.id);
    await deadNodeRun(shared, session.id, 'r-kept');
    const stop = node('n2', shared).runs.sweepUnended(storage.runEnds, 100);
    const other = node('n3', shared).runs.sweepUnended(storage.runEnds, 100);
    try {
      await until(async () => storage.runEnds.ended(session.id, 'r-kept'), 'the sweep to end the run');
      await sleep(800);
      const page = await shared.inner.readAfter(session.id, 0);
      expect(page.frames.map((f) => f.type)).toEqual(['user', 'token', 'done']);
      expect((await storage.messages.list(session.id)).messages.map((m) => [m.role, m.content, m.seqFrom])).toEqual([
        ['user', 'hi', 1],
        ['assistant', 'half an ans', 2],
      ]);
    } finally {
      stop();
      other();
    }
  });

  it('a run recorded as ended gets no second done when its log is lost under a node that follows it', async () => {
    const shared = sharedState();
    const session = await storage.sessions.create(user.id);
    const follower = node('n2', shared);
    const socket = await follower.follow(session.id);
    await deadNodeRun(shared, session.id, 'r-ended');
    await until(async () => (await follower.hub.catchUp(session.id), follower.hub.openRuns().length === 1), 'the follower to see the run open');
    // Its node wrote the done (this node missed the bus message) and its record, then Redis lost the log.
    expect(await shared.lock.acquire(session.id, 'r-ended', 400)).toBe(true);
    await shared.inner.appendBatch([{ type: 'done', sessionId: session.id, runId: 'r-ended', reason: 'stop' }], { lease: 'r-ended' });
    await storage.runs.record({ userId: user.id, sessionId: session.id, runId: 'r-ended', userSeq: { from: 1, to: 1 }, rows: [{ role: 'assistant', content: 'half an ans' }] });
    await shared.lock.release(session.id, 'r-ended');
    await shared.inner.delete(session.id);
    const stopWatching = follower.runs.watchLostRuns(() => follower.hub.openRuns());
    try {
      await until(() => follower.hub.openRuns().length === 0, 'the follower to drop the run');
      expect(socket.frames.some((f) => f.type === 'joined' && f.gap)).toBe(true);
      await sleep(1_000);
      expect(dones((await shared.inner.readAfter(session.id, 0)).frames, 'r-ended')).toEqual([]);
      expect(dones(socket.frames, 'r-ended')).toEqual([]);
    } finally {
      stopWatching();
    }
  });

  it('a run writes its record before its done, so a log lost right after the done gets no second one from the sweep', async () => {
    const shared = sharedState();
    const session = await storage.sessions.create(user.id);
    const agent = answering('the whole answer');
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    let recording = false;
    const { runs } = node('n1', shared, agent, (effects) => ({
      ...effects,
      async afterRun(r) {
        recording = true;
        await gate;
        await effects.afterRun?.(r);
      },
    }));
    const runId = await sendHi(runs, session.id);
    await until(() => recording, 'the record to start');
    await sleep(200);
    // The record holds the `done` back: nothing a sweep could miss has been written yet.
    expect(dones((await shared.inner.readAfter(session.id, 0)).frames, runId)).toEqual([]);
    openGate();
    await until(async () => dones((await shared.inner.readAfter(session.id, 0)).frames, runId).length === 1, 'the run’s done');
    expect(await storage.runEnds.ended(session.id, runId)).toBe(true);
    // Redis loses the log that held the `done`; the sweep finds nothing open to end again.
    await shared.inner.delete(session.id);
    const stop = node('n2', shared).runs.sweepUnended(storage.runEnds, 100);
    try {
      await sleep(1_200);
      expect((await shared.inner.readAfter(session.id, 0)).frames).toEqual([]);
      expect((await storage.messages.list(session.id)).messages.map((m) => [m.role, m.content])).toEqual([
        ['user', 'hi'],
        ['assistant', 'the whole answer'],
      ]);
    } finally {
      stop();
    }
  });

  it('a run recorded before its done, whose done is refused as Redis loses the log, writes its user frame and one done into the new log', async () => {
    const shared = sharedStateAppending(async (inner, inputs, options) => {
      const own = inputs.find((f) => f.type === 'done' && f.reason === 'stop');
      if (own) {
        // Redis lost its data (the log and the lease) just before the `done` reached it.
        await inner.delete(own.sessionId);
        await shared.lock.release(own.sessionId, own.runId);
        throw new LeaseLostError(own.sessionId, own.runId);
      }
      return inner.appendBatch(inputs, options);
    });
    const session = await storage.sessions.create(user.id);
    const agent = answering('recorded');
    const only = node('n1', shared, agent);
    const runId = await sendHi(only.runs, session.id);
    await until(async () => dones((await shared.inner.readAfter(session.id, 0)).frames, runId).length > 0, 'the run’s done in the new log', 3_000);
    await sleep(800);
    const frames = (await shared.inner.readAfter(session.id, 0)).frames;
    expect(frames.map((f) => [f.type, f.runId])).toEqual([
      ['user', runId],
      ['done', runId],
    ]);
    expect(frames[0]!.seq).toBeGreaterThan(2); // above everything the lost log handed out
    expect(dones(frames, runId)[0]).toMatchObject({ error: { code: 'node_lost' } });
    expect((await storage.messages.list(session.id)).messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'hi'],
      ['assistant', 'recorded'],
    ]);
  }, 40_000);

  it('a run whose done the log would not take is ended once the lease is free, with one done', async () => {
    let refused = 0;
    const shared = sharedStateAppending(async (inner, inputs, options) => {
      // Every write of the run's own `done` fails (Redis away for the whole of its retries).
      if (inputs.some((f) => f.type === 'done' && f.reason === 'stop')) {
        refused++;
        throw new Error('Reached the max retries per request limit');
      }
      return inner.appendBatch(inputs, options);
    });
    const session = await storage.sessions.create(user.id);
    const agent = answering('all of it');
    const only = node('n1', shared, agent);
    const runId = await sendHi(only.runs, session.id);
    // The record comes before the `done`; the `done` is written once the lease is free.
    await until(async () => dones((await shared.inner.readAfter(session.id, 0)).frames, runId).length > 0, 'the run’s done', 3_000);
    expect(refused).toBeGreaterThan(1);
    expect(await storage.runEnds.ended(session.id, runId)).toBe(true);
    const frames = (await shared.inner.readAfter(session.id, 0)).frames;
    expect(frames.map((f) => f.type)).toEqual(['user', 'token', 'done']);
    expect(dones(frames, runId)[0]).toMatchObject({ error: { code: 'node_lost' } });
    expect((await storage.messages.list(session.id)).messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'hi'],
      ['assistant', 'all of it'],
    ]);
  }, 40_000);
});
