/**
 * The whole flow a new user goes through, observed: metrics after a socket chat with a model
 * fallback and a tool call, the run's span tree at a local OTLP and Langfuse receiver, and the
 * log lines of the run (their ids, and no secret at info or above).
 */
import { scrapedMetricNames, runObservedFlow, type FlowResult, type OtlpAttribute, type OtlpSpan } from '../../test/support/observed-flow.js';

let flow: FlowResult;
beforeAll(async () => {
  flow = await runObservedFlow();
});

/** The value of one series, e.g. `value('switchboard_connects_total')` or with labels. */
function value(name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of flow.scrape.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',');
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

const attr = (span: OtlpSpan, key: string): OtlpAttribute['value'][keyof OtlpAttribute['value']] | undefined => {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : (v?.boolValue ?? v?.doubleValue));
};
const spansAt = (path: string) =>
  flow.exports.filter((e) => e.path === path).flatMap((e) => e.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));

describe('metrics on /metrics', () => {
  it('refuses a scrape without the metrics token', () => {
    expect(flow.unauthorizedScrapeStatus).toBe(401);
  });

  it('counts sockets, frames, bytes and resumes', () => {
    expect(value('switchboard_connects_total')).toBe(2);
    expect(value('switchboard_connections')).toBe(1); // the second socket was open at scrape time
    expect(value('switchboard_disconnects_total', { code: '1000' })).toBe(1);
    expect(value('switchboard_frames_in_total', { type: 'hello' })).toBe(2);
    expect(value('switchboard_frames_in_total', { type: 'send' })).toBe(1);
    const tokens = flow.runFrames.filter((f) => f.type === 'token').length;
    expect(tokens).toBeGreaterThan(0);
    expect(value('switchboard_frames_out_total', { type: 'token' })).toBeGreaterThanOrEqual(tokens);
    expect(value('switchboard_frames_out_total', { type: 'ready' })).toBe(2);
    expect(value('switchboard_bytes_in_total')).toBeGreaterThan(0);
    expect(value('switchboard_bytes_out_total')).toBeGreaterThan(value('switchboard_bytes_in_total')!);
    expect(flow.resumed).toBe(true);
    expect(value('switchboard_resumes_total', { outcome: 'resumed' })).toBe(1);
    expect(value('switchboard_replayed_frames_total')).toBe(2);
    expect(value('switchboard_backpressure_closes_total')).toBe(0);
  });

  it('counts the run, its tool call and the model fallback', () => {
    expect(value('switchboard_runs_total', { reason: 'stop' })).toBe(1);
    expect(value('switchboard_run_duration_seconds_count', { reason: 'stop' })).toBe(1);
    expect(value('switchboard_time_to_first_token_seconds_count')).toBe(1);
    expect(value('switchboard_inter_token_gap_seconds_count')).toBeGreaterThan(0);
    expect(value('switchboard_tool_calls_total', { tool: 'calculator', outcome: 'ok' })).toBe(1);
    // Two model requests (before and after the tool), each falling back from primary to backup.
    expect(value('switchboard_llm_fallbacks_total', { model: 'primary' })).toBe(2);
    expect(value('switchboard_llm_errors_total', { model: 'primary' })).toBeGreaterThanOrEqual(2);
    expect(value('switchboard_llm_requests_total', { model: 'backup', outcome: 'ok' })).toBe(2);
    expect(value('switchboard_llm_tokens_total', { model: 'backup', kind: 'output' })).toBeGreaterThan(0);
    expect(value('switchboard_llm_breaker_state', { model: 'primary' })).toBe(0);
    expect(value('switchboard_token_budget_max_used_ratio')).toBeGreaterThan(0);
    expect(value('switchboard_dependency_up', { dependency: 'database' })).toBe(1);
  });

  it('labels HTTP requests by route pattern and never by a user or session id', () => {
    expect(value('switchboard_http_requests_total', { method: 'POST', route: '/v1/auth/login', status: '200' })).toBe(1);
    expect(value('switchboard_http_requests_total', { method: 'GET', route: '/metrics', status: '401' })).toBe(1);
    for (const id of [flow.ids.userId, flow.ids.sessionId, flow.ids.runId]) expect(flow.scrape).not.toContain(id);
  });

  it('exports the counters the load test reads', () => {
    const names = scrapedMetricNames(flow.scrape);
    for (const n of ['switchboard_frames_in_total', 'switchboard_frames_out_total', 'switchboard_backpressure_closes_total', 'switchboard_connections'])
      expect(names).toContain(n);
  });
});

