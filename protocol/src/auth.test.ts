import { createAuth, type AuthTokens } from './auth.js';
import { memoryStorage } from './storage.js';

const inAMinute = () => new Date(Date.now() + 10 * 60_000).toISOString();
const pair = (expiresAt: string): AuthTokens => ({ accessToken: 'a1', refreshToken: 'r1', expiresAt });
const noFetch = (() => {
  throw new Error('fetch must not be called');
}) as unknown as typeof fetch;

describe('createAuth', () => {
  it('hands out a fresh token without a request, and keeps a reloaded page signed in', async () => {
    const storage = memoryStorage();
    const first = createAuth({ baseUrl: 'http://127.0.0.1:9', storage, tokens: pair(inAMinute()), fetch: noFetch, autoRefresh: false });
    expect(await first.getAccessToken()).toBe('a1');
    first.setTokens(first.tokens); // persist as a login would
    const reloaded = createAuth({ baseUrl: 'http://127.0.0.1:9', storage, fetch: noFetch, autoRefresh: false });
    expect(reloaded.tokens?.refreshToken).toBe('r1');
  });

  it('keeps the pair and reports a retryable error when the refresh cannot reach the server', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    const auth = createAuth({ baseUrl: 'http://127.0.0.1:9', storage: null, tokens: pair(new Date(0).toISOString()), fetch: failing, autoRefresh: false });
    const err = await auth.getAccessToken().catch((e: unknown) => e as { code: string; retryable: boolean });
    expect(err).toMatchObject({ code: 'internal', retryable: true });
    expect(auth.tokens?.refreshToken).toBe('r1');
  });

  it('sends one refresh for concurrent callers', async () => {
    let calls = 0;
    const fake = (async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return new Response(JSON.stringify({ accessToken: 'a2', refreshToken: 'r2', expiresAt: inAMinute(), user: { id: 'u', email: 'e' } }), { status: 200 });
    }) as unknown as typeof fetch;
    const auth = createAuth({ baseUrl: 'http://127.0.0.1:9', storage: null, tokens: pair(new Date(0).toISOString()), fetch: fake, autoRefresh: false });
    const tokens = await Promise.all([auth.getAccessToken(), auth.getAccessToken({ reason: 'expired' }), auth.refresh().then((t) => t.accessToken)]);
    expect(tokens).toEqual(['a2', 'a2', 'a2']);
    expect(calls).toBe(1);
  });

  it('refuses to hand out a token when signed out', async () => {
    const auth = createAuth({ baseUrl: 'http://127.0.0.1:9', storage: null, fetch: noFetch });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
