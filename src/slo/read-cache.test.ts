import { describe, expect, it } from 'vitest';
import type { StoredStatus } from './evaluator/read.js';
import { EMPTY_CATALOG } from './model.js';
import { SloReadCache } from './read-cache.js';

function status(evaluatedAt: string): StoredStatus {
  return { evaluatedAt } as unknown as StoredStatus;
}

function fixture() {
  const world = {
    catalog: { ...EMPTY_CATALOG },
    version: 'v1',
    statuses: new Map([['a', status('2026-01-01T00:00:00.000Z')]]),
    staleBefore: 0,
    reads: 0,
  };
  const cache = new SloReadCache({
    catalog: () => world.catalog,
    version: async () => world.version,
    statuses: async () => {
      world.reads++;
      return world.statuses;
    },
    isStale: (at) => Date.parse(at) < world.staleBefore,
  });
  return { world, cache };
}

describe('SloReadCache', () => {
  it('builds each variant once per version and shares the statuses read', async () => {
    const { world, cache } = fixture();
    let builds = 0;
    const build = () => ({ n: ++builds });
    const one = await cache.get('all', build);
    expect(await cache.get('all', build)).toBe(one);
    const other = await cache.get('filtered', build);
    expect(other).not.toBe(one);
    expect(builds).toBe(2);
    expect(world.reads).toBe(1);
    expect(cache.misses).toBe(2);
  });

  it('builds again after a new version, a new catalog, or a status turning stale', async () => {
    const { world, cache } = fixture();
    const build = () => ({
      at: [...world.statuses.values()].map((s) => s.evaluatedAt),
      stale: world.staleBefore,
    });
    const first = await cache.get('all', build);
    world.version = 'v2';
    const second = await cache.get('all', build);
    expect(second).not.toBe(first);
    world.catalog = { ...EMPTY_CATALOG };
    const third = await cache.get('all', build);
    expect(third).not.toBe(second);
    expect(await cache.get('all', build)).toBe(third);
    world.staleBefore = Date.parse('2026-02-01T00:00:00Z');
    const fourth = await cache.get('all', build);
    expect(fourth).not.toBe(third);
    expect(world.reads).toBe(4);
  });

  it('shares one build among concurrent requests, and forgets a failed one', async () => {
    const { world, cache } = fixture();
    let builds = 0;
    const bodies = await Promise.all(Array.from({ length: 5 }, () => cache.get('all', () => ++builds)));
    expect(new Set(bodies).size).toBe(1);
    expect(world.reads).toBe(1);
    await expect(
      cache.get('broken', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await cache.get('broken', () => 'ok')).toBeDefined();
  });
});
