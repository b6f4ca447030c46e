import WebSocket from 'ws';
import { SwitchboardClient, type ClientOptions, type WebSocketConstructor } from './client.js';

/**
 * Creates a client that uses the `ws` package (Node has no stable global WebSocket on v20).
 * @example
 * const client = createNodeClient({ url: 'ws://localhost:8080/v1/ws', token });
 * await client.connect();
 */
export function createNodeClient(options: Omit<ClientOptions, 'WebSocket'>): SwitchboardClient {
  return new SwitchboardClient({ ...options, WebSocket: WebSocket as unknown as WebSocketConstructor });
}
export { SwitchboardClient } from './client.js';
export { SwitchboardError } from './errors.js';
export { createAuth } from './auth.js';
export type { Auth, AuthOptions, AuthTokens } from './auth.js';
export type { ClientEvents, ClientOptions, ConnectionState, SessionHandle, TokenProvider } from './client.js';
export type { RunHandle } from './run-stream.js';
