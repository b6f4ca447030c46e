/**
 * Found by the soak (soak.int.test.ts): a client resuming on a node at the moment the last other
 * local socket of that session leaves it misses frames — a hole in `seq`, then frames again once
 * another socket re-creates the session's state.
 *
 * Regression test: SessionHub.join() used to await `state.ready` and carry on with a state that a
 * leave() had released meanwhile, so no live frame reached the socket. join() now re-takes the
 * live state after the await.
 */
import type { SessionFrame } from '@switchboard/protocol';
import { createLogger } from '../logger.js';
import { SessionHub, type HubSocket } from './hub.js';
import { createMemoryPubSub } from '../backends/memory/shared-state.js';
import { createMemorySessionLog } from '../backends/memory/session-log.js';

function socket(received: number[]): HubSocket {
  return {
    direct: true,
    closed: false,
    send: (json) => {
      received.push((JSON.parse(json) as SessionFrame).seq);
      return 'ok';
    },
    bufferedAmount: () => 0,
    subscribe: () => {},
    unsubscribe: () => {},
  };
}

describe('SessionHub.join racing the last leave', () => {
  it('delivers live frames to a socket that joined while the last other socket left', async () => {
    const hub = new SessionHub({
      log: createMemorySessionLog(),
      bus: createMemoryPubSub(),
      publish: () => {},
      onSlowConsumer: () => {},
      maxBackpressureBytes: 1 << 20,
      logger: createLogger({ level: 'error', env: 'test', silent: true }),
    });
    const base = { sessionId: 's1', runId: 'r1' };
    const first: number[] = [];
    const second: number[] = [];
    const a = socket(first);
    const b = socket(second);
    await hub.join('s1', a, 0, () => {});
    await hub.append({ type: 'user', ...base, id: 'm1', text: 'hi' });

    const joining = hub.join('s1', b, 1, () => {});
    hub.leave('s1', a); // the last other local socket leaves while b's join awaits the state
    await joining;
    await hub.append({ type: 'token', ...base, text: 'live' });

    expect(first).toEqual([1]);
    expect(second).toEqual([2]);
  });
});
