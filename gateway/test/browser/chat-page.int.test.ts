/**
 * The built-in chat page in a real Chromium against real gateways: sign-in, tools, network drops,
 * reloads and two tabs mid-answer (text compared with a reference run of the same prompt), token
 * expiry, a model that fails, an oversized message, and the SDK used from another origin.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/harness.js';
import { chromiumPrerequisite, launchChromium, newContext } from './chromium.js';
import { answerText, ask, expectHealthy, finishedAnswer, referenceAnswer, register, stateText, waitForAnswerLength, waitForState } from './page-driver.js';

const chromium = chromiumPrerequisite();
/** 400 scripted tokens: at 8 ms a token, a few seconds of streaming to interrupt. */
const LONG = 'Please give me a long answer.';
const TOKEN_DELAY_MS = '8';


describe.skipIf(!chromium.available)('chat page in Chromium', () => {
  let browser: Browser;
  let gw: TestGateway;
  let shortTtl: TestGateway;
  let failing: TestGateway;
  let mock: MockOpenAI;
  let crossOrigin: Server;
  let crossOriginUrl: string;
  let longReference: string;

  beforeAll(async () => {
    const started = performance.now();
    crossOrigin = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(crossOriginPage(gw.url)));
    await new Promise<void>((r) => crossOrigin.listen(0, '127.0.0.1', r));
    crossOriginUrl = `http://127.0.0.1:${(crossOrigin.address() as AddressInfo).port}`;
    mock = await createMockOpenAI({ scenarios: { broken: { fault: '500' } } });
    const models = [{ name: 'broken', model: 'broken', baseURL: mock.url, apiKey: 'x', maxRetries: 0 }];
    let chromiumStarted: Promise<Browser>;
    [browser, gw] = await Promise.all([
      (chromiumStarted = launchChromium()),
      startTestGateway({ transport: 'uws', env: { LOCAL_MODEL_TOKEN_DELAY_MS: TOKEN_DELAY_MS, CORS_ORIGINS: crossOriginUrl } }),
    ]).catch(async (e: unknown) => {
      await chromiumStarted.then((b) => b.close()).catch(() => {});
      throw e;
    });
    // The other two share the first one's database (opening one is most of a gateway's start);
    // only the first one closes it.
    const storage = { ...gw.backends.storage, close: async () => {} };
    [shortTtl, failing] = await Promise.all([
      startTestGateway({ transport: 'uws', env: { LOCAL_MODEL_TOKEN_DELAY_MS: TOKEN_DELAY_MS, ACCESS_TOKEN_TTL_S: '10' }, overrides: { storage } }),
      startTestGateway({ transport: 'uws', env: { LLM_MODELS: JSON.stringify(models) }, overrides: { storage } }),
    ]);
    longReference = await referenceAnswer(gw, LONG);
    expect(longReference.split(' ').length).toBeGreaterThan(300);
    console.info(`browser suite set up in ${Math.round(performance.now() - started)} ms`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([shortTtl?.stop(), failing?.stop(), mock?.close()]);
    await gw?.stop();
    crossOrigin?.close();
  });

  it('signs in, and a reload stays signed in on the same session', async () => {
    const context = await newContext(browser, 'sign-in');
    const page = await context.newPage();
    const email = await register(page, gw.url);
    expect(await page.textContent('#who')).toBe(email);
    expect((await stateText(page)).text).toBe('connected');
    await page.waitForSelector('#sessions button[aria-current="true"]');
    const session = await page.getAttribute('#sessions button[aria-current="true"]', 'data-id');
    // A wrong password is an error on the form, not a dead page.
    const other = await (await newContext(browser, 'sign-in-wrong-password')).newPage();
    await other.goto(gw.url);
    await other.fill('#email', email);
    await other.fill('#password', 'not the password');
    await other.click('#login');
    await other.waitForFunction(() => (document.querySelector('#auth-error')?.textContent ?? '').length > 0);
    expect(await other.isVisible('#auth')).toBe(true);

    await page.reload();
    await waitForState(page, 'connected');
    expect(await page.isVisible('#auth')).toBe(false);
    expect(await page.getAttribute('#sessions button[aria-current="true"]', 'data-id')).toBe(session);
    // Signing out forgets the login.
    await page.click('#logout');
    await page.waitForSelector('#auth', { state: 'visible' });
    await page.reload();
    await page.waitForSelector('#auth', { state: 'visible' });
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('switchboard.')))).toEqual([]);
  });

  it('chats with a tool call, Send locked while the answer streams', async () => {
    const context = await newContext(browser, 'tool-call');
    const page = await context.newPage();
    await register(page, gw.url);
    await page.fill('#text', 'What is 12*(3+4)?');
    await page.waitForSelector('#send:not([disabled])');
    // Locked by the click itself, before the server acknowledged anything.
    expect(await page.evaluate(() => (document.querySelector<HTMLButtonElement>('#send')!.click(), document.querySelector<HTMLButtonElement>('#send')!.disabled))).toBe(true);
    const answer = await finishedAnswer(page);
    expect(answer).toContain('84');
    expect(await page.textContent('#log .tool')).toMatch(/calculator.*84/);
    await page.waitForSelector('#send:not([disabled])');
    expect(await page.isDisabled('#stop')).toBe(true);
    // A disabled button looks it.
    expect(await page.$eval('#stop', (b) => [getComputedStyle(b).opacity, getComputedStyle(b).cursor])).toEqual(['0.45', 'not-allowed']);
    // A new session, from the list.
    await page.click('#new-session');
    await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 2);
    expect(await page.$$eval('#log .msg', (m) => m.length)).toBe(0);
  });

  it('a network drop mid-answer: reconnecting shown, then the same text as a reference run', async () => {
    const context = await newContext(browser, 'offline');
    const page = await context.newPage();
    await register(page, gw.url);
    await ask(page, LONG);
    await waitForAnswerLength(page, 80);
    await context.setOffline(true);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#state')?.dataset.state !== 'connected');
    const down = await stateText(page);
    expect(down.state).toMatch(/reconnecting|connecting|disconnected/);
    expect(down.text).not.toMatch(/^connected/);
    await page.waitForTimeout(800);
    await context.setOffline(false);
    expect(await finishedAnswer(page)).toBe(longReference);
    await expectHealthy(page);
    expect((await stateText(page)).text).toBe('connected'); // no stale reason from the drop
    // The long answer scrolls inside the log, which follows its end.
    const log = await page.$eval('#log', (l) => ({ overflow: l.scrollHeight > l.clientHeight, atEnd: l.scrollTop + l.clientHeight >= l.scrollHeight - 2 }));
    expect(log).toEqual({ overflow: true, atEnd: true });
  });

  it('a reload mid-answer continues the answer with no text lost or doubled', async () => {
    const context = await newContext(browser, 'reload');
    const page = await context.newPage();
    await register(page, gw.url);
    await ask(page, LONG);
    await waitForAnswerLength(page, 120);
    await page.reload();
    await waitForState(page, 'connected');
    // The stored transcript shows at once; the rest streams in from where the page left off.
    expect((await answerText(page)).length).toBeGreaterThan(0);
    expect(await finishedAnswer(page)).toBe(longReference);
    expect(await page.$$eval('#log .msg.user', (m) => m.length)).toBe(1);
  });

  it('two tabs on one session see identical text, and the other tab is locked while it streams', async () => {
    const context = await newContext(browser, 'two-tabs');
    const first = await context.newPage();
    await register(first, gw.url);
    const second = await context.newPage();
    await second.goto(gw.url);
    await waitForState(second, 'connected');
    await second.waitForSelector('#send:not([disabled])');
    await ask(first, LONG);
    await waitForAnswerLength(second, 40); // a run the second tab did not start
    expect(await second.isDisabled('#send')).toBe(true);
    expect(await second.isDisabled('#stop')).toBe(false);
    const [a, b] = await Promise.all([finishedAnswer(first), finishedAnswer(second)]);
    expect(a).toBe(longReference);
    expect(b).toBe(a);
  });

  it('an access token that expired while offline is refreshed on reconnect, and the stream goes on', async () => {
    const context = await newContext(browser, 'token-expiry');
    const page = await context.newPage();
    const refreshes: number[] = [];
    page.on('response', (r) => r.url().endsWith('/v1/auth/refresh') && refreshes.push(r.status()));
    await register(page, shortTtl.url);
    await ask(page, LONG);
    await waitForAnswerLength(page, 40);
    await context.setOffline(true);
    const expiresAt = await page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.auth') ?? '{}').expiresAt as string);
    // Offline past the access token's expiry (10 s): the page must refresh before it reconnects.
    await page.waitForTimeout(Math.max(0, Date.parse(expiresAt) - Date.now()) + 500);
    const before = refreshes.filter((s) => s === 200).length;
    await context.setOffline(false);
    expect(await finishedAnswer(page)).toBe(longReference);
    await expectHealthy(page);
    expect(refreshes.filter((s) => s === 200).length).toBeGreaterThan(before);
    expect(refreshes).not.toContain(401);
  }, 45_000);

  it('a failed model run shows its error message and a retry', async () => {
    const context = await newContext(browser, 'model-failure');
    const page = await context.newPage();
    await register(page, failing.url);
    await ask(page, 'Hello there');
    await finishedAnswer(page);
    await page.waitForSelector('#problem', { state: 'visible' });
    const message = await page.textContent('#error');
    expect(message).toBeTruthy();
    console.info(`model failure shown as: ${message}`);
    expect(message).not.toMatch(/^error$|model-chain$/);
    expect(await page.textContent('#log .msg.assistant .meta')).toContain(message!);
    await page.click('#retry');
    await finishedAnswer(page, 2);
    expect(await page.$$eval('#log .msg.user', (m) => m.map((e) => e.textContent))).toEqual(['Hello there', 'Hello there']);
    expect((await stateText(page)).state).toBe('connected');
  });

  it('a message over the limits is refused with the reason, and the page keeps working', async () => {
    const context = await newContext(browser, 'too-large');
    const page = await context.newPage();
    await register(page, gw.url);
    await page.waitForSelector('#send:not([disabled])');
    await page.fill('#text', 'x'.repeat(40_000)); // over the 32,000-character text limit
    await page.waitForSelector('#send[disabled]');
    expect(await page.textContent('#hint')).toMatch(/characters/);
    await page.press('#text', 'Enter'); // no way around the disabled button
    // 25,000 "€": under the text limit but 75,000 bytes. Refused before sending when over the
    // server's frame limit, else sent; either way the socket and the page stay up.
    await page.fill('#text', '€'.repeat(25_000));
    if (await page.isDisabled('#send')) expect(await page.textContent('#hint')).toMatch(/bytes/);
    else {
      await page.click('#send');
      await finishedAnswer(page);
    }
    expect((await stateText(page)).state).toBe('connected');
    const before = await page.$$eval('#log .msg.assistant', (m) => m.length);
    await ask(page, 'What is 2+3?');
    expect(await finishedAnswer(page, before + 1)).toContain('5');
  });

  it('a page on another origin uses /client.js and the API through CORS_ORIGINS', async () => {
    const context = await newContext(browser, 'cross-origin');
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('console', (m) => m.type() === 'error' && failures.push(m.text()));
    await page.goto(crossOriginUrl);
    await page.waitForFunction(() => document.body.dataset.done !== undefined, undefined, { timeout: 20_000 });
    expect(await page.evaluate(() => document.body.dataset.error ?? null), failures.join('\n')).toBeNull();
    expect(await page.textContent('#out')).toContain('84');
    expect(await page.evaluate(() => document.body.dataset.states)).toMatch(/connecting,connected/);
  });
});

