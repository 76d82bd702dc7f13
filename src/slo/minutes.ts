/**
 * The one way into `sli_minutes` for reading: a storage key's minutes, the evaluator's change feed,
 * sums cut into (local) days, and the budget a stream consumed between two instants. Callers
 * outside `slo/` (incident impact, alert quality, the status page, the demo) use these instead of
 * writing SQL on the table. Writes stay with ingestion (`ingest/service.ts`, `upsertBuckets`).
 * The same SQL runs on SQLite and PostgreSQL.
 */
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import { evaluate, type ObjectiveSpec } from './budget/index.js';
import { type MinuteRow, replayStartMs } from './evaluator/state.js';
import {
  type BucketCounts,
  bucketMsFor,
  groupIntoDays,
  type TimeWindow,
  type WindowCounts,
} from './minute-buckets.js';

export type { MinuteRow } from './evaluator/state.js';
export type { BucketCounts, TimeWindow, WindowCounts } from './minute-buckets.js';

/** A changed row, with the `updated_at` the feed's cursor follows. */
export interface ChangedRow extends MinuteRow {
  readonly updatedAtMs: number;
}

/** Position in the feed: rows after this (updated_at, sli, minute_ts) come next. */
export type FeedPosition = readonly [updatedAtMs: number, storageKey: string, minuteMs: number];

/** Values per `IN (…)` list: well under both databases' bound-parameter limits. */
const IN_LIST_CHUNK = 500;

/** The newest `updated_at` in `sli_minutes`; null when it is empty. */
export async function latestUpdateMs(db: Db): Promise<number | null> {
  const row = await db.kysely
    .selectFrom('sli_minutes')
    .select((eb) => eb.fn.max('updated_at').as('latest'))
    .executeTakeFirst();
  return row?.latest === null || row?.latest === undefined ? null : Number(row.latest);
}

/**
 * One page of the change feed: rows with `updated_at ≥ sinceMs` (all rows when null), after
 * `after`, in (updated_at, sli, minute_ts) order, so equal timestamps never stall the paging.
 */
export async function readChanges(
  db: Db,
  sinceMs: number | null,
  after: FeedPosition | null,
  limit: number,
): Promise<ChangedRow[]> {
  let query = db.kysely.selectFrom('sli_minutes').select(['sli', 'minute_ts', 'good', 'total', 'updated_at']);
  if (after) {
    // Only the row-value bound: both databases then start the index range at the last row read,
    // instead of at its updated_at (which rescans every row sharing that stamp, page after page).
    const [updatedAtMs, storageKey, minuteMs] = after;
    query = query.where((eb) =>
      eb(eb.refTuple('updated_at', 'sli', 'minute_ts'), '>', eb.tuple(updatedAtMs, storageKey, minuteMs)),
    );
  } else if (sinceMs !== null) query = query.where('updated_at', '>=', sinceMs);
  const rows = await query.orderBy('updated_at').orderBy('sli').orderBy('minute_ts').limit(limit).execute();
  return rows.map((r) => ({
    storageKey: r.sli,
    minuteMs: Number(r.minute_ts),
    good: Number(r.good),
    total: Number(r.total),
    updatedAtMs: Number(r.updated_at),
  }));
}

/**
 * A storage key's rows with `fromMs ≤ minute_ts < toMs` (no upper bound by default: future minutes
 * included), ascending by minute. Used by the evaluator's backfill and history replay, incident
 * impact and alert quality.
 */
export async function readMinutes(
  db: Db,
  storageKey: string,
  fromMs: number,
  toMs?: number,
): Promise<MinuteRow[]> {
  let query = db.kysely
    .selectFrom('sli_minutes')
    .select(['minute_ts', 'good', 'total'])
    .where('sli', '=', storageKey)
    .where('minute_ts', '>=', fromMs);
  if (toMs !== undefined) query = query.where('minute_ts', '<', toMs);
  const rows = await query.orderBy('minute_ts').execute();
  return rows.map((r) => ({
    storageKey,
    minuteMs: Number(r.minute_ts),
    good: Number(r.good),
    total: Number(r.total),
  }));
}

