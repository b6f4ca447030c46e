import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pageHeaders } from './browser-policy.js';
import type { Router } from './router.js';
import { serveAsset, staticAsset, type StaticAsset } from './static-asset.js';

// The compiled tree (gateway/dist/server/main.js) has both files prebuilt in gateway/dist/public.
const prebuilt = new URL('../public/', import.meta.url);
const isPrebuilt = existsSync(new URL('client.js', prebuilt));
const pageUrl = isPrebuilt ? new URL('chat-page.html', prebuilt) : new URL('./chat-page.html', import.meta.url);
const clientEntry = fileURLToPath(new URL('../../../protocol/src/browser.ts', import.meta.url));
const JS = 'text/javascript; charset=utf-8';
const HTML = 'text/html; charset=utf-8';
/** A versioned URL never changes content: browsers and proxies may keep it for a year without asking. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The client SDK's browser bundle: prebuilt, or bundled from source on first use in development. */
async function clientSource(): Promise<string> {
  if (isPrebuilt) return readFile(new URL('client.js', prebuilt), 'utf8');
  const esbuild = await import('esbuild');
  const r = await esbuild.build({ entryPoints: [clientEntry], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, target: 'es2020' });
  return r.outputFiles[0]!.text;
}

/** Builds each asset once (and again only if building failed). */
function once(build: () => Promise<StaticAsset>): () => Promise<StaticAsset> {
  let p: Promise<StaticAsset> | null = null;
  return () => {
    p ??= build();
    p.catch(() => (p = null));
    return p;
  };
}

const clientAsset = once(async () => staticAsset(await clientSource(), JS));
// The page imports the bundle by its versioned URL, so a reload after a deploy gets the new one.
const pageAsset = once(async () => {
  const [page, client] = await Promise.all([readFile(pageUrl, 'utf8'), clientAsset()]);
  return staticAsset(page.replaceAll("'/client.js'", `'/client.js?v=${client.hash}'`), HTML);
});

/**
 * `GET /` — a small chat page — and `GET /client.js`, the client SDK it uses. Both are compressed
 * once (brotli, gzip) and carry an ETag; `/client.js?v=<hash>` of the current build is cached as
 * immutable, `/client.js` alone is revalidated on every use.
 */
export function addPageRoutes(router: Router): void {
  router
    .add('GET', '/', async ({ req }) => {
      const page = await pageAsset();
      return serveAsset(req, page, 'no-cache', pageHeaders(page.text, req.headers.host));
    })
    .add('GET', '/favicon.ico', async () => ({ status: 204 }))
    .add('GET', '/client.js', async ({ req }) => {
      const asset = await clientAsset();
      return serveAsset(req, asset, req.query.get('v') === asset.hash ? IMMUTABLE : 'no-cache');
    });
}
