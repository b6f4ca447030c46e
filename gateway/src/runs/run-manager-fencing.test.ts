/**
 * A run whose lease was taken over (its Redis was away longer than the lease, another node
 * reaped it or started the next run) is refused by the log, aborts its model call and stops:
 * its `done` is the taker's, so the run has exactly one. Found by a chaos run: `done{node_lost}`
 * at seq 2009, then the running node's tokens and `done{stop}` at 2479.
 */
import type { AgentEvent } from '@switchboard/agent-core';
import type { ServerFrame, SessionFrame } from '@switchboard/protocol';
import { createLogger } from '../logger.js';
import { SessionHub } from '../sessions/hub.js';
import { RunManager } from './run-manager.js';
import { createMemoryIdempotencyStore, createMemoryPubSub, createMemoryRunLock } from '../backends/memory/shared-state.js';
import { createMemorySessionLog } from '../backends/memory/session-log.js';
import type { AgentRunner, SessionLog } from '../ports.js';
import { memoryReservations, RecordingSocket } from '../../test/support/hub-doubles.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}


function setup(charged: Array<{ runId: string; tokens: number }> = [], lockTtlMs = 60_000, wrap: (log: SessionLog) => SessionLog = (l) => l) {
  const lock = createMemoryRunLock();
  const reservations = memoryReservations();
  const log = createMemorySessionLog({}, Date.now, { holder: (s) => lock.holderNow(s), reservations });
  const hubLog = wrap(log);
  const bus = createMemoryPubSub();
  const logger = createLogger({ level: 'error', env: 'test', silent: true });
  const sockets: RecordingSocket[] = [];
  const publish = (_topic: string, json: string) => sockets.forEach((s) => s.send(json));
  const hub = new SessionHub({ log: hubLog, bus, publish, onSlowConsumer: () => {}, maxBackpressureBytes: 1e9, logger });
  const lost: string[] = [];
  const aborted: string[] = [];
  const agent: AgentRunner = {
    async *stream({ runId, signal }): AsyncIterable<AgentEvent> {
      for (let i = 0; i < 400; i++) {
        if (signal.aborted) {
          aborted.push(runId);
          yield { type: 'done', reason: 'cancelled', usage: { inputTokens: 10, outputTokens: i } } as AgentEvent;
          return;
        }
        yield { type: 'token', text: `w${i} ` } as AgentEvent;
        await sleep(5);
      }
      yield { type: 'done', reason: 'stop' } as AgentEvent;
    },
  };
  const runs = new RunManager({ hub, lock, idempotency: createMemoryIdempotencyStore(), bus, agent, logger, nodeId: 'n1', lockTtlMs,
    hooks: {
      fencedRun: async ({ runId, done }) => void charged.push({ runId, tokens: (done.usage?.inputTokens ?? 0) + (done.usage?.outputTokens ?? 0) }),
      lostRun: async ({ runId }) => void lost.push(runId),
    },
  });
  const frames = async () => (await log.readAfter('s1', 0)).frames;
  /** A client following the session on this node. */
  const follow = async () => {
    const socket = new RecordingSocket();
    sockets.push(socket);
    await hub.join('s1', socket, 0, () => {});
    return socket;
  };
  return { lock, log, hub, runs, aborted, frames, follow, lost };
}

async function send(runs: RunManager, id: string): Promise<string> {
  let runId = '';
  await runs.send({ userId: 'u1', connectionId: 'c1' }, { type: 'send', id, sessionId: 's1', text: 'hi' }, (r) => (runId = r));
  return runId;
}

const dones = (frames: ServerFrame[], runId: string) => frames.filter((f): f is SessionFrame => f.type === 'done' && f.runId === runId);