/**
 * Rows of several storage keys with `fromMs ≤ minute_ts < toMs`, in as few queries as the range
 * allows (each query reads about `rowsPerQuery` rows at most). The evaluator's cold reads.
 */
export async function readMinutesOfKeys(
  db: Db,
  storageKeys: readonly string[],
  fromMs: number,
  toMs: number,
  rowsPerQuery = 100_000,
): Promise<MinuteRow[]> {
  const minutes = Math.max(1, Math.ceil((toMs - fromMs) / 60_000));
  const chunk = Math.max(1, Math.min(IN_LIST_CHUNK, Math.floor(rowsPerQuery / minutes)));
  const out: MinuteRow[] = [];
  for (let i = 0; i < storageKeys.length; i += chunk) {
    const rows = await db.kysely
      .selectFrom('sli_minutes')
      .select(['sli', 'minute_ts', 'good', 'total'])
      .where('sli', 'in', storageKeys.slice(i, i + chunk))
      .where('minute_ts', '>=', fromMs)
      .where('minute_ts', '<', toMs)
      .execute();
    for (const r of rows)
      out.push({
        storageKey: r.sli,
        minuteMs: Number(r.minute_ts),
        good: Number(r.good),
        total: Number(r.total),
      });
  }
  return out;
}

/** The earliest stored minute of any of the storage keys; null when none has a row. */
export async function earliestMinuteMs(db: Db, storageKeys: readonly string[]): Promise<number | null> {
  let earliest: number | null = null;
  // One indexed lookup per key (the primary key is (sli, minute_ts)).
  for (const storageKey of new Set(storageKeys)) {
    const row = await db.kysely
      .selectFrom('sli_minutes')
      .select((eb) => eb.fn.min('minute_ts').as('first'))
      .where('sli', '=', storageKey)
      .executeTakeFirst();
    if (row?.first === null || row?.first === undefined) continue;
    const ms = Number(row.first);
    if (earliest === null || ms < earliest) earliest = ms;
  }
  return earliest;
}

/** The latest stored minute of a storage key (future minutes included); null when it has no row. */
export async function latestMinuteMs(db: Db, storageKey: string): Promise<number | null> {
  const row = await db.kysely
    .selectFrom('sli_minutes')
    .select((eb) => eb.fn.max('minute_ts').as('last'))
    .where('sli', '=', storageKey)
    .executeTakeFirst();
  return row?.last === null || row?.last === undefined ? null : Number(row.last);
}

/**
 * Σgood and Σtotal per storage key per bucket of `bucketMs` (aligned to the epoch) over the minutes
 * with `range.startMs ≤ minute_ts < range.endMs`. The database does the summing.
 */
export async function readBucketSums(
  db: Db,
  storageKeys: readonly string[],
  range: TimeWindow,
  bucketMs: number,
): Promise<BucketCounts[]> {
  if (!(Number.isSafeInteger(bucketMs) && bucketMs > 0))
    throw new RangeError(`bucketMs must be a positive integer, got ${bucketMs}`);
  if (!storageKeys.length) return [];
  // Integer division on the bigint column in both dialects; the divisor is checked above, then inlined.
  const bucket = sql<number>`(minute_ts / ${sql.lit(bucketMs)})`;
  const out: BucketCounts[] = [];
  for (let i = 0; i < storageKeys.length; i += IN_LIST_CHUNK) {
    const rows = await db.kysely
      .selectFrom('sli_minutes')
      .select((eb) => [
        'sli',
        bucket.as('bucket'),
        eb.fn.sum<number>('good').as('good'),
        eb.fn.sum<number>('total').as('total'),
      ])
      .where('sli', 'in', storageKeys.slice(i, i + IN_LIST_CHUNK))
      .where('minute_ts', '>=', range.startMs)
      .where('minute_ts', '<', range.endMs)
      .groupBy(['sli', bucket])
      .execute();
    for (const row of rows)
      out.push({
        storageKey: row.sli,
        startMs: Number(row.bucket) * bucketMs,
        good: Number(row.good),
        total: Number(row.total),
      });
  }
  return out;
}

