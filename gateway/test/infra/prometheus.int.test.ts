/**
 * A real Prometheus (Debian's `prometheus` binary, started natively) on the project's
 * infra/prometheus.yml and infra/alerts.yml, scraping two gateway replicas that share Redis and
 * Postgres. After a chat (a model fallback, a tool call, a disconnect and a resume) every alert
 * rule evaluates without error and every Grafana panel's query returns data, both asked through
 * Prometheus' HTTP API.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMockOpenAI, type MockOpenAI } from '@switchboard/mock-llm';
import { parse, stringify } from 'yaml';
import { freePort, spawnChild, waitForHttp, type ChildHandle } from '../cluster/processes.js';
import {
  chatOverHttp,
  createTestDatabase,
  JWT_SECRET,
  productionServices,
  REPO_ROOT,
  socketChatWithResume,
  startGatewayProcess,
  TEST_REDIS_URL,
  type GatewayProcess,
  type TestDatabase,
} from './gateway-process.js';

const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';
const METRICS_TOKEN = 'prometheus-test-metrics-token';
/** Stands in for Grafana's `$__rate_interval` (several scrapes at the 1 s interval used here). */
const RATE_INTERVAL = '30s';

const hasPrometheus = spawnSync(PROMETHEUS_BIN, ['--version']).status === 0;
if (!hasPrometheus && process.env.CI === 'true') throw new Error(`${PROMETHEUS_BIN} not found (apt-get install prometheus); CI=true: this suite must run`);
const services = await productionServices();
const skipReason = !hasPrometheus ? `${PROMETHEUS_BIN} not found (apt-get install prometheus)` : services.reason;
if (skipReason) console.warn(`Prometheus suite skipped: ${skipReason}`);

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}
interface PromResponse<T> {
  status: 'success' | 'error';
  error?: string;
  data: T;
}
interface PromRule {
  name: string;
  type: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

/** infra/prometheus.yml pointed at local replicas: the same jobs and rule file, faster intervals. */
function renderPrometheusConfig(template: string, o: { gateways: string[]; self: string; tokenFile: string }): string {
  const config = parse(template) as {
    global: Record<string, string>;
    scrape_configs: Array<{ job_name: string; authorization?: unknown; static_configs: Array<{ targets: string[] }> }>;
  };
  config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
  for (const job of config.scrape_configs) {
    if (job.job_name === 'switchboard') {
      job.static_configs[0]!.targets = o.gateways;
      // The file's commented-out option for gateways with METRICS_TOKEN set.
      job.authorization = { type: 'Bearer', credentials_file: o.tokenFile };
    } else if (job.job_name === 'prometheus') job.static_configs[0]!.targets = [o.self];
  }
  return stringify(config);
}

describe.skipIf(!!skipReason)('Prometheus scraping two replicas', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-prometheus-'));
  let db: TestDatabase;
  let mock: MockOpenAI;
  let prometheus: ChildHandle;
  let promUrl = '';
  const replicas: GatewayProcess[] = [];

  async function api<T>(path: string): Promise<PromResponse<T>> {
    const res = await fetch(promUrl + path);
    return (await res.json()) as PromResponse<T>;
  }
  const query = (expr: string) => api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);

