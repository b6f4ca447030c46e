/**
 * `pnpm bench` — side-by-side baselines in one invocation, as ratios against our gateway on uws:
 * a bare uWS server (the ceiling), our gateway on the `ws` transport, a plain `ws` server and a
 * Socket.IO server, all streaming the same token-sized frames to the same subscribers.
 *
 *   pnpm bench [--subscribers 100] [--frames 20000] [--idle 2000,6000,10000,14000] [--only uws-bare,gateway-uws]
 *   pnpm bench chat [...]   the chat path's cost model and its floors (see bench/chat-cost.ts)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MOCK_MODEL, startMock } from './scenarios/common.js';
import { type PeerKind } from './bench/frames.js';
import { runPeer, type IdleResult, type PeerResult } from './bench/run-peer.js';
import { machineInfo } from './support/proc.js';
import { measuredGatewayCommand } from './support/gateway-process.js';
import { chatCostMain } from './bench/chat-cost.js';
import { fmtNum, markdownTable, resultsDir } from './support/report.js';

/** A peer that takes longer than this is reported failed (keeps the whole bench bounded). */
const PEER_TIMEOUT_S = 150;
const PEERS: PeerKind[] = ['uws-bare', 'gateway-uws', 'gateway-ws', 'ws-bare', 'socketio'];
const LABEL: Record<PeerKind, string> = {
  'uws-bare': 'bare uWS (ceiling)',
  'gateway-uws': 'Switchboard on uws (ours)',
  'gateway-ws': 'Switchboard on ws',
  'ws-bare': 'plain ws server',
  socketio: 'Socket.IO server',
};

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function positive(raw: string | undefined, def: number, name: string): number {
  const n = raw === undefined ? def : Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Idle KB per socket to compare: the larger of the RSS and the heap slope. */
const idleKb = (i: IdleResult | undefined) => i && Math.max(i.kbPerSocket, i.heapKbPerSocket);

/** `a ÷ b` as `1.00×`. */
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : '—');

/** Every peer beside bare uWS (the ceiling): fan-out frames/s, frames per server CPU-second, idle memory. */
function table(results: PeerResult[]): { header: string[]; rows: string[][] } {
  const bare = results.find((r) => r.peer === 'uws-bare');
  const header = [
    'peer',
    'status',
    'fan-out frames/s',
    '÷ bare uWS',
    'model tokens/s delivered',
    '÷ bare uWS',
    'frames per server CPU-s',
    '÷ bare uWS',
    'server CPU',
    'client CPU-s',
    'idle RSS KB/socket',
    '÷ bare uWS',
    'idle heap KB/socket',
    'larger ÷ bare uWS',
  ];
  const rows = results.map((r) => {
    const f = r.fanout;
    const i = r.idle;
    return [
      LABEL[r.peer],
      r.status === 'ok' ? 'ok' : `${r.status}: ${r.reason ?? ''}`,
      f ? fmtNum(f.framesPerSecond) : '—',
      ratio(f?.framesPerSecond, bare?.fanout?.framesPerSecond),
      f ? fmtNum(f.tokensPerSecond) : '—',
      ratio(f?.tokensPerSecond, bare?.fanout?.tokensPerSecond),
      f ? fmtNum(f.framesPerCpuSecond) : '—',
      ratio(f?.framesPerCpuSecond, bare?.fanout?.framesPerCpuSecond),
      f ? `${f.serverCores.toFixed(2)} cores` : '—',
      f ? f.clientCpuSeconds.toFixed(1) : '—',
      i ? `${i.kbPerSocket.toFixed(3)} (R² ${i.rssR2.toFixed(3)})` : '—',
      ratio(i?.kbPerSocket, bare?.idle?.kbPerSocket),
      i ? i.heapKbPerSocket.toFixed(3) : '—',
      ratio(idleKb(i), idleKb(bare?.idle)),
    ];
  });
  return { header, rows };
}

/** `ours (gateway on uws) ÷ bare uWS: …` for the summary line. */
function oursVsBare(results: PeerResult[]): string {
  const ours = results.find((r) => r.peer === 'gateway-uws');
  const bare = results.find((r) => r.peer === 'uws-bare');
  if (!ours || !bare) return '';
  return (
    `ours (gateway on uws) ÷ bare uWS: fan-out frames/s ${ratio(ours.fanout?.framesPerSecond, bare.fanout?.framesPerSecond)}, ` +
    `model tokens/s delivered ${ratio(ours.fanout?.tokensPerSecond, bare.fanout?.tokensPerSecond)}, ` +
    `frames per server CPU-s ${ratio(ours.fanout?.framesPerCpuSecond, bare.fanout?.framesPerCpuSecond)}, ` +
    `idle RSS per socket ${ratio(ours.idle?.kbPerSocket, bare.idle?.kbPerSocket)}, ` +
    `idle memory per socket (the larger of RSS and heap) ${ratio(idleKb(ours.idle), idleKb(bare.idle))}`
  );
}