/**
 * Counts per storage key per day: `days` are sorted windows such as local days in a time zone
 * (23 or 25 hours across a DST change). The database sums minutes into 15-minute buckets (minutes
 * when a day starts off the quarter hour), which are then cut into the days. A key without a
 * minute in any day is absent from the map.
 */
export async function readDailyCounts(
  db: Db,
  storageKeys: readonly string[],
  days: readonly TimeWindow[],
): Promise<Map<string, WindowCounts[]>> {
  const first = days[0];
  const last = days.at(-1);
  if (!first || !last || !storageKeys.length) return new Map();
  const buckets = await readBucketSums(
    db,
    storageKeys,
    { startMs: first.startMs, endMs: last.endMs },
    bucketMsFor(days),
  );
  return groupIntoDays(days, buckets);
}

/** The error budget one stream consumed between two instants, and its period's whole budget. */
export interface BudgetBetween {
  /** Events (Occurrences) or minutes (time-slice methods). */
  readonly unit: 'events' | 'minutes';
  /** Budget consumed by the minutes in `[fromMs, toMs)` (bad events, or bad minutes). */
  readonly consumed: number;
  /** The whole budget of the period at `toMs`, in the same unit. */
  readonly periodTotal: number;
}

/**
 * The engine's own figure for the budget a stream (storage key + objective) consumed by the minutes
 * in `[fromMs, toMs)`, as of `toMs`, next to the whole budget of the period at `toMs`. Minutes
 * before the period's replay start (see `replayStartMs`) do not count.
 */
export async function budgetBetween(
  db: Db,
  stream: { readonly storageKey: string; readonly spec: ObjectiveSpec },
  fromMs: number,
  toMs: number,
): Promise<BudgetBetween> {
  const rows = await readMinutes(db, stream.storageKey, replayStartMs(stream.spec, toMs), toMs);
  const minutes = rows.map((r) => ({ ts: r.minuteMs, good: r.good, total: r.total }));
  const whole = evaluate(stream.spec, minutes, toMs);
  const during = evaluate(
    stream.spec,
    minutes.filter((m) => m.ts >= fromMs),
    toMs,
  );
  return { unit: during.budget.unit, consumed: during.budget.consumed, periodTotal: whole.budget.total };
}

/** The burn of one stream over an interval, from its minutes alone (no read of the whole period). */
export interface BurnBetween {
  readonly unit: 'events' | 'minutes';
  /** Budget consumed by the minutes in `[fromMs, toMs)` (bad events, or bad minutes). */
  readonly consumed: number;
  /** The engine's burn rate over `[fromMs, toMs)`; null without data. */
  readonly burnRate: number | null;
  /**
   * The share of the period's budget the interval used at that burn rate: burnRate × interval ÷
   * period (the SRE workbook's measure; equal to consumed ÷ budget when traffic is steady).
   */
  readonly shareOfBudget: number | null;
}

/**
 * The engine's burn rate and consumption over `[fromMs, toMs)` (whole minutes), reading only
 * those minutes: cheap enough to ask for every deployment in a list.
 */
export async function burnBetween(
  db: Db,
  stream: { readonly storageKey: string; readonly spec: ObjectiveSpec },
  fromMs: number,
  toMs: number,
): Promise<BurnBetween> {
  const rows = await readMinutes(db, stream.storageKey, fromMs, toMs);
  const spec: ObjectiveSpec = { ...stream.spec, burnWindows: [], currentBurnWindowMs: toMs - fromMs };
  const status = evaluate(
    spec,
    rows.map((r) => ({ ts: r.minuteMs, good: r.good, total: r.total })),
    toMs,
  );
  const periodMs = status.period.endMs - status.period.startMs;
  const burnRate = status.currentBurnRate;
  return {
    unit: status.budget.unit,
    consumed: status.budget.consumed,
    burnRate,
    shareOfBudget: burnRate === null || !(periodMs > 0) ? null : (burnRate * (toMs - fromMs)) / periodMs,
  };
}
