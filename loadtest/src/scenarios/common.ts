/**
 * What every scenario shares: the target gateway (a child it starts, or `--url`), the in-process
 * mock LLM, CPU meters and the gateway's memory.
 */
import { randomBytes } from 'node:crypto';
import { createMockOpenAI, type MockOpenAI, type MockScenario } from '@switchboard/mock-llm';
import { startPostgresRedis } from '../support/backends.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startNginx, type Nginx } from '../support/nginx.js';
import { CpuMeter, readRssKiB, type CpuWindow } from '../support/proc.js';

/** Options every scenario takes. */
export interface CommonOptions {
  /** Use a running gateway instead of starting one (e.g. `http://127.0.0.1:8080`). */
  url?: string;
  /** The pid of the gateway at `url`, to read its memory and CPU. */
  pid?: number;
  /** Transport of the gateway child. @default 'auto' */
  transport: 'auto' | 'uws' | 'ws';
  /** Write a V8 CPU profile of the gateway child into this directory. */
  cpuProf?: string;
  /** Gateway child log level. @default 'warn' */
  logLevel?: string;
  /** Backends of the gateway child: embedded (PGlite, in-process bus) or a fresh Postgres database + a private Redis. @default 'embedded' */
  stack?: 'embedded' | 'postgres-redis';
  /** Command that runs the gateway child. @default `LOADTEST_GATEWAY_CMD`, else `node --import tsx gateway/src/main.ts` */
  gatewayCmd?: string;
  /** No progress line. @default false */
  quiet: boolean;
  /** Gateway children on one Postgres + Redis behind nginx (needs `stack: 'postgres-redis'`). @default 1 */
  replicas?: number;
}

/** The gateway under load. */
export interface Target {
  url: string;
  wsUrl: string;
  pid: number | null;
  transport: string;
  rssKiB(): number | null;
  cpu: CpuMeter | null;
  /** With replicas: each gateway's CPU and nginx's, reported beside the sum in `cpu`. */
  parts?: Array<{ label: string; cpu: CpuMeter }>;
  tail(): string;
  stop(): Promise<void>;
}

/** The fields every scenario's report starts with. */
export function reportHead(scenario: string, run: { command: string; startedAt: string; durationS: number; options: object; target: Target }) {
  const { command, startedAt, durationS, options, target } = run;
  return { scenario, command, startedAt, durationS, options: { ...options }, target: { url: target.url, transport: target.transport, pid: target.pid } };
}

/** Starts (or attaches to) the gateway; `env` is passed to a started child. */
export async function openTarget(o: CommonOptions, env: Record<string, string> = {}): Promise<Target> {
  if (o.url) {
    const url = o.url.replace(/\/$/, '');
    const wsUrl = `${url.replace(/^http/, 'ws')}/v1/ws`;
    let transport = 'unknown';
    try {
      transport = ((await (await fetch(`${url}/readyz`)).json()) as { transport?: string }).transport ?? 'unknown';
    } catch (e) {
      throw new Error(`cannot reach ${url}/readyz: ${(e as Error).message}`);
    }
    const pid = o.pid ?? null;
    return {
      url,
      wsUrl,
      pid,
      transport,
      rssKiB: () => (pid ? readRssKiB(pid) : null),
      cpu: pid ? new CpuMeter(pid) : null,
      tail: () => '',
      stop: async () => {},
    };
  }
  if ((o.replicas ?? 1) > 1) return openReplicas(o, env);
  const backends = o.stack === 'postgres-redis' ? await startPostgresRedis('loadtest') : null;
  let gw;
  try {
    gw = await startGatewayProcess({ transport: o.transport, env: { ...env, ...(backends?.env ?? {}) }, cpuProfDir: o.cpuProf, logLevel: o.logLevel, command: o.gatewayCmd });
  } catch (e) {
    await backends?.close();
    throw e;
  }
  return {
    url: gw.url,
    wsUrl: gw.wsUrl,
    pid: gw.pid,
    transport: gw.transport,
    rssKiB: () => readRssKiB(gw.pid),
    cpu: new CpuMeter(gw.pid),
    tail: () => gw.tail(),
    stop: async () => {
      await gw.stop();
      await backends?.close();
    },
  };
}

