/**
 * The SDK tried as a new user would: a Vite + React app outside the repo installs the packed SDK,
 * is served from its own origin, and chats through `useChatSession` with gateways on other
 * origins allowed by `CORS_ORIGINS`. In Chromium: sign-up and a chat with a tool call (Send locked
 * from the click on), an offline period and a reload mid-answer (the final text equals a
 * reference run's: nothing lost or doubled), and an access token that expires mid-answer and is
 * refreshed with nothing shown to the user.
 */
import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/harness.js';
import { chromiumPrerequisite, launchChromium, newContext } from './chromium.js';
import { answerText, ask, finishedAnswer, referenceAnswer, register, waitForAnswerLength, waitForState } from './page-driver.js';
import { buildDirs, buildScratchApp, scratchDir, serveStatic, type ScratchApp } from './scratch-app.js';

const chromium = chromiumPrerequisite();
/** 400 scripted tokens from the local model. */
const LONG = 'Please give me a long answer.';


/** One observation of what the app shows, taken after every DOM change. */
interface Seen {
  t: number;
  state: string | null;
  error: string | null;
  sendDisabled: boolean | null;
  users: number;
  answersDone: number;
}

/** Records what the page shows after every DOM change (survives reloads: one list per load). */
async function watch(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: unknown[] = [];
    (window as unknown as { __seen: unknown[] }).__seen = seen;
    const record = () => {
      const send = document.querySelector<HTMLButtonElement>('#send');
      const entry = {
        t: Date.now(),
        state: document.querySelector<HTMLElement>('#state')?.dataset.state ?? null,
        error: document.querySelector('#error')?.textContent ?? null,
        sendDisabled: send ? send.disabled : null,
        users: document.querySelectorAll('#log .msg.user').length,
        answersDone: document.querySelectorAll('#log .msg.assistant[data-status="done"]').length,
      };
      const last = seen[seen.length - 1] as typeof entry | undefined;
      if (!last || Object.keys(entry).some((k) => k !== 't' && entry[k as keyof typeof entry] !== last[k as keyof typeof entry])) seen.push(entry);
    };
    document.addEventListener('DOMContentLoaded', () => {
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      record();
    });
  });
}

async function seen(page: Page): Promise<Seen[]> {
  return page.evaluate(() => (window as unknown as { __seen: Seen[] }).__seen);
}

/** Send was enabled while a message of the user had no finished answer yet. */
function sendUnlockedMidRun(list: Seen[]): Seen[] {
  return list.filter((s) => s.users > s.answersDone && s.sendDisabled === false);
}

