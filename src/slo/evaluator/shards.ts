/**
 * Pure: which shard an SLO belongs to, and what one replica does with the shard leases it sees
 * (claim, keep, release) so that every shard ends up owned by exactly one live replica and the
 * replicas own equal shares within one. No I/O and no clock: the lease adapter
 * (`shard-leases.ts`) reads the view from the database, with the database's clock.
 * See docs/evaluation.md#sharding.
 */

/**
 * The shard of an evaluation target: a stable FNV-1a hash of its SLO name, so every objective of
 * one SLO (`web-month/most`, `web-month/nearly-all`) and a composite with all of its parts (one
 * target) are evaluated together, by one replica.
 */
export function shardOf(targetId: string, shards: number): number {
  const slash = targetId.indexOf('/');
  const slo = slash === -1 ? targetId : targetId.slice(0, slash);
  let hash = 0x811c9dc5;
  for (let i = 0; i < slo.length; i++) {
    hash ^= slo.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** One lease as a replica sees it. `live`: held and not expired by the database's clock. */
export interface LeaseView {
  readonly shard: number;
  readonly owner: string | null;
  readonly live: boolean;
}

export interface LeasePlan {
  /** The shares of the live replicas: `floor(S / n)`, one more for the first `S mod n` by id. */
  readonly quota: number;
  /** Shards to take (free or expired), in the order to try them. */
  readonly claim: readonly number[];
  /** Shards this replica holds beyond its quota, to give back. */
  readonly release: readonly number[];
}

/**
 * What replica `me` does on a heartbeat. `replicas`: the ids of the live replicas (`me` among
 * them). Shares are fixed by rank so that all replicas, reading the same rows, agree on them and
 * they add up to the number of shards: whoever holds more than its share gives the surplus back,
 * whoever holds less takes free or expired shards up to its share.
 */
export function planLeases(me: string, replicas: readonly string[], leases: readonly LeaseView[]): LeasePlan {
  const live = [...new Set([...replicas, me])].sort();
  const rank = live.indexOf(me);
  const shards = leases.length;
  const quota = Math.floor(shards / live.length) + (rank < shards % live.length ? 1 : 0);
  const mine = leases.filter((l) => l.owner === me).map((l) => l.shard);
  const release = mine.length > quota ? mine.sort((a, b) => a - b).slice(quota) : [];
  const wanted = Math.max(0, quota - mine.length);
  // Each replica starts looking at a different place, so that two replicas wanting shards at the
  // same time mostly try different ones (a clash costs nothing: the conditional UPDATE decides).
  const start = Math.floor((rank * shards) / live.length);
  const free = leases
    .filter((l) => l.owner !== me && (l.owner === null || !l.live))
    .map((l) => l.shard)
    .sort((a, b) => ((a - start + shards) % shards) - ((b - start + shards) % shards));
  return { quota, claim: free.slice(0, wanted), release };
}
