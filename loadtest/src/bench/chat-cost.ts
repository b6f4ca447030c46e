/**
 * `pnpm bench chat` — the chat path as a cost model. The gateway (a child process) streams
 * answers of several lengths from the paced mock to a fixed number of users running back to back;
 * its CPU-seconds per phase (from /proc, not wall time) are fitted by least squares to
 * `CPU = a·runs + b·tokens`, on both stacks (embedded: PGlite + in-process bus; Postgres + Redis).
 * The same invocation measures the floors over the same paced mock, each in its own process:
 * node:http with a minimal SSE parser, the `openai` SDK stream, `ChatOpenAI.stream()`, and a
 * minimal uWS relay of the mock's stream to a socket. It prints ours ÷ each floor.
 *
 *   pnpm bench chat [--concurrency 20] [--phases 5x200,50x100,200x40] [--pace-ms 20]
 *                   [--stacks embedded,postgres-redis] [--floors node-http,openai-sdk,langchain,uws-relay]
 *                   [--floor-tokens 200] [--floor-rounds 2] [--warm-batches 8] [--gateway-cmd "node gateway/dist/main.js"]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import { createNodeClient } from '@switchboard/protocol/node';
import type { SwitchboardClient } from '@switchboard/protocol';
import { createLatencyRecorder, type LatencySummary } from '../stats/histogram.js';
import { fitTwo } from '../stats/fit.js';
import { startPostgresRedis } from '../support/backends.js';
import { gatewayCommand, measuredGatewayCommand, startGatewayProcess } from '../support/gateway-process.js';
import { gatewayApi, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { machineInfo, readCpuSeconds, readRssKiB } from '../support/proc.js';
import { fmtNum, markdownTable, resultsDir } from '../support/report.js';
import type { FloorJob, FloorKind, FloorReport } from './floor-client.js';

export const STACKS = ['embedded', 'postgres-redis'] as const;
export type Stack = (typeof STACKS)[number];
export const FLOORS: FloorKind[] = ['node-http', 'openai-sdk', 'langchain', 'uws-relay'];
const FLOOR_LABEL: Record<FloorKind, string> = {
  'node-http': 'node:http + minimal SSE parser',
  'openai-sdk': '`openai` SDK stream',
  langchain: '`ChatOpenAI.stream()`',
  'uws-relay': 'minimal uWS relay (mock → socket)',
};
const STACK_LABEL: Record<Stack, string> = { embedded: 'embedded (PGlite, in-process bus)', 'postgres-redis': 'Postgres + Redis' };

/** Mock models: the gateway's (scenario set per phase), the floors' (paced) and the warm-up's. */
const GATEWAY_MODEL = 'cost';
const FLOOR_MODEL = 'floor';
const WARM_MODEL = 'warm';
/** Runs per user in one warm-up batch of the gateway. */
const WARM_RUNS_PER_USER = 25;
/** Answer length in the warm-up: short, so a batch is many runs, and still a stream of tokens. */
const WARM_TOKENS = 10;

export interface ChatCostOptions {
  concurrency: number;
  phases: Array<{ tokens: number; runs: number }>;
  paceMs: number;
  stacks: Stack[];
  floors: FloorKind[];
  floorTokens: number;
  floorConcurrency: number;
  floorRounds: number;
  /** Most warm-up batches before the phases (they stop early once the cost per run settles). */
  warmBatches: number;
  transport: 'auto' | 'uws' | 'ws';
  /** The gateway's `TOKEN_COALESCE_MS` (0, its default: merge only tokens already waiting). */
  coalesceMs: number;
  gatewayCmd?: string;
  write: boolean;
}

interface PhaseResult {
  tokensPerAnswer: number;
  runs: number;
  succeeded: number;
  errors: Record<string, number>;
  modelTokens: number;
  tokenFrames: number;
  mockRequests: number;
  wallS: number;
  /** Gateway CPU over the phase and its settling, minus the idle rate over the same time. */
  cpuSeconds: number;
  rawCpuSeconds: number;
  ttftMs: LatencySummary;
  interTokenGapMs: LatencySummary;
}

