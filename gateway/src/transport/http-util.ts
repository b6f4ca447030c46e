import { STATUS_CODES } from 'node:http';

/** "200 OK"-style status line text. */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** The error code of a refused upgrade's status. */
export function upgradeErrorCode(status: number): string {
  return status === 429 ? 'rate_limited' : status === 404 ? 'not_found' : status === 403 ? 'forbidden' : status === 503 ? 'busy' : 'unauthorized';
}

/** A JSON error body in the API's shape. */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** Methods that carry no body unless the client says so. */
export function expectsBody(method: string, headers: Record<string, string>): boolean {
  if (headers['content-length'] !== undefined) return headers['content-length'] !== '0';
  if (headers['transfer-encoding'] !== undefined) return true;
  return !(method === 'GET' || method === 'HEAD' || method === 'DELETE' || method === 'OPTIONS');
}