/** A page from another origin: imports the gateway's bundle, signs up, chats over the SDK. */
function crossOriginPage(gatewayUrl: string): string {
  return `<!doctype html><meta charset="utf-8"><title>other origin</title><pre id="out"></pre>
<script type="module">
const base = ${JSON.stringify(gatewayUrl)};
const states = [];
try {
  const { SwitchboardClient, createAuth } = await import(base + '/client.js');
  const res = await fetch(base + '/v1/auth/register', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'cors-' + Date.now() + '@example.com', password: 'correct horse battery' }) });
  if (!res.ok) throw new Error('register: HTTP ' + res.status);
  const auth = createAuth({ baseUrl: base, tokens: await res.json() });
  const session = await (await auth.fetch('/v1/sessions', { method: 'POST', body: '{}' })).json();
  const client = new SwitchboardClient({ url: base.replace(/^http/, 'ws') + '/v1/ws', token: auth.getAccessToken });
  client.on('state', (s) => states.push(s));
  await client.connect();
  await client.join(session.id);
  for await (const f of client.send({ sessionId: session.id, text: 'What is 12*(3+4)?' }))
    if (f.type === 'token') document.getElementById('out').textContent += f.text;
} catch (e) {
  document.body.dataset.error = String(e && e.message || e);
}
document.body.dataset.states = states.join(',');
document.body.dataset.done = '1';
</script>`;
}