/** `o.replicas` gateway children on one fresh Postgres database and one Redis, behind nginx (round-robin). */
async function openReplicas(o: CommonOptions, env: Record<string, string>): Promise<Target> {
  if (o.stack !== 'postgres-redis') throw new Error('--replicas needs --stack postgres-redis (replicas share Postgres and Redis)');
  const backends = await startPostgresRedis('loadtest');
  const gateways: Awaited<ReturnType<typeof startGatewayProcess>>[] = [];
  let proxy: Nginx | undefined;
  const stop = async () => {
    await proxy?.stop();
    await Promise.all(gateways.map((g) => g.stop()));
    await backends.close();
  };
  try {
    // One secret for all (a token from one replica is good on the others); one after the other:
    // the first migrates the fresh database.
    const shared = { ...env, ...backends.env, JWT_SECRET: randomBytes(32).toString('hex'), TRUST_PROXY: '127.0.0.1' };
    for (let i = 0; i < (o.replicas ?? 1); i++) {
      gateways.push(await startGatewayProcess({ transport: o.transport, env: { ...shared, NODE_ID: `replica-${i + 1}` }, logLevel: o.logLevel, command: o.gatewayCmd }));
    }
    proxy = await startNginx(gateways.map((g) => g.port));
  } catch (e) {
    await stop();
    throw e;
  }
  const pids = gateways.map((g) => g.pid);
  const nginx = proxy;
  return {
    url: nginx.url,
    wsUrl: nginx.wsUrl,
    pid: null,
    transport: gateways[0]!.transport,
    rssKiB: () => pids.reduce((sum, pid) => sum + (readRssKiB(pid) ?? 0), 0),
    cpu: new CpuMeter(() => pids),
    parts: [...gateways.map((g, i) => ({ label: `gateway ${i + 1} CPU`, cpu: new CpuMeter(g.pid) })), { label: 'nginx CPU', cpu: new CpuMeter(() => nginx.pids()) }],
    tail: () => gateways.map((g) => g.tail()).join('\n'),
    stop,
  };
}

/** The model name the gateway is pointed at. */
export const MOCK_MODEL = 'load';

/** Starts the mock LLM in this process and returns it with the gateway's `LLM_MODELS`. */
export async function startMock(scenario: MockScenario): Promise<{ mock: MockOpenAI; env: Record<string, string> }> {
  const mock = await createMockOpenAI({ scenarios: { [MOCK_MODEL]: scenario }, logLimit: 10 });
  const env = {
    LLM_MODELS: JSON.stringify([{ name: 'mock', model: MOCK_MODEL, baseURL: mock.url, apiKey: 'x' }]),
  };
  return { mock, env };
}

/** `loadgen 0.42 cores | gateway 0.80 cores, 143 MiB` for the progress line. */
export function cpuLine(loadgen: CpuMeter, target: Target): string {
  const g = target.cpu?.read();
  const rss = target.rssKiB();
  return `loadgen ${loadgen.read().cores.toFixed(2)} cores | gateway ${g ? `${g.cores.toFixed(2)} cores` : 'cpu n/a'}, ${rss ? `${(rss / 1024).toFixed(0)} MiB` : 'rss n/a'}`;
}

/** Rows every result ends with. */
export function cpuRows(loadgen: CpuWindow, gateway: CpuWindow | null, rssKiB: number | null): Array<[string, string]> {
  return [
    ['load generator CPU', `${loadgen.cores.toFixed(2)} cores (${loadgen.seconds.toFixed(1)} s)`],
    ['gateway CPU', gateway ? `${gateway.cores.toFixed(2)} cores (${gateway.seconds.toFixed(1)} s)` : 'n/a (pass --pid)'],
    ['gateway RSS at end', rssKiB ? `${(rssKiB / 1024).toFixed(1)} MiB` : 'n/a'],
  ];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` for `items` with at most `limit` at a time. */
export async function pool<T>(items: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(items);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items) }, async () => {
    while (next < items) {
      const i = next++;
      out[i] = await fn(i);
    }
  });
  await Promise.all(workers);
  return out;
}
