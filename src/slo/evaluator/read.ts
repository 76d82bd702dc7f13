/**
 * Reads what the evaluator stored, for the API and reports on every replica: current statuses
 * (`slo_status`) and the history (`slo_history`). A status carries `evaluatedAt`; when the
 * evaluator cannot run (database down, no leader) the last stored status stays, and readers
 * should show it as stale (`isStale`) rather than as current.
 */
import type { Db } from '../../platform/db/index.js';
import type { BudgetReportEntry } from '../budget-report.js';
import type { DataState } from '../data-state.js';

/**
 * A status as the evaluator stored it: the `shinrai budget --json` entry plus when it was computed
 * and, for pulled data, whether that data is current.
 */
export type StoredStatus = BudgetReportEntry & {
  readonly evaluatedAt: string;
  readonly data?: DataState | undefined;
  /**
   * The SLO's evaluation fails (on its own; the others go on): why, and since when. The figures
   * are the last good ones, computed at `evaluatedAt` (none, `sli` null, if it never evaluated).
   */
  readonly error?: SloEvaluationError | undefined;
};

export interface SloEvaluationError {
  readonly reason: string;
  /** ISO time of the first failing evaluation in this run of failures. */
  readonly since: string;
}

export interface HistoryPoint {
  readonly ts: string;
  readonly sli: number | null;
  readonly remaining: number | null;
  readonly burnRates: Readonly<Record<string, number | null>>;
}

/** A stored status older than this many ticks is stale: the evaluator is failing or has no leader. */
export const STALE_AFTER_TICKS = 3;

/** Every stored status, by target id (`slo` or `slo/objective`). */
export async function listStatuses(db: Db): Promise<Map<string, StoredStatus>> {
  const rows = await db.kysely.selectFrom('slo_status').select(['slo_id', 'status']).execute();
  return new Map(rows.map((r) => [r.slo_id, JSON.parse(r.status) as StoredStatus]));
}

/**
 * When the newest stored status was evaluated (epoch ms), by whichever replica led; null when
 * none is stored. A follower reads it to show the leader's progress on /readyz.
 */
export async function newestEvaluationMs(db: Db): Promise<number | null> {
  const row = await db.kysely
    .selectFrom('slo_status')
    .select((eb) => eb.fn.max('evaluated_at').as('newest'))
    .executeTakeFirst();
  return row?.newest === null || row?.newest === undefined ? null : Number(row.newest);
}

/** One stored status; undefined when the evaluator has not computed it (yet). */
export async function getStatus(db: Db, id: string): Promise<StoredStatus | undefined> {
  const row = await db.kysely
    .selectFrom('slo_status')
    .select('status')
    .where('slo_id', '=', id)
    .executeTakeFirst();
  return row ? (JSON.parse(row.status) as StoredStatus) : undefined;
}

/**
 * History points with `fromMs ≤ ts ≤ toMs`, downsampled to one point per `stepMs` bucket (counted
 * from `fromMs`): the last point of each bucket, so a point is the newest status known then.
 * Throws RangeError on a step that is not a positive number of milliseconds.
 */
export async function history(
  db: Db,
  id: string,
  range: { readonly fromMs: number; readonly toMs: number; readonly stepMs: number },
): Promise<HistoryPoint[]> {
  if (!(range.stepMs > 0 && Number.isFinite(range.stepMs))) throw new RangeError('stepMs must be > 0');
  const rows = await historyRows(db, id, range.fromMs, range.toMs);
  return downsample(rows, range.fromMs, range.stepMs).map((r) => r.point());
}

/** A stored history row: its time, and the point it is shaped into (parsed only when called). */
export interface HistoryRow {
  readonly tsMs: number;
  point(): HistoryPoint;
}

/**
 * Every stored history row of `id` with `fromMs ≤ ts ≤ toMs`, ascending, not downsampled: what
 * `history` picks from, and what the history read cache fingerprints (`historyVersion`).
 */
export async function historyRows(db: Db, id: string, fromMs: number, toMs: number): Promise<HistoryRow[]> {
  if (!(fromMs <= toMs)) return [];
  const rows = await db.kysely
    .selectFrom('slo_history')
    .select(['ts', 'sli', 'remaining', 'burn_rates'])
    .where('slo_id', '=', id)
    .where('ts', '>=', fromMs)
    .where('ts', '<=', toMs)
    .orderBy('ts')
    .execute();
  return rows.map((r) => {
    const tsMs = Number(r.ts);
    return {
      tsMs,
      point: () => ({
        ts: new Date(tsMs).toISOString(),
        sli: r.sli === null ? null : Number(r.sli),
        remaining: r.remaining === null ? null : Number(r.remaining),
        burnRates: JSON.parse(r.burn_rates) as Record<string, number | null>,
      }),
    };
  });
}

/** The last point of each `stepMs` bucket counted from `fromMs`; `points` ascending by `tsMs`. */
export function downsample<T extends { readonly tsMs: number }>(
  points: readonly T[],
  fromMs: number,
  stepMs: number,
): T[] {
  const out: T[] = [];
  let lastBucket = Number.NaN;
  for (const point of points) {
    const bucket = Math.floor((point.tsMs - fromMs) / stepMs);
    if (bucket === lastBucket) out[out.length - 1] = point;
    else out.push(point);
    lastBucket = bucket;
  }
  return out;
}

/** True when a status evaluated at `evaluatedAt` should be shown as stale at `nowMs`. */
export function isStale(evaluatedAt: string | number, nowMs: number, tickSeconds: number): boolean {
  const atMs = typeof evaluatedAt === 'number' ? evaluatedAt : Date.parse(evaluatedAt);
  return !(nowMs - atMs <= STALE_AFTER_TICKS * tickSeconds * 1000);
}
