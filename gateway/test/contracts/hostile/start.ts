import { startTestGateway, type TestGateway } from '../../support/harness.js';
import type { BackendOverrides } from '../../../src/backends/index.js';
import { TEST_JWT_SECRET } from './support.js';

export type Transport = 'uws' | 'ws';

/** A log line as the gateway's logger wrote it (JSON fields). */
export type LogLine = Record<string, unknown> & { level: string; message: string };

export interface HostileGateway extends TestGateway {
  /** Every log line written since start (level `debug` and up). */
  logs: LogLine[];
}

/** Starts a gateway for a hostile suite: the suite's JWT secret, logs captured, `env` on top. */
export async function startHostile(transport: Transport, env: Record<string, string> = {}, overrides?: BackendOverrides): Promise<HostileGateway> {
  const logs: LogLine[] = [];
  const t = await startTestGateway({ transport, env: { JWT_SECRET: TEST_JWT_SECRET, HELLO_TIMEOUT_MS: '1000', ...env }, overrides, logSink: (line) => logs.push(line as LogLine) });
  return Object.assign(t, { logs });
}

/** Log lines at `warn` whose `event` is `event`. */
export function securityEvents(logs: LogLine[], event: string): LogLine[] {
  return logs.filter((l) => l.level === 'warn' && l.event === event);
}
