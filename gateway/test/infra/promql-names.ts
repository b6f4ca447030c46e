/** Test support: the metric and label names a PromQL expression refers to, and those a scrape has. */

/** Metrics Prometheus makes itself; they are never in a gateway scrape. */
export const PROMETHEUS_BUILTIN = new Set(['up']);
const IMPLICIT_LABELS = new Set(['le', 'instance', 'job', '__name__']);

/** `switchboard_*` metric names (and Prometheus built-ins) named in an expression. */
export function metricsIn(expr: string): string[] {
  return [...new Set(expr.match(/\b(switchboard_[a-z0-9_]+|up)\b(?!\s*\()/g) ?? [])];
}

/** Label names used in matchers `{x="…"}` and in `by (…)` / `without (…)` clauses. */
export function labelsIn(expr: string): string[] {
  const labels = new Set<string>();
  for (const m of expr.matchAll(/\{([^}]*)\}/g))
    for (const part of m[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) labels.add(part[1]!);
  for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    for (const l of m[1]!.split(',')) if (l.trim()) labels.add(l.trim());
  return [...labels].filter((l) => !IMPLICIT_LABELS.has(l));
}

/** Series names of a Prometheus text scrape → the label names seen on them. */
export function scrapeIndex(text: string): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  const touch = (name: string) => index.get(name) ?? index.set(name, new Set()).get(name)!;
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      touch(type[1]!);
      if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) touch(type[1]! + s);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /.exec(line);
    if (!m) continue;
    const set = touch(m[1]!);
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(l[1]!);
  }
  return index;
}

/** Problems with one expression against a scrape: unknown metrics, or labels none of its metrics has. */
export function checkExpr(expr: string, index: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  const metrics = metricsIn(expr);
  if (metrics.length === 0) problems.push(`names no gateway metric: ${expr}`);
  for (const m of metrics) if (!PROMETHEUS_BUILTIN.has(m) && !index.has(m)) problems.push(`metric ${m} is not in the scrape`);
  const known = new Set(metrics.flatMap((m) => [...(index.get(m) ?? [])]));
  for (const l of labelsIn(expr)) if (!known.has(l) && !metrics.some((m) => PROMETHEUS_BUILTIN.has(m))) problems.push(`label ${l} is on none of ${metrics.join(', ')}`);
  return problems;
}
