/** Drives the built-in chat page the way a person would, and reads what it shows. */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestGateway } from '../support/harness.js';

let counter = 0;
export const PASSWORD = 'correct horse battery';

export function freshEmail(tag: string): string {
  return `${tag}-${process.pid}-${Date.now()}-${++counter}@example.com`;
}

/** Registers a new user through the page's form; resolves once the socket is connected. */
export async function register(page: Page, baseUrl: string, email = freshEmail('page')): Promise<string> {
  await page.goto(baseUrl);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('#register');
  await waitForState(page, 'connected');
  return email;
}

export async function waitForState(page: Page, state: string, timeout = 15_000): Promise<void> {
  await page.waitForSelector(`#state[data-state="${state}"]`, { timeout });
}

export async function stateText(page: Page): Promise<{ state: string; text: string }> {
  return page.$eval('#state', (el) => ({ state: (el as HTMLElement).dataset.state ?? '', text: el.textContent ?? '' }));
}

/** Types a message and presses Send (which must be enabled). */
export async function ask(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.waitForSelector('#send:not([disabled])');
  await page.click('#send');
}

/** The text of the `n`-th answer (1-based) of the open session, '' before it appears. */
export async function answerText(page: Page, n = 1): Promise<string> {
  return page.evaluate((i) => document.querySelectorAll('#log .msg.assistant .text')[i - 1]?.textContent ?? '', n);
}

/** Waits until the `n`-th answer has at least `chars` characters (mid-answer). */
export async function waitForAnswerLength(page: Page, chars: number, n = 1): Promise<void> {
  await page.waitForFunction(([c, i]) => (document.querySelectorAll('#log .msg.assistant .text')[i! - 1]?.textContent ?? '').length >= c!, [chars, n]);
}

/** Waits for the `n`-th answer to end and returns its text. */
export async function finishedAnswer(page: Page, n = 1, timeout = 30_000): Promise<string> {
  await page.waitForFunction((i) => (document.querySelectorAll('#log .msg.assistant')[i - 1] as HTMLElement | undefined)?.dataset.status === 'done', n, { timeout });
  return answerText(page, n);
}

/** The page shows no error and is back to a usable, connected state. */
export async function expectHealthy(page: Page): Promise<void> {
  await waitForState(page, 'connected');
  expect(await page.isHidden('#problem')).toBe(true);
  await page.waitForSelector('#send:not([disabled])', { state: 'attached' }).catch(() => {});
}

/** The answer a plain Node client gets for `text` in a fresh session: what every page must show. */
export async function referenceAnswer(t: TestGateway, text: string): Promise<string> {
  const u = await t.user();
  const client = t.client(u.token);
  await client.connect();
  const sessionId = await t.session(u.token);
  let answer = '';
  for await (const f of client.send({ sessionId, text })) if (f.type === 'token') answer += f.text;
  client.close();
  return answer;
}