interface Fit {
  perRunMs: number;
  perTokenUs: number;
  /** Share of the phases' CPU variance the fit explains. */
  r2: number;
  /** Measured − fitted, per phase, in ms. */
  residualsMs: number[];
}

interface WarmBatch {
  runs: number;
  msPerRun: number;
}

interface StackResult {
  stack: Stack;
  status: 'ok' | 'failed';
  reason?: string;
  transport?: string;
  idleCores?: number;
  /** CPU per run of each warm-up batch, in order: the JIT's one-off cost made visible. */
  warmUp?: WarmBatch[];
  phases: PhaseResult[];
  fit?: Fit;
  rssMiBAtEnd?: number;
}

interface FloorResult {
  kind: FloorKind;
  status: 'ok' | 'failed';
  reason?: string;
  streams?: number;
  tokens?: number;
  cpuSeconds?: number;
  usPerToken?: number;
  /** For the relay: the `ws` client's own CPU (the figure is the relay server's). */
  clientCpuSeconds?: number;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

/** The warm-up has settled: at least three batches, the last within 5 % of the one before it. */
export function warmedUp(batches: ReadonlyArray<{ msPerRun: number }>): boolean {
  if (batches.length < 3) return false;
  const last = batches[batches.length - 1]!.msPerRun;
  const prev = batches[batches.length - 2]!.msPerRun;
  return Math.abs(last - prev) <= prev * 0.05;
}

/** Waits until the gateway's CPU stops rising faster than idle (post-run work included), ≤ 5 s. */
async function settle(pid: number, idleCores: number): Promise<void> {
  let prev = readCpuSeconds(pid) ?? 0;
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    const now = readCpuSeconds(pid) ?? 0;
    if (now - prev <= idleCores * 0.25 + 0.01) return;
    prev = now;
  }
}

interface User {
  client: SwitchboardClient;
  sessions: string[];
}

/** One run: send, time every token frame, resolve with the `done` reason. */
async function oneRun(
  user: User,
  sessionId: string,
  text: string,
  ttft: ReturnType<typeof createLatencyRecorder>,
  gap: ReturnType<typeof createLatencyRecorder>,
): Promise<{ reason: string; frames: number }> {
  const sentAt = performance.now();
  let firstAt = 0, lastAt = 0, frames = 0;
  const off = user.client.onFrame((f) => {
    if (f.type !== 'token' || f.sessionId !== sessionId) return;
    const now = performance.now();
    frames++;
    if (!firstAt) {
      firstAt = now;
      ttft.record(now - sentAt);
    } else gap.record(now - lastAt);
    lastAt = now;
  });
  try {
    const done = await user.client.send({ sessionId, text }).done;
    return { reason: done.reason === 'stop' ? 'stop' : `done:${done.reason}`, frames };
  } catch (e) {
    return { reason: (e as { code?: string }).code ?? 'exception', frames };
  } finally {
    off();
  }
}

