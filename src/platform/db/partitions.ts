/**
 * PostgreSQL's native time partitioning of `sli_minutes` (docs/retention.md#partitions-postgresql): one range
 * partition per UTC week (Monday 00:00 to Monday 00:00) of `minute_ts`, and a DEFAULT partition
 * that takes any minute no week partition covers, so a write never fails for want of one. The
 * pure week arithmetic, the catalog read of the partitions, and the idempotent creation of a
 * week's partition (moving the rows the default partition holds for it). SQLite has none of this:
 * its `sli_minutes` is one table, and every function here is for PostgreSQL only.
 */
import { type Kysely, sql } from 'kysely';

export const WEEK_MS = 7 * 86_400_000;
/** 1970-01-01 was a Thursday: Mondays are 4 days after the epoch, modulo a week. */
const MONDAY_OFFSET_MS = 4 * 86_400_000;
/** The partitioned table and its default partition. */
export const MINUTES_TABLE = 'sli_minutes';
export const DEFAULT_PARTITION = 'sli_minutes_default';
/**
 * How long a partition's DDL waits for its lock (CREATE and DROP of a partition lock the whole
 * table): while it waits, every query behind it waits too. A statement that gives up is tried
 * again by the next maintenance or retention pass; writes meanwhile go to the default partition.
 */
export const PARTITION_LOCK_TIMEOUT_MS = 2_000;

/** The start (Monday 00:00 UTC) of the week holding `ms`. */
export function weekStart(ms: number): number {
  return Math.floor((ms - MONDAY_OFFSET_MS) / WEEK_MS) * WEEK_MS + MONDAY_OFFSET_MS;
}

