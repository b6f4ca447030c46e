/**
 * The few HTTP calls a virtual user makes (register, login, sessions), with typed errors that
 * carry the server's error code so a run can count failures by code.
 */

/** An HTTP call that failed; `code` is the server's error code, or `http_<status>` / `network`. */
export class HttpCallError extends Error {
  override name = 'HttpCallError';
  constructor(message: string, readonly code: string, readonly status: number) {
    super(message);
  }
}

/** Tokens returned by register and login. */
export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string };
}

async function call<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new HttpCallError(`${method} ${path}: ${(e as Error).message}`, 'network', 0);
  }
  const text = await res.text();
  if (!res.ok) {
    let code = `http_${res.status}`;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? code;
    } catch {
      /* not JSON */
    }
    throw new HttpCallError(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`, code, res.status);
  }
  return JSON.parse(text) as T;
}

/** A client of the gateway's HTTP API. */
export interface GatewayApi {
  register(email: string, password: string): Promise<AuthResult>;
  login(email: string, password: string): Promise<AuthResult>;
  createSession(token: string, title?: string): Promise<{ id: string }>;
  listSessions(token: string): Promise<unknown>;
}

/**
 * @example const api = gatewayApi('http://127.0.0.1:8080'); const { accessToken } = await api.register(email, pw);
 */
export function gatewayApi(baseUrl: string): GatewayApi {
  return {
    register: (email, password) => call(baseUrl, 'POST', '/v1/auth/register', { email, password }),
    login: (email, password) => call(baseUrl, 'POST', '/v1/auth/login', { email, password }),
    createSession: (token, title) => call(baseUrl, 'POST', '/v1/sessions', title ? { title } : {}, token),
    listSessions: (token) => call(baseUrl, 'GET', '/v1/sessions', undefined, token),
  };
}

/** A unique e-mail address for a virtual user. */
export function loadUserEmail(prefix: string, i: number): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${i}@load.test`;
}

/** The password every virtual user gets (the gateway wants at least 10 characters). */
export const LOAD_PASSWORD = 'load-test-password-1';
