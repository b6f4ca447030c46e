import { withLogContext, type Logger } from '../logger.js';
import type { HttpHandler, HttpResponse } from '../transport/types.js';
import { corsHeaders, NO_CROSS_ORIGIN, preflight, SECURITY_HEADERS, type BrowserPolicy } from './browser-policy.js';
import { clientIp, parseTrustedProxies } from './client-ip.js';
import { errorResponse, json, type Router } from './router.js';

/** The client's address: the peer, or the `X-Forwarded-For` hop a trusted proxy vouches for. */
export type ClientAddress = (req: { remoteAddress: string; headers: Record<string, string> }) => string;

/** Reads `TRUST_PROXY` once. */
export function createClientAddress(trustProxy: string | undefined): ClientAddress {
  const trusted = parseTrustedProxies(trustProxy);
  return (req) => clientIp(req.remoteAddress, req.headers['x-forwarded-for'], trusted);
}

/**
 * The transport's HTTP entry: the client address, a request id on a failed request's log line, CORS
 * preflights, then the router; a handler that throws past the router still gets the API's error
 * body. Every response leaves with the security headers and, for an allowed origin, its CORS
 * headers (DESIGN §4).
 * @example
 * const http = createHttpHandler(router, { address: createClientAddress(config.TRUST_PROXY), logger, browser });
 */
export function createHttpHandler(router: Router, options: { address: ClientAddress; logger: Logger; browser?: BrowserPolicy }): HttpHandler {
  const browser = options.browser ?? NO_CROSS_ORIGIN;
  return (raw) => {
    const req = { ...raw, remoteAddress: options.address(raw) };
    const origin = req.headers.origin;
    return (async () => {
      let res: HttpResponse;
      if (req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined) {
        const methods = router.methodsFor(req.path);
        if (!methods.length) res = json(404, { error: { code: 'not_found', message: 'no such route' } });
        else {
          const p = preflight(browser, origin, methods);
          res = p.status === 204 ? { status: 204, headers: p.headers } : json(403, { error: { code: 'forbidden', message: 'this origin is not allowed (CORS_ORIGINS)' } }, p.headers);
        }
        return withHeaders(res, SECURITY_HEADERS);
      }
      // The request id goes on the line of a request that failed (handed on, not an async context).
      const requestId = Math.random().toString(36).slice(2, 10);
      res = await router.handle(req, { requestId }).catch((e: unknown) => errorResponse(e, withLogContext(options.logger, { requestId }), req.path));
      return withHeaders(res, { ...SECURITY_HEADERS, ...corsHeaders(browser, origin) });
    })();
  };
}

function withHeaders(res: HttpResponse, headers: Record<string, string>): HttpResponse {
  return { ...res, headers: { ...headers, ...res.headers } };
}
