import WebSocket from 'ws';
import { createAuth } from '../src/auth.js';
import { SwitchboardClient, type ConnectionState, type WebSocketConstructor } from '../src/client.js';
import { SwitchboardError } from '../src/errors.js';
import { memoryStorage } from '../src/storage.js';
import { appClient, expiredAccessToken, startGateway, until, type TestGateway } from './support/gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startGateway({ HEARTBEAT_MS: '1000' });
});
afterAll(() => t.stop());

describe('SwitchboardClient connection state', () => {
  it('goes connecting → connected, reconnecting → connected after a drop, and disconnected on close', async () => {
    const { token } = await t.user();
    const c = appClient(t, { token });
    const seen: ConnectionState[] = [];
    c.on('state', (s) => seen.push(s));
    expect(c.state).toBe('disconnected');
    await c.connect();
    expect(c.state).toBe('connected');
    c.dropConnection();
    await until(() => seen.includes('reconnecting') && c.state === 'connected', 'a reconnect');
    c.close();
    expect(c.state).toBe('disconnected');
    expect(seen).toEqual(['connecting', 'connected', 'reconnecting', 'connected', 'disconnected']);
  });

  it('reports disconnected with the reason when no server answers and reconnect is off', async () => {
    const dead = appClient({ ...t, wsUrl: 'ws://127.0.0.1:9/v1/ws' } as TestGateway, { token: 'x', reconnect: false });
    const errors: unknown[] = [];
    dead.on('state', (_s, d) => d.error && errors.push(d.error));
    await expect(dead.connect()).rejects.toBeInstanceOf(SwitchboardError);
    expect(dead.state).toBe('disconnected');
    expect(errors).toHaveLength(1);
  });

  it('notices a server gone silent within two heartbeats and reconnects', async () => {
    const { token } = await t.user();
    let mute = false;
    // Failure injection: a socket whose inbound frames stop arriving while muted, as on a dead network path.
    const sockets: WebSocket[] = [];
    const Impl = function (url: string, protocols?: string | string[]) {
      const ws = new WebSocket(url, protocols);
      sockets.push(ws);
      const wrapped = {
        get readyState() {
          return ws.readyState;
        },
        onopen: null as ((e: unknown) => void) | null,
        onmessage: null as ((e: { data: unknown }) => void) | null,
        onclose: null as ((e: { code: number; reason: string }) => void) | null,
        onerror: null as ((e: unknown) => void) | null,
        send: (d: string) => ws.send(d),
        close: (code?: number, reason?: string) => ws.close(code, reason),
        terminate: () => ws.terminate(),
      };
      ws.on('open', () => wrapped.onopen?.({}));
      ws.on('message', (data) => !mute && wrapped.onmessage?.({ data: String(data) }));
      ws.on('close', (code, reason) => wrapped.onclose?.({ code, reason: String(reason) }));
      ws.on('error', () => {});
      return wrapped;
    } as unknown as WebSocketConstructor;
    const c = new SwitchboardClient({ url: t.wsUrl, token, WebSocket: Impl, storage: null, reconnectBaseMs: 20 });
    const seen: ConnectionState[] = [];
    c.on('state', (s) => seen.push(s));
    await c.connect();
    mute = true;
    await until(() => seen.includes('reconnecting'), 'the silent socket to be dropped', 5000);
    mute = false;
    await until(() => c.state === 'connected' && sockets.length === 2, 'a reconnect', 5000);
    c.close();
  });
});

describe('SwitchboardClient tokens', () => {
  it('asks the token function again when the server says the token expired, and connects', async () => {
    const u = await t.user();
    const expired = await expiredAccessToken(u.userId);
    const reasons: string[] = [];
    const c = appClient(t, {
      token: ({ reason }) => {
        reasons.push(reason);
        return reason === 'expired' ? u.token : expired;
      },
    });
    await c.connect();
    expect(reasons).toEqual(['connect', 'expired']);
    expect(c.ready?.userId).toBe(u.userId);
    c.close();
  });

  it('ends with a clear unauthorized error when a fixed token expired', async () => {
    const u = await t.user();
    const c = appClient(t, { token: await expiredAccessToken(u.userId) });
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect((err as SwitchboardError).code).toBe('unauthorized');
    expect((err as SwitchboardError).message).toMatch(/access token expired/);
    expect(c.state).toBe('disconnected');
  });

  it('createAuth refreshes before expiry and after the server refused an expired token', async () => {
    const u = await t.user();
    const expired = await expiredAccessToken(u.userId);
    // Before: the stored pair says it expired, so the token is refreshed before the socket opens.
    const before = createAuth({ baseUrl: t.url, storage: memoryStorage(), tokens: { accessToken: expired, refreshToken: u.refreshToken, expiresAt: new Date(Date.now() - 1000).toISOString() } });
    const c1 = appClient(t, { token: before.getAccessToken });
    await c1.connect();
    expect(before.tokens!.refreshToken).not.toBe(u.refreshToken);
    c1.close();
    // After: the pair claims to be fresh, the server refuses it, the client asks again with reason "expired".
    const rotated = before.tokens!;
    const after = createAuth({ baseUrl: t.url, storage: memoryStorage(), tokens: { ...rotated, accessToken: expired, expiresAt: new Date(Date.now() + 600_000).toISOString() } });
    const c2 = appClient(t, { token: after.getAccessToken });
    await c2.connect();
    expect(after.tokens!.refreshToken).not.toBe(rotated.refreshToken);
    const res = await after.fetch('/v1/sessions');
    expect(res.status).toBe(200);
    c2.close();
    before.dispose();
    after.dispose();
  });

  it('createAuth: two tabs sharing storage refresh once and do not reuse a spent refresh token', async () => {
    const u = await t.user();
    const storage = memoryStorage();
    const pair = { accessToken: u.token, refreshToken: u.refreshToken, expiresAt: new Date(Date.now() + 600_000).toISOString() };
    const tabA = createAuth({ baseUrl: t.url, storage, tokens: pair });
    const tabB = createAuth({ baseUrl: t.url, storage, tokens: pair });
    await tabA.refresh();
    // Tab B still holds the spent pair; it must adopt tab A's instead of presenting the spent token
    // (which would revoke the whole family).
    const tokenB = await tabB.getAccessToken({ reason: 'expired' });
    expect(tokenB).toBe(tabA.tokens!.accessToken);
    await tabA.refresh(); // the family is alive
    expect((await tabA.fetch('/v1/sessions')).status).toBe(200);
    tabA.dispose();
    tabB.dispose();
  });

  it('createAuth signs out on a refused refresh, and the client reports it', async () => {
    const u = await t.user();
    const changes: unknown[] = [];
    const auth = createAuth({ baseUrl: t.url, storage: memoryStorage(), onChange: (x) => changes.push(x), tokens: { accessToken: await expiredAccessToken(u.userId), refreshToken: 'not-a-refresh-token', expiresAt: new Date(0).toISOString() } });
    const c = appClient(t, { token: auth.getAccessToken });
    const err = (await c.connect().catch((e: unknown) => e)) as SwitchboardError;
    expect(err.code).toBe('unauthorized');
    expect(auth.tokens).toBeNull();
    expect(changes).toEqual([null]);
    expect(c.state).toBe('disconnected');
    auth.dispose();
  });
});

