/**
 * Top self-time entries of a `node --cpu-prof` profile, optionally cut to a benchmark's measured
 * window (the marks file of `token-cost.bench.ts --profile`), by function and by package.
 * Run: npx tsx agent-core/test/support/cpuprofile-top.ts PROFILE [MARKS NAME] [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const [file, marksFile, name] = positionals;
if (!file) throw new Error('usage: cpuprofile-top PROFILE [MARKS NAME] [--top N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const windows = marksFile && name ? (JSON.parse(readFileSync(marksFile, 'utf8')) as Record<string, Array<[number, number]>>)[name] : undefined;
if (marksFile && name && !windows) throw new Error(`no windows named ${name} in ${marksFile}`);
const inWindow = (t: number): boolean => !windows || windows.some(([from, to]) => t >= from && t <= to);
const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));

function packageOf(url: string, fn: string): string {
  const pkg = /node_modules\/\.pnpm\/(@?[^@/]+)@/.exec(url)?.[1];
  if (pkg) return pkg.replace('+', '/');
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(deps\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const own = /\/((?:agent-core|gateway|mock-llm|protocol)\/.*)$/.exec(url)?.[1];
  return own ?? (fn.startsWith('(') ? fn : `(native) ${fn}`);
}

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  if (!inWindow(t)) continue;
  const frame = nodes.get(profile.samples[i]);
  if (!frame || frame.functionName === '(idle)') continue;
  // Count samples rather than sum their time deltas: on a busy machine a delta also holds the
  // time the process waited for a core, and would inflate whatever was on the stack then.
  const d = 1;
  total += d;
  const pkg = packageOf(frame.url, frame.functionName);
  const key = `${frame.functionName || '(anonymous)'}  ${pkg}${frame.url.startsWith('node:') || pkg.startsWith('(') ? '' : `:${frame.lineNumber + 1}`}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + d);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + d);
}
const top = Number(values.top);
const print = (title: string, map: Map<string, number>): void => {
  process.stdout.write(`${title} (share of ${total} busy samples${windows ? ' in the windows' : ''})\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`);
  }
};
print('self time by package', byPackage);
print('self time by function', byFunction);
