/**
 * nginx in front of several gateway children, from the repository's `infra/nginx.conf` rendered
 * with the real ports (the `# listen` line and the `# upstreams:begin` … `# upstreams:end` block),
 * run unprivileged as a non-daemon child with every path in a temporary prefix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot } from './gateway-process.js';

const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/** `infra/nginx.conf` with the given listen port, upstream ports and worker count. */
export function renderNginxConf(template: string, listenPort: number, upstreamPorts: number[], workers: number): string {
  const begin = /^[ \t]*# upstreams:begin[ \t]*\n/m.exec(template);
  const end = /^[ \t]*# upstreams:end[ \t]*$/m.exec(template);
  if (!begin || !end || end.index < begin.index) throw new Error('nginx.conf has no `# upstreams:begin` … `# upstreams:end` block');
  const servers = upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;\n`).join('');
  const out = template.slice(0, begin.index + begin[0].length) + servers + template.slice(end.index);
  return out
    .replace(/^(\s*)listen\s+[^;]+;\s*# listen\s*$/m, `$1listen 127.0.0.1:${listenPort}; # listen`)
    .replace(/^worker_processes\s+[^;]+;/m, `worker_processes ${workers};`);
}

/** A running nginx. */
export interface Nginx {
  url: string;
  wsUrl: string;
  pids(): number[];
  stop(): Promise<void>;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Starts nginx (`workers` worker processes) in front of `upstreamPorts` and waits for `/healthz`. */
export async function startNginx(upstreamPorts: number[], workers = 1): Promise<Nginx> {
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'switchboard-load-nginx-'));
  mkdirSync(join(prefix, 'logs'));
  mkdirSync(join(prefix, 'temp'));
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, renderNginxConf(readFileSync(join(repoRoot, 'infra', 'nginx.conf'), 'utf8'), port, upstreamPorts, workers));
  const child: ChildProcess = spawn(NGINX_BIN, ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs', 'error.log'), '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (i > 100 || child.exitCode !== null) {
      await stop();
      throw new Error(`nginx did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, wsUrl: `ws://127.0.0.1:${port}/v1/ws`, pids: () => [child.pid!, ...childPids(child.pid!)], stop };
}
