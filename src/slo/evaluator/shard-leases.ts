/**
 * Shard leases on PostgreSQL (the `evaluator_shards` and `evaluator_replicas` tables): each replica
 * renews its leases every heartbeat, gives back what it holds beyond its share, and takes free or
 * expired shards up to its share (`planLeases`). Every lease change is a conditional UPDATE timed
 * by the database's clock, so no two replicas hold one shard whatever their clocks say; a takeover
 * raises the shard's epoch, and each tick's write is fenced by it (`fence`). See
 * docs/evaluation.md#sharding.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database, Db } from '../../platform/db/index.js';
import type { ShinraiMetrics } from '../../platform/metrics.js';
import { planLeases } from './shards.js';

/** The shards this replica may evaluate, and the fence its tick writes go through. */
export interface ShardOwnership {
  /** The number of shards the SLOs are split into. */
  readonly count: number;
  /** This replica's id, as stored in the lease rows. */
  readonly replica: string;
  /** The shards held now, with the epoch each was taken under. */
  owned(): ReadonlyMap<number, number>;
  /** Called when the set of held shards changes. */
  onChange(listener: () => void): () => void;
  /**
   * Inside a tick's write transaction: locks the lease rows of `shards` until the commit and
   * answers those still held by this replica under the same epoch; the others were taken over
   * (or given back) since the tick began, and their statuses must not be written.
   */
  fence(trx: Kysely<Database>, shards: ReadonlyMap<number, number>): Promise<Set<number>>;
  /** Forgets shards a fence found taken over. */
  lost(shards: Iterable<number>): void;
  start(): Promise<void>;
  /** Gives every lease back (another replica takes them at once) and stops renewing. */
  stop(): Promise<void>;
}

export interface ShardLeaseOptions {
  readonly db: Db;
  readonly shards: number;
  readonly leaseSeconds: number;
  readonly heartbeatSeconds: number;
  readonly log: Logger;
  readonly metrics?: ShinraiMetrics | undefined;
  /** Default: host, process id and a random part (a restarted process is a new replica). */
  readonly replica?: string | undefined;
}

