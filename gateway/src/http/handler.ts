import { withLogContext, type Logger } from '../logger.js';
import type { HttpHandler } from '../transport/types.js';
import { clientIp, parseTrustedProxies } from './client-ip.js';
import { errorResponse, type Router } from './router.js';

/** The client's address: the peer, or the `X-Forwarded-For` hop a trusted proxy vouches for. */
export type ClientAddress = (req: { remoteAddress: string; headers: Record<string, string> }) => string;

/** Reads `TRUST_PROXY` once. */
export function createClientAddress(trustProxy: string | undefined): ClientAddress {
  const trusted = parseTrustedProxies(trustProxy);
  return (req) => clientIp(req.remoteAddress, req.headers['x-forwarded-for'], trusted);
}

/**
 * The transport's HTTP entry: the client address, a request id in the log context, then the
 * router; a handler that throws past the router still gets the API's error body.
 * @example
 * const http = createHttpHandler(router, { address: createClientAddress(config.TRUST_PROXY), logger });
 */
export function createHttpHandler(router: Router, options: { address: ClientAddress; logger: Logger }): HttpHandler {
  return (raw) => {
    const req = { ...raw, remoteAddress: options.address(raw) };
    return withLogContext({ requestId: Math.random().toString(36).slice(2, 10) }, () =>
      router.handle(req).catch((e: unknown) => errorResponse(e, options.logger, req.path)),
    );
  };
}