  beforeAll(async () => {
    db = await createTestDatabase();
    mock = await createMockOpenAI({ port: 0, scenarios: { primary: { fault: '500' } } });
    const model = (name: string) => ({ name, model: name, baseURL: mock.url, apiKey: 'mock-key', maxRetries: 1, retryBaseDelayMs: 1, retryMaxDelayMs: 5, breakerThreshold: 50 });
    const env = (nodeId: string) => ({
      APP_ENV: 'production',
      LOG_FORMAT: 'json',
      NODE_ID: nodeId,
      DATA_DIR: join(dir, nodeId),
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      JWT_SECRET,
      METRICS_TOKEN,
      LLM_MODELS: JSON.stringify([model('primary'), model('backup')]),
    });
    const start = (nodeId: string) => startGatewayProcess(nodeId, { cwd: REPO_ROOT, args: ['--import', 'tsx', 'gateway/src/main.ts'], env: env(nodeId), timeoutMs: 90_000 });
    // One after the other: the first replica migrates the fresh database.
    replicas.push(await start('gateway-1'));
    replicas.push(await start('gateway-2'));

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const tokenFile = join(dir, 'metrics-token');
    writeFileSync(tokenFile, METRICS_TOKEN);
    copyFileSync(join(REPO_ROOT, 'infra/alerts.yml'), join(dir, 'alerts.yml'));
    const config = renderPrometheusConfig(readFileSync(join(REPO_ROOT, 'infra/prometheus.yml'), 'utf8'), {
      gateways: replicas.map((r) => `127.0.0.1:${r.port}`),
      self: `127.0.0.1:${promPort}`,
      tokenFile,
    });
    writeFileSync(join(dir, 'prometheus.yml'), config);
    prometheus = spawnChild('prometheus', PROMETHEUS_BIN, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    await waitForHttp(`${promUrl}/-/ready`, { child: prometheus, timeoutMs: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await mock?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('scrapes both replicas with the metrics token', async () => {
    const deadline = Date.now() + 30_000;
    let health: string[] = [];
    while (Date.now() < deadline) {
      const targets = await api<{ activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> }>('/api/v1/targets');
      const gateways = targets.data.activeTargets.filter((t) => t.labels.job === 'switchboard');
      health = gateways.map((t) => `${t.labels.instance} ${t.health} ${t.lastError}`.trim());
      if (gateways.length === 2 && gateways.every((t) => t.health === 'up')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(health.sort()).toEqual(replicas.map((r) => `127.0.0.1:${r.port} up`).sort());
    const up = await query('up{job="switchboard", service="switchboard-gateway"}');
    expect(up.data.result.map((r) => r.value[1])).toEqual(['1', '1']);
  }, 60_000);

  it('after a chat, every alert rule evaluates and every dashboard panel query returns data', async () => {
    const chatAt = Date.now();
    const http = await chatOverHttp(replicas[0]!.url, 'hello over http');
    expect(http.done).toMatchObject({ reason: 'stop', model: 'backup' });
    const socket = await socketChatWithResume(replicas[1]!.url, 'please compute 12*7 for me');
    expect(socket.done).toMatchObject({ reason: 'stop', model: 'backup' });
    expect(socket.resumed).toBe(true);

    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/grafana/dashboards/switchboard.json'), 'utf8')) as { panels: Panel[] };
    const exprs = dashboard.panels
      .filter((p) => p.type !== 'row')
      .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$__rate_interval', RATE_INTERVAL) })));
    expect(exprs.length).toBeGreaterThan(20);
    const ruleFile = parse(readFileSync(join(REPO_ROOT, 'infra/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
    const alertNames = ruleFile.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort();

    // Both answers reach Prometheus on the next scrapes; rate() needs two samples after them.
    let panelProblems: string[] = [];
    let ruleProblems: string[] = [];
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      panelProblems = [];
      for (const { panel, expr } of exprs) {
        const r = await query(expr);
        if (r.status !== 'success') panelProblems.push(`${panel}: ${r.error}`);
        else if (r.data.result.length === 0) panelProblems.push(`${panel}: no data for ${expr}`);
      }
      const rules = await api<{ groups: Array<{ rules: PromRule[] }> }>('/api/v1/rules?type=alert');
      const loaded = rules.data.groups.flatMap((g) => g.rules);
      ruleProblems = alertNames.filter((n) => !loaded.some((r) => r.name === n)).map((n) => `${n}: not loaded`);
      for (const r of loaded) {
        if (r.health !== 'ok') ruleProblems.push(`${r.name}: ${r.health} ${r.lastError ?? ''}`);
        else if (Date.parse(r.lastEvaluation) < chatAt) ruleProblems.push(`${r.name}: not evaluated since the chat`);
      }
      if (panelProblems.length === 0 && ruleProblems.length === 0) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(ruleProblems).toEqual([]);
    expect(panelProblems).toEqual([]);

    // The replicas are told apart: both report their own connections and runs.
    const instances = await query('count by (instance) (switchboard_connections)');
    expect(instances.data.result).toHaveLength(2);
    const runs = await query('sum(switchboard_runs_total)');
    expect(Number(runs.data.result[0]!.value[1])).toBeGreaterThanOrEqual(2);
  }, 150_000);
});
