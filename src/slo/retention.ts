/**
 * Retention of the SLO floor's tables (docs/retention.md): ingestion idempotency keys, the stored
 * minutes (`sli_minutes`, and the OTLP receiver's raw `otlp_minutes`) past what any window or the
 * history backfill still reads, and `slo_history` downsampled by age. The cutoffs are pure
 * functions of the catalog and `retention.*`; the rules delete through the batch deleter of
 * src/platform/retention.ts, except whole weeks of `sli_minutes` on PostgreSQL, which go by dropping
 * their partition (src/slo/partitions.ts). The only deletes of these tables outside ingestion and the evaluator.
 */
import type { Db } from '../platform/db/index.js';
import {
  cutoffMs,
  DAY_MS,
  deleteExpired,
  distinctLeading,
  type HistoryPlan,
  historyPlan,
  historyRegions,
  MINUTE_MS,
  type RetentionRule,
  type RetentionRun,
  type RetentionSettings,
  thinnedPoints,
} from '../platform/retention.js';
import { type EvaluationTarget, evaluationTargets } from './evaluation.js';
import { DEFAULT_HISTORY_BACKFILL_DAYS, historySpanMs } from './evaluator/replay.js';
import { longestPeriodMs, windowsSpanMs } from './evaluator/state.js';
import type { Catalog } from './model.js';
import { dropMinutePartitions } from './partitions.js';

/** How far back a target's evaluation reads minutes: its period and every burn window (ms). */
export function readSpanMs(target: EvaluationTarget): number {
  let spanMs = 0;
  for (const { spec } of target.parts) {
    const periodMs =
      spec.window.kind === 'rolling' ? spec.window.windowMs : longestPeriodMs(spec.window.duration);
    spanMs = Math.max(spanMs, periodMs, windowsSpanMs(spec));
  }
  return spanMs;
}

/**
 * How long `sli_minutes` are kept (ms), or null to keep them all: for every target, what its
 * evaluation reads (`readSpanMs`) plus the longer of the margin and its history backfill span (a
 * history point the backfill replays reads a whole window before it), and at least the status
 * page's days of bars (+1 for its time zone) and what other readers need (`readersDays`). Null when the rule is off or the catalog has no SLO:
 * an empty catalog may be a spec directory that failed to load, and nothing then says what is needed.
 */
export function sliMinutesKeepMs(
  targets: readonly EvaluationTarget[],
  marginDays: number,
  options: { readonly statusPageDays?: number | undefined; readonly readersDays?: number | undefined } = {},
): number | null {
  if (!(marginDays > 0) || targets.length === 0) return null;
  let keepMs = Math.max((options.statusPageDays ?? 0) + 1, options.readersDays ?? 0) * DAY_MS;
  for (const target of targets) {
    const backfillMs = historySpanMs(target, DEFAULT_HISTORY_BACKFILL_DAYS);
    keepMs = Math.max(keepMs, readSpanMs(target) + Math.max(marginDays * DAY_MS, backfillMs));
  }
  return keepMs;
}

/** The `slo_history` plan of each target id: nothing the history backfill re-creates is thinned. */
export function historyPlans(
  targets: readonly EvaluationTarget[],
  settings: RetentionSettings,
): { readonly byId: ReadonlyMap<string, HistoryPlan>; readonly other: HistoryPlan } {
  const byId = new Map<string, HistoryPlan>();
  for (const target of targets)
    byId.set(target.id, historyPlan(settings, historySpanMs(target, DEFAULT_HISTORY_BACKFILL_DAYS)));
  // History of an SLO no longer in the catalog: the backfill does not look at it.
  return { byId, other: historyPlan(settings, 0) };
}

export interface SloRetentionDeps {
  readonly db: Db;
  readonly settings: RetentionSettings;
  readonly catalog: () => Catalog;
  /** statusPage.days: its bars read that many days of minutes. */
  readonly statusPageDays?: number | undefined;
  /** Days of minutes other readers need back from now (the monthly report's trend). */
  readonly readersDays?: number | undefined;
}

/** Values per `IN (…)` list of a thinning delete. */
const IN_LIST = 1000;

/**
 * The SLO floor's retention rules. One instance lives as long as the server: it remembers, per SLO
 * and tier, how far history is already thinned, so a pass reads only what aged since the last one.
 */
export class SloRetention {
  /** `${sloId}\0${bucketMs}` → end of the region already thinned. */
  private readonly thinnedUntil = new Map<string, number>();

  constructor(private readonly deps: SloRetentionDeps) {}