describe('RunManager fencing', () => {
  it('a run whose lease was taken over aborts its model call, writes nothing more, and the taker writes its one done', async () => {
    const charged: Array<{ runId: string; tokens: number }> = [];
    const { lock, runs, aborted, frames } = setup(charged);
    const first = await send(runs, 'm1');
    await until(async () => (await frames()).length >= 5, 'the run to stream');
    // The lease lapses and another node takes the session over (a reaper).
    await lock.release('s1', first);
    expect(await lock.acquire('s1', `reaper:${first}`, 60_000)).toBe(true);
    await until(() => aborted.includes(first), 'the run to abort its model call');
    await until(() => runs.localRuns === 0, 'the run to stop');
    const afterStop = (await frames()).length;
    expect(dones(await frames(), first)).toEqual([]);
    // The tokens it used up to the abort are still charged to its user.
    expect(charged).toHaveLength(1);
    expect(charged[0]).toMatchObject({ runId: first });
    expect(charged[0]!.tokens).toBeGreaterThan(10);
    await sleep(50);
    expect((await frames()).length).toBe(afterStop);

    // The next run finds the session's last run without its done and ends it first.
    await lock.release('s1', `reaper:${first}`);
    const second = await send(runs, 'm2');
    await until(async () => dones(await frames(), second).length === 1, 'the second run to end');
    const all = await frames();
    expect(dones(all, first)).toHaveLength(1);
    expect(dones(all, first)[0]).toMatchObject({ reason: 'error', error: { code: 'node_lost' } });
    expect(all.map((f) => f.seq)).toEqual(all.map((_, i) => i + 1));
    // Nothing of the first run after its done.
    const firstDone = dones(all, first)[0]!.seq;
    expect(all.filter((f) => f.runId === first && f.seq > firstDone)).toEqual([]);
  });

  it('a run whose lease lapsed with nobody taking it goes on to its own single done', async () => {
    const { lock, runs, frames } = setup();
    const runId = await send(runs, 'm1');
    await until(async () => (await frames()).length >= 5, 'the run to stream');
    await lock.release('s1', runId);
    await until(async () => dones(await frames(), runId).length === 1, 'the run to end');
    expect(dones(await frames(), runId)[0]).toMatchObject({ reason: 'stop' });
  });

  // Chaos found it: Redis restarted empty, a reaper took the free lease, found nothing of the run
  // in the new log and let go; the run was fenced out and nobody sent in the session again.
  it('a run fenced out after its log was lost, with nobody sending again, ends once in the new epoch', async () => {
    const { lock, log, runs, aborted, frames, follow, lost } = setup([], 1_000);
    const socket = await follow();
    const runId = await send(runs, 'm1');
    await until(async () => (await frames()).length >= 5, 'the run to stream');
    // The store loses the log and the lease; another node's reaper holds the session a moment.
    await log.delete('s1');
    await lock.release('s1', runId);
    expect(await lock.acquire('s1', `reaper:n2:${runId}`, 1_000)).toBe(true);
    await until(() => aborted.includes(runId), 'the run to be fenced out');
    await lock.release('s1', `reaper:n2:${runId}`);
    await until(async () => dones(await frames(), runId).length === 1, 'the fenced run to get its done');
    expect(dones(await frames(), runId)[0]).toMatchObject({ reason: 'error', error: { code: 'node_lost' } });
    await until(() => dones(socket.frames, runId).length === 1, 'the client to see the done');
    expect(socket.frames.some((f) => f.type === 'joined' && f.gap)).toBe(true);
    expect(lost).toEqual([runId]);
    await sleep(1_200);
    expect(dones(socket.frames, runId)).toHaveLength(1);
    expect(dones(await frames(), runId)).toHaveLength(1);
  });

  it("a run of another node cut by a lost log is ended by the watcher of a node that follows its session", async () => {
    const { lock, log, hub, runs, frames, follow } = setup([], 1_000);
    const socket = await follow();
    // Another node runs r1 (its frames reach this node through the log) and dies with the log.
    expect(await lock.acquire('s1', 'r1', 1_000)).toBe(true);
    await hub.append({ type: 'user', sessionId: 's1', runId: 'r1', id: 'm1', text: 'hi' }, { lease: 'r1' });
    await hub.append({ type: 'token', sessionId: 's1', runId: 'r1', text: 'a' }, { lease: 'r1' });
    await log.delete('s1');
    await lock.release('s1', 'r1');
    const stop = runs.watchLostRuns(() => hub.openRuns());
    try {
      await until(() => dones(socket.frames, 'r1').length === 1, 'the watcher to end the cut run');
      expect(dones(await frames(), 'r1')).toHaveLength(1);
      expect(hub.openRuns()).toEqual([]);
      await sleep(1_200);
      expect(dones(socket.frames, 'r1')).toHaveLength(1);
    } finally {
      stop();
    }
  });

  // Chaos found it: a run's `done` went into the log (in the new epoch, after Redis came back
  // empty) but its reply was lost with the connection (the next restart), so this node never
  // delivered it, and its bus copy was lost while the subscribers reconnected. The run's retry
  // is refused (the log holds its `done`), the run counts as fenced, and its own check found the
  // `done` in the log and marked the run ended without delivering it: the socket stayed in the
  // old stream with the run open, and no later frame came to reveal the hole.
  it.each([
    ['in a log recreated meanwhile (a new epoch)', true],
    ['in the same log', false],
  ])('a run whose done was written but whose reply was lost still has its done delivered, %s', async (_name, recreate) => {
    let dropReply = true;
    const { hub, runs, frames, follow } = setup([], 1_000, (inner) => ({
      ...inner,
      open: (id) => inner.open(id),
      readAfter: (id, after, limit) => inner.readAfter(id, after, limit),
      lastSeq: (id) => inner.lastSeq(id),
      async appendBatch(inputs, options) {
        if (!dropReply || !inputs.some((f) => f.type === 'done')) return inner.appendBatch(inputs, options);
        dropReply = false;
        if (recreate) await inner.delete('s1'); // the store came back without the log
        await inner.appendBatch(inputs, options); // written...
        throw new Error('Connection is closed.'); // ...but the reply never came
      },
    }));
    const socket = await follow();
    const runId = await send(runs, 'm1');
    await until(async () => (await frames()).some((f) => f.type === 'done' && f.runId === runId), 'the done to be written');
    await until(() => runs.localRuns === 0, 'the run to stop');
    expect(dones(await frames(), runId)[0]).toMatchObject({ reason: 'stop' });
    // No watcher runs here: the run's own end (its check once fenced) must deliver what it found.
    await until(() => dones(socket.frames, runId).length === 1, 'the client to see the done');
    expect(socket.frames.some((f) => f.type === 'joined' && f.gap)).toBe(recreate);
    expect(hub.openRuns()).toEqual([]);
    await sleep(1_200);
    expect(dones(socket.frames, runId)).toHaveLength(1);
    expect(dones(await frames(), runId)).toHaveLength(1);
  });

  // Chaos saw a run that was only its done: the user frame's write failed while Redis restarted.
  it('a run whose user frame could not be written writes it before its done', async () => {
    let failing = 0;
    const { runs, frames } = setup([], 1_000, (log) => ({
      ...log,
      open: (id) => log.open(id),
      readAfter: (id, after, limit) => log.readAfter(id, after, limit),
      lastSeq: (id) => log.lastSeq(id),
      async appendBatch(inputs, options) {
        if (inputs.some((f) => f.type === 'user') && failing++ === 0) throw new Error('Connection is closed.');
        return log.appendBatch(inputs, options);
      },
    }));
    const runId = await send(runs, 'm1');
    await until(async () => dones(await frames(), runId).length === 1, 'the run to end');
    const mine = (await frames()).filter((f) => f.runId === runId);
    expect(mine.map((f) => f.type)).toEqual(['user', 'done']);
    expect(mine[1]).toMatchObject({ reason: 'error', error: { code: 'internal' } });
  });
});
