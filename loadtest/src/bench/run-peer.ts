/**
 * Runs one bench peer: start its server process, hold N idle sockets (KB per socket), then fan a
 * stream of token frames out to M subscribers (frames/s delivered, frames per server CPU-second).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNodeClient } from '@switchboard/protocol/node';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { gatewayApi, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { connectInspector } from '../support/inspector.js';
import { fitLine } from '../stats/fit.js';
import { readCpuSeconds, settledRssKiB } from '../support/proc.js';
import type { ClientCommand, ClientReport } from './bench-client.js';
import type { PeerKind, PeerReport } from './frames.js';

/** Bench sizes. */
export interface BenchSizes {
  subscribers: number;
  frames: number;
  /** Socket counts at which idle memory is measured (rising); KB per socket is the fitted slope. */
  idleMarks: number[];
  /** `LLM_MODELS` for gateway peers (the mock, unpaced). */
  gatewayEnv: Record<string, string>;
  /** Command that runs the gateway (default: the load tests' gateway command). */
  gatewayCmd?: string;
}

/** What one peer measured (`status` says why figures are missing). */
export interface PeerResult {
  peer: PeerKind;
  status: 'ok' | 'unavailable' | 'failed';
  reason?: string;
  fanout?: {
    delivered: number;
    expected: number;
    windowMs: number;
    framesPerSecond: number;
    /** Model tokens delivered per second: frames for the bare servers (a token each), the run's tokens × subscribers for the gateway (whose frames merge tokens). */
    tokensPerSecond: number;
    serverCpuSeconds: number;
    serverCores: number;
    framesPerCpuSecond: number;
    clientCpuSeconds: number;
  };
  idle?: IdleResult;
  seconds: number;
}

