/**
 * nginx in front of gateway processes, from the repository's `infra/nginx.conf` rendered with the
 * real ports. Runs unprivileged as a non-daemon child with every path in a temporary prefix.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnChild, waitForHttp, type ChildHandle } from './processes.js';

/** The repository root (this file lives in gateway/test/cluster). */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const NGINX_CONF = join(REPO_ROOT, 'infra', 'nginx.conf');
export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

export interface NginxRenderOptions {
  /** Port nginx listens on (127.0.0.1). */
  listenPort: number;
  /** Upstream gateway ports on 127.0.0.1. */
  upstreamPorts: number[];
  /** worker_processes. @default 1 */
  workers?: number;
}

/**
 * Renders `infra/nginx.conf` with real ports: replaces the line marked `# listen` and the server
 * lines between `# upstreams:begin` and `# upstreams:end`.
 */
export function renderNginxConf(template: string, o: NginxRenderOptions): string {
  const begin = /^[ \t]*# upstreams:begin[ \t]*\n/m.exec(template);
  const end = /^[ \t]*# upstreams:end[ \t]*$/m.exec(template);
  if (!begin || !end || end.index < begin.index) throw new Error('nginx.conf has no `# upstreams:begin` … `# upstreams:end` block');
  const indent = '    ';
  const servers = o.upstreamPorts.map((p) => `${indent}server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;\n`).join('');
  const head = template.slice(0, begin.index + begin[0].length);
  const tail = template.slice(end.index);
  let out = head + servers + tail;
  const listen = /^(\s*)listen\s+[^;]+;\s*# listen\s*$/m;
  if (!listen.test(out)) throw new Error('nginx.conf has no `listen …; # listen` line');
  out = out.replace(listen, `$1listen 127.0.0.1:${o.listenPort}; # listen`);
  return out.replace(/^worker_processes\s+[^;]+;/m, `worker_processes ${o.workers ?? 1};`);
}

export interface NginxProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/v1/ws` */
  readonly wsUrl: string;
  readonly child: ChildHandle;
  /** nginx's error log (upstream failures, retries). */
  errorLog(): Promise<string>;
  close(): Promise<void>;
}

/** Starts nginx in front of `upstreamPorts` and waits until it proxies `/healthz`. */
export async function startNginx(upstreamPorts: number[], options: { listenPort?: number } = {}): Promise<NginxProxy> {
  const port = options.listenPort ?? (await freePort());
  const prefix = await mkdtemp(join(tmpdir(), 'sb-nginx-'));
  await mkdir(join(prefix, 'logs'));
  await mkdir(join(prefix, 'temp'));
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, renderNginxConf(await readFile(NGINX_CONF, 'utf8'), { listenPort: port, upstreamPorts }));
  const errorLog = join(prefix, 'logs', 'error.log');
  const child = spawnChild(`nginx:${port}`, NGINX_BIN, ['-p', prefix, '-c', conf, '-e', errorLog, '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, { child, timeoutMs: 10_000 });
  } catch (e) {
    await child.stop('SIGKILL');
    const log = await readFile(errorLog, 'utf8').catch(() => '');
    await rm(prefix, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  return {
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    child,
    errorLog: () => readFile(errorLog, 'utf8').catch(() => ''),
    async close() {
      // SIGQUIT would wait for open WebSockets; tests want it gone.
      await child.stop('SIGTERM', 2_000);
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
