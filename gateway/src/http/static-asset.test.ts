import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '../transport/types.js';
import { pickEncoding, serveAsset, staticAsset } from './static-asset.js';

const req = (method: string, headers: Record<string, string> = {}): HttpRequest => ({
  method,
  path: '/client.js',
  query: new URLSearchParams(),
  headers,
  body: Buffer.alloc(0),
  remoteAddress: '127.0.0.1',
  signal: new AbortController().signal,
});

describe('static assets', () => {
  const text = 'export const x = 1;\n'.repeat(500);
  const asset = staticAsset(text, 'text/javascript; charset=utf-8');

  it('compresses once to brotli and gzip that decode to the same bytes, with a content hash', () => {
    expect(brotliDecompressSync(asset.br).toString()).toBe(text);
    expect(gunzipSync(asset.gzip).toString()).toBe(text);
    expect(asset.br.length).toBeLessThan(asset.identity.length);
    expect(asset.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(staticAsset(text + ' ', 'x').hash).not.toBe(asset.hash);
  });

  it('picks the coding from Accept-Encoding with q-values', () => {
    expect(pickEncoding(undefined)).toBe('identity');
    expect(pickEncoding('gzip, deflate, br')).toBe('br');
    expect(pickEncoding('gzip')).toBe('gzip');
    expect(pickEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(pickEncoding('*')).toBe('br');
    expect(pickEncoding('*;q=0, identity')).toBe('identity');
    expect(pickEncoding('deflate')).toBe('identity');
    expect(pickEncoding(',,;q=,br;q=abc')).toBe('identity');
  });

  it('answers GET with the coding, Vary and ETag; HEAD with the length and no body; 304 on a matching If-None-Match', () => {
    const gz = serveAsset(req('GET', { 'accept-encoding': 'gzip' }), asset);
    expect(gz).toMatchObject({ status: 200, headers: { 'content-encoding': 'gzip', vary: 'accept-encoding', etag: asset.etag, 'cache-control': 'no-cache' } });
    expect((gz as { body: Buffer }).body).toBe(asset.gzip);
    const plain = serveAsset(req('GET'), asset, 'public, max-age=1');
    expect(plain.headers).not.toHaveProperty('content-encoding');
    expect(plain.headers?.['cache-control']).toBe('public, max-age=1');
    const head = serveAsset(req('HEAD', { 'accept-encoding': 'br' }), asset);
    expect(head).toMatchObject({ status: 200, body: '', headers: { 'content-encoding': 'br', etag: asset.etag } });
    for (const tag of [asset.etag, `W/${asset.etag}`, `"other", ${asset.etag}`, '*']) {
      const r = serveAsset(req('GET', { 'if-none-match': tag }), asset);
      expect(r.status).toBe(304);
      expect('body' in r && r.body).toBeFalsy();
    }
    expect(serveAsset(req('GET', { 'if-none-match': '"stale"' }), asset).status).toBe(200);
  });
});
