import { SwitchboardError } from './errors.js';
import { browserStorage, readJson, writeJson, type StorageLike } from './storage.js';

/** The token pair the HTTP API returns from register, login and refresh. */
export interface AuthTokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ISO 8601). */
  expiresAt: string;
  user?: { id: string; email: string };
}

/** Options of {@link createAuth}. */
export interface AuthOptions {
  /** The gateway's HTTP origin, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** Tokens from a login; when absent they are read from `storage` (a reloaded page stays signed in). */
  tokens?: AuthTokens | null;
  /** Where the token pair is kept across reloads and shared between tabs; `null` keeps nothing. @default localStorage in browsers, else null */
  storage?: StorageLike | null;
  /** Storage key of the token pair. @default 'switchboard.auth' */
  storageKey?: string;
  /** Refresh this long before the access token expires. @default 60000 */
  refreshBeforeMs?: number;
  /** Refresh on a timer before expiry (so HTTP calls never see an expired token). @default true */
  autoRefresh?: boolean;
  /** `fetch` implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Called whenever the tokens change: refreshed, adopted from another tab, or cleared (`null`) on logout or a refused refresh. */
  onChange?: (tokens: AuthTokens | null) => void;
}

/** A signed-in user's tokens, refreshed through `POST /v1/auth/refresh` before and after they expire. */
export interface Auth {
  /** The current tokens, or `null` when signed out. */
  readonly tokens: AuthTokens | null;
  /**
   * A valid access token: refreshes first when it expires within `refreshBeforeMs` or when
   * `reason` is `expired`. Pass it as the client's `token`.
   * @example
   * const client = new SwitchboardClient({ url, token: auth.getAccessToken });
   */
  getAccessToken(context?: { reason: 'connect' | 'expired' }): Promise<string>;
  /** Refreshes now (one request at a time, and one per refresh token across tabs). */
  refresh(): Promise<AuthTokens>;
  /** `fetch` against the API with the bearer token; a 401 triggers one refresh and retry. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Stores tokens from a login or register response. */
  setTokens(tokens: AuthTokens | null): void;
  /** Revokes the refresh token on the server and forgets the tokens. */
  logout(): Promise<void>;
  /** Stops the refresh timer and the cross-tab listener. */
  dispose(): void;
}

const defaults = { storageKey: 'switchboard.auth', refreshBeforeMs: 60_000, autoRefresh: true } satisfies Partial<AuthOptions>;

function isTokens(v: unknown): v is AuthTokens {
  const o = v as AuthTokens | null;
  return typeof o === 'object' && o !== null && typeof o.accessToken === 'string' && typeof o.refreshToken === 'string' && typeof o.expiresAt === 'string';
}

