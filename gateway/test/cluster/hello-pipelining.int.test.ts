/**
 * A client may pipeline frames right behind its `hello` (the protocol only asks that `hello` comes
 * first). The typed client does exactly that after a reconnect: `write()` sends as soon as the new
 * socket is open, before `ready` — the soak hits it a few times per thousand drops.
 *
 * Regression test: the gateway used to check authentication when a frame *arrived*, while the
 * `hello` ahead of it was still being verified, and closed the socket with 4001. It now checks
 * that a `hello` came first on arrival and that it succeeded when the frame's turn comes.
 */
import { startTestGateway, type TestGateway } from '../support/harness.js';

describe('frames pipelined behind hello', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ transport: 'ws' });
  });
  afterAll(async () => t?.stop());

  it('are handled after the hello, not refused with 4001', async () => {
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
