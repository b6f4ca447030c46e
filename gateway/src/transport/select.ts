import { createUwsTransport, uwsAvailable } from './uws.js';
import { createWsTransport } from './ws.js';
import type { Transport, TransportHandlers, TransportOptions } from './types.js';

/**
 * Picks the transport: `uws` when asked or (for `auto`) when its native binary loads here, else `ws`.
 * Asking for `uws` where it cannot load is an error, never a silent downgrade.
 */
export function createTransport<D>(
  choice: 'auto' | 'uws' | 'ws',
  handlers: TransportHandlers<D>,
  options: TransportOptions,
): { transport: Transport<D>; degraded: boolean } {
  if (choice === 'ws') return { transport: createWsTransport(handlers, options), degraded: false };
  const available = uwsAvailable();
  if (choice === 'uws' && !available) throw new Error('TRANSPORT=uws but uWebSockets.js cannot load on this runtime (Node 20 is required)');
  if (available) return { transport: createUwsTransport(handlers, options), degraded: false };
  return { transport: createWsTransport(handlers, options), degraded: true };
}