async function measureStack(stack: Stack, o: ChatCostOptions, mock: MockOpenAI, llmEnv: Record<string, string>): Promise<StackResult> {
  const backends = stack === 'postgres-redis' ? await startPostgresRedis('bench_chat') : null;
  let gw: Awaited<ReturnType<typeof startGatewayProcess>> | null = null;
  const users: User[] = [];
  try {
    gw = await startGatewayProcess({ transport: o.transport, command: o.gatewayCmd, env: { ...llmEnv, ...(backends?.env ?? {}), TOKEN_COALESCE_MS: String(o.coalesceMs) } });
    const pid = gw.pid;
    log(`  ${stack}: gateway pid ${pid} on ${gw.transport}`);
    const api = gatewayApi(gw.url);
    // One session per warm-up batch and per phase, so no phase runs on a long conversation.
    const nSessions = o.warmBatches + o.phases.length;
    for (let i = 0; i < o.concurrency; i++) {
      const email = loadUserEmail(`cost-${stack}`, i);
      await api.register(email, LOAD_PASSWORD);
      const { accessToken } = await api.login(email, LOAD_PASSWORD);
      const sessions: string[] = [];
      for (let s = 0; s < nSessions; s++) sessions.push((await api.createSession(accessToken, `cost ${i}.${s}`)).id);
      const client = createNodeClient({ url: gw.wsUrl, token: accessToken, clientName: 'bench-chat', reconnect: false });
      await client.connect();
      users.push({ client, sessions });
    }

    const runPhase = async (sessionIndex: number, runs: number) => {
      const ttft = createLatencyRecorder();
      const gap = createLatencyRecorder();
      const errors: Record<string, number> = {};
      let next = 0, succeeded = 0, frames = 0;
      await Promise.all(
        users.map(async (u, i) => {
          while (next < runs) {
            const n = next++;
            const r = await oneRun(u, u.sessions[sessionIndex]!, `answer number ${n} for user ${i}`, ttft, gap);
            frames += r.frames;
            if (r.reason === 'stop') succeeded++;
            else errors[r.reason] = (errors[r.reason] ?? 0) + 1;
          }
        }),
      );
      return { ttft: ttft.summary(), gap: gap.summary(), errors, succeeded, frames };
    };

    // Warm-up until the JIT has settled: V8 keeps optimizing (on its background threads, which
    // count in the gateway's CPU) for the first few thousand runs, so a short warm-up charges that
    // one-off compile to the first phase's runs. Batches of short answers until one costs within
    // 5 % of the one before it; what each batch cost is reported.
    mock.setScenario(GATEWAY_MODEL, { ttftMs: 0, tokensPerSecond: 1000 / o.paceMs, responseTokens: WARM_TOKENS });
    const warmUp: WarmBatch[] = [];
    for (let b = 0; b < o.warmBatches; b++) {
      const cpu0 = readCpuSeconds(pid) ?? 0;
      const warm = await runPhase(b, o.concurrency * WARM_RUNS_PER_USER);
      if (warm.succeeded === 0) throw new Error(`no warm-up run succeeded: ${JSON.stringify(warm.errors)}\n${gw.tail()}`);
      await settle(pid, 0.05);
      const msPerRun = (((readCpuSeconds(pid) ?? 0) - cpu0) * 1000) / warm.succeeded;
      warmUp.push({ runs: warm.succeeded, msPerRun });
      if (warmedUp(warmUp)) break;
    }
    log(`  ${stack}: warm-up ${warmUp.map((w) => `${w.runs} runs at ${w.msPerRun.toFixed(2)} ms`).join(', ')} (${WARM_TOKENS} tokens each, CPU per run)`);
    const i0 = readCpuSeconds(pid) ?? 0;
    await sleep(3000);
    const idleCores = Math.max(0, ((readCpuSeconds(pid) ?? 0) - i0) / 3);

    const phases: PhaseResult[] = [];
    for (const [p, phase] of o.phases.entries()) {
      mock.setScenario(GATEWAY_MODEL, { ttftMs: 0, tokensPerSecond: 1000 / o.paceMs, responseTokens: phase.tokens });
      const req0 = mock.stats.requests;
      const cpu0 = readCpuSeconds(pid) ?? 0;
      const t0 = performance.now();
      const r = await runPhase(o.warmBatches + p, phase.runs);
      await settle(pid, idleCores);
      const wallS = (performance.now() - t0) / 1000;
      const raw = (readCpuSeconds(pid) ?? 0) - cpu0;
      const result: PhaseResult = {
        tokensPerAnswer: phase.tokens,
        runs: phase.runs,
        succeeded: r.succeeded,
        errors: r.errors,
        modelTokens: r.succeeded * phase.tokens,
        tokenFrames: r.frames,
        mockRequests: mock.stats.requests - req0,
        wallS,
        rawCpuSeconds: raw,
        cpuSeconds: Math.max(0, raw - idleCores * wallS),
        ttftMs: r.ttft,
        interTokenGapMs: r.gap,
      };
      phases.push(result);
      log(
        `  ${stack}: ${phase.runs} runs × ${phase.tokens} tokens — ${r.succeeded} ok, gateway ${result.cpuSeconds.toFixed(2)} CPU-s in ${wallS.toFixed(1)} s, ` +
          `TTFT p50/p99 ${r.ttft.p50.toFixed(1)}/${r.ttft.p99.toFixed(1)} ms, gap p50/p99 ${r.gap.p50.toFixed(1)}/${r.gap.p99.toFixed(1)} ms`,
      );
    }
    const ok = phases.filter((p) => p.succeeded > 0);
    const f = fitTwo(
      ok.map((p) => p.succeeded),
      ok.map((p) => p.modelTokens),
      ok.map((p) => p.cpuSeconds),
    );
    const fit: Fit = { perRunMs: f.a * 1000, perTokenUs: f.b * 1e6, r2: f.r2, residualsMs: f.residuals.map((x) => x * 1000) };
    log(`  ${stack}: fit ${fit.perRunMs.toFixed(2)} ms per run + ${fit.perTokenUs.toFixed(1)} µs per token (R² ${fit.r2.toFixed(4)})`);
    const rss = readRssKiB(pid);
    return { stack, status: 'ok', transport: gw.transport, idleCores, warmUp, phases, fit, rssMiBAtEnd: rss ? rss / 1024 : undefined };
  } catch (e) {
    return { stack, status: 'failed', reason: (e as Error).message, phases: [] };
  } finally {
    for (const u of users) u.client.close();
    await gw?.stop();
    await backends?.close();
  }
}