function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => Math.min(60, r[c]!.length))));
  const line = (cells: string[]) => cells.map((x, c) => x.slice(0, 60).padEnd(widths[c]!)).join(' │ ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (process.argv[2] === 'chat') {
    await chatCostMain(process.argv.slice(3));
    process.exit(0);
  }
  let v;
  try {
    v = parseArgs({
      options: {
        subscribers: { type: 'string' },
        frames: { type: 'string' },
        idle: { type: 'string' },
        'gateway-cmd': { type: 'string' },
        only: { type: 'string' },
        'no-write': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (v.help) {
    process.stdout.write('usage: pnpm bench [--subscribers 100] [--frames 20000] [--idle 2000,6000,10000,14000] [--only peer,peer] [--gateway-cmd CMD] [--no-write]\n');
    process.stdout.write('       pnpm bench chat --help   (the chat path cost model)\n');
    process.stdout.write(`peers: ${PEERS.join(', ')}\n`);
    return;
  }
  const subscribers = positive(v.subscribers, 100, 'subscribers');
  const frames = positive(v.frames, 20_000, 'frames');
  const idleMarks = (v.idle ?? '2000,6000,10000,14000').split(',').map((x) => Number(x));
  if (idleMarks.length < 2 || !idleMarks.every((n, k) => Number.isInteger(n) && n >= 1 && (k === 0 || n > idleMarks[k - 1]!)))
    fail(`--idle must be two or more rising socket counts (e.g. 2000,6000,10000,14000), got "${v.idle}"`);
  const idleLow = idleMarks[0]!, idleHigh = idleMarks.at(-1)!;
  if (idleHigh > 18_000) fail('--idle: the highest mark must stay below 18000: one client process holds fewer than 20,000 open files');
  const only = v.only ? (v.only.split(',') as PeerKind[]) : PEERS;
  for (const p of only) if (!PEERS.includes(p)) fail(`unknown peer "${p}"; one of ${PEERS.join(', ')}`);
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  process.stdout.write(
    `bench: ${subscribers} subscribers × ${fmtNum(frames)} token frames; idle sockets ${fmtNum(idleLow)} → ${fmtNum(idleHigh)}; ${machine.cpus} cores, ${machine.memoryGiB} GiB, Node ${machine.node}\n`,
  );
  const gatewayCmd = only.some((p) => p.startsWith('gateway')) ? measuredGatewayCommand(v['gateway-cmd']) : undefined;
  const { mock, env } = await startMock({ ttftMs: 0, tokensPerSecond: 0, responseTokens: frames });
  const t0 = performance.now();
  const results: PeerResult[] = [];
  for (const peer of only) {
    process.stdout.write(`${LABEL[peer]} …\n`);
    const peerT0 = performance.now();
    const r = await Promise.race([
      runPeer(peer, { subscribers, frames, idleMarks, gatewayEnv: env, gatewayCmd }, (l) => process.stdout.write(`${l}\n`)),
      new Promise<PeerResult>((resolve) =>
        setTimeout(() => resolve({ peer, status: 'failed', reason: `no result within ${PEER_TIMEOUT_S} s`, seconds: (performance.now() - peerT0) / 1000 }), PEER_TIMEOUT_S * 1000).unref(),
      ),
    ]);
    if (r.status !== 'ok') process.stdout.write(`  ${peer}: ${r.status} — ${r.reason}\n`);
    results.push(r);
  }
  await mock.close();
  const seconds = (performance.now() - t0) / 1000;
  const { header, rows } = table(results);
  const summary = oursVsBare(results);
  process.stdout.write(`\n${textTable(header, rows)}\n\n${summary}\nbench took ${seconds.toFixed(0)} s\n`);

  if (!v['no-write']) {
    mkdirSync(resultsDir, { recursive: true });
    const json = join(resultsDir, 'bench-latest.json');
    const md = join(resultsDir, 'bench-latest.md');
    const options = { subscribers, frames, idleMarks, peers: only, mockModel: MOCK_MODEL, gatewayCommand: gatewayCmd };
    writeFileSync(json, `${JSON.stringify({ startedAt, seconds, machine, options, results }, null, 2)}\n`);
    writeFileSync(
      md,
      [
        `# bench — ${startedAt.slice(0, 10)}`,
        '',
        `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}. Took ${seconds.toFixed(0)} s.`,
        '',
        '```sh',
        `pnpm bench --subscribers ${subscribers} --frames ${frames} --idle ${idleMarks.join(',')}${v.only ? ` --only ${v.only}` : ''}`,
        '```',
        '',
        `Fan-out: one stream of ${fmtNum(frames)} token-sized frames (~110 bytes of JSON, shaped like the gateway's \`token\` frame) to ${subscribers} subscribers in one client process. The bare servers publish as fast as backpressure allows (pausing above 1 MiB queued per socket); the gateway streams one run from the mock LLM (unpaced) through the real agent, session log and hub. Frames/s is counted at the clients from first to last arrival; the gateway merges the tokens that arrive while a frame is being appended into one frame, so beside frames/s stands model tokens delivered per second (a bare server's frame is one token); CPU is the server process's user+system time over the stream (/proc/<pid>/stat). Idle: one client process opens sockets (authenticated with \`hello\` on the gateway) up to each mark in turn (${idleMarks.map(fmtNum).join(', ')}); at each the server settles, is garbage-collected twice through its inspector (\`--inspect\`, \`HeapProfiler.collectGarbage\`) and measured (median RSS over a second, JS heap used). KB per socket is the least-squares slope of RSS (and of the heap) over the marks, with R² beside it: startup garbage and pool sizing are the intercept, and one noisy mark moves a slope through ${idleMarks.length} points less than it moves a difference of two. Gateway: \`${gatewayCmd}\`.`,
        '',
        summary,
        '',
        markdownTable(header, rows),
        '',
        'All processes share the same cores: the client process (one Node thread) often limits the ceiling, so compare frames per server CPU-second as well as frames/s.',
        '',
        'The heap figure is exact (live objects after a full collection); the RSS figure also holds native memory (uWS sockets, buffers) but can come out below the heap figure when pages the low mark had committed but not used are filled by the new sockets. Quote the larger of the two.',
        '',
      ].join('\n'),
    );
    process.stdout.write(`wrote ${json} and ${md}\n`);
  }
  process.exit(0);
}

void main();
