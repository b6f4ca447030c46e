// The one place that knows where the gateway's test harness lives: the SDK's tests run against a
// real gateway started in-process from the workspace.
import { TokenService } from '../../../gateway/src/auth/tokens.js';
import { startTestGateway, type TestGateway } from '../../../gateway/test/support/harness.js';
import { createNodeClient } from '../../src/node.js';
import type { ClientOptions } from '../../src/client.js';
import { memoryStorage } from '../../src/storage.js';

export type { TestGateway };

const JWT_SECRET = 'sdk-test-secret-sdk-test-secret-0123456789';

/** A gateway on port 0 with embedded backends and the slow-enough local model; 64 KiB frames, so the SDK's byte check before send has a text (25,000 "€") to refuse. */
export function startGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  return startTestGateway({ transport: 'ws', env: { JWT_SECRET, LOCAL_MODEL_TOKEN_DELAY_MS: '5', MAX_FRAME_BYTES: '65536', ...env } });
}

/** An access token for `userId` that expired a minute ago, signed with the gateway's key. */
export async function expiredAccessToken(userId: string): Promise<string> {
  const tokens = new TokenService(JWT_SECRET, { accessS: -60, resumeS: 600 });
  return (await tokens.signAccess({ userId })).token;
}

/** A client as an app would build it (reconnecting, heartbeats, in-memory storage unless given). */
export function appClient(t: TestGateway, options: Omit<ClientOptions, 'url' | 'WebSocket'>) {
  return createNodeClient({ url: t.wsUrl, storage: memoryStorage(), reconnectBaseMs: 20, ...options });
}

/** Polls until `probe` holds (frames arrive asynchronously). */
export async function until(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!probe()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
