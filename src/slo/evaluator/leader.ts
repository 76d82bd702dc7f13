/**
 * Leader election: exactly one replica evaluates. On PostgreSQL the leader holds a session-level
 * advisory lock on a dedicated connection (not a pool connection, which the pool may close or
 * hand to someone else); when the leader process dies its connection closes, the server drops
 * the lock, and a follower's next retry takes it. On SQLite the process that opened the file is
 * the leader: SQLite is Shinrai's single-node embedded mode, one server per database file.
 */

import pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../../platform/db/index.js';
import type { ShinraiMetrics } from '../../platform/metrics.js';

export interface LeaderElection {
  /** True while this replica may evaluate. */
  isLeader(): boolean;
  /**
   * Leader: checks that the lock's connection still holds the lock, and steps down if not.
   * Follower: tries to take the lock. Never throws; resolves to `isLeader()`.
   */
  confirm(): Promise<boolean>;
  /** Called with true when this replica becomes the leader and false when it stops being one. */
  onChange(listener: (leader: boolean) => void): () => void;
  /** Makes the first attempt; a follower then retries on its own every retry interval. */
  start(): Promise<void>;
  /** Gives the lock up (if held) and closes the connection. */
  stop(): Promise<void>;
}

/** Common part: the listeners and the `shinrai_leader` gauge. */
abstract class BaseElection implements LeaderElection {
  protected leader = false;
  private readonly listeners = new Set<(leader: boolean) => void>();

  constructor(private readonly metrics: ShinraiMetrics | undefined) {}

  isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.metrics?.leader.set(leader ? 1 : 0);
    for (const listener of this.listeners) listener(leader);
  }

  abstract confirm(): Promise<boolean>;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}

/** SQLite: the one process that owns the database file always evaluates. */
export class SingleNodeLeadership extends BaseElection {
  private stopped = false;

  async confirm(): Promise<boolean> {
    if (!this.stopped) this.setLeader(true);
    return this.leader;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.confirm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.setLeader(false);
  }
}

/** Advisory-lock namespace for Shinrai's evaluator ('SHIN'); the second key is the schema's hash. */
export const LEADER_LOCK_CLASS = 0x5348494e;

export interface PgLeadershipOptions {
  /** Opens (and connects) the dedicated connection that holds the lock. */
  readonly connect: () => Promise<pg.Client>;
  /** How often a follower tries to take the lock, and the leader re-checks it. */
  readonly retrySeconds: number;
  readonly log: Logger;
  readonly metrics?: ShinraiMetrics | undefined;
}

/**
 * PostgreSQL: `pg_try_advisory_lock(LEADER_LOCK_CLASS, hash(current_schema()))` on a connection of
 * its own. The lock is per database, so the schema is part of the key: replicas sharing a schema
 * (one installation) compete, while installations or test suites in other schemas of the same
 * database do not block each other.
 */
export class PgLeadership extends BaseElection {
  private client: pg.Client | null = null;
  private lockKey: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private stopped = true;

  constructor(private readonly options: PgLeadershipOptions) {
    super(options.metrics);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.confirm();
    this.timer = setInterval(() => void this.confirm(), this.options.retrySeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.inFlight?.catch(() => {});
    const client = this.client;
    const key = this.lockKey;
    this.client = null;
    if (client) {
      // Closing the session frees the lock too; unlocking first just makes the handover immediate.
      if (this.leader && key !== null)
        await client
          .query('SELECT pg_advisory_unlock($1::int, $2::int)', [LEADER_LOCK_CLASS, key])
          .catch(() => {});
      await client.end().catch(() => {});
    }
    this.setLeader(false);
  }

  confirm(): Promise<boolean> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.attempt().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async attempt(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      const client = this.client ?? (await this.open());
      if (this.leader) {
        const held = await client.query<{ held: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
             AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2 AND granted) AS held`,
          [LEADER_LOCK_CLASS, this.lockKey],
        );
        if (!held.rows[0]?.held) this.stepDown(new Error('the advisory lock is no longer held'));
      } else {
        const taken = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock($1::int, $2::int) AS ok',
          [LEADER_LOCK_CLASS, this.lockKey],
        );
        if (taken.rows[0]?.ok && this.client === client && !this.stopped) {
          this.options.log.info(
            { lockKey: [LEADER_LOCK_CLASS, this.lockKey] },
            'became the evaluation leader',
          );
          this.setLeader(true);
        }
      }
    } catch (error) {
      this.stepDown(error);
    }
    return this.leader;
  }

  private async open(): Promise<pg.Client> {
    const client = await this.options.connect();
    try {
      // A connection error while idle must not crash the process: it only means "not the leader".
      client.on('error', (error) => this.lost(client, error));
      client.on('end', () => this.lost(client, new Error('the leader connection closed')));
      // Let the server notice a vanished leader (network partition) in ~30 s instead of hours.
      await client.query(
        'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3',
      );
      const schema = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      this.lockKey = schemaLockKey(schema.rows[0]?.schema ?? '');
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.client = client;
    return client;
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client === client) this.stepDown(error);
  }

  /** Stops evaluating and drops the connection; the next attempt reconnects as a follower. */
  private stepDown(error: unknown): void {
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => {});
      client.end().catch(() => {});
    }
    if (this.leader)
      this.options.log.warn({ err: error }, 'lost the evaluation lead; another replica takes over');
    else this.options.log.debug({ err: error }, 'leader election attempt failed; retrying');
    this.setLeader(false);
  }
}

/** A positive 31-bit FNV-1a hash of the schema name: the second advisory-lock key. */
export function schemaLockKey(schema: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(schema, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & 0x7fffffff;
}

/** The election for a database: PostgreSQL → advisory lock on a dedicated connection to `url`; SQLite → this process. */
export function createLeaderElection(options: {
  readonly db: Db;
  /** The database URL (the same one `db` was opened with). */
  readonly url: string;
  readonly retrySeconds: number;
  readonly log: Logger;
  readonly metrics?: ShinraiMetrics | undefined;
}): LeaderElection {
  if (options.db.dialect === 'sqlite') return new SingleNodeLeadership(options.metrics);
  const timeoutMs = Math.max(2_000, Math.min(10_000, options.retrySeconds * 1000));
  return new PgLeadership({
    retrySeconds: options.retrySeconds,
    log: options.log,
    metrics: options.metrics,
    connect: async () => {
      const client = new pg.Client({
        connectionString: options.url,
        keepAlive: true,
        connectionTimeoutMillis: timeoutMs,
        query_timeout: timeoutMs,
      });
      await client.connect();
      return client;
    },
  });
}
