/**
 * Helpers of the hostile-input suites: forged tokens, raw HTTP over a plain TCP socket (to see
 * exactly what a server writes, e.g. a HEAD body), and a table type.
 */
import { connect } from 'node:net';
import { SignJWT } from 'jose';

/** One row of a table-driven case list. */
export interface Case<T> {
  name: string;
  input: T;
}

/** The secret the hostile suites start their gateways with (passed as JWT_SECRET). */
export const TEST_JWT_SECRET = 'hostile-suite-secret-hostile-suite-secret-0123';

const key = new TextEncoder().encode(TEST_JWT_SECRET);

/** Signs a JWT with the test gateway's secret (or `secret`), with any claims. */
export async function signToken(
  claims: Record<string, unknown>,
  o: { secret?: string; expiresIn?: string | number; issuer?: string | null; alg?: string; subject?: string; notBefore?: string } = {},
): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256' }).setIssuedAt();
  if (o.issuer !== null) jwt = jwt.setIssuer(o.issuer ?? 'switchboard');
  if (o.subject) jwt = jwt.setSubject(o.subject);
  if (o.notBefore) jwt = jwt.setNotBefore(o.notBefore);
  jwt = jwt.setExpirationTime(o.expiresIn ?? '5m');
  return jwt.sign(o.secret ? new TextEncoder().encode(o.secret) : key);
}

/** An unsigned `alg: none` token, which no verifier may accept. */
export function unsignedToken(payload: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: 'switchboard', exp: Math.floor(Date.now() / 1000) + 300, ...payload })}.`;
}

/** A parsed raw HTTP/1.1 response. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Bytes that followed the header block (for a HEAD: must be empty). */
  body: string;
}

/**
 * Writes `requests` (full HTTP/1.1 request texts) on one keep-alive TCP connection, one after
 * the other, and returns what came back for each; the connection is closed after the last one.
 * A HEAD answered with a body desynchronizes the stream, which this makes visible.
 */
export async function rawHttp(port: number, requests: string[], settleMs = 150): Promise<RawResponse[]> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d) => (received += d.toString('latin1')));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const out: RawResponse[] = [];
  for (const request of requests) {
    received = '';
    socket.write(request);
    const deadline = Date.now() + 3000;
    // Read until the header block is complete and no more bytes arrive for a moment.
    let last = -1;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, settleMs));
      if (received.includes('\r\n\r\n') && received.length === last) break;
      last = received.length;
    }
    out.push(parseRaw(received));
  }
  socket.destroy();
  return out;
}

function parseRaw(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: text };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4) };
}

/** A request text for {@link rawHttp}. */
export function request(method: string, path: string, headers: Record<string, string> = {}, body = ''): string {
  const all = { host: 'localhost', ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) };
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`;
}

/** Resolves after `ms`; the suites use it only to let a server finish writing, never to assert time. */
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A random uuid v4 (a user or session that does not exist). */
export { randomUUID as uuid } from 'node:crypto';