function forkTs(path: string, args: string[] = []): ChildProcess {
  return fork(path, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function measureFloor(kind: FloorKind, o: ChatCostOptions, mock: MockOpenAI): Promise<FloorResult> {
  let relay: ChildProcess | null = null;
  const client = forkTs(here('./floor-client.ts'));
  try {
    let relayUrl: string | undefined;
    if (kind === 'uws-relay') {
      relay = forkTs(here('./uws-relay.ts'), [mock.url]);
      const first = await new Promise<{ type: string; port?: number; reason?: string }>((resolve, reject) => {
        relay!.once('message', resolve);
        relay!.once('exit', (c) => reject(new Error(`relay exited with ${c}`)));
      });
      if (first.type !== 'listening') throw new Error(first.reason ?? 'relay did not listen');
      relayUrl = `ws://127.0.0.1:${first.port}/`;
    }
    const job: FloorJob = { type: 'run', kind, baseURL: mock.url, model: FLOOR_MODEL, warmModel: WARM_MODEL, relayUrl, concurrency: o.floorConcurrency, rounds: o.floorRounds };
    let relayCpu0 = 0;
    const done = await new Promise<Extract<FloorReport, { type: 'done' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no result within 120 s')), 120_000);
      client.on('message', (m: FloorReport) => {
        if (m.type === 'measuring' && relay) relayCpu0 = readCpuSeconds(relay.pid!) ?? 0;
        else if (m.type === 'done') clearTimeout(timer), resolve(m);
        else if (m.type === 'failed') clearTimeout(timer), reject(new Error(m.reason));
      });
      client.once('exit', (c) => reject(new Error(`floor client exited with ${c}`)));
      client.send(job);
    });
    const cpuSeconds = relay ? (readCpuSeconds(relay.pid!) ?? 0) - relayCpu0 : done.cpuSeconds;
    const r: FloorResult = {
      kind,
      status: 'ok',
      streams: done.streams,
      tokens: done.tokens,
      cpuSeconds,
      usPerToken: done.tokens ? (cpuSeconds / done.tokens) * 1e6 : 0,
      ...(relay ? { clientCpuSeconds: done.cpuSeconds } : {}),
    };
    log(`  floor ${kind}: ${fmtNum(done.tokens)} tokens, ${cpuSeconds.toFixed(2)} CPU-s → ${r.usPerToken!.toFixed(1)} µs per token`);
    return r;
  } catch (e) {
    return { kind, status: 'failed', reason: (e as Error).message };
  } finally {
    client.kill('SIGKILL');
    relay?.kill('SIGKILL');
  }
}

const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
const pct = (s: LatencySummary, digits = 1) => `${s.p50.toFixed(digits)} / ${s.p90.toFixed(digits)} / ${s.p99.toFixed(digits)} / ${s.max.toFixed(digits)}`;

function tables(stacks: StackResult[], floors: FloorResult[]) {
  const fitHeader = ['stack', 'status', 'CPU per run', 'CPU per model token', 'R²', 'idle gateway', 'RSS at end', ...floors.map((f) => `per token ÷ ${f.kind}`)];
  const fitRows = stacks.map((s) => [
    STACK_LABEL[s.stack],
    s.status === 'ok' ? 'ok' : `failed: ${(s.reason ?? '').split('\n')[0]}`,
    s.fit ? `${s.fit.perRunMs.toFixed(2)} ms` : '—',
    s.fit ? `${s.fit.perTokenUs.toFixed(1)} µs` : '—',
    s.fit ? s.fit.r2.toFixed(4) : '—',
    s.idleCores !== undefined ? `${s.idleCores.toFixed(3)} cores` : '—',
    s.rssMiBAtEnd ? `${s.rssMiBAtEnd.toFixed(0)} MiB` : '—',
    ...floors.map((f) => ratio(s.fit?.perTokenUs, f.usPerToken)),
  ]);
  const floorHeader = ['floor', 'status', 'streams', 'tokens', 'CPU-s', 'µs per token'];
  const floorRows = floors.map((f) => [
    FLOOR_LABEL[f.kind],
    f.status === 'ok' ? 'ok' : `failed: ${f.reason ?? ''}`,
    f.streams !== undefined ? fmtNum(f.streams) : '—',
    f.tokens !== undefined ? fmtNum(f.tokens) : '—',
    f.cpuSeconds !== undefined ? f.cpuSeconds.toFixed(2) : '—',
    f.usPerToken !== undefined ? f.usPerToken.toFixed(1) : '—',
  ]);
  const phaseHeader = ['stack', 'answer tokens', 'runs ok / sent', 'model requests', 'tokens per frame', 'gateway CPU-s', 'wall s', 'TTFT ms p50/p90/p99/max', 'gap ms p50/p90/p99/max', 'errors'];
  const phaseRows = stacks.flatMap((s) =>
    s.phases.map((p) => [
      s.stack,
      String(p.tokensPerAnswer),
      `${p.succeeded} / ${p.runs}`,
      String(p.mockRequests),
      p.tokenFrames > 0 ? (p.modelTokens / p.tokenFrames).toFixed(2) : '—',
      p.cpuSeconds.toFixed(2),
      p.wallS.toFixed(1),
      pct(p.ttftMs),
      pct(p.interTokenGapMs),
      Object.entries(p.errors).map(([k, v]) => `${k}=${v}`).join(', ') || 'none',
    ]),
  );
  return { fit: { header: fitHeader, rows: fitRows }, floor: { header: floorHeader, rows: floorRows }, phase: { header: phaseHeader, rows: phaseRows } };
}

function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => Math.min(48, r[c]!.length))));
  const line = (cells: string[]) => cells.map((x, c) => x.slice(0, 48).padEnd(widths[c]!)).join(' │ ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...rows.map(line)].join('\n');
}

