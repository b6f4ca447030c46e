/**
 * Starts a gateway as a child process (`node --import tsx gateway/src/main.ts`, or the command in
 * `LOADTEST_GATEWAY_CMD`, e.g. `node gateway/dist/server/main.js`) on a free port with a temporary
 * data directory, so a scenario measures a real node process it owns. The command-line tools
 * measure the compiled gateway by default ({@link measuredGatewayCommand}).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (three levels above this file). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Options of {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  /** `auto`, `uws` or `ws`. @default 'auto' */
  transport?: 'auto' | 'uws' | 'ws';
  /** Extra environment (wins over the load-test defaults). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile into this directory on exit (`--cpu-prof`). */
  cpuProfDir?: string;
  /** Gateway log level. @default 'warn' */
  logLevel?: string;
  /** How long to wait for `/healthz`. @default 60000 */
  startTimeoutMs?: number;
  /** The command that runs the gateway, split on spaces. @default {@link gatewayCommand} */
  command?: string;
  /** Extra Node flags, passed through `NODE_OPTIONS` so they apply to any command. */
  nodeOptions?: string[];
}

/** The default gateway command; `LOADTEST_GATEWAY_CMD` overrides it (run from the repository root). */
export const DEFAULT_GATEWAY_CMD = 'node --import tsx gateway/src/main.ts';

/** The gateway command in effect: `override`, else `LOADTEST_GATEWAY_CMD`, else the default. */
export function gatewayCommand(override?: string): string {
  return (override ?? process.env.LOADTEST_GATEWAY_CMD ?? '').trim() || DEFAULT_GATEWAY_CMD;
}

/** The compiled gateway, as production runs it (`pnpm start`). */
export const COMPILED_GATEWAY_CMD = 'node gateway/dist/server/main.js';

/**
 * The gateway command for `pnpm loadtest` and `pnpm bench`: `override`, else `LOADTEST_GATEWAY_CMD`,
 * else the compiled gateway, built here first (about a second), so that figures are those of
 * production code with no TypeScript loader in the process.
 */
export function measuredGatewayCommand(override?: string): string {
  const chosen = (override ?? process.env.LOADTEST_GATEWAY_CMD ?? '').trim();
  if (chosen) return chosen;
  execFileSync(process.execPath, [join(repoRoot, 'infra', 'build.mjs')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  return COMPILED_GATEWAY_CMD;
}

/** A running gateway child. */
export interface GatewayProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/v1/ws` */
  readonly wsUrl: string;
  /** The transport the gateway reported in `/readyz`. */
  readonly transport: string;
  /** The last lines the child printed (for error reports). */
  tail(): string;
  /** The inspector's WebSocket URL when the child runs with `--inspect` (see `nodeOptions`). */
  inspectorUrl(): string | null;
  /** SIGTERM, then SIGKILL after `graceMs`; removes the data directory. */
  stop(graceMs?: number): Promise<void>;
}

/** Limits raised so that the load generator, not the abuse guards, decides the load. */
export const loadTestGatewayEnv: Record<string, string> = {
  APP_ENV: 'development',
  HOST: '127.0.0.1',
  LOG_FORMAT: 'json',
  RATE_MESSAGES_PER_SECOND: '100000',
  RATE_MESSAGE_BURST: '100000',
  RATE_SENDS_PER_MINUTE: '1000000',
  RATE_CONNECTIONS_PER_IP_PER_MINUTE: '10000000',
  RATE_SOCKETS_PER_USER: '1000000',
  LOGIN_ATTEMPTS_PER_15_MIN: '10000000',
  RATE_REGISTRATIONS_PER_IP_PER_HOUR: '10000000',
  RATE_SESSIONS_PER_USER_PER_MINUTE: '10000000',
  DAILY_TOKEN_BUDGET: '0',
  DRAIN_TIMEOUT_MS: '2000',
  HEARTBEAT_MS: '30000',
  HELLO_TIMEOUT_MS: '30000',
};

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a gateway child and waits until `/healthz` answers.
 * @example
 * const gw = await startGatewayProcess({ transport: 'uws' });
 * // ... load ...
 * await gw.stop();
 */
export async function startGatewayProcess(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-load-'));
  const nodeOptions = [...(options.nodeOptions ?? [])];
  const [bin, ...args] = gatewayCommand(options.command).split(/\s+/);
  // Node refuses --cpu-prof in NODE_OPTIONS: it goes on the command line of a `node` command.
  if (options.cpuProfDir) {
    if (bin !== 'node') throw new Error('--cpu-prof needs a gateway command that starts with `node`');
    args.unshift('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  }
  const child: ChildProcess = spawn(bin === 'node' ? process.execPath : bin!, args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...(nodeOptions.length ? { NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...nodeOptions].join(' ').trim() } : {}),
      ...loadTestGatewayEnv,
      LOG_LEVEL: options.logLevel ?? 'warn',
      TRANSPORT: options.transport ?? 'auto',
      PORT: String(port),
      DATA_DIR: dataDir,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let inspector: string | null = null;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    inspector ??= /Debugger listening on (ws:\/\/\S+)/.exec(text)?.[1] ?? null;
    for (const l of text.split('\n')) if (l.trim()) lines.push(l);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // Never leave a gateway behind if this process ends first.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exited: number | null = null;
  // 'close', not 'exit': by then its output is read, so a failed start shows why.
  const exit = new Promise<void>((resolve) => child.once('close', (code, signal) => ((exited = code ?? (signal ? 128 : 0)), resolve())));
  const url = `http://127.0.0.1:${port}`;
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let transport = 'unknown';
  for (;;) {
    if (exited !== null) {
      cleanup();
      throw new Error(`gateway exited with ${exited} before it was ready:\n${lines.slice(-20).join('\n')}`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      const body = (await res.json()) as { transport?: string };
      if (res.ok) {
        transport = body.transport ?? 'unknown';
        break;
      }
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`gateway not ready after ${options.startTimeoutMs ?? 60_000} ms:\n${lines.slice(-20).join('\n')}`);
    }
    await sleep(100);
  }

  return {
    pid: child.pid!,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    transport,
    tail: () => lines.slice(-30).join('\n'),
    inspectorUrl: () => inspector,
    async stop(graceMs = 8000) {
      if (exited === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      cleanup();
    },
  };
}
