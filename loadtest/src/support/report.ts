/**
 * Live progress (one line a second, autocannon-style), the final table, and the JSON +
 * markdown files every run writes into `loadtest/results/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './gateway-process.js';
import { machineInfo, type CpuWindow } from './proc.js';

/** One row of the final table: a label, a value, and an optional note. */
export type Row = [label: string, value: string, note?: string];

/** What a scenario hands back to the CLI. */
export interface ScenarioResult {
  scenario: string;
  /** The command line that reproduces the run. */
  command: string;
  startedAt: string;
  durationS: number;
  options: Record<string, unknown>;
  target: { url: string; transport: string; pid: number | null };
  rows: Row[];
  /** Every figure, for the JSON file. */
  data: Record<string, unknown>;
  loadgenCpu: CpuWindow;
  gatewayCpu: CpuWindow | null;
  notes: string[];
}

/** Prints a line every second while a run is going. */
export class Progress {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly t0 = performance.now();
  private readonly tty = Boolean(process.stdout.isTTY);

  constructor(private readonly render: () => string, private readonly quiet = false) {}

  start(): this {
    if (this.quiet) return this;
    this.timer = setInterval(() => this.print(), 1000);
    this.timer.unref();
    return this;
  }

  private print(): void {
    const line = `[${((performance.now() - this.t0) / 1000).toFixed(0).padStart(4)}s] ${this.render()}`;
    if (this.tty) process.stdout.write(`\r\x1b[K${line}`);
    else process.stdout.write(`${line}\n`);
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    if (this.tty) process.stdout.write('\n');
  }
}

/** Renders rows as an aligned box table (stdout). */
export function renderTable(title: string, rows: Row[]): string {
  const w0 = Math.max(6, ...rows.map((r) => r[0].length));
  const w1 = Math.max(5, ...rows.map((r) => r[1].length));
  const line = `┌${'─'.repeat(w0 + 2)}┬${'─'.repeat(w1 + 2)}┐`;
  const mid = `├${'─'.repeat(w0 + 2)}┼${'─'.repeat(w1 + 2)}┤`;
  const end = `└${'─'.repeat(w0 + 2)}┴${'─'.repeat(w1 + 2)}┘`;
  const out = [title, line, `│ ${'metric'.padEnd(w0)} │ ${'value'.padEnd(w1)} │`, mid];
  for (const [k, v, note] of rows) out.push(`│ ${k.padEnd(w0)} │ ${v.padEnd(w1)} │${note ? ` ${note}` : ''}`);
  out.push(end);
  return out.join('\n');
}

/** Renders a markdown table from a header and rows. */
export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** Formats CPU as `0.83 cores (12.4 s)`. */
export function fmtCpu(c: CpuWindow | null): string {
  return c ? `${c.cores.toFixed(2)} cores (${c.seconds.toFixed(1)} s)` : 'n/a';
}

/** Formats a number with thousands separators. */
export function fmtNum(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The directory results go to (created on demand). */
export const resultsDir = join(repoRoot, 'loadtest', 'results');

/**
 * Writes `<name>-latest.json` and `<name>-latest.md`; returns their paths.
 */
export function writeResult(name: string, result: ScenarioResult, extraMarkdown = ''): { json: string; md: string } {
  mkdirSync(resultsDir, { recursive: true });
  const machine = machineInfo();
  const json = join(resultsDir, `${name}-latest.json`);
  const md = join(resultsDir, `${name}-latest.md`);
  writeFileSync(json, `${JSON.stringify({ ...result, machine }, null, 2)}\n`);
  const lines = [
    `# ${result.scenario} — ${result.startedAt.slice(0, 10)}`,
    '',
    `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; 1-minute load average at the end ${machine.loadAverage1m}.`,
    `Target: ${result.target.url} (transport ${result.target.transport}); run time ${result.durationS.toFixed(1)} s.`,
    '',
    'Reproduce:',
    '',
    '```sh',
    result.command,
    '```',
    '',
    markdownTable(['metric', 'value', 'note'], result.rows.map(([k, v, n]) => [k, v, n ?? ''])),
    '',
    ...(result.notes.length ? ['Notes:', '', ...result.notes.map((n) => `- ${n}`), ''] : []),
    extraMarkdown,
  ];
  writeFileSync(md, `${lines.join('\n').trimEnd()}\n`);
  return { json, md };
}