describe('traces', () => {
  it('sends the run span tree (run → model calls → tool call) over OTLP', () => {
    const spans = spansAt('/v1/traces');
    const run = spans.find((s) => s.name === 'run');
    expect(run).toBeDefined();
    expect(run!.parentSpanId ?? '').toBe('');
    expect(attr(run!, 'switchboard.run.id')).toBe(flow.ids.runId);
    expect(attr(run!, 'session.id')).toBe(flow.ids.sessionId);
    expect(attr(run!, 'switchboard.run.reason')).toBe('stop');
    expect(attr(run!, 'gen_ai.response.model')).toBe('backup');
    // The run's `done` names its trace, so feedback and eval scores can attach to it.
    expect(flow.runFrames.find((f) => f.type === 'done')).toMatchObject({ traceId: run!.traceId });
    const children = spans.filter((s) => s.traceId === run!.traceId && s.parentSpanId === run!.spanId);
    const llm = children.filter((s) => s.name === 'llm');
    const failed = llm.filter((s) => attr(s, 'gen_ai.request.model') === 'primary');
    expect(failed.length).toBe(2);
    for (const s of failed) {
      expect(attr(s, 'switchboard.llm.fallback_to')).toBe('backup');
      expect(attr(s, 'switchboard.llm.retries')).toBe(1);
      expect(s.status?.code).toBe(2); // ERROR
    }
    const answered = llm.filter((s) => attr(s, 'gen_ai.request.model') === 'backup');
    expect(answered.length).toBe(2);
    expect(answered.some((s) => Number(attr(s, 'gen_ai.usage.output_tokens')) > 0)).toBe(true);
    const tool = children.find((s) => s.name === 'tool');
    expect(attr(tool!, 'switchboard.tool.name')).toBe('calculator');
    expect(attr(tool!, 'switchboard.tool.outcome')).toBe('ok');
  });

  it('sends the same spans to Langfuse with its basic-auth keys', () => {
    const lf = flow.exports.filter((e) => e.path === '/api/public/otel/v1/traces');
    expect(lf.length).toBeGreaterThan(0);
    expect(lf[0]!.headers.authorization).toBe(`Basic ${Buffer.from('pk-lf-test:sk-lf-test').toString('base64')}`);
    const names = spansAt('/api/public/otel/v1/traces').map((s) => s.name);
    expect(names).toContain('run');
    expect(names).toContain('llm');
    expect(names).toContain('tool');
  });
});

describe('logs', () => {
  const atInfoOrAbove = () => flow.logs.filter((l) => l.level === 'info' || l.level === 'warn' || l.level === 'error');

  it('captures the flow at debug level', () => {
    expect(flow.logs.some((l) => l.level === 'debug')).toBe(true);
    expect(atInfoOrAbove().length).toBeGreaterThan(3);
  });

  it('carries the run, session, user and trace ids on every line of the run', () => {
    const run = spansAt('/v1/traces').find((s) => s.name === 'run')!;
    const lines = flow.logs.filter((l) => l.runId === flow.ids.runId);
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(['run started', 'run ended']));
    for (const l of lines) {
      expect(l.traceId).toBe(run.traceId);
      expect(l.sessionId).toBe(flow.ids.sessionId);
    }
    expect(lines.find((l) => l.message === 'run started')!.userId).toBe(flow.ids.userId);
  });

  it('never writes a token, password or message text at info or above', () => {
    const text = atInfoOrAbove()
      .map((l) => JSON.stringify(l))
      .join('\n');
    for (const [name, secret] of Object.entries(flow.secrets)) {
      expect(secret.length, name).toBeGreaterThan(8);
      expect(text.includes(secret), `${name} leaked into the log`).toBe(false);
    }
    expect(text).not.toContain('zebra-lantern');
  });
});
