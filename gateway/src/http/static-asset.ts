import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { HttpRequest, HttpResponse } from '../transport/types.js';

/** A file served from memory: its bytes compressed once, and a strong ETag from its content. */
export interface StaticAsset {
  contentType: string;
  /** The content as text (for headers computed from it, such as a page's CSP hashes). */
  text: string;
  /** First 16 hex digits of the content's SHA-256 (the `v` of a versioned URL). */
  hash: string;
  etag: string;
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
}

/**
 * Compresses a file once (brotli at its best quality, gzip at level 9) and names its content.
 * @example
 * const asset = staticAsset(bundleText, 'text/javascript; charset=utf-8');
 * router.add('GET', '/client.js', async ({ req }) => serveAsset(req, asset));
 */
export function staticAsset(body: string | Buffer, contentType: string): StaticAsset {
  const identity = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return {
    contentType,
    text: identity.toString('utf8'),
    hash,
    etag: `"${hash}"`,
    identity,
    gzip: gzipSync(identity, { level: 9 }),
    br: brotliCompressSync(identity, {
      params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length },
    }),
  };
}

type Coding = 'br' | 'gzip' | 'identity';

/** The best coding the client accepts (`Accept-Encoding` with q-values; `*` counts; q=0 refuses). */
export function pickEncoding(acceptEncoding: string | undefined): Coding {
  if (!acceptEncoding) return 'identity';
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name.trim(), Number.isFinite(value) ? value : 0);
  }
  const accepts = (c: string) => (q.get(c) ?? q.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip') || (q.get('x-gzip') ?? 0) > 0) return 'gzip';
  return 'identity';
}

/** True when `If-None-Match` names this ETag (or is `*`); weak forms match too, as for GET they should. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * Answers a GET or HEAD for an asset: the smallest coding the client accepts, `Vary:
 * Accept-Encoding`, the ETag, `304` when `If-None-Match` matches, and no body for HEAD.
 * `cacheControl` defaults to revalidating every time; `extraHeaders` (a page's CSP, say) go on
 * every answer.
 */
export function serveAsset(req: HttpRequest, asset: StaticAsset, cacheControl = 'no-cache', extraHeaders: Record<string, string> = {}): HttpResponse {
  const headers: Record<string, string> = {
    ...extraHeaders,
    'content-type': asset.contentType,
    'cache-control': cacheControl,
    etag: asset.etag,
    vary: 'accept-encoding',
  };
  if (matches(req.headers['if-none-match'], asset.etag)) return { status: 304, headers };
  const coding = pickEncoding(req.headers['accept-encoding']);
  const body = coding === 'identity' ? asset.identity : asset[coding];
  if (coding !== 'identity') headers['content-encoding'] = coding;
  // HEAD: the GET's headers without its body (the transport reports the length it sends, 0).
  if (req.method === 'HEAD') return { status: 200, headers, body: '' };
  return { status: 200, headers, body };
}
