/**
 * `promtool` (Debian's `prometheus` package) validates the Prometheus config and the alert rules.
 * Skipped, with the reason printed, where promtool is not installed.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const infra = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'infra');
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const available = promtool.status === 0;
if (!available) console.warn('promtool tests skipped: promtool is not installed (apt-get install prometheus)');

describe.skipIf(!available)('promtool', () => {
  const run = (...args: string[]) => spawnSync('promtool', args, { cwd: infra, encoding: 'utf8' });

  it('accepts infra/prometheus.yml with its rule file', () => {
    const r = run('check', 'config', 'prometheus.yml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('accepts infra/alerts.yml', () => {
    const r = run('check', 'rules', 'alerts.yml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });
});
