/**
 * A real cluster for multi-process tests: N gateway processes (`gateway/src/main.ts` under tsx) on
 * free ports, a private Redis, a fresh Postgres database and nginx in front. `stop()` always kills
 * everything it started, and children never outlive the test process.
 */
import { SwitchboardClient, type ClientOptions, type WebSocketConstructor } from '@switchboard/protocol';
import WebSocket from 'ws';
import { REPO_ROOT, startNginx, type NginxProxy } from './nginx-proxy.js';
import { freePort, spawnChild, waitForHttp, type ChildHandle } from './processes.js';
import { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from './private-redis.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const CLUSTER_JWT_SECRET = 'cluster-test-secret-cluster-test-secret-0123';

/** Settings every node gets; generous limits so reconnect storms through one proxy IP pass. */
const BASE_ENV: Record<string, string> = {
  APP_ENV: 'test',
  HOST: '127.0.0.1',
  TRANSPORT: 'auto',
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  JWT_SECRET: CLUSTER_JWT_SECRET,
  RUN_LOCK_TTL_MS: '1500',
  DRAIN_TIMEOUT_MS: '10000',
  LOCAL_MODEL_TOKEN_DELAY_MS: '10',
  RATE_MESSAGES_PER_SECOND: '1000',
  RATE_MESSAGE_BURST: '2000',
  RATE_SENDS_PER_MINUTE: '100000',
  RATE_CONNECTIONS_PER_IP_PER_MINUTE: '1000000',
  RATE_SOCKETS_PER_USER: '1000',
  RATE_REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
  RATE_SESSIONS_PER_USER_PER_MINUTE: '1000000',
  DAILY_TOKEN_BUDGET: '0',
};

export interface ClusterOptions {
  /** Number of gateway processes. @default 2 */
  nodes?: number;
  /** Environment for every node (over the defaults above). */
  env?: Record<string, string>;
  /** Environment for single nodes, by index. */
  nodeEnv?: Array<Record<string, string> | undefined>;
  redis?: PrivateRedisOptions;
}

export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly child: ChildHandle;
  /** GET /readyz on this node. */
  readyz(): Promise<{ status: number; body: { status: string; draining: boolean; checks: Record<string, string> } }>;
}

export interface TestUser {
  token: string;
  userId: string;
}

export interface Cluster {
  readonly nodes: ClusterNode[];
  readonly redis: PrivateRedis;
  readonly proxy: NginxProxy;
  readonly database: TestDatabase;
  /** nginx's URLs: what clients use. */
  readonly url: string;
  readonly wsUrl: string;
  node(id: string): ClusterNode;
  /** Starts a node that was killed again, on its port; resolves once it is ready. */
  restart(id: string): Promise<ClusterNode>;
  /** Registers a user through nginx. */
  user(): Promise<TestUser>;
  /** Creates a session through nginx. */
  session(token: string): Promise<string>;
  /** A typed client (through nginx unless `url` is given), closed by `stop()`. */
  client(token: string, options?: Partial<ClientOptions>): SwitchboardClient;
  /** The recent output of every process, for failure messages. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

let users = 0;

/** Starts the cluster; on any failure everything started so far is stopped again. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const cleanup: Array<() => Promise<void>> = [];
  const clients: SwitchboardClient[] = [];
  const stopAll = async () => {
    for (const c of clients) c.close();
    for (const step of cleanup.reverse()) await step().catch(() => {});
    cleanup.length = 0;
  };
  try {
    const [redis, database] = await Promise.all([startPrivateRedis(options.redis), createTestDatabase()]);
    cleanup.push(() => database.drop(), () => redis.close());
    const count = options.nodes ?? 2;
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const start = (i: number) => {
      const node = spawnNode(`n${i + 1}`, ports[i]!, { REDIS_URL: redis.url, DATABASE_URL: database.url, ...options.env, ...options.nodeEnv?.[i] });
      cleanup.push(() => node.child.stop('SIGKILL'));
      return waitForHttp(`${node.url}/readyz`, { child: node.child, timeoutMs: 60_000 }).then(() => node);
    };
    // The first node creates the tables; the others start once they exist.
    const first = await start(0);
    const nodes = [first, ...(await Promise.all(ports.slice(1).map((_, i) => start(i + 1))))];
    const proxy = await startNginx(ports);
    const earlier: string[] = [];
    cleanup.push(() => proxy.close());

    const http = async (method: string, path: string, token?: string, body?: unknown) => {
      const res = await fetch(proxy.url + path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json!;
    };
    return {
      nodes,
      redis,
      proxy,
      database,
      url: proxy.url,
      wsUrl: proxy.wsUrl,
      node(id) {
        const n = nodes.find((x) => x.id === id);
        if (!n) throw new Error(`no node ${id}`);
        return n;
      },
      async restart(id) {
        const i = nodes.findIndex((x) => x.id === id);
        if (i < 0) throw new Error(`no node ${id}`);
        if (nodes[i]!.child.alive) await nodes[i]!.child.stop('SIGKILL');
        // What a killed process wrote stays readable: its last lines are often the ones wanted.
        const old = nodes[i]!;
        earlier.push(`--- ${old.id} (pid ${old.child.pid}, before its restart)\n${old.child.output()}`);
        if (earlier.length > 6) earlier.shift();
        nodes[i] = await start(i);
        return nodes[i]!;
      },
      async user() {
        const email = `mp${++users}-${process.pid}-${Date.now()}@example.com`;
        const r = await http('POST', '/v1/auth/register', undefined, { email, password: 'correct horse battery' });
        return { token: r.accessToken as string, userId: (r.user as { id: string }).id };
      },
      async session(token) {
        return (await http('POST', '/v1/sessions', token, {})).id as string;
      },
      client(token, o = {}) {
        const c = new SwitchboardClient({ url: proxy.wsUrl, token, reconnectBaseMs: 50, reconnectMaxMs: 1_000, WebSocket: WebSocket as unknown as WebSocketConstructor, ...o });
        clients.push(c);
        return c;
      },
      async logs() {
        const parts = [...earlier, ...nodes.map((n) => `--- ${n.id} (pid ${n.child.pid}, ${n.child.alive ? 'alive' : 'exited'})\n${n.child.output()}`)];
        parts.push(`--- nginx error log\n${await proxy.errorLog()}`, `--- redis\n${redis.output()}`);
        return parts.join('\n');
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

function spawnNode(id: string, port: number, env: Record<string, string>): ClusterNode {
  const child = spawnChild(id, process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...BASE_ENV, NODE_ID: id, PORT: String(port), ...env },
    keepLines: 2_000,
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    id,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    child,
    async readyz() {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
      return { status: res.status, body: (await res.json()) as Awaited<ReturnType<ClusterNode['readyz']>>['body'] };
    },
  };
}