describe.skipIf(!chromium.available)('a React app built with Vite on the packed SDK, in Chromium', () => {
  let browser: Browser;
  let dir: string;
  let app: ScratchApp;
  let site: { server: Server; origin: string };
  let devSite: { server: Server; origin: string };
  let gw: TestGateway;
  let shortTtl: TestGateway;
  let longReference: string;
  let slowReference: Promise<string>;

  beforeAll(async () => {
    const started = performance.now();
    dir = await scratchDir();
    const builds = buildDirs(dir);
    // The app's origins are known before it is built; the gateways allow exactly those.
    [site, devSite] = await Promise.all([serveStatic(builds.production), serveStatic(builds.development)]);
    const cors = { CORS_ORIGINS: `${site.origin},${devSite.origin}` };
    const gateways = async () => {
      gw = await startTestGateway({ transport: 'uws', env: { ...cors, LOCAL_MODEL_TOKEN_DELAY_MS: '8' } });
      // Access tokens live 10 s, and a long answer streams for 16 s or more (40 ms a token), so a
      // token expires mid-answer. It shares the first gateway's database.
      const storage = { ...gw.backends.storage, close: async () => {} };
      shortTtl = await startTestGateway({ transport: 'uws', env: { ...cors, ACCESS_TOKEN_TTL_S: '10', LOCAL_MODEL_TOKEN_DELAY_MS: '40' }, overrides: { storage } });
      slowReference = referenceAnswer(shortTtl, LONG);
      slowReference.catch(() => {});
      longReference = await referenceAnswer(gw, LONG);
    };
    let chromiumStarted: Promise<Browser> | undefined;
    [app, browser] = await Promise.all([buildScratchApp(dir), (chromiumStarted = launchChromium()), gateways()]).catch(async (e: unknown) => {
      await chromiumStarted?.then((b) => b.close()).catch(() => {});
      throw e;
    });
    expect(longReference.split(' ').length).toBeGreaterThan(300);
    const clientJs = await fetch(`${gw.url}/client.js`, { headers: { 'accept-encoding': 'gzip' } });
    await clientJs.arrayBuffer();
    const served = { encoding: clientJs.headers.get('content-encoding'), bytes: Number(clientJs.headers.get('content-length')) };
    console.info(
      `react app: set up in ${Math.round(performance.now() - started)} ms ${JSON.stringify(app.phases)}; ` +
        `app JS ${app.appJs.raw} B raw, ${app.appJs.gzip} B gzip; SDK browser.min.js ${app.sdkBundle.raw} B raw, ${app.sdkBundle.gzip} B gzip; ` +
        `/client.js served ${served.bytes} B (${served.encoding ?? 'identity'})`,
    );
    expect(app.sdkBundle.gzip).toBeLessThan(30 * 1024);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await shortTtl?.stop();
    await gw?.stop();
    site?.server.close();
    devSite?.server.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const open = async (name: string, t: TestGateway, origin = site.origin) => {
    const context = await newContext(browser, name);
    const page = await context.newPage();
    const problems: string[] = [];
    // Uncaught errors and console errors, less the browser's own notes on requests made offline.
    page.on('console', (m) => m.type() === 'error' && !/ERR_INTERNET_DISCONNECTED|WebSocket connection to/.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await watch(page);
    await register(page, `${origin}/?gateway=${encodeURIComponent(t.url)}`);
    return { context, page, problems };
  };

  // The development build is what `vite dev` shows first: StrictMode mounts every effect twice.
  it.each(['production', 'development'] as const)('%s build: signs up and chats with a tool call from another origin; Send is locked from the click until the answer ends', async (build) => {
    const { page, problems } = await open(`react-chat-${build}`, gw, build === 'production' ? site.origin : devSite.origin);
    await page.fill('#text', 'What is 12*(3+4)?');
    await page.waitForSelector('#send:not([disabled])');
    await page.click('#send');
    const answer = await finishedAnswer(page);
    expect(answer).toContain('84');
    expect(await page.textContent('#log .tool')).toMatch(/calculator.*84/);
    await page.waitForSelector('#send:not([disabled])');
    const list = await seen(page);
    expect(sendUnlockedMidRun(list)).toEqual([]);
    expect(list.some((s) => s.users === 1 && s.answersDone === 0 && s.sendDisabled === true)).toBe(true);
    expect(list.map((s) => s.error).filter(Boolean)).toEqual([]);
    // From the chat's first paint: connecting, then connected, never a `disconnected` flash.
    expect([...new Set(list.map((s) => s.state).filter(Boolean))]).toEqual(['connecting', 'connected']);
    expect(problems).toEqual([]);
  });

  it('an offline period mid-answer: reconnecting shown, then exactly the reference text', async () => {
    const { context, page } = await open('react-offline', gw);
    await ask(page, LONG);
    await waitForAnswerLength(page, 80);
    await context.setOffline(true);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#state')?.dataset.state !== 'connected');
    await page.waitForTimeout(800);
    await context.setOffline(false);
    expect(await finishedAnswer(page)).toBe(longReference);
    await waitForState(page, 'connected');
    expect(await page.isHidden('#error')).toBe(true); // the drop's reason goes once connected again
    const list = await seen(page);
    expect(list.some((s) => s.state === 'reconnecting')).toBe(true);
    expect(sendUnlockedMidRun(list)).toEqual([]);
    expect(await page.$$eval('#log .msg.user', (m) => m.length)).toBe(1);
  });

  it('a reload mid-answer keeps the login and the session, and continues the answer with nothing lost or doubled', async () => {
    const { page } = await open('react-reload', gw);
    await ask(page, LONG);
    await waitForAnswerLength(page, 120);
    const before = await answerText(page);
    await page.reload();
    await waitForState(page, 'connected');
    expect(await page.isVisible('#auth')).toBe(false);
    // The stored transcript shows at once; the rest streams in from where the page left off.
    expect(longReference.startsWith(await answerText(page))).toBe(true);
    expect(await finishedAnswer(page)).toBe(longReference);
    expect(longReference.startsWith(before)).toBe(true);
    expect(await page.$$eval('#log .msg.user', (m) => m.length)).toBe(1);
    expect(sendUnlockedMidRun(await seen(page))).toEqual([]);
  });

  it('an access token expiring mid-answer is refreshed with no visible interruption, and a later reconnect uses the fresh one', async () => {
    const { context, page, problems } = await open('react-token-expiry', shortTtl);
    const refreshes: number[] = [];
    const unauthorized: string[] = [];
    page.on('response', (r) => r.url().endsWith('/v1/auth/refresh') && refreshes.push(r.status()));
    page.on('response', (r) => r.status() === 401 && unauthorized.push(r.url()));
    page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => typeof f.payload === 'string' && f.payload.includes('"code":"unauthorized"') && unauthorized.push(f.payload));
    });
    const signedIn = await page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.auth') ?? '{}') as { accessToken: string; expiresAt: string });
    await ask(page, LONG);
    await waitForAnswerLength(page, 40);
    // Past the first token's expiry, with the answer still streaming (40 ms a token: 16 s or more).
    await page.waitForTimeout(Math.max(0, Date.parse(signedIn.expiresAt) - Date.now()) + 1_000);
    expect(await page.getAttribute('#log .msg.assistant', 'data-status')).toBe('streaming');
    const now = await page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.auth') ?? '{}') as { accessToken: string; expiresAt: string });
    expect(now.accessToken).not.toBe(signedIn.accessToken);
    expect(Date.parse(now.expiresAt)).toBeGreaterThan(Date.now());
    expect(refreshes.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    // Nothing showed: connected throughout (from the first connect on), no error, Send locked.
    const all = await seen(page);
    const during = all.slice(all.findIndex((s) => s.state === 'connected'));
    expect(during.filter((s) => s.state !== null && s.state !== 'connected')).toEqual([]);
    expect(during.filter((s) => s.error !== null)).toEqual([]);
    expect(sendUnlockedMidRun(during)).toEqual([]);

    // A network drop after the first token expired: the reconnect authenticates with the fresh
    // token (no `unauthorized` from the server) and the answer ends as the reference's.
    await context.setOffline(true);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#state')?.dataset.state !== 'connected');
    await context.setOffline(false);
    expect(await finishedAnswer(page, 1, 60_000)).toBe(await slowReference);
    await waitForState(page, 'connected');
    expect(await page.isHidden('#error')).toBe(true);
    expect(unauthorized).toEqual([]);
    expect(refreshes).not.toContain(401);
    expect(problems).toEqual([]);
  }, 90_000);
});