/** Runs the chat cost bench and writes chat-cost-latest.{json,md}. */
export async function runChatCost(o: ChatCostOptions, command: string): Promise<void> {
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const cmd = gatewayCommand(o.gatewayCmd);
  log(
    `bench chat: ${o.concurrency} users back to back, phases ${o.phases.map((p) => `${p.runs}×${p.tokens} tokens`).join(', ')}, ${o.paceMs} ms per token; ` +
      `gateway \`${cmd}\`; ${machine.cpus} cores, Node ${machine.node}, load ${machine.loadAverage1m}`,
  );
  const pace = 1000 / o.paceMs;
  const mock = await createMockOpenAI({
    scenarios: {
      [GATEWAY_MODEL]: { tokensPerSecond: pace, responseTokens: 20 },
      [FLOOR_MODEL]: { ttftMs: 0, tokensPerSecond: pace, responseTokens: o.floorTokens },
      [WARM_MODEL]: { ttftMs: 0, tokensPerSecond: 0, responseTokens: 20 },
    },
    logLimit: 10,
  });
  const llmEnv = { LLM_MODELS: JSON.stringify([{ name: 'mock', model: GATEWAY_MODEL, baseURL: mock.url, apiKey: 'x' }]) };
  const t0 = performance.now();
  const stacks: StackResult[] = [];
  for (const s of o.stacks) {
    log(`${STACK_LABEL[s]} …`);
    const r = await measureStack(s, o, mock, llmEnv);
    if (r.status !== 'ok') log(`  ${s}: failed — ${r.reason}`);
    stacks.push(r);
  }
  const floors: FloorResult[] = [];
  log(`floors: ${o.floorConcurrency} concurrent streams × ${o.floorRounds} rounds of ${o.floorTokens} tokens at ${o.paceMs} ms …`);
  for (const k of o.floors) {
    const r = await measureFloor(k, o, mock);
    if (r.status !== 'ok') log(`  floor ${k}: failed — ${r.reason}`);
    floors.push(r);
  }
  await mock.close();
  const seconds = (performance.now() - t0) / 1000;
  const t = tables(stacks, floors);
  log(`\n${textTable(t.fit.header, t.fit.rows)}\n\n${textTable(t.floor.header, t.floor.rows)}\n\n${textTable(t.phase.header, t.phase.rows)}\n\nbench chat took ${seconds.toFixed(0)} s`);
  if (!o.write) return;
  mkdirSync(resultsDir, { recursive: true });
  const json = join(resultsDir, 'chat-cost-latest.json');
  const md = join(resultsDir, 'chat-cost-latest.md');
  const ratios = Object.fromEntries(
    stacks.map((s) => [s.stack, Object.fromEntries(floors.map((f) => [f.kind, s.fit?.perTokenUs && f.usPerToken ? s.fit.perTokenUs / f.usPerToken : null]))]),
  );
  writeFileSync(json, `${JSON.stringify({ startedAt, seconds, command, gatewayCommand: cmd, machine, options: o, stacks, floors, perTokenRatios: ratios }, null, 2)}\n`);
  writeFileSync(
    md,
    [
      `# bench chat — ${startedAt.slice(0, 10)}`,
      '',
      `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverage1m} at start. Took ${seconds.toFixed(0)} s.`,
      '',
      '```sh',
      command,
      '```',
      '',
      `Gateway: \`${cmd}\`. ${o.concurrency} users, each with its own socket and one session per phase, send back to back (the next message when \`done\` arrives) to the mock LLM at ${o.paceMs} ms per token, TTFT 0${o.coalesceMs > 0 ? `, with \`TOKEN_COALESCE_MS=${o.coalesceMs}\` (at least that long between token frames of a run)` : ''}. ` +
        `Before the phases the gateway is warmed up until the JIT settles (batches of ${WARM_RUNS_PER_USER} runs per user of ${WARM_TOKENS}-token answers until one costs within 5 % of the one before; the table below lists them). ` +
        'Gateway CPU is the child\'s user + system time from /proc/<pid>/stat over each phase and its settling (post-run work included), minus its idle rate over the same time; ' +
        '`CPU = a·runs + b·model tokens` is fitted by least squares over the phases (no intercept). ' +
        `Floors run in their own processes over the same mock (${o.floorConcurrency} concurrent streams × ${o.floorRounds} of ${o.floorTokens} tokens, after a warm-up): the client's CPU per token received; for the uWS relay, the relay server's CPU per token relayed to a \`ws\` client.`,
      '',
      '## Cost model and ours ÷ each floor (per model token)',
      '',
      markdownTable(t.fit.header, t.fit.rows),
      '',
      `## Warm-up (CPU per run of each batch of ${WARM_TOKENS}-token answers, in order)`,
      '',
      markdownTable(
        ['stack', 'batches'],
        stacks.map((st) => [st.stack, (st.warmUp ?? []).map((w) => `${w.runs} runs: ${w.msPerRun.toFixed(2)} ms`).join(' → ') || '—']),
      ),
      '',
      '## Floors',
      '',
      markdownTable(t.floor.header, t.floor.rows),
      '',
      '## Phases (latency at the client; the mock adds no TTFT, so TTFT is what the gateway adds)',
      '',
      markdownTable(t.phase.header, t.phase.rows),
      '',
    ].join('\n'),
  );
  log(`wrote ${json} and ${md}`);
}

