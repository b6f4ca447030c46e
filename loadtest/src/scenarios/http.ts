/**
 * `http`: autocannon against the login, sessions-list and health routes, one after another.
 */
import autocannon from 'autocannon';
import { gatewayApi, LOAD_PASSWORD, loadUserEmail } from '../support/http-api.js';
import { CpuMeter, type CpuWindow } from '../support/proc.js';
import { fmtNum, markdownTable, Progress, type Row, type ScenarioResult } from '../support/report.js';
import { cpuLine, cpuRows, openTarget, pool, type CommonOptions, reportHead } from './common.js';

/** Options of the http scenario. */
export interface HttpOptions extends CommonOptions {
  /** Seconds per route. @default 10 */
  duration: number;
  /** Concurrent connections. @default 50 */
  connections: number;
}

interface RouteFigures {
  route: string;
  requestsPerSecond: number;
  total: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  gatewayCpu: CpuWindow | null;
  loadgenCpu: CpuWindow;
}

/** Runs the scenario. */
export async function runHttp(o: HttpOptions, command: string): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const target = await openTarget(o);
  const api = gatewayApi(target.url);
  const email = loadUserEmail('http', 0);
  await api.register(email, LOAD_PASSWORD);
  const { accessToken } = await api.login(email, LOAD_PASSWORD);
  await pool(20, 5, (i) => api.createSession(accessToken, `http ${i}`));
  const t0 = performance.now();
  const loadAll = new CpuMeter();
  const routes: Array<{ route: string; req: { method: string; path: string; headers?: Record<string, string>; body?: string } }> = [
    { route: 'GET /healthz', req: { method: 'GET', path: '/healthz' } },
    { route: 'GET /v1/sessions', req: { method: 'GET', path: '/v1/sessions', headers: { authorization: `Bearer ${accessToken}` } } },
    {
      route: 'POST /v1/auth/login',
      req: { method: 'POST', path: '/v1/auth/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: LOAD_PASSWORD }) },
    },
  ];
  const figures: RouteFigures[] = [];
  for (const r of routes) {
    const loadgen = new CpuMeter();
    target.cpu?.start();
    const progress = new Progress(() => `${r.route} | ${cpuLine(loadgen, target)}`, o.quiet).start();
    const res = await autocannon({ url: target.url, connections: o.connections, duration: o.duration, requests: [r.req] });
    progress.stop();
    const statusCodes: Record<string, number> = {};
    for (const [k, v] of Object.entries(res.statusCodeStats ?? {})) statusCodes[k] = v.count;
    figures.push({
      route: r.route,
      requestsPerSecond: res.requests.average,
      total: res.requests.total,
      latencyMs: { p50: res.latency.p50, p90: res.latency.p90, p99: res.latency.p99, p999: res.latency.p99_9, max: res.latency.max },
      non2xx: res.non2xx,
      errors: res.errors,
      statusCodes,
      gatewayCpu: target.cpu?.read() ?? null,
      loadgenCpu: loadgen.read(),
    });
  }
  const loadCpu = loadAll.read();
  const rss = target.rssKiB();
  await target.stop();

  const rows: Row[] = [];
  for (const f of figures) {
    rows.push([`${f.route} req/s`, fmtNum(f.requestsPerSecond), `${o.connections} connections, ${o.duration} s`]);
    rows.push([`${f.route} latency p50/p90/p99/p99.9/max`, `${f.latencyMs.p50} / ${f.latencyMs.p90} / ${f.latencyMs.p99} / ${f.latencyMs.p999} / ${f.latencyMs.max} ms`]);
    rows.push([`${f.route} non-2xx / errors`, `${f.non2xx} / ${f.errors}`, JSON.stringify(f.statusCodes)]);
    rows.push([`${f.route} CPU gateway / loadgen`, `${f.gatewayCpu ? f.gatewayCpu.cores.toFixed(2) : 'n/a'} / ${f.loadgenCpu.cores.toFixed(2)} cores`]);
  }
  rows.push(...cpuRows(loadCpu, null, rss).filter(([k]) => k !== 'gateway CPU'));
  const md = markdownTable(
    ['route', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'non-2xx', 'gateway CPU', 'loadgen CPU'],
    figures.map((f) => [f.route, fmtNum(f.requestsPerSecond), `${f.latencyMs.p50}`, `${f.latencyMs.p90}`, `${f.latencyMs.p99}`, `${f.latencyMs.p999}`, `${f.latencyMs.max}`, `${f.non2xx}`, f.gatewayCpu ? f.gatewayCpu.cores.toFixed(2) : 'n/a', f.loadgenCpu.cores.toFixed(2)]),
  );
  return {
    ...reportHead('http', { command, startedAt, durationS: (performance.now() - t0) / 1000, options: o, target }),
    rows,
    data: { routes: figures, table: md },
    loadgenCpu: loadCpu,
    gatewayCpu: null,
    notes: ['autocannon runs in the load-generator process on the same 2 cores as the gateway.', 'Login hashes the password with scrypt on every request, so its rate is bounded by the KDF by design.'],
  };
}
