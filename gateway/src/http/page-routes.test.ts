import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/support/harness.js';

/** One request on a fresh connection; the raw headers and body as they came. */
function request(base: string, method: string, path: string, headers: Record<string, string> = {}) {
  const u = new URL(base);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const r = http.request({ host: u.hostname, port: u.port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end();
  });
}

describe.each(['uws', 'ws'] as const)('%s: the chat page and /client.js', (transport) => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ transport });
  }, 60_000);
  afterAll(() => t.stop());

  it('serves the bundle compressed (br, gzip, identity) with an ETag, 304 on revalidation, HEAD without a body', async () => {
    const br = await request(t.url, 'GET', '/client.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers).toMatchObject({ 'content-encoding': 'br', vary: 'accept-encoding', 'cache-control': 'no-cache' });
    const etag = br.headers.etag!;
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    const gz = await request(t.url, 'GET', '/client.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await request(t.url, 'GET', '/client.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(plain.body.toString()).toContain('switchboard.v1');
    expect(gz.body.length).toBeLessThan(30 * 1024);

    const head = await request(t.url, 'HEAD', '/client.js', { 'accept-encoding': 'gzip' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.headers.etag).toBe(etag);

    const again = await request(t.url, 'GET', '/client.js', { 'if-none-match': etag, 'accept-encoding': 'gzip' });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('the page imports the bundle by its versioned URL, which is cached as immutable; a stale version revalidates', async () => {
    const page = await request(t.url, 'GET', '/', { 'accept-encoding': 'gzip' });
    expect(page.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip', 'cache-control': 'no-cache' });
    const html = gunzipSync(page.body).toString();
    const versioned = /'(\/client\.js\?v=([0-9a-f]{16}))'/.exec(html);
    expect(versioned).not.toBeNull();
    const [, url, hash] = versioned!;
    const current = await request(t.url, 'GET', url!);
    expect(current.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(current.headers.etag).toBe(`"${hash}"`);
    const stale = await request(t.url, 'GET', '/client.js?v=0000000000000000');
    expect(stale.status).toBe(200);
    expect(stale.headers['cache-control']).toBe('no-cache');
  });
});
