/**
 * A run starts by ending the session's previous run when that one never wrote its `done` (its node
 * died): `done{node_lost}` before the new `user` frame. The log checks that in the `user` frame's
 * append, so a run start reads nothing of the log.
 */
import type { AgentEvent } from '@switchboard/agent-core';
import type { SessionFrame } from '@switchboard/protocol';
import { createLogger } from '../logger.js';
import { SessionHub } from '../sessions/hub.js';
import { RunManager } from './run-manager.js';
import { createMemoryIdempotencyStore, createMemoryPubSub, createMemoryRunLock } from '../backends/memory/shared-state.js';
import { createMemorySessionLog } from '../backends/memory/session-log.js';
import type { AgentRunner, SessionLog } from '../ports.js';
import { memoryReservations } from '../../test/support/hub-doubles.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup() {
  const lock = createMemoryRunLock();
  const log = createMemorySessionLog({}, Date.now, { holder: (s) => lock.holderNow(s), reservations: memoryReservations() });
  const calls: string[] = [];
  // Counts the log reads the hub makes for the run manager.
  const counted: SessionLog = {
    ...log,
    append: (f, o) => log.append(f, o),
    appendBatch: (f, o) => log.appendBatch(f, o),
    readAfter: (s, after, limit) => (calls.push(`readAfter ${after} ${limit}`), log.readAfter(s, after, limit)),
    lastSeq: (s) => (calls.push('lastSeq'), log.lastSeq(s)),
  };
  const bus = createMemoryPubSub();
  const logger = createLogger({ level: 'error', env: 'test', silent: true });
  const hub = new SessionHub({ log: counted, bus, publish: () => {}, onSlowConsumer: () => {}, maxBackpressureBytes: 1e9, logger });
  const agent: AgentRunner = {
    async *stream(): AsyncIterable<AgentEvent> {
      yield { type: 'token', text: 'hello' } as AgentEvent;
      yield { type: 'done', reason: 'stop' } as AgentEvent;
    },
  };
  const runs = new RunManager({ hub, lock, idempotency: createMemoryIdempotencyStore(Date.now, { lock }), bus, agent, logger, nodeId: 'n1' });
  const frames = async () => (await log.readAfter('s1', 0)).frames;
  const ended = async (runId: string) => {
    for (let i = 0; i < 300; i++) {
      if ((await frames()).some((f) => f.type === 'done' && f.runId === runId) && (await lock.holder('s1')) === null) return;
      await sleep(10);
    }
    throw new Error(`run ${runId} did not end`);
  };
  const send = async (id: string) => {
    let runId = '';
    await runs.send({ userId: 'u1', connectionId: 'c1' }, { type: 'send', id, sessionId: 's1', text: 'hi' }, (r) => (runId = r));
    await ended(runId);
    return runId;
  };
  return { lock, log, calls, frames, send };
}

const shape = (frames: SessionFrame[]) => frames.map((f) => `${f.type}:${f.runId}`);

describe('RunManager: the previous run at a run start', () => {
  it('reads nothing of the log at a run start: the user frame\'s append checks the previous run', async () => {
    const { calls, send } = setup();
    await send('m1');
    calls.length = 0;
    await send('m2');
    expect(calls).toEqual([]);
  });

  it('ends a run another node left without a done after its own one, before the new user frame', async () => {
    const { lock, log, frames, send } = setup();
    const a = await send('m1');
    // Another node's run: takes the lease, writes its user frame and a token, and dies (the lease lapses).
    expect(await lock.acquire('s1', 'x', 30)).toBe(true);
    await log.appendBatch([{ type: 'user', sessionId: 's1', runId: 'x', id: 'mx', text: 'hi' }, { type: 'token', sessionId: 's1', runId: 'x', text: 'par' }], { lease: 'x' });
    await sleep(60);
    const b = await send('m2');
    expect(shape(await frames())).toEqual([`user:${a}`, `token:${a}`, `done:${a}`, 'user:x', 'token:x', 'done:x', `user:${b}`, `token:${b}`, `done:${b}`]);
    const lost = (await frames()).find((f) => f.type === 'done' && f.runId === 'x');
    expect(lost).toMatchObject({ reason: 'error', error: { code: 'node_lost' } });
  });
});
