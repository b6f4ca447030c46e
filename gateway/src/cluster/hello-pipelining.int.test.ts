/**
 * A client may pipeline frames right behind its `hello` (the protocol only asks that `hello` comes
 * first). The typed client does exactly that after a reconnect: `write()` sends as soon as the new
 * socket is open, before `ready` — the soak hits it a few times per thousand drops.
 *
 * KNOWN GATEWAY BUG (see the report): ConnectionManager.message() checks `helloDone` when a frame
 * *arrives*, while the `hello` ahead of it is still being verified, and closes the socket with
 * 4001 "hello must come first". Marked `it.fails` until the check moves behind the queue.
 */
import { startTestGateway, type TestGateway } from '../testing/harness.js';

describe('frames pipelined behind hello', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ transport: 'ws' });
  });
  afterAll(async () => t?.stop());

  it.fails('are handled after the hello, not refused with 4001', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const s = await t.raw();
    s.send({ type: 'hello', token: u.token });
    s.send({ type: 'join', sessionId, after: 0 });
    expect(await s.next('ready', 2_000)).toMatchObject({ userId: u.userId });
    expect(await s.next('joined')).toMatchObject({ sessionId, gap: false });
    expect(s.closeCode).toBeNull();
  });
});
