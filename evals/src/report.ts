/** The results table (terminal and markdown), the results files and the side-by-side comparison. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvalsError } from './errors.js';
import { EvalResults, type MetricResult } from './results.js';

const HEAD = ['metric', 'kind', 'cases', 'passed', 'errors', 'score', 'threshold', 'baseline', 'status'];

function row(m: MetricResult): string[] {
  return [
    m.metric,
    m.kind,
    String(m.cases),
    String(m.passed),
    String(m.errors),
    m.cases > 0 && m.errors === m.cases ? '-' : m.score.toFixed(3),
    m.threshold === undefined ? '' : String(m.threshold),
    m.baseline === undefined ? '' : m.baseline.toFixed(3),
    m.status.toUpperCase(),
  ];
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
}

/** Failing cases of failing metrics, one line each: what a person needs to act. */
export function failureLines(results: EvalResults, limit = 40): string[] {
  const lines: string[] = [];
  for (const m of results.metrics.filter((x) => x.status !== 'pass')) {
    lines.push(`${m.metric}: ${m.reasons.join('; ')}`);
    for (const o of m.outcomes.filter((x) => !x.pass || x.error)) {
      const why = o.error ?? o.failures.map((f) => `${f.check}: ${f.detail}`).join('; ');
      lines.push(`  - ${o.caseId}: ${why}`);
    }
  }
  return lines.length > limit ? [...lines.slice(0, limit), `  … ${lines.length - limit} more lines in the results file`] : lines;
}

/** The terminal table. */
export function formatTable(results: EvalResults): string {
  const lines = [pad([HEAD, ...results.metrics.map(row)])];
  const failures = failureLines(results);
  if (failures.length) lines.push('', 'Failing:', ...failures);
  lines.push('', `${results.pass ? 'PASS' : 'FAIL'}: ${results.metrics.filter((m) => m.status === 'pass').length}/${results.metrics.length} metrics (target ${results.target}, judge ${results.judge}, ${(results.durationMs / 1000).toFixed(1)} s)`);
  return lines.join('\n');
}

/** The markdown report. */
export function formatMarkdown(results: EvalResults): string {
  const table = [HEAD, HEAD.map(() => '---'), ...results.metrics.map(row)].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const failures = failureLines(results, 200);
  return [
    `# Eval results ${results.startedAt}`,
    '',
    `Target \`${results.target}\`, judge \`${results.judge}\`, system prompt \`${results.systemPrompt}\`: **${results.pass ? 'PASS' : 'FAIL'}** in ${(results.durationMs / 1000).toFixed(1)} s.`,
    '',
    table,
    ...(failures.length ? ['', '## Failing', '', '```', ...failures, '```'] : []),
    '',
  ].join('\n');
}

/** Writes `<stamp>.json` and `<stamp>.md` (and `latest.*`) under `dir`; returns the JSON path. */
export function writeResults(dir: string, results: EvalResults): string {
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const json = JSON.stringify(results, null, 2) + '\n';
  const md = formatMarkdown(results);
  for (const name of [stamp, 'latest']) {
    writeFileSync(join(dir, `${name}.json`), json);
    writeFileSync(join(dir, `${name}.md`), md);
  }
  return join(dir, `${stamp}.json`);
}

export function readResults(file: string): EvalResults {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EvalsError('bad_results', `${file}: ${(error as Error).message}`);
  }
  const parsed = EvalResults.safeParse(value);
  if (!parsed.success) throw new EvalsError('bad_results', `${file} is not an eval results file: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Two results side by side: score in A, in B, the difference; metrics only in one are marked. */
export function compareResults(a: EvalResults, b: EvalResults, maxDrop: number): { text: string; regressions: string[] } {
  const names = [...new Set([...a.metrics.map((m) => m.metric), ...b.metrics.map((m) => m.metric)])].sort();
  const regressions: string[] = [];
  const rows = [['metric', 'A', 'B', 'delta', '']];
  for (const name of names) {
    const ma = a.metrics.find((m) => m.metric === name);
    const mb = b.metrics.find((m) => m.metric === name);
    const delta = ma && mb ? mb.score - ma.score : undefined;
    const mark = delta === undefined ? (ma ? 'only in A' : 'only in B') : delta < -maxDrop ? 'REGRESSION' : delta > maxDrop ? 'better' : '';
    if (mark === 'REGRESSION') regressions.push(name);
    rows.push([name, ma ? ma.score.toFixed(3) : '-', mb ? mb.score.toFixed(3) : '-', delta === undefined ? '' : (delta >= 0 ? '+' : '') + delta.toFixed(3), mark]);
  }
  const text = [`A: ${a.startedAt} (${a.target}, judge ${a.judge})`, `B: ${b.startedAt} (${b.target}, judge ${b.judge})`, '', pad(rows)].join('\n');
  return { text, regressions };
}
