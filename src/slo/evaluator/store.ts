/**
 * The evaluator's database adapter: the change feed and backfill reads of `sli_minutes`, the
 * per-tick write of `slo_status` and `slo_history`, and the history backfill's reads and writes. The same SQL runs on SQLite and PostgreSQL.
 */
import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.js';
import type { Database, SloHistoryTable, SloStatusTable } from '../../platform/db/schema.js';
import type { BudgetStatus } from '../budget/index.js';
import type { MinuteRow } from './state.js';

/** A changed row, with the `updated_at` the feed's cursor follows. */
export interface ChangedRow extends MinuteRow {
  readonly updatedAtMs: number;
}

/** Position in the feed: rows after this (updated_at, sli, minute_ts) come next. */
export type FeedPosition = readonly [updatedAtMs: number, storageKey: string, minuteMs: number];

/** Rows per statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK_ROWS = 1_000;

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
 * included), ascending by minute. Used by the backfill and by the history replay's chunks.
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

/** How many history points of `sloId` are stored on a multiple of `stepMs` with `fromMs ≤ ts ≤ toMs`. */
export async function countHistory(
  db: Db,
  sloId: string,
  fromMs: number,
  toMs: number,
  stepMs: number,
): Promise<number> {
  const row = await db.kysely
    .selectFrom('slo_history')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('slo_id', '=', sloId)
    .where('ts', '>=', fromMs)
    .where('ts', '<=', toMs)
    // Points of an earlier, finer step setting do not stand in for missing steps.
    .where(sql<number>`ts % ${sql.lit(stepMs)}`, '=', 0)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The instants of the history points of `sloId` stored with `fromMs ≤ ts ≤ toMs`. */
export async function storedHistorySteps(
  db: Db,
  sloId: string,
  fromMs: number,
  toMs: number,
): Promise<number[]> {
  const rows = await db.kysely
    .selectFrom('slo_history')
    .select('ts')
    .where('slo_id', '=', sloId)
    .where('ts', '>=', fromMs)
    .where('ts', '<=', toMs)
    .execute();
  return rows.map((r) => Number(r.ts));
}

/** One `slo_history` row: the status of `sloId` at step `stepMs`. */
export function historyRow(sloId: string, stepMs: number, status: BudgetStatus): SloHistoryTable {
  return {
    slo_id: sloId,
    ts: stepMs,
    sli: status.sli,
    remaining: status.budget.remaining,
    burn_rates: JSON.stringify(status.burnRates),
  };
}

export interface TickWrite {
  readonly statuses: readonly SloStatusTable[];
  /** Points of one history step; a point already stored for (SLO, ts) is kept (the earliest wins). */
  readonly history: readonly SloHistoryTable[];
  /** When set, stored statuses of other SLOs (removed from the specs) are deleted. */
  readonly keepOnly?: ReadonlySet<string> | undefined;
  /** More writes that must commit with the statuses (the alert transitions they cause). */
  readonly also?: ((trx: Kysely<Database>) => Promise<void>) | undefined;
}

/** Writes one tick in one transaction: statuses upserted, history appended, removed SLOs pruned. */
export async function writeTick(db: Db, write: TickWrite): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    for (const chunk of chunks(write.statuses)) {
      await trx
        .insertInto('slo_status')
        .values(chunk)
        .onConflict((oc) =>
          oc.column('slo_id').doUpdateSet((eb) => ({
            evaluated_at: eb.ref('excluded.evaluated_at'),
            status: eb.ref('excluded.status'),
          })),
        )
        .execute();
    }
    for (const chunk of chunks(write.history)) {
      await trx
        .insertInto('slo_history')
        .values(chunk)
        .onConflict((oc) => oc.columns(['slo_id', 'ts']).doNothing())
        .execute();
    }
    if (write.keepOnly) await pruneStatuses(trx, write.keepOnly);
    if (write.also) await write.also(trx);
  });
}

async function pruneStatuses(trx: Kysely<Database>, keep: ReadonlySet<string>): Promise<void> {
  const stored = await trx.selectFrom('slo_status').select('slo_id').execute();
  const removed = stored.map((r) => r.slo_id).filter((id) => !keep.has(id));
  for (const chunk of chunks(removed))
    await trx.deleteFrom('slo_status').where('slo_id', 'in', chunk).execute();
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK_ROWS) out.push(items.slice(i, i + CHUNK_ROWS));
  return out;
}