function fail(message: string): never {
  process.stderr.write(`bench chat: ${message}\n`);
  process.exit(2);
}

function int(raw: string | undefined, def: number, name: string, min = 1): number {
  const n = raw === undefined ? def : Number(raw);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

function list<T extends string>(raw: string | undefined, all: readonly T[], name: string): T[] {
  if (raw === undefined) return [...all];
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean) as T[];
  for (const i of items) if (!all.includes(i)) fail(`--${name}: unknown "${i}"; one of ${all.join(', ')}`);
  return items;
}

export const CHAT_USAGE = `usage: pnpm bench chat [options]
  --concurrency N      users running back to back (default 20)
  --phases LIST        answer tokens x runs per phase, at least two lengths (default 5x200,50x100,200x40)
  --pace-ms MS         mock time per token (default 20)
  --stacks LIST        ${STACKS.join(',')} (default both)
  --floors LIST        ${FLOORS.join(',')} (default all)
  --floor-tokens N     tokens per floor stream (default 200)
  --floor-concurrency N  concurrent floor streams (default 20)
  --floor-rounds N     floor streams per slot (default 2)
  --warm-batches N     most warm-up batches (25 runs per user of 10-token answers) before the
                       phases; they stop once one costs within 5 % of the one before (default 8)
  --transport T        auto | uws | ws (default uws)
  --coalesce-ms N      the gateway's TOKEN_COALESCE_MS (default 0, the gateway's default)
  --gateway-cmd CMD    command that runs the gateway (default: LOADTEST_GATEWAY_CMD, else the compiled gateway, built first)
  --no-write           do not write loadtest/results/
`;

