/**
 * Checks of the deployment files that need no Docker engine: the compose file, Prometheus config,
 * alert rules, Grafana provisioning and dashboard — every query against a live gateway's scrape
 * after a socket chat (with a model fallback and a tool call).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ConfigSchema } from '../../src/config.js';
import { runObservedFlow } from '../support/observed-flow.js';
import { checkExpr, labelsIn, metricsIn, scrapeIndex } from './promql-names.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  volumes?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  command?: string[];
  healthcheck?: unknown;
}
interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Array<{ expr: string }>;
}
interface RuleFile {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
}

let index: Map<string, Set<string>>;
beforeAll(async () => {
  index = scrapeIndex((await runObservedFlow()).scrape);
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const s = compose.services;

  it('has the whole stack', () => {
    expect(Object.keys(s).sort()).toEqual(['gateway-1', 'gateway-2', 'grafana', 'mock-llm', 'nginx', 'postgres', 'prometheus', 'redis']);
    expect(s.postgres!.image).toBe('pgvector/pgvector:pg16');
    expect(s['mock-llm']!.profiles).toEqual(['mock']);
    for (const g of ['gateway-1', 'gateway-2']) {
      expect(s[g]!.build).toEqual({ context: '.', dockerfile: 'infra/Dockerfile' });
      expect(s[g]!.environment?.NODE_ID).toBe(g);
      expect(s[g]!.environment?.REDIS_URL).toBe('redis://redis:6379');
      expect(s[g]!.environment?.DATABASE_URL).toMatch(/@postgres:5432\//);
      // no model configured: compose refuses to start (naming LLM_MODELS) instead of a restart loop
      expect(s[g]!.environment?.LLM_MODELS).toMatch(/^\$\{LLM_MODELS:\?set LLM_MODELS /);
    }
  });

  it('mounts only files that exist', () => {
    const missing: string[] = [];
    for (const svc of Object.values(s))
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0]!;
        if (!src.startsWith('./')) continue;
        const path = src.slice(2);
        if (!existsSync(join(root, path))) missing.push(path);
      }
    expect(missing).toEqual([]);
    expect(s.nginx!.volumes).toContain('./infra/nginx.conf:/etc/switchboard/nginx.conf:ro');
    expect(s.nginx!.command).toEqual(['sh', '/etc/switchboard/entry.sh']);
  });

  it('renders infra/nginx.conf for the containers with both replicas as upstreams', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-nginx-'));
    try {
      const script = read('infra/scripts/nginx-compose-entry.sh').replace(/\/etc\/switchboard\/nginx\.conf/g, join(root, 'infra/nginx.conf')).replace(/\/tmp\/nginx/g, dir).replace(/^exec nginx.*$/m, 'exit 0');
      execFileSync('sh', ['-c', script]);
      const rendered = readFileSync(join(dir, 'nginx.conf'), 'utf8');
      expect(rendered).toMatch(/^\s*listen 80;$/m);
      expect(rendered.match(/^\s*server gateway-\d:8080 max_fails=1 fail_timeout=5s;$/gm)).toHaveLength(2);
      expect(rendered).not.toMatch(/127\.0\.0\.1:808[12]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Prometheus', () => {
  it('scrapes both replicas on /metrics', () => {
    const config = parse(read('infra/prometheus.yml')) as { scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>; rule_files: string[] };
    const job = config.scrape_configs.find((j) => j.job_name === 'switchboard')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs.flatMap((c) => c.targets)).toEqual(['gateway-1:9464', 'gateway-2:9464']);
    expect(config.rule_files).toEqual(['alerts.yml']);
  });

  it('alerts only on metrics and labels the gateway exports', () => {
    const rules = (parse(read('infra/alerts.yml')) as RuleFile).groups.flatMap((g) => g.rules);
    const names = rules.map((r) => r.alert);
    for (const required of ['SwitchboardRunErrorRateHigh', 'SwitchboardTimeToFirstTokenSlow', 'SwitchboardModelBreakerOpen', 'SwitchboardRedisDown', 'SwitchboardTokenBudgetNearlyUsed'])
      expect(names).toContain(required);
    expect(rules.flatMap((r) => checkExpr(r.expr, index).map((p) => `${r.alert}: ${p}`))).toEqual([]);
  });
});

describe('Grafana', () => {
  const dashboard = JSON.parse(read('infra/grafana/dashboards/switchboard.json')) as { uid: string; panels: Panel[] };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('provisions the datasource the panels use and the dashboard folder', () => {
    const ds = parse(read('infra/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ uid: string; url: string }> };
    expect(ds.datasources[0]!.url).toBe('http://prometheus:9090');
    for (const p of panels) expect(p.datasource?.uid, p.title).toBe(ds.datasources[0]!.uid);
    const boards = parse(read('infra/grafana/provisioning/dashboards/switchboard.yml')) as { providers: Array<{ options: { path: string } }> };
    expect(boards.providers[0]!.options.path).toBe('/var/lib/grafana/dashboards');
  });

  // The embedded gateway's in-process bus hands session frames over without a publish, so bus
  // timings exist only on Redis; the Prometheus test (two replicas on Redis) covers those panels.
  const ONLY_WITH_REDIS = ['metric switchboard_bus_publish_seconds_bucket '];
  it('queries, in every panel, only metrics and labels a live gateway exports', () => {
    expect(panels.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const p of panels) {
      if (!p.targets?.length) problems.push(`${p.title}: no query`);
      for (const t of p.targets ?? [])
        problems.push(...checkExpr(t.expr, index).filter((x) => !ONLY_WITH_REDIS.some((m) => x.includes(m))).map((x) => `${p.title}: ${x}`));
    }
    expect(problems).toEqual([]);
  });

  it('the checker itself catches a misspelt metric or label', () => {
    expect(checkExpr('sum(rate(switchboard_frames_out_totl[5m]))', index)).toHaveLength(1);
    expect(checkExpr('sum by (user) (rate(switchboard_frames_out_total[5m]))', index)).toEqual(['label user is on none of switchboard_frames_out_total']);
    expect(metricsIn('histogram_quantile(0.95, sum by (le) (rate(switchboard_time_to_first_token_seconds_bucket[5m])))')).toEqual(['switchboard_time_to_first_token_seconds_bucket']);
    expect(labelsIn('x{a="1",b=~"2"} / sum without (c) (y)')).toEqual(['a', 'b', 'c']);
  });
});

describe('image and environment', () => {
  it('builds in stages, runs as a non-root user and health-checks with node', () => {
    const dockerfile = read('infra/Dockerfile');
    expect(dockerfile.match(/^FROM node:20-bookworm-slim/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*CMD \["node", "-e", .*\/healthz/m);
  });

  it('.env.example names every configuration variable', () => {
    const example = read('.env.example');
    const missing = Object.keys(ConfigSchema.shape).filter((k) => !new RegExp(`^#? ?${k}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });
});
