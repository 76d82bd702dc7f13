import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LeaseView, planLeases, shardOf } from './shards.js';

/** Lease rows as the database holds them; a lease of a dead replica has expired. */
interface Row {
  owner: string | null;
}

/**
 * One heartbeat of `me` against the rows, as shard-leases.ts runs it: renew (own leases stay),
 * release the surplus, then the conditional claims — a claim of a row owned by a live replica fails.
 */
function heartbeat(rows: Row[], me: string, live: ReadonlySet<string>): void {
  const view: LeaseView[] = rows.map((r, shard) => ({
    shard,
    owner: r.owner,
    live: r.owner !== null && live.has(r.owner),
  }));
  const plan = planLeases(me, [...live], view);
  for (const shard of plan.release) if (rows[shard]!.owner === me) rows[shard]!.owner = null;
  for (const shard of plan.claim) {
    const row = rows[shard]!;
    if (row.owner === null || !live.has(row.owner)) row.owner = me;
  }
}

const scenario = fc
  .record({
    shards: fc.integer({ min: 1, max: 40 }),
    replicas: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 1, maxLength: 7 }),
    dead: fc.uniqueArray(fc.stringMatching(/^[A-Z]{1,3}$/), { maxLength: 3 }),
    seed: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
    order: fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
  })
  .map((s) => {
    const anyone = [...s.replicas, ...s.dead, null];
    // Any starting state: free shards, shards of dead replicas, live replicas holding too many.
    const rows: Row[] = Array.from({ length: s.shards }, (_, i) => ({
      owner: anyone[s.seed[i % s.seed.length]! % anyone.length]!,
    }));
    return { ...s, rows };
  });

describe('shard leases (planLeases)', () => {
  it('converges to every shard owned by one live replica, shares within one, whatever the start and order', () => {
    fc.assert(
      fc.property(scenario, ({ shards, replicas, rows, order }) => {
        const live = new Set(replicas);
        // Heartbeats in any order first, then two rounds in which every replica beats once.
        const beats = [...order.map((i) => replicas[i % replicas.length]!), ...replicas, ...replicas];
        for (const me of beats) {
          const livesBefore = rows.map((r) => (r.owner !== null && live.has(r.owner) ? r.owner : null));
          heartbeat(rows, me, live);
          // Safety at every step: a live lease only ever moves by its holder giving it back.
          rows.forEach((r, shard) => {
            const before = livesBefore[shard];
            if (before !== null && before !== me) expect(r.owner).toBe(before);
          });
        }
        for (const row of rows) expect(row.owner !== null && live.has(row.owner)).toBe(true);
        const counts = replicas.map((id) => rows.filter((r) => r.owner === id).length);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(shards);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('gives every replica its share by rank: floor(S/n), one more for the first S mod n', () => {
    const leases = Array.from({ length: 16 }, (_, shard) => ({ shard, owner: null, live: false }));
    const quotas = ['c', 'a', 'b'].map((me) => planLeases(me, ['a', 'b', 'c'], leases).quota);
    expect(quotas).toEqual([5, 6, 5]);
  });

  it('keeps a composite and every objective of one SLO in the same shard, spread over all shards', () => {
    expect(shardOf('web-month/most', 16)).toBe(shardOf('web-month/nearly-all', 16));
    expect(shardOf('web-month/most', 16)).toBe(shardOf('web-month', 16));
    const used = new Set(Array.from({ length: 400 }, (_, i) => shardOf(`slo-${i}`, 16)));
    expect(used.size).toBe(16);
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1024 }), (id, shards) => {
        const shard = shardOf(id, shards);
        expect(Number.isInteger(shard) && shard >= 0 && shard < shards).toBe(true);
      }),
    );
  });
});