/** `pnpm bench chat …` */
export async function chatCostMain(argv: string[]): Promise<void> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        concurrency: { type: 'string' },
        phases: { type: 'string' },
        'pace-ms': { type: 'string' },
        stacks: { type: 'string' },
        floors: { type: 'string' },
        'floor-tokens': { type: 'string' },
        'floor-concurrency': { type: 'string' },
        'floor-rounds': { type: 'string' },
        'warm-batches': { type: 'string' },
        transport: { type: 'string' },
        'gateway-cmd': { type: 'string' },
        'coalesce-ms': { type: 'string' },
        'no-write': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (v.help) return void process.stdout.write(CHAT_USAGE);
  const phases = (v.phases ?? '5x200,50x100,200x40').split(',').map((p) => {
    const m = /^(\d+)x(\d+)$/.exec(p.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) fail(`--phases: "${p}" is not TOKENSxRUNS, e.g. 50x120`);
    return { tokens: Number(m[1]), runs: Number(m[2]) };
  });
  if (new Set(phases.map((p) => p.tokens)).size < 2) fail('--phases needs at least two different answer lengths to separate runs from tokens');
  const transport = (v.transport ?? 'uws') as ChatCostOptions['transport'];
  if (!['auto', 'uws', 'ws'].includes(transport)) fail(`--transport must be auto, uws or ws, got "${transport}"`);
  const o: ChatCostOptions = {
    concurrency: int(v.concurrency, 20, 'concurrency'),
    phases,
    paceMs: int(v['pace-ms'], 20, 'pace-ms'),
    stacks: list(v.stacks, STACKS, 'stacks'),
    floors: list(v.floors, FLOORS, 'floors'),
    floorTokens: int(v['floor-tokens'], 200, 'floor-tokens'),
    floorConcurrency: int(v['floor-concurrency'], 20, 'floor-concurrency'),
    floorRounds: int(v['floor-rounds'], 2, 'floor-rounds'),
    warmBatches: int(v['warm-batches'], 8, 'warm-batches'),
    transport,
    coalesceMs: int(v['coalesce-ms'], 0, 'coalesce-ms', 0),
    gatewayCmd: measuredGatewayCommand(v['gateway-cmd']),
    write: !v['no-write'],
  };
  await runChatCost(o, `pnpm bench chat ${argv.join(' ')}`.trim());
}