/** The name of the week partition starting at `startMs` (`sli_minutes_w20261207`); null outside years 1000–9999. */
export function weekPartitionName(startMs: number): string | null {
  const date = new Date(startMs);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(startMs) || year < 1000 || year > 9999) return null;
  return `${MINUTES_TABLE}_w${date.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The week starts `[weekStart(fromMs), toMs)` covers. */
export function weeksBetween(fromMs: number, toMs: number): number[] {
  const weeks: number[] = [];
  for (let w = weekStart(fromMs); w < toMs; w += WEEK_MS) weeks.push(w);
  return weeks;
}

/** One range partition of `sli_minutes`: minutes `[fromMs, toMs)`. */
export interface MinutePartition {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** Parses `pg_get_expr(relpartbound)`: `FOR VALUES FROM ('1') TO ('2')`; null for DEFAULT or another form. */
export function parseRangeBound(bound: string): { fromMs: number; toMs: number } | null {
  const match = /^FOR VALUES FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)$/.exec(bound.trim());
  if (!match) return null;
  return { fromMs: Number(match[1]), toMs: Number(match[2]) };
}

/** Whether `sli_minutes` is partitioned here (PostgreSQL after migration 0024). */
export async function isPartitioned<DB>(db: Kysely<DB>): Promise<boolean> {
  const rows = await sql<{ kind: string }>`SELECT c.relkind AS kind FROM pg_class c
    WHERE c.oid = to_regclass(${MINUTES_TABLE})`.execute(db);
  return rows.rows[0]?.kind === 'p';
}

/** The range partitions of `sli_minutes`, oldest first (the default partition left out). */
export async function listPartitions<DB>(db: Kysely<DB>): Promise<MinutePartition[]> {
  const rows = await sql<{ name: string; bound: string }>`SELECT c.relname AS name,
      pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = to_regclass(${MINUTES_TABLE})`.execute(db);
  const partitions: MinutePartition[] = [];
  for (const row of rows.rows) {
    const range = parseRangeBound(row.bound);
    if (range) partitions.push({ name: row.name, ...range });
  }
  return partitions.sort((a, b) => a.fromMs - b.fromMs);
}

/** What `ensureWeekPartitions` did. */
export interface EnsureReport {
  /** Partitions created. */
  readonly created: readonly string[];
  /** Rows moved out of the default partition into them. */
  readonly movedRows: number;
  /** Weeks skipped because their lock was not granted in time (tried again next time). */
  readonly busy: number;
}

/**
 * Creates the week partitions of `[weekStart(fromMs), toMs)` that do not exist yet. Safe to run
 * from several replicas at once: `IF NOT EXISTS`, and a partition another replica created first
 * (duplicate name) counts as there. A week whose rows already sit in the default partition (a
 * backfill before its partition existed) is created by moving them, in one transaction under the
 * table's lock: nothing is lost or seen twice. `db` must not be inside a transaction.
 */
export async function ensureWeekPartitions<DB>(
  db: Kysely<DB>,
  fromMs: number,
  toMs: number,
): Promise<EnsureReport> {
  const existing = await listPartitions(db);
  const covered = (w: number) => existing.some((p) => p.fromMs <= w && w + WEEK_MS <= p.toMs);
  const created: string[] = [];
  let movedRows = 0;
  let busy = 0;
  for (const w of weeksBetween(fromMs, toMs)) {
    const name = weekPartitionName(w);
    if (name === null || covered(w)) continue;
    // A partition whose range overlaps this week without covering it (made by hand) is left alone.
    if (existing.some((p) => p.fromMs < w + WEEK_MS && w < p.toMs)) continue;
    const outcome = await createWeek(db, name, w);
    if (outcome === 'busy') busy++;
    else if (outcome !== 'exists') {
      created.push(name);
      movedRows += outcome.movedRows;
    }
  }
  return { created, movedRows, busy };
}

type CreateOutcome = 'exists' | 'busy' | { readonly movedRows: number };

async function createWeek<DB>(db: Kysely<DB>, name: string, startMs: number): Promise<CreateOutcome> {
  const range = sql`FOR VALUES FROM (${sql.lit(startMs)}) TO (${sql.lit(startMs + WEEK_MS)})`;
  try {
    return await db.transaction().execute(async (trx) => {
      await setLockTimeout(trx);
      // Fails (check_violation) when the default partition holds rows of this week.
      await sql`CREATE TABLE IF NOT EXISTS ${sql.id(name)} PARTITION OF ${sql.id(MINUTES_TABLE)} ${range}`.execute(
        trx,
      );
      return { movedRows: 0 };
    });
  } catch (error) {
    const code = pgCode(error);
    if (code === '42P07' || code === '23505') return 'exists';
    if (code === '55P03') return 'busy';
    if (code !== '23514') throw error;
  }
  try {
    return await db.transaction().execute(async (trx) => {
      await setLockTimeout(trx);
      await sql`LOCK TABLE ${sql.id(MINUTES_TABLE)} IN ACCESS EXCLUSIVE MODE`.execute(trx);
      const there = await sql<{ oid: unknown }>`SELECT to_regclass(${name}) AS oid`.execute(trx);
      if (there.rows[0]?.oid) return 'exists' as const;
      // A table alike, filled with the week's rows taken out of the default partition, then attached
      // (which builds its indexes). Direct DML on partitions fires none of the table's statement
      // triggers: the minutes only move, so no hour sum is marked.
      await sql`CREATE TABLE ${sql.id(name)} (LIKE ${sql.id(MINUTES_TABLE)} INCLUDING DEFAULTS)`.execute(trx);
      const moved = await sql`WITH gone AS (
          DELETE FROM ${sql.id(DEFAULT_PARTITION)}
          WHERE minute_ts >= ${sql.lit(startMs)} AND minute_ts < ${sql.lit(startMs + WEEK_MS)}
          RETURNING sli, minute_ts, good, total, updated_at)
        INSERT INTO ${sql.id(name)} (sli, minute_ts, good, total, updated_at) SELECT * FROM gone`.execute(
        trx,
      );
      await sql`ALTER TABLE ${sql.id(MINUTES_TABLE)} ATTACH PARTITION ${sql.id(name)} ${range}`.execute(trx);
      return { movedRows: Number(moved.numAffectedRows ?? 0n) };
    });
  } catch (error) {
    const code = pgCode(error);
    if (code === '42P07' || code === '23505') return 'exists';
    if (code === '55P03') return 'busy';
    throw error;
  }
}

/** Bounds the wait for a partition's lock, for the rest of the transaction. */
export async function setLockTimeout<DB>(trx: Kysely<DB>): Promise<void> {
  await sql`SELECT set_config('lock_timeout', ${`${PARTITION_LOCK_TIMEOUT_MS}ms`}, true)`.execute(trx);
}

/** The SQLSTATE of a PostgreSQL error (node-postgres puts it in `code`). */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
