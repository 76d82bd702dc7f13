/**
 * The week partitions of `sli_minutes` on PostgreSQL, kept by the SLO floor
 * (docs/retention.md#partitions-postgresql): created ahead of the data (at start and every hour, `maintainMinutePartitions`), created before a
 * backfill writes into an older week (`ensureMinuteWeeks`, by ingestion and the pull loop, outside
 * their transactions), and dropped by retention once a whole week is older than what is kept
 * (`dropMinutePartitions`). A minute whose week has no partition lands in the default partition
 * and is never lost. On SQLite, and on a PostgreSQL table that is not partitioned, all of it does nothing.
 */
import { type Kysely, sql } from 'kysely';
import {
  type Database,
  type Db,
  type EnsureReport,
  ensureWeekPartitions,
  isPartitioned,
  listPartitions,
  type MinutePartition,
  pgCode,
  setLockTimeout,
  WEEK_MS,
  weekStart,
} from '../platform/db/index.js';
import { distinctLeading, type RetentionRun } from '../platform/retention.js';
import { lockHourSums } from './hour-sums.js';

/** Weeks after the current one that get their partition ahead of time (the task runs hourly). */
export const AHEAD_WEEKS = 1;
/** Values per `IN (…)` list when removing a dropped week's hour sums. */
const IN_LIST = 1000;

/**
 * Per database: whether `sli_minutes` is partitioned (only "yes" is remembered), and the weeks
 * known to have a partition.
 */
interface Known {
  partitioned: boolean;
  readonly weeks: Set<number>;
}
const known = new WeakMap<object, Known>();

async function knownOf(db: Db): Promise<Known | null> {
  if (db.dialect !== 'postgres') return null;
  let entry = known.get(db.kysely);
  if (!entry) {
    entry = { partitioned: false, weeks: new Set() };
    known.set(db.kysely, entry);
  }
  if (!entry.partitioned) entry.partitioned = await isPartitioned(db.kysely);
  return entry.partitioned ? entry : null;
}

function remember(entry: Known, partitions: readonly MinutePartition[]): void {
  entry.weeks.clear();
  for (const p of partitions)
    for (let w = weekStart(p.fromMs); w + WEEK_MS <= p.toMs; w += WEEK_MS) entry.weeks.add(w);
}

/**
 * Makes sure every week of `[fromMs, toMs)` has its partition, before a writer stores minutes there.
 * Answers from memory when this process already saw them all (the steady state: no query). Never
 * throws: a week it could not create (its lock busy, say) only sends those minutes to the default
 * partition, where they are as safe.
 */
export async function ensureMinuteWeeks(db: Db, fromMs: number, toMs: number): Promise<EnsureReport | null> {
  try {
    const entry = await knownOf(db);
    if (!entry || !(toMs > fromMs)) return null;
    let missing = false;
    for (let w = weekStart(fromMs); w < toMs && !missing; w += WEEK_MS) missing = !entry.weeks.has(w);
    if (!missing) return null;
    const report = await ensureWeekPartitions(db.kysely, fromMs, toMs);
    remember(entry, await listPartitions(db.kysely));
    return report;
  } catch {
    return null;
  }
}

/** The current week and AHEAD_WEEKS after it: what `maintainMinutePartitions` creates. */
export function aheadRange(nowMs: number): { readonly fromMs: number; readonly toMs: number } {
  const fromMs = weekStart(nowMs);
  return { fromMs, toMs: fromMs + (AHEAD_WEEKS + 1) * WEEK_MS };
}

/**
 * Creates this week's and the next weeks' partitions when missing; null on SQLite. Throws on
 * failure (logged by its task).
 */
export async function maintainMinutePartitions(db: Db, nowMs: number): Promise<EnsureReport | null> {
  const entry = await knownOf(db);
  if (!entry) return null;
  const { fromMs, toMs } = aheadRange(nowMs);
  const report = await ensureWeekPartitions(db.kysely, fromMs, toMs);
  remember(entry, await listPartitions(db.kysely));
  return report;
}

/**
 * Drops every week partition wholly older than `beforeMs` (its rows are all past the cutoff),
 * counting its rows as deleted from `sli_minutes` and the partition in `partitionsDropped`. Each
 * drop is one short transaction that also removes the hour sums of that week (a dropped table
 * fires no delete trigger to mark them). A drop that waits too long for its lock is skipped: the
 * batch delete that follows takes those rows this pass. Returns false when the pass must stop.
 */
export async function dropMinutePartitions(run: RetentionRun, beforeMs: number): Promise<boolean> {
  const { db } = run;
  const entry = await knownOf(db);
  if (!entry) return true;
  for (const partition of await listPartitions(db.kysely)) {
    if (partition.toMs > beforeMs) break;
    // Counted before the drop, outside its lock: a backfill into a week this old meanwhile goes uncounted.
    const counted = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.id(partition.name)}`.execute(
      db.kysely,
    );
    if (!(await dropPartition(db, partition))) continue;
    for (let w = weekStart(partition.fromMs); w < partition.toMs; w += WEEK_MS) entry.weeks.delete(w);
    run.count('sli_minutes', Number(counted.rows[0]?.n ?? 0));
    run.partitionsDropped?.('sli_minutes', 1);
    if (!(await run.pause())) return false;
  }
  return true;
}

/** One partition and its hour sums gone together; false when its lock was busy. */
async function dropPartition(db: Db, partition: MinutePartition): Promise<boolean> {
  try {
    await db.kysely.transaction().execute(async (trx) => {
      await setLockTimeout(trx);
      // A refresh under way finishes first; none starts until this commits.
      await lockHourSums(trx);
      await sql`DROP TABLE IF EXISTS ${sql.id(partition.name)}`.execute(trx);
      await dropHours(trx, db, partition);
    });
    return true;
  } catch (error) {
    if (pgCode(error) === '55P03') return false;
    throw error;
  }
}

/** Removes the hour sums of the partition's range through the key, SLI by SLI, not by reading every hour. */
async function dropHours(trx: Kysely<Database>, db: Db, partition: MinutePartition): Promise<void> {
  const slis = await distinctLeading({ ...db, kysely: trx }, 'sli_hours', 'sli');
  for (let i = 0; i < slis.length; i += IN_LIST)
    await trx
      .deleteFrom('sli_hours')
      .where('sli', 'in', slis.slice(i, i + IN_LIST))
      .where('hour_ts', '>=', partition.fromMs)
      .where('hour_ts', '<', partition.toMs)
      .execute();
}
