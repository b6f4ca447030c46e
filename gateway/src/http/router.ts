import type { z } from 'zod';
import { GatewayError, toGatewayError } from '../errors.js';
import { withLogContext, type LogContext, type Logger } from '../logger.js';
import { NO_INSTRUMENTATION, type Instrumentation } from '../ports.js';
import type { HttpRequest, HttpResponse } from '../transport/types.js';

export interface RouteContext {
  req: HttpRequest;
  params: Record<string, string>;
  /** The request's id, for the lines a route logs (security events). */
  requestId?: string;
}
export type RouteHandler = (ctx: RouteContext) => Promise<HttpResponse>;

/** The `route` label of requests no route matched. */
export const UNMATCHED_ROUTE = 'unmatched';

interface Route {
  path: string;
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: status === 204 ? '' : JSON.stringify(body) };
}

/**
 * Turns any error into the API's error body, in one place; a 5xx is logged (with the request id
 * the log context carries) when a logger is given.
 */
export function errorResponse(e: unknown, logger?: Logger, path?: string): HttpResponse {
  const err = toGatewayError(e);
  if (err.status >= 500) logger?.error('request failed', { path, status: err.status, error: e instanceof Error ? e.stack : String(e) });
  const headers: Record<string, string> = {};
  if (err.options.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.options.retryAfterMs / 1000)));
  return json(err.status, { error: { code: err.code, message: err.message } }, headers);
}

/** Parses a JSON (or, where allowed, form-encoded) body with a zod schema; 400 with the first problem. */
export function parseBody<T>(req: HttpRequest, schema: z.ZodType<T>, options: { form?: boolean } = {}): T {
  const type = req.headers['content-type'] ?? '';
  let value: unknown;
  const text = req.body.toString('utf8');
  if (options.form && type.startsWith('application/x-www-form-urlencoded')) {
    value = Object.fromEntries(new URLSearchParams(text));
  } else {
    if (!type.includes('json') && text.length > 0) throw new GatewayError('bad_frame', 'send a JSON body with content-type application/json');
    try {
      value = text.length ? JSON.parse(text) : {};
    } catch {
      throw new GatewayError('bad_frame', 'body is not valid JSON');
    }
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    const message = i ? `${i.path.join('.') || 'body'}: ${i.message}` : 'invalid body';
    // A text over its limit is a 413, as on the socket.
    if (r.error.issues.some((x) => x.code === 'too_big' && x.path[0] === 'text')) throw new GatewayError('too_large', message);
    throw new GatewayError('bad_frame', message);
  }
  return r.data;
}

/** A small method + path router with `:params`; 404 and 405 answered in the API's error shape. */
export class Router {
  private readonly routes: Route[] = [];

  private readonly logger?: Logger;
  private readonly events: Pick<Instrumentation, 'http'>;

  /**
   * @param options.logger where 5xx answers are logged
   * @param options.instrumentation told of every answered request, by route pattern
   */
  constructor(options: { logger?: Logger; instrumentation?: Pick<Instrumentation, 'http'> } = {}) {
    this.logger = options.logger;
    this.events = options.instrumentation ?? NO_INSTRUMENTATION;
  }

  add(method: string, path: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/\/:([a-zA-Z]+)/g, (_, k: string) => {
        keys.push(k);
        return '/([^/]+)';
      })}/?$`,
    );
    this.routes.push({ path, method, pattern, keys, handler });
    return this;
  }

  /** The methods routed for `path` (HEAD with every GET); empty when no route matches. */
  methodsFor(path: string): string[] {
    const methods = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(path)) methods.add(r.method).add(r.method === 'GET' ? 'HEAD' : r.method);
    return [...methods];
  }

  /** `logContext`: ids (the request id) for the line a failed request logs. */
  async handle(req: HttpRequest, logContext?: LogContext): Promise<HttpResponse> {
    const started = performance.now();
    const { route, res } = await this.dispatch(req, logContext);
    this.events.http(req.method, route, res.status, (performance.now() - started) / 1000);
    return res;
  }

  private async dispatch(req: HttpRequest, logContext: LogContext | undefined): Promise<{ route: string; res: HttpResponse }> {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(req.path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => (params[k] = safeDecode(m[i + 1]!)));
      try {
        return { route: r.path, res: await r.handler({ req, params, requestId: logContext?.requestId }) };
      } catch (e) {
        const logger = this.logger && logContext ? withLogContext(this.logger, logContext) : this.logger;
        return { route: r.path, res: errorResponse(e, logger, req.path) };
      }
    }
    return {
      route: UNMATCHED_ROUTE,
      res: pathMatched
        ? json(405, { error: { code: 'bad_frame', message: `method ${req.method} not allowed` } })
        : json(404, { error: { code: 'not_found', message: 'no such route' } }),
    };
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
