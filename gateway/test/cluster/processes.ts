/**
 * Child processes for multi-process tests: free ports, spawning with captured output, waiting for
 * an HTTP endpoint, and a last-resort kill of every child when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A spawned child whose output is kept (the tail is printed when a test fails). */
export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the child has exited. */
  readonly exited: Promise<number | string>;
  /** Whether the child is still running. */
  readonly alive: boolean;
  /** Sends a signal (no-op once it has exited). */
  kill(signal?: NodeJS.Signals): void;
  /** Stops the child: `signal`, then SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** The last lines the child wrote (stdout and stderr). */
  output(): string;
}

const live = new Set<ChildHandle>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Whatever happens to the test process, its children do not outlive it.
  process.on('exit', () => {
    for (const c of live) if (c.alive) c.kill('SIGKILL');
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a child that keeps its last `keepLines` lines of output. */
export function spawnChild(name: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; keepLines?: number } = {}): ChildHandle {
  installExitHook();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = options.keepLines ?? 200;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (lines.length > keep) lines.shift();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let running = child.pid !== undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(handle);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (e) => {
      running = false;
      live.delete(handle);
      lines.push(`spawn failed: ${e.message}`);
      resolve('spawn-error');
    });
  });
  const handle: ChildHandle = {
    name,
    pid: child.pid ?? -1,
    process: child,
    exited,
    get alive() {
      return running;
    },
    kill(signal = 'SIGTERM') {
      if (running) child.kill(signal);
    },
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      if (!running) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    output: () => lines.join('\n'),
  };
  live.add(handle);
  return handle;
}

/** Polls `url` until it answers `status` (default any 2xx); fails after `timeoutMs` or when `child` exits. */
export async function waitForHttp(url: string, options: { timeoutMs?: number; child?: ChildHandle; status?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (options.child && !options.child.alive) throw new Error(`${options.child.name} exited before ${url} answered:\n${options.child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (options.status === undefined ? res.ok : res.status === options.status) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${url} (${last})${options.child ? `:\n${options.child.output()}` : ''}`);
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves like `promise`, or rejects naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