describe('SwitchboardClient runs and sessions', () => {
  it('gives a handle for a run started on another device, live and when joined mid-run', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const phone = appClient(t, { token: u.token });
    const laptop = appClient(t, { token: u.token });
    await Promise.all([phone.connect(), laptop.connect()]);
    await laptop.join(sessionId);
    const seen: Array<{ own: boolean; sessionId: string }> = [];
    laptop.on('run', (r) => seen.push({ own: r.own, sessionId: r.sessionId }));
    const mine = phone.send({ sessionId, text: 'give me a long answer' });
    await until(() => laptop.session(sessionId).activeRun !== null, 'the laptop to see the run');
    const theirs = laptop.session(sessionId).activeRun!;
    expect(theirs.own).toBe(false);
    expect(await theirs.runId).toBe(await mine.runId);
    // A third device joining mid-answer gets the run from `joined.activeRunId`.
    await until(() => laptop.activeRun(sessionId)!.text.length > 0, 'some tokens');
    const tablet = appClient(t, { token: u.token });
    await tablet.connect();
    const joined = await tablet.join(sessionId, laptop.lastSeq(sessionId));
    expect(joined.activeRunId).toBe(await mine.runId);
    const late = tablet.activeRun(sessionId)!;
    expect(late.own).toBe(false);
    const [doneMine, doneTheirs, doneLate] = await Promise.all([mine.done, theirs.done, late.done]);
    expect(doneTheirs.seq).toBe(doneMine.seq);
    expect(doneLate.seq).toBe(doneMine.seq);
    expect(theirs.text).toBe(mine.text);
    expect(mine.text.length).toBeGreaterThan(0);
    expect(laptop.session(sessionId).activeRun).toBeNull();
    expect(seen).toEqual([{ own: false, sessionId }]);
    for (const c of [phone, laptop, tablet]) c.close();
  });

  it('resumes after a reload from the persisted {sessionId, lastSeq}: no text lost or doubled', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const storage = memoryStorage();
    const page1 = appClient(t, { token: u.token, storage });
    await page1.connect();
    await page1.join(sessionId);
    const run = page1.send({ sessionId, text: 'give me a long answer' });
    await until(() => run.text.length > 20, 'part of the answer');
    page1.close(); // the page goes away mid-answer
    const before = run.text;
    const saved = page1.lastSeq(sessionId);
    const page2 = appClient(t, { token: u.token, storage });
    expect(page2.savedResumePoint(sessionId)).toEqual({ sessionId, lastSeq: saved });
    await page2.connect();
    let rest = '';
    page2.onFrame((f) => f.type === 'token' && f.sessionId === sessionId && (rest += f.text));
    await page2.resume(sessionId);
    await until(() => page2.activeRun(sessionId) === null && rest.length > 0, 'the rest of the answer');
    const reference = appClient(t, { token: u.token });
    await reference.connect();
    let full = '';
    reference.onFrame((f) => f.type === 'token' && f.sessionId === sessionId && (full += f.text));
    const joined = await reference.join(sessionId, 0);
    await until(() => reference.lastSeq(sessionId) === joined.seq, 'the full replay');
    expect(before + rest).toBe(full);
    for (const c of [page2, reference]) c.close();
  });

  it('refuses a text over the limits before sending, and the connection lives on', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const c = appClient(t, { token: u.token });
    await c.connect();
    const euros = '€'.repeat(25_000);
    expect(() => c.send({ sessionId, text: euros })).toThrow(SwitchboardError);
    try {
      c.send({ sessionId, text: euros });
    } catch (e) {
      expect((e as SwitchboardError).code).toBe('too_large');
      expect((e as SwitchboardError).message).toBe('the message is 75000 bytes as UTF-8; the server accepts frames of at most 65536 bytes');
    }
    expect(() => c.send({ sessionId, text: 'x'.repeat(32_001) })).toThrow(/at most 32000/);
    expect(() => c.send({ sessionId, text: '  ' })).toThrow(/empty/);
    expect(c.state).toBe('connected');
    const done = await c.send({ sessionId, text: 'What is 5*5?' }).done;
    expect(done.reason).toBe('stop');
    c.close();
  });
});
