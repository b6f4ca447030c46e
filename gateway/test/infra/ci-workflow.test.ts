/**
 * .github/workflows/ci.yml is valid YAML and mirrors .ci/run: the same services (Postgres with
 * pgvector, Redis, the native binaries the multi-process suites start), the same install and test
 * commands with CI=true, and the results uploaded as artifacts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number>;
}
interface Job {
  'runs-on': string;
  services: Record<string, { image: string; env?: Record<string, string>; ports: string[] }>;
  env: Record<string, string>;
  steps: Step[];
}

const workflow = parse(read('.github/workflows/ci.yml')) as { on: unknown; jobs: Record<string, Job> };
const job = workflow.jobs.test!;
const ciRun = read('.ci/run');
/** Shell commands of the workflow's steps, one per line, in order. */
const workflowCommands = job.steps.flatMap((s) => (s.run ?? '').split('\n').map((l) => l.trim()).filter(Boolean));

/** The first `pnpm <script>` invocation in `.ci/run` (up to `||`, `;` or the end of the line), as words. */
function ciRunCommand(script: string): string[] {
  const line = ciRun.split('\n').find((l) => new RegExp(`^\\s*pnpm ${script}\\b`).test(l));
  if (!line) throw new Error(`.ci/run runs no pnpm ${script}`);
  return line.trim().split(/\s*(?:\|\||;)\s*/)[0]!.split(/\s+/);
}

describe('.github/workflows/ci.yml', () => {
  it('runs on pushes and pull requests', () => {
    expect(workflow.on).toMatchObject({ push: expect.anything(), pull_request: null });
  });

  it('runs the install and test commands of .ci/run, in that order, with CI=true', () => {
    const install = ciRunCommand('install').join(' ');
    expect(install).toBe('pnpm install --frozen-lockfile');
    const [pnpm, test] = ciRunCommand('test');
    expect(`${pnpm} ${test}`).toBe('pnpm test');
    const installAt = workflowCommands.indexOf(install);
    const testAt = workflowCommands.indexOf('pnpm test');
    expect(installAt, 'workflow runs pnpm install --frozen-lockfile').toBeGreaterThanOrEqual(0);
    expect(testAt, 'workflow runs pnpm test').toBeGreaterThan(installAt);
    expect(ciRun).toMatch(/^export CI=true$/m);
    expect(job.env.CI).toBe('true');
  });

  it('provides the servers .ci/run provides: Postgres with pgvector, Redis, nginx, prometheus', () => {
    expect(job.services.postgres!.image).toMatch(/^pgvector\/pgvector:/);
    expect(job.services.postgres!.ports).toContain('5432:5432');
    expect(job.services.postgres!.env?.POSTGRES_DB).toBe('switchboard_test');
    expect(job.services.redis!.image).toMatch(/^redis:7/);
    expect(job.services.redis!.ports).toContain('6379:6379');
    expect(job.env.TEST_DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/switchboard_test');
    expect(job.env.TEST_REDIS_URL).toBe('redis://127.0.0.1:6379');
    // What .ci/run installs from apt (nginx, prometheus, chromium) plus redis-server (ensure-redis.sh);
    // the workflow gives the browser suites the runner's own Chrome instead of Ubuntu's snap stub.
    const fromApt = [...ciRun.matchAll(/missing="\$missing ([a-z0-9-]+)"/g)].map((m) => m[1]!);
    expect(fromApt.sort()).toEqual(['chromium', 'nginx', 'prometheus']);
    const aptLine = workflowCommands.find((c) => /apt-get install/.test(c)) ?? '';
    for (const pkg of [...fromApt.filter((p) => p !== 'chromium'), 'redis-server']) expect(aptLine.split(/\s+/), pkg).toContain(pkg);
    expect(job.env.CHROMIUM_BIN).toBe('/usr/bin/google-chrome');
  });

  it('uses Node 20 and caches the pnpm store', () => {
    const node = job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))!;
    expect(String(node.with?.['node-version'])).toBe('20');
    expect(node.with?.cache).toBe('pnpm');
    const pnpm = job.steps.find((s) => s.uses?.startsWith('pnpm/action-setup@'))!;
    expect(String(pnpm.with?.version)).toBe('10');
    expect(job.steps.indexOf(pnpm)).toBeLessThan(job.steps.indexOf(node));
  });

  it('uploads the load-test and eval results, also when the tests fail', () => {
    const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.if).toBe('always()');
    expect(String(upload.with?.path).split('\n').map((p) => p.trim()).filter(Boolean)).toEqual(['loadtest/results', 'evals/results']);
  });
});