/** The database's clock in ms: every expiry is set and compared with it, never a replica's clock. */
const DB_NOW = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export class PgShardLeases implements ShardOwnership {
  readonly count: number;
  readonly replica: string;
  private readonly leaseMs: number;
  private held = new Map<number, number>();
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = true;
  /**
   * performance.now() until which the held leases surely last: a lease term after the earliest
   * statement that set one of their expiries was sent. Past it, they may be someone else's.
   */
  private validUntil = Number.NEGATIVE_INFINITY;
  private disagreement: string | undefined;

  constructor(private readonly options: ShardLeaseOptions) {
    if (!Number.isSafeInteger(options.shards) || options.shards < 1)
      throw new RangeError('shards must be ≥ 1');
    this.count = options.shards;
    this.leaseMs = options.leaseSeconds * 1000;
    this.replica = options.replica ?? `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  }

  owned(): ReadonlyMap<number, number> {
    // A replica that could not renew for a lease term may have lost everything: it stops.
    if (performance.now() > this.validUntil && this.held.size) this.replace(new Map());
    return this.held;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), this.options.heartbeatSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.inFlight;
    const { kysely } = this.options.db;
    try {
      await kysely
        .updateTable('evaluator_shards')
        .set({ owner: null, expires_at: 0 })
        .where('owner', '=', this.replica)
        .execute();
      await kysely.deleteFrom('evaluator_replicas').where('replica', '=', this.replica).execute();
    } catch (error) {
      // The leases then expire on their own.
      this.options.log.warn({ err: error }, 'shard leases not given back; they expire by themselves');
    }
    this.replace(new Map());
  }

  async fence(trx: Kysely<Database>, shards: ReadonlyMap<number, number>): Promise<Set<number>> {
    if (!shards.size) return new Set();
    // The lease rows stay locked until the commit: a replica frozen inside this transaction (a
    // paused VM, SIGSTOP) would keep a takeover waiting for ever. The server ends the session
    // after a lease term of idling in it instead; its write is then lost, as it must be.
    await sql.raw(`SET LOCAL idle_in_transaction_session_timeout = ${Math.ceil(this.leaseMs)}`).execute(trx);
    const rows = await trx
      .updateTable('evaluator_shards')
      .set({ written_at: DB_NOW })
      .where('owner', '=', this.replica)
      .where('shard', 'in', [...shards.keys()])
      .returning(['shard', 'epoch'])
      .execute();
    return new Set(rows.filter((r) => Number(r.epoch) === shards.get(r.shard)).map((r) => r.shard));
  }

  lost(shards: Iterable<number>): void {
    const next = new Map(this.held);
    for (const shard of shards) next.delete(shard);
    if (next.size !== this.held.size) {
      this.options.log.warn(
        { shards: [...shards] },
        'shards taken over by another replica; not evaluated here',
      );
      this.replace(next);
    }
  }

  /** One renewal and rebalance; never throws. */
  heartbeat(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.beat()
      .catch((error) => this.options.log.warn({ err: error }, 'shard lease heartbeat failed; retrying'))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const { kysely } = this.options.db;
    const lease = sql<number>`${DB_NOW} + ${this.leaseMs}`;
    await kysely
      .insertInto('evaluator_replicas')
      .values({ replica: this.replica, shards: this.count, expires_at: lease })
      .onConflict((oc) => oc.column('replica').doUpdateSet({ expires_at: lease, shards: this.count }))
      .execute();
    // Replicas gone for ten lease terms are forgotten (their rows only grow the table).
    await kysely
      .deleteFrom('evaluator_replicas')
      .where('expires_at', '<', sql<number>`${DB_NOW} - ${10 * this.leaseMs}`)
      .execute();
    const replicas = await kysely
      .selectFrom('evaluator_replicas')
      .select(['replica', 'shards'])
      .where('expires_at', '>', DB_NOW)
      .execute();
    if (!(await this.agreeOnShards(replicas))) return;

    // Renew what is ours (an expired lease nobody took is still ours, under the same epoch).
    const renewStartedAt = performance.now();
    const renewed = await kysely
      .updateTable('evaluator_shards')
      .set({ expires_at: lease })
      .where('owner', '=', this.replica)
      .returning(['shard', 'epoch'])
      .execute();
    let validUntil = renewed.length ? renewStartedAt + this.leaseMs : Number.POSITIVE_INFINITY;
    const held = new Map(renewed.map((r) => [r.shard, Number(r.epoch)]));

    const leases = await kysely
      .selectFrom('evaluator_shards')
      .select(['shard', 'owner', sql<boolean>`expires_at > ${DB_NOW}`.as('live')])
      .orderBy('shard')
      .execute();
    const plan = planLeases(
      this.replica,
      replicas.map((r) => r.replica),
      leases.map((l) => ({ shard: l.shard, owner: l.owner, live: Boolean(l.live) })),
    );
    if (plan.release.length) {
      await kysely
        .updateTable('evaluator_shards')
        .set({ owner: null, expires_at: 0 })
        .where('owner', '=', this.replica)
        .where('shard', 'in', [...plan.release])
        .execute();
      for (const shard of plan.release) held.delete(shard);
      this.options.log.info({ shards: plan.release, quota: plan.quota }, 'gave shards back for balance');
    }
    for (const shard of plan.claim) {
      const claimStartedAt = performance.now();
      const taken = await kysely
        .updateTable('evaluator_shards')
        .set((eb) => ({ owner: this.replica, epoch: eb('epoch', '+', 1), expires_at: lease }))
        .where('shard', '=', shard)
        .where((eb) => eb.or([eb('owner', 'is', null), eb('expires_at', '<=', DB_NOW)]))
        .returning('epoch')
        .executeTakeFirst();
      if (!taken) continue;
      held.set(shard, Number(taken.epoch));
      validUntil = Math.min(validUntil, claimStartedAt + this.leaseMs);
      this.options.metrics?.shardTakeovers.inc();
    }
    if (this.stopped) return;
    this.validUntil = validUntil;
    this.replace(held);
  }

  /**
   * The lease table has one row per shard. Replicas configured with another number must not
   * evaluate beside it (an SLO would be in two shards): they wait. The table is resized only when
   * every live replica asks for the same number, and then every lease starts over (owners
   * cleared, epochs raised) so that no write of the old split can pass a fence.
   */
  private async agreeOnShards(
    replicas: ReadonlyArray<{ replica: string; shards: number }>,
  ): Promise<boolean> {
    const { kysely } = this.options.db;
    const rows = Number(
      (
        await kysely
          .selectFrom('evaluator_shards')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst()
      )?.n ?? 0,
    );
    if (rows === this.count) {
      this.disagreement = undefined;
      return true;
    }
    const others = replicas.filter((r) => r.replica !== this.replica && r.shards !== this.count);
    if (others.length) {
      const why = `evaluator.shards is ${this.count} here but ${others[0]!.shards} on replica ${others[0]!.replica}; this replica evaluates nothing until they agree`;
      if (why !== this.disagreement) this.options.log.error(why);
      this.disagreement = why;
      this.replace(new Map());
      return false;
    }
    await kysely.transaction().execute(async (trx) => {
      await sql`LOCK TABLE evaluator_shards IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
      // Another replica may have set it up meanwhile: its leases stay.
      const now = await trx
        .selectFrom('evaluator_shards')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      if (Number(now?.n ?? 0) === this.count) return;
      await trx.deleteFrom('evaluator_shards').where('shard', '>=', this.count).execute();
      await trx
        .updateTable('evaluator_shards')
        .set((eb) => ({ owner: null, expires_at: 0, epoch: eb('epoch', '+', 1) }))
        .execute();
      await trx
        .insertInto('evaluator_shards')
        .values(
          Array.from({ length: this.count }, (_, shard) => ({ shard, owner: null, epoch: 0, expires_at: 0 })),
        )
        .onConflict((oc) => oc.column('shard').doNothing())
        .execute();
    });
    this.options.log.info({ shards: this.count, before: rows }, 'shard lease table set up');
    return true;
  }

  private replace(next: Map<number, number>): void {
    const same =
      next.size === this.held.size && [...next].every(([shard, epoch]) => this.held.get(shard) === epoch);
    this.held = next;
    this.options.metrics?.shardsOwned.set(next.size);
    if (!same) for (const listener of this.listeners) listener();
  }
}

/** Sharded evaluation for a database: leases on PostgreSQL when `shards` > 0; undefined (the leader evaluates all) otherwise and on SQLite. */
export function createShardOwnership(options: ShardLeaseOptions): ShardOwnership | undefined {
  if (options.db.dialect === 'sqlite' || options.shards === 0) return undefined;
  return new PgShardLeases(options);
}