/** Expiry of a token in ms since the epoch: `expiresAt`, else the JWT's `exp` claim. */
function expiryOf(t: AuthTokens): number {
  const at = Date.parse(t.expiresAt);
  if (Number.isFinite(at)) return at;
  try {
    const payload = JSON.parse(atob(t.accessToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : 0;
  } catch {
    return 0;
  }
}

interface LockManager {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>;
}

async function errorOf(res: Response, what: string): Promise<SwitchboardError> {
  let code = res.status === 401 ? 'unauthorized' : res.status === 429 ? 'rate_limited' : 'internal';
  let message = `${what} failed with HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = `${what}: ${body.error.message}`;
  } catch {
    /* not JSON */
  }
  const retryable = res.status >= 500 || res.status === 429;
  return new SwitchboardError(message, code, { type: 'error', code: code as never, message, retryable });
}

/**
 * Keeps a login's tokens fresh: refreshes before expiry on a timer, on demand when the server
 * says the token expired, persists them (a reload stays signed in) and shares them between tabs
 * (a refresh token rotates, so tabs take turns through the Web Locks API and adopt each other's
 * result instead of reusing a spent refresh token).
 * @example
 * const res = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
 * const auth = createAuth({ baseUrl: base, tokens: await res.json() });
 * const client = new SwitchboardClient({ url: `${wsBase}/v1/ws`, token: auth.getAccessToken });
 */
export function createAuth(options: AuthOptions): Auth {
  const o = { ...defaults, ...options };
  const storage = options.storage === undefined ? browserStorage() : options.storage;
  const doFetch = options.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
  const base = o.baseUrl.replace(/\/+$/, '');
  let tokens: AuthTokens | null = options.tokens ?? readJson(storage, o.storageKey, isTokens);
  let inFlight: Promise<AuthTokens> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const set = (next: AuthTokens | null, persist = true) => {
    const changed = next?.refreshToken !== tokens?.refreshToken || next?.accessToken !== tokens?.accessToken;
    tokens = next;
    if (persist) {
      if (next) writeJson(storage, o.storageKey, next);
      else storage?.removeItem(o.storageKey);
    }
    schedule();
    if (changed) o.onChange?.(next);
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!o.autoRefresh || !tokens) return;
    const wait = Math.max(1000, expiryOf(tokens) - o.refreshBeforeMs - Date.now());
    // Long timers overflow at 2^31 ms; a refresh that far out is re-planned when it fires.
    timer = setTimeout(() => void refresh().catch(() => {}), Math.min(wait, 2 ** 31 - 1));
    (timer as { unref?: () => void }).unref?.();
  };

  const fresh = (t: AuthTokens | null) => t !== null && expiryOf(t) - o.refreshBeforeMs > Date.now();

  const exchange = async (spent: AuthTokens): Promise<AuthTokens> => {
    // Another tab may have refreshed already: its pair is in storage, and ours is spent.
    const stored = readJson(storage, o.storageKey, isTokens);
    if (stored && stored.refreshToken !== spent.refreshToken && fresh(stored)) return stored;
    let res: Response;
    try {
      res = await doFetch(`${base}/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: spent.refreshToken }),
      });
    } catch (e) {
      throw new SwitchboardError(`token refresh failed: ${String(e)}`, 'internal', { type: 'error', code: 'internal', message: String(e), retryable: true }, undefined, { cause: e });
    }
    if (!res.ok) throw await errorOf(res, 'token refresh');
    const next = (await res.json()) as AuthTokens;
    if (!isTokens(next)) throw new SwitchboardError('token refresh returned no tokens', 'internal');
    return { ...next, user: next.user ?? spent.user };
  };

  const refresh = (): Promise<AuthTokens> => {
    if (inFlight) return inFlight;
    const spent = tokens;
    if (!spent) return Promise.reject(new SwitchboardError('not signed in', 'unauthorized'));
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    const run = () => exchange(spent);
    inFlight = (locks ? locks.request(`${o.storageKey}.refresh`, run) : run())
      .then(
        (next) => {
          set(next);
          return next;
        },
        (e: SwitchboardError) => {
          // A refused refresh (revoked, reused, expired) signs out; a network failure keeps the pair for a retry.
          if (e.code === 'unauthorized') set(null);
          throw e;
        },
      )
      .finally(() => (inFlight = null));
    return inFlight;
  };

  const onStorage = (ev: { key: string | null; newValue: string | null }) => {
    if (ev.key !== o.storageKey) return;
    let next: AuthTokens | null = null;
    try {
      const v: unknown = ev.newValue ? JSON.parse(ev.newValue) : null;
      next = isTokens(v) ? v : null;
    } catch {
      next = null;
    }
    set(next, false);
  };
  const g = globalThis as unknown as { addEventListener?: (t: string, l: (ev: never) => void) => void; removeEventListener?: (t: string, l: (ev: never) => void) => void };
  if (storage && typeof g.addEventListener === 'function') g.addEventListener('storage', onStorage);

  const auth: Auth = {
    get tokens() {
      return tokens;
    },
    getAccessToken: async (context) => {
      if (!tokens) throw new SwitchboardError('not signed in', 'unauthorized');
      if (context?.reason === 'expired' || !fresh(tokens)) return (await refresh()).accessToken;
      return tokens.accessToken;
    },
    refresh,
    async fetch(path, init = {}) {
      const call = async (token: string) => {
        const headers = new Headers(init.headers);
        headers.set('authorization', `Bearer ${token}`);
        if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
        return doFetch(`${base}${path}`, { ...init, headers });
      };
      const res = await call(await auth.getAccessToken());
      if (res.status !== 401) return res;
      return call(await auth.getAccessToken({ reason: 'expired' }));
    },
    setTokens: (t) => set(t),
    async logout() {
      const t = tokens;
      set(null);
      if (t) await doFetch(`${base}/v1/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: t.refreshToken }) }).catch(() => {});
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = null;
      g.removeEventListener?.('storage', onStorage);
    },
  };
  schedule();
  return auth;
}
