/** Readers of untrusted payload values: timestamps, shas, URLs, services. */
import { describe, expect, it } from 'vitest';
import { firstLine, httpUrl, serviceOfRepository, sha, timeMs } from './payload.js';

describe('payload readers', () => {
  it('reads ISO-8601 and GitLab timestamps with their zone, and refuses zoneless or impossible ones', () => {
    expect(timeMs('2019-05-15T15:20:55Z')).toBe(Date.UTC(2019, 4, 15, 15, 20, 55));
    expect(timeMs('2011-12-12T14:27:31+02:00')).toBe(Date.UTC(2011, 11, 12, 12, 27, 31));
    expect(timeMs('2021-04-28 21:50:00 +0200')).toBe(Date.UTC(2021, 3, 28, 19, 50));
    expect(timeMs('2016-08-12 15:23:28 UTC')).toBe(Date.UTC(2016, 7, 12, 15, 23, 28));
    expect(timeMs('2021-02-23T02:41:37.886Z')).toBe(Date.UTC(2021, 1, 23, 2, 41, 37, 886));
    for (const bad of ['2019-05-15T15:20:55', '2019-13-45T15:20:55Z', 'yesterday', '', 1557933655, null])
      expect(timeMs(bad)).toBeUndefined();
  });

  it('reads shas, http URLs and first lines', () => {
    expect(sha('ABCDEF12')).toBe('abcdef12');
    expect(sha('xyz')).toBeUndefined();
    expect(httpUrl('https://ci.example.com/1')).toBe('https://ci.example.com/1');
    expect(httpUrl('javascript:alert(1)')).toBeUndefined();
    expect(firstLine('fix: the thing\n\nlong body')).toBe('fix: the thing');
    expect(firstLine('a'.repeat(600))).toHaveLength(500);
  });

  it('names the service by the repositories mapping, else the repository name', () => {
    expect(serviceOfRepository({ 'acme/shop': 'checkout' }, 'acme/shop', 'shop')).toBe('checkout');
    expect(serviceOfRepository({}, 'acme/shop', 'shop')).toBe('shop');
    expect(serviceOfRepository({}, 'acme/shop', undefined)).toBe('shop');
    // An inherited property is no mapping.
    expect(serviceOfRepository({}, 'constructor', undefined)).toBe('constructor');
  });
});