  rules(nowMs: number): RetentionRule[] {
    const { settings } = this.deps;
    const targets = evaluationTargets(this.deps.catalog());
    const rules: RetentionRule[] = [];
    const keysBefore = cutoffMs(nowMs, settings.ingestKeysDays);
    if (keysBefore !== null)
      rules.push({
        name: 'ingest_batches',
        apply: async (run) => {
          await deleteExpired(run, { table: 'ingest_batches', column: 'received_at', cutoffMs: keysBefore });
        },
      });
    const keepMs = sliMinutesKeepMs(targets, settings.sliMinutesMarginDays, {
      statusPageDays: this.deps.statusPageDays,
      readersDays: this.deps.readersDays,
    });
    if (keepMs !== null) {
      // Whole minutes: a minute is kept while any of it is inside the span.
      const before = Math.floor((nowMs - keepMs) / MINUTE_MS) * MINUTE_MS;
      rules.push({
        name: 'sli_minutes',
        apply: async (run) => {
          // PostgreSQL: whole weeks older than the cutoff go by dropping their partition; the
          // week straddling it, the default partition (and SQLite) by the batch delete.
          if (await dropMinutePartitions(run, before)) await this.perKey(run, 'sli_minutes', before);
        },
      });
      rules.push({ name: 'otlp_minutes', apply: (run) => this.perKey(run, 'otlp_minutes', before) });
    }
    rules.push({ name: 'slo_history', apply: (run) => this.history(run, historyPlans(targets, settings)) });
    return rules;
  }

  /** Deletes `minute_ts < before` per storage key (the primary key's leading column). */
  private async perKey(
    run: RetentionRun,
    table: 'sli_minutes' | 'otlp_minutes',
    before: number,
  ): Promise<void> {
    for (const key of await distinctLeading(run.db, table, 'sli'))
      if (!(await deleteExpired(run, { table, column: 'minute_ts', cutoffMs: before, equal: { sli: key } })))
        return;
  }

  private async history(
    run: RetentionRun,
    plans: { readonly byId: ReadonlyMap<string, HistoryPlan>; readonly other: HistoryPlan },
  ): Promise<void> {
    for (const sloId of await distinctLeading(run.db, 'slo_history', 'slo_id')) {
      const plan = plans.byId.get(sloId) ?? plans.other;
      const { deleteBeforeMs, regions } = historyRegions(plan, run.nowMs);
      if (deleteBeforeMs !== null) {
        const goOn = await deleteExpired(run, {
          table: 'slo_history',
          column: 'ts',
          cutoffMs: deleteBeforeMs,
          equal: { slo_id: sloId },
        });
        if (!goOn) return;
      }
      for (const region of regions) if (!(await this.thin(run, sloId, region))) return;
    }
  }

  /**
   * Keeps the last point of each bucket of `region`, a chunk of at most `batchRows` minutes at a
   * time (points are at least a minute apart: evaluator.historyStepSeconds ≥ 60). False: stop.
   */
  private async thin(
    run: RetentionRun,
    sloId: string,
    region: { readonly fromMs: number; readonly toMs: number; readonly bucketMs: number },
  ): Promise<boolean> {
    const { db } = run;
    const key = `${sloId}\u0000${region.bucketMs}`;
    let fromMs = Math.max(region.fromMs, this.thinnedUntil.get(key) ?? Number.NEGATIVE_INFINITY);
    if (fromMs >= region.toMs) return true;
    // Start at the first stored point (the first pass may have a year behind it, or nothing).
    const first = await db.kysely
      .selectFrom('slo_history')
      .select((eb) => eb.fn.min('ts').as('ts'))
      .where('slo_id', '=', sloId)
      .where('ts', '>=', Number.isFinite(fromMs) ? fromMs : Number.MIN_SAFE_INTEGER)
      .where('ts', '<', region.toMs)
      .executeTakeFirst();
    if (first?.ts === null || first?.ts === undefined) {
      this.thinnedUntil.set(key, region.toMs);
      return true;
    }
    fromMs = Math.floor(Number(first.ts) / region.bucketMs) * region.bucketMs;
    const spanMs = Math.max(
      region.bucketMs,
      Math.floor((run.batchRows * MINUTE_MS) / region.bucketMs) * region.bucketMs,
    );
    for (let atMs = fromMs; atMs < region.toMs; atMs += spanMs) {
      const toMs = Math.min(atMs + spanMs, region.toMs);
      const rows = await db.kysely
        .selectFrom('slo_history')
        .select('ts')
        .where('slo_id', '=', sloId)
        .where('ts', '>=', atMs)
        .where('ts', '<', toMs)
        .execute();
      const gone = thinnedPoints(
        rows.map((r) => Number(r.ts)),
        { ...region, fromMs: atMs, toMs },
      );
      let deleted = 0;
      for (let i = 0; i < gone.length; i += IN_LIST) {
        const result = await db.kysely
          .deleteFrom('slo_history')
          .where('slo_id', '=', sloId)
          .where('ts', 'in', gone.slice(i, i + IN_LIST))
          .executeTakeFirst();
        deleted += Number(result.numDeletedRows);
      }
      run.count('slo_history', deleted);
      this.thinnedUntil.set(key, toMs);
      if (deleted > 0 && !(await run.pause())) return false;
    }
    return true;
  }
}