/** Idle memory per socket: settled, garbage-collected figures at several socket counts. */
export interface IdleResult {
  failed: number;
  /** Sockets open, RSS (KiB) and JS heap used (KiB) after a forced full GC, at each mark. */
  marks: Array<{ sockets: number; rssKiB: number; heapKiB: number }>;
  /** Least-squares slope of RSS (and of the heap) over the marks, KB per socket, with its R². */
  kbPerSocket: number;
  rssR2: number;
  heapKbPerSocket: number;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function forkTs(path: string, args: string[] = [], nodeFlags: string[] = []): ChildProcess {
  const child = fork(path, args, { execArgv: ['--import', 'tsx', ...nodeFlags], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  // Pass the child's errors through, without the inspector's banner.
  child.stderr!.on('data', (d: Buffer) => {
    const text = d
      .toString()
      .split('\n')
      .filter((l) => l && !/^Debugger (listening|ending|attached)|^For help, see|^Waiting for the debugger/.test(l))
      .join('\n');
    if (text) process.stderr.write(`${text}\n`);
  });
  return child;
}

/** Median RSS over a second and the JS heap, after two forced full GCs (the target settles first). */
async function settledMemory(pid: number, inspectorUrl: string | null): Promise<{ rssKiB: number; heapKiB: number }> {
  await sleep(1500);
  if (!inspectorUrl) return { rssKiB: (await settledRssKiB(pid)) ?? 0, heapKiB: 0 };
  const session = await connectInspector(inspectorUrl);
  try {
    // Two full collections a second apart: the second lets V8 release what the first freed.
    await session.collectGarbage();
    await sleep(1000);
    await session.collectGarbage();
    await sleep(500);
    const heap = await session.heapUsage();
    const rss = (await settledRssKiB(pid, 1000, 5)) ?? 0;
    return { rssKiB: rss, heapKiB: heap.usedSize / 1024 };
  } finally {
    session.close();
  }
}

function nextMessage<T>(child: ChildProcess, pick: (m: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (cleanup(), reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
    const onMessage = (m: T) => pick(m) && (cleanup(), resolve(m));
    const onExit = (code: number | null) => (cleanup(), reject(new Error(`process exited (${code}) while waiting for ${what}`)));
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function withClient<T>(fn: (c: ChildProcess) => Promise<T>): Promise<T> {
  const client = forkTs(here('./bench-client.ts'));
  try {
    return await fn(client);
  } finally {
    client.send({ type: 'close' } satisfies ClientCommand);
    await Promise.race([new Promise((r) => client.once('exit', r)), sleep(3000)]);
    client.kill('SIGKILL');
  }
}

async function connect(client: ChildProcess, cmd: Extract<ClientCommand, { type: 'connect' }>): Promise<Extract<ClientReport, { type: 'connected' }>> {
  client.send(cmd);
  const r = await nextMessage<ClientReport>(client, (m) => m.type === 'connected', 120_000, 'sockets to open');
  return r as Extract<ClientReport, { type: 'connected' }>;
}

/** Runs one peer end to end; never throws (failures are in the result). */
export async function runPeer(peer: PeerKind, sizes: BenchSizes, log: (line: string) => void): Promise<PeerResult> {
  const t0 = performance.now();
  let server: ChildProcess | null = null;
  let gateway: GatewayProcess | null = null;
  try {
    // 1. The server process.
    let pid: number, port: number, url: string, token: string | undefined, sessionId: string | undefined;
    let inspector: () => string | null;
    const clientKind: 'ws' | 'socketio' | 'gateway' = peer === 'socketio' ? 'socketio' : peer.startsWith('gateway') ? 'gateway' : 'ws';
    let trigger: () => Promise<void>;
    if (peer === 'gateway-uws' || peer === 'gateway-ws') {
      const transport = peer === 'gateway-uws' ? 'uws' : 'ws';
      try {
        gateway = await startGatewayProcess({
          transport,
          command: sizes.gatewayCmd,
          nodeOptions: ['--inspect=127.0.0.1:0'],
          env: { ...sizes.gatewayEnv, MAX_BACKPRESSURE_BYTES: String(8 * 1024 * 1024) },
        });
      } catch (e) {
        return { peer, status: 'unavailable', reason: `gateway on ${transport} did not start: ${(e as Error).message.split('\n')[0]}`, seconds: (performance.now() - t0) / 1000 };
      }
      if (gateway.transport !== transport) {
        return { peer, status: 'unavailable', reason: `gateway runs on ${gateway.transport}, not ${transport}, on this runtime`, seconds: (performance.now() - t0) / 1000 };
      }
      pid = gateway.pid;
      port = gateway.port;
      const gw = gateway;
      inspector = () => gw.inspectorUrl();
      url = gateway.wsUrl;
      const api = gatewayApi(gateway.url);
      const email = loadUserEmail('bench', 0);
      await api.register(email, LOAD_PASSWORD);
      token = (await api.login(email, LOAD_PASSWORD)).accessToken;
      sessionId = (await api.createSession(token, 'bench')).id;
      const sender = createNodeClient({ url, token, clientName: 'bench' });
      await sender.connect();
      trigger = async () => {
        const done = await sender.send({ sessionId: sessionId!, text: 'stream the bench answer' }).done;
        sender.close();
        if (done.reason !== 'stop') throw new Error(`the run ended ${done.reason}`);
      };
    } else {
      server = forkTs(here('./peer-server.ts'), [peer], ['--inspect=127.0.0.1:0']);
      const first = await nextMessage<PeerReport>(server, (m) => m.type === 'listening' || m.type === 'unavailable', 30_000, `${peer} to listen`);
      if (first.type === 'unavailable') return { peer, status: 'unavailable', reason: first.reason, seconds: (performance.now() - t0) / 1000 };
      pid = server.pid!;
      const listening = first as Extract<PeerReport, { type: 'listening' }>;
      port = listening.port;
      inspector = () => listening.inspector ?? null;
      url = peer === 'socketio' ? `http://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/`;
      const srv = server;
      trigger = async () => {
        srv.send({ type: 'stream', frames: sizes.frames });
        await nextMessage<PeerReport>(srv, (m) => m.type === 'streamed', 300_000, `${peer} to stream`);
      };
    }
    void port;

    // 2. Idle sockets: memory per socket, as the slope through settled, collected marks
    // (startup garbage and pool sizing are the intercept; one noisy mark moves the slope less
    // than it moves a difference of two).
    const idle = await withClient(async (client) => {
      const marks: IdleResult['marks'] = [];
      let open = 0, failed = 0;
      for (const target of sizes.idleMarks) {
        const r = await connect(client, { type: 'connect', kind: clientKind, url, count: target - open - failed, token });
        open += r.open;
        failed += r.failed;
        marks.push({ sockets: open, ...(await settledMemory(pid, inspector())) });
      }
      const sockets = marks.map((m) => m.sockets);
      const rss = fitLine(sockets, marks.map((m) => m.rssKiB));
      const heap = fitLine(sockets, marks.map((m) => m.heapKiB));
      return { failed, marks, kbPerSocket: rss.b, rssR2: rss.r2, heapKbPerSocket: heap.b } satisfies IdleResult;
    });
    if (!inspector()) log(`  ${peer}: no inspector URL, so no forced GC (heap not measured)`);
    log(
      `  ${peer}: idle ${idle.marks.map((m) => m.sockets).join(' → ')} sockets: ${idle.kbPerSocket.toFixed(3)} KB RSS (R² ${idle.rssR2.toFixed(3)}), ${idle.heapKbPerSocket.toFixed(3)} KB heap per socket`,
    );
    await sleep(500);

    // 3. Fan-out.
    const fanout = await withClient(async (client) => {
      const r = await connect(client, { type: 'connect', kind: clientKind, url, count: sizes.subscribers, token, sessionId });
      if (r.failed) throw new Error(`${r.failed} subscribers failed to connect: ${r.error}`);
      const perSubscriber = clientKind === 'gateway' ? sizes.frames + 2 : sizes.frames; // user + tokens + done
      const expected = perSubscriber * sizes.subscribers;
      // A gateway subscriber's stream ends with the run's done: its token frames are coalesced, so
      // `expected` is only an upper bound there.
      client.send({ type: 'expect', total: expected, idleMs: 5000, dones: clientKind === 'gateway' ? sizes.subscribers : undefined } satisfies ClientCommand);
      const got = nextMessage<ClientReport>(client, (m) => m.type === 'received', 300_000, 'frames to arrive');
      const cpu0 = readCpuSeconds(pid) ?? 0;
      const w0 = performance.now();
      await trigger();
      const rec = (await got) as Extract<ClientReport, { type: 'received' }>;
      const serverCpu = (readCpuSeconds(pid) ?? 0) - cpu0;
      const wallS = (performance.now() - w0) / 1000;
      const windowS = Math.max(0.001, rec.windowMs / 1000);
      return {
        delivered: rec.received,
        expected,
        windowMs: rec.windowMs,
        framesPerSecond: rec.received / windowS,
        tokensPerSecond: (clientKind === 'gateway' ? rec.dones * sizes.frames : rec.received) / windowS,
        serverCpuSeconds: serverCpu,
        serverCores: serverCpu / wallS,
        framesPerCpuSecond: serverCpu > 0 ? rec.received / serverCpu : 0,
        clientCpuSeconds: rec.cpuSeconds,
      };
    });
    log(`  ${peer}: fan-out ${Math.round(fanout.framesPerSecond)} frames/s, ${Math.round(fanout.framesPerCpuSecond)} frames per server CPU-s`);
    return { peer, status: 'ok', idle, fanout, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    return { peer, status: 'failed', reason: (e as Error).message, seconds: (performance.now() - t0) / 1000 };
  } finally {
    if (server) {
      server.kill('SIGTERM');
      await Promise.race([new Promise((r) => server!.once('exit', r)), sleep(3000)]);
    }
    await gateway?.stop();
  }
}
