import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pageHeaders } from './browser-policy.js';
import type { Router } from './router.js';

// The compiled tree (gateway/dist/server/main.js) has both files prebuilt in gateway/dist/public.
const prebuilt = new URL('../public/', import.meta.url);
const isPrebuilt = existsSync(new URL('client.js', prebuilt));
const pageUrl = isPrebuilt ? new URL('chat-page.html', prebuilt) : new URL('./chat-page.html', import.meta.url);
const clientEntry = fileURLToPath(new URL('../../../protocol/src/browser.ts', import.meta.url));
let clientBundle: Promise<string> | null = null;

/** Bundles the typed client SDK for the browser once, on first request (or reads the prebuilt one). */
function bundleClient(): Promise<string> {
  if (isPrebuilt) return (clientBundle ??= readFile(new URL('client.js', prebuilt), 'utf8'));
  clientBundle ??= import('esbuild')
    .then((esbuild) =>
      esbuild.build({ entryPoints: [clientEntry], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, target: 'es2020' }),
    )
    .then((r) => r.outputFiles[0]!.text);
  clientBundle.catch(() => (clientBundle = null));
  return clientBundle;
}

/** `GET /` — a small chat page — and `GET /client.js`, the client SDK it uses. */
export function addPageRoutes(router: Router): void {
  router
    .add('GET', '/', async ({ req }) => {
      const html = await readFile(pageUrl, 'utf8');
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...pageHeaders(html, req.headers.host) },
        body: html,
      };
    })
    .add('GET', '/favicon.ico', async () => ({ status: 204 }))
    .add('GET', '/client.js', async () => ({
      status: 200,
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' },
      body: await bundleClient(),
    }));
}
