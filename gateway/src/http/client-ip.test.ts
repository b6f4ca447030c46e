import { clientIp, normalizeIp, parseTrustedProxies } from './client-ip.js';

describe('clientIp', () => {
  const trusted = parseTrustedProxies('127.0.0.1, ::1,10.0.0.5');
  it('uses the peer when it is not a trusted proxy, whatever the header says', () => {
    expect(clientIp('203.0.113.7', '1.2.3.4', trusted)).toBe('203.0.113.7');
    expect(clientIp('203.0.113.7', undefined, trusted)).toBe('203.0.113.7');
  });
  it('takes the nearest untrusted hop behind trusted proxies', () => {
    expect(clientIp('127.0.0.1', '198.51.100.2', trusted)).toBe('198.51.100.2');
    expect(clientIp('::ffff:127.0.0.1', 'forged, 198.51.100.2, 10.0.0.5', trusted)).toBe('198.51.100.2');
  });
  it('falls back to the last hop when every hop is trusted, and to the peer without a header', () => {
    expect(clientIp('127.0.0.1', '10.0.0.5', trusted)).toBe('10.0.0.5');
    expect(clientIp('127.0.0.1', '', trusted)).toBe('127.0.0.1');
  });
  it('trusts nothing by default', () => {
    expect(clientIp('127.0.0.1', '198.51.100.2', parseTrustedProxies(undefined))).toBe('127.0.0.1');
  });
  it('normalizes IPv4-mapped addresses', () => {
    expect(normalizeIp('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('::1')).toBe('::1');
  });
});
