/**
 * A small parser of the Prometheus text exposition format (what `GET /metrics` answers).
 */

/** One sample: metric name, labels and value. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Thrown for a line that is not valid exposition text. */
export class PromParseError extends Error {
  override name = 'PromParseError';
  readonly code = 'bad_metrics';
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(raw: string, line: number): number {
  if (raw === '+Inf' || raw === 'Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  if (raw === 'NaN') return Number.NaN;
  const v = Number(raw);
  if (raw === '' || Number.isNaN(v)) throw new PromParseError(`bad value "${raw}"`, line);
  return v;
}

function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { labels, end: i + 1 };
    const m = NAME.exec(text.slice(i));
    if (!m) throw new PromParseError('bad label name', line);
    const key = m[0];
    i += key.length;
    if (text[i] !== '=' || text[i + 1] !== '"') throw new PromParseError(`label ${key} needs ="value"`, line);
    i += 2;
    let value = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new PromParseError('unterminated label value', line);
      if (ch === '\\') {
        const next = text[i + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        i += 2;
        continue;
      }
      if (ch === '"') break;
      value += ch;
      i++;
    }
    labels[key] = value;
    i++;
  }
}

/**
 * Parses exposition text into samples (comments and blank lines are skipped).
 * @example parsePrometheusText('x_total{type="token"} 3\n') // [{ name: 'x_total', labels: { type: 'token' }, value: 3 }]
 */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const m = NAME.exec(raw);
    if (!m) throw new PromParseError('bad metric name', n + 1);
    const name = m[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (raw[i] === '{') ({ labels, end: i } = parseLabels(raw, i, n + 1));
    const rest = raw.slice(i).trim().split(/\s+/);
    out.push({ name, labels, value: parseValue(rest[0] ?? '', n + 1) });
  }
  return out;
}

/** Sums the samples of a metric whose labels include `match` (an empty match sums them all). */
export function sumMetric(samples: PromSample[], name: string, match: Record<string, string> = {}): number | undefined {
  let found = false;
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).some(([k, v]) => s.labels[k] !== v)) continue;
    found = true;
    sum += s.value;
  }
  return found ? sum : undefined;
}

/** Values of a metric keyed by one label (e.g. frames by `type`). */
export function byLabel(samples: PromSample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === name) out[s.labels[label] ?? ''] = (out[s.labels[label] ?? ''] ?? 0) + s.value;
  return out;
}
