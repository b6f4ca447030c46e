import { parseRedisUrl, RedisUrlError } from './url.js';

describe('parseRedisUrl', () => {
  it('reads one server with credentials, database and TLS', () => {
    expect(parseRedisUrl('redis://h')).toEqual({ cluster: false, nodes: [{ host: 'h', port: 6379 }], username: undefined, password: undefined, db: undefined, tls: false });
    expect(parseRedisUrl('rediss://user:p%40ss@h:6380/2')).toMatchObject({ nodes: [{ host: 'h', port: 6380 }], username: 'user', password: 'p@ss', db: 2, tls: true });
    expect(parseRedisUrl('redis://:pw@[::1]:7000')).toMatchObject({ nodes: [{ host: '::1', port: 7000 }], password: 'pw' });
  });
  it('reads a cluster seed list from redis+cluster:// or with the cluster flag', () => {
    expect(parseRedisUrl('redis+cluster://a:7000,b:7001').nodes).toEqual([{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }]);
    expect(parseRedisUrl('redis://a:7000,b', { cluster: true })).toMatchObject({ cluster: true, nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 6379 }] });
    expect(parseRedisUrl('redis://a:7000', { cluster: true }).cluster).toBe(true);
  });
  it('refuses malformed URLs without repeating them', () => {
    for (const bad of ['localhost:6379', 'http://h', 'redis://', 'redis://h:0', 'redis://h:port', 'redis://h/db', 'redis://a,b', 'redis+cluster://a/1', 'redis://u:%zz@h'])
      expect(() => parseRedisUrl(bad), bad).toThrow(RedisUrlError);
    try {
      parseRedisUrl('redis://u:topsecret@a,b');
    } catch (e) {
      expect((e as Error).message).not.toContain('topsecret');
    }
  });
});
