/**
 * Debian's Chromium driven by playwright-core (its own browser download does not work offline).
 * With `CI=true` the browser suites must run; elsewhere they skip with the reason when Chromium is
 * missing. A failed test leaves a screenshot of every open page in a temp dir and prints its path.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { onTestFinished } from 'vitest';

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
/** Without the networking flags Chromium keeps calling home and floods a closed network. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Whether Chromium is here; throws under `CI=true` when it is not. */
export function chromiumPrerequisite(): { available: boolean; reason: string } {
  let reason = '';
  try {
    accessSync(CHROMIUM_BIN, constants.X_OK);
    const v = spawnSync(CHROMIUM_BIN, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    if (v.status !== 0) reason = `${CHROMIUM_BIN} --version failed: ${v.stderr || v.error?.message}`;
  } catch {
    reason = `Chromium not found at ${CHROMIUM_BIN} (apt-get install chromium, or set CHROMIUM_BIN)`;
  }
  if (!reason) return { available: true, reason };
  if (process.env.CI === 'true') throw new Error(`browser suites cannot run: ${reason} (CI=true: they must run)`);
  console.warn(`skipping browser suites: ${reason}`);
  return { available: false, reason };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: FLAGS });
}

let shotDir: string | null = null;

/**
 * A fresh browser context (its own localStorage: one "user"), closed when the test ends; when it
 * failed, every page of it is screenshotted first.
 */
export async function newContext(browser: Browser, name: string): Promise<BrowserContext> {
  const context = await browser.newContext();
  context.setDefaultTimeout(15_000);
  onTestFinished(async ({ task }) => {
    if (task.result?.state === 'fail') {
      shotDir ??= mkdtempSync(join(tmpdir(), 'switchboard-browser-'));
      for (const [i, page] of context.pages().entries()) {
        const path = join(shotDir, `${name}-${i}.png`.replace(/[^\w.-]+/g, '_'));
        await page.screenshot({ path, fullPage: true }).then(
          () => console.error(`screenshot of the failed test "${name}": ${path}`),
          (e: Error) => console.error(`no screenshot for "${name}": ${e.message}`),
        );
      }
    }
    await context.close();
  });
  return context;
}
