/** Where the gateway's Redis is: one server, or the seed nodes of a Redis Cluster. */
export interface RedisTarget {
  /** True for a Redis Cluster (`redis+cluster://…` or `REDIS_CLUSTER=true`). */
  cluster: boolean;
  /** One node for a single server; the seed list for a cluster (any reachable node finds the rest). */
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  /** Database number (single server only; a cluster has only database 0). */
  db?: number;
  tls: boolean;
}

/** A REDIS_URL that cannot be used; the message never repeats the URL (it may hold a password). */
export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

const SCHEMES: Record<string, { cluster: boolean; tls: boolean }> = {
  'redis:': { cluster: false, tls: false },
  'rediss:': { cluster: false, tls: true },
  'redis+cluster:': { cluster: true, tls: false },
  'rediss+cluster:': { cluster: true, tls: true },
};

/**
 * Parses `REDIS_URL`: `redis://[user:password@]host[:port][/db]`, `rediss://` for TLS, or a cluster
 * seed list `redis+cluster://[user:password@]host:port,host:port,…` (`cluster: true` also reads a
 * `redis://` URL, with one or several comma-separated hosts, as a cluster's seeds).
 * @example parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7000').nodes.length // 2
 * @throws RedisUrlError naming what is wrong
 */
export function parseRedisUrl(url: string, options: { cluster?: boolean } = {}): RedisTarget {
  const schemeEnd = url.indexOf('://');
  const scheme = schemeEnd > 0 ? SCHEMES[url.slice(0, schemeEnd + 1).toLowerCase()] : undefined;
  if (!scheme) throw new RedisUrlError('must start with redis://, rediss:// or redis+cluster:// (e.g. redis://host:6379)');
  let rest = url.slice(schemeEnd + 3);
  const slash = rest.search(/[/?#]/);
  const path = slash >= 0 ? rest.slice(slash) : '';
  rest = slash >= 0 ? rest.slice(0, slash) : rest;
  const at = rest.lastIndexOf('@');
  const auth = at >= 0 ? rest.slice(0, at) : '';
  const hostList = at >= 0 ? rest.slice(at + 1) : rest;
  const cluster = scheme.cluster || options.cluster === true;

  const nodes = hostList.split(',').map((entry) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(entry.trim());
    if (!m) throw new RedisUrlError('has a malformed host (expected host or host:port)');
    const port = m[2] === undefined ? 6379 : Number(m[2]);
    if (port < 1 || port > 65535) throw new RedisUrlError('has a port outside 1-65535');
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
  if (!cluster && nodes.length > 1) throw new RedisUrlError('lists several hosts: use redis+cluster:// (or REDIS_CLUSTER=true) for a cluster');

  let username: string | undefined;
  let password: string | undefined;
  if (auth) {
    const colon = auth.indexOf(':');
    try {
      username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth) || undefined;
      password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) : undefined;
    } catch {
      throw new RedisUrlError('has a malformed user or password (percent-encode special characters)');
    }
    // `redis://:password@host` and `redis://password@host` (no colon) both mean a password only.
    if (colon < 0) [username, password] = [undefined, username];
  }

  let db: number | undefined;
  const dbText = path.split(/[?#]/)[0]!.replace(/^\//, '');
  if (dbText !== '') {
    if (!/^\d{1,2}$/.test(dbText)) throw new RedisUrlError('has a database that is not a number (e.g. redis://host:6379/0)');
    db = Number(dbText);
    if (cluster && db !== 0) throw new RedisUrlError('names a database other than 0, which a Redis Cluster does not have');
  }
  return { cluster, nodes, username, password, db, tls: scheme.tls };
}
