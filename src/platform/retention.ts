/**
 * Retention, the generic part: the pure cutoffs and `slo_history` downsampling tiers computed from
 * `retention.*` (no I/O, no clock), a dialect-neutral deleter that removes old rows in small
 * batches through an index, and the leader's periodic task that runs the rules, counts what they
 * deleted in /metrics and logs one line per pass. The rules themselves are built by their owners
 * (src/platform/retention-rules.ts, src/slo/retention.ts) and composed in src/app.ts.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database, Db } from './db/index.js';
import type { ShinraiMetrics } from './metrics.js';
import { PeriodicTask, yieldToEventLoop } from './periodic.js';

export type RetentionSettings = Config['retention'];

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The instant before which rows `days` old go; null when the rule is off (0 days). */
export function cutoffMs(nowMs: number, days: number): number | null {
  return days > 0 ? nowMs - days * DAY_MS : null;
}

/** One downsampling tier of `slo_history`: points at least `fromAgeMs` old keep one per `bucketMs`. */
export interface HistoryTier {
  readonly fromAgeMs: number;
  readonly bucketMs: number;
}

/** How one SLO's history is thinned and when it goes. */
export interface HistoryPlan {
  /** Ascending by age and bucket; empty: every point is kept until it is deleted. */
  readonly tiers: readonly HistoryTier[];
  /** Points at least this old are deleted; null: never. */
  readonly deleteAgeMs: number | null;
}

/**
 * The downsampling plan of one SLO's history. `protectMs` is how far back the evaluator's history
 * backfill expects a point at every step (src/slo/evaluator/replay.ts historySpanMs): a point it
 * would re-create is never removed, so no tier starts, and nothing is deleted, before that age.
 */
export function historyPlan(settings: RetentionSettings, protectMs: number): HistoryPlan {
  const deleteAgeMs =
    settings.historyHourlyDays > 0 ? Math.max(settings.historyHourlyDays * DAY_MS, protectMs) : null;
  if (!(settings.historyFullDays > 0)) return { tiers: [], deleteAgeMs };
  const candidates: HistoryTier[] = [
    { fromAgeMs: settings.historyFullDays * DAY_MS, bucketMs: 5 * MINUTE_MS },
    {
      fromAgeMs:
        (settings.historyFiveMinuteDays > 0 ? settings.historyFiveMinuteDays : settings.historyFullDays) *
        DAY_MS,
      bucketMs: HOUR_MS,
    },
  ];
  const tiers: HistoryTier[] = [];
  for (const tier of candidates) {
    if (settings.historyFiveMinuteDays <= 0 && tier.bucketMs === 5 * MINUTE_MS) continue;
    const fromAgeMs = Math.max(tier.fromAgeMs, protectMs);
    // A tier that starts only where points are deleted does nothing.
    if (deleteAgeMs !== null && fromAgeMs >= deleteAgeMs) continue;
    tiers.push({ fromAgeMs, bucketMs: tier.bucketMs });
  }
  return { tiers, deleteAgeMs };
}

/** A range `[fromMs, toMs)` of whole buckets of `bucketMs` (UTC-aligned) that keeps the last point of each. */
export interface HistoryRegion {
  readonly fromMs: number;
  readonly toMs: number;
  readonly bucketMs: number;
}

/**
 * Where the plan applies at `nowMs`: the deletion cutoff and, per tier, the whole buckets that lie
 * entirely past the tier's age (a bucket still filling, or younger, is never thinned). Regions do
 * not overlap: a coarser tier's region ends where the finer tier's begins.
 */
export function historyRegions(
  plan: HistoryPlan,
  nowMs: number,
): { readonly deleteBeforeMs: number | null; readonly regions: readonly HistoryRegion[] } {
  const deleteBeforeMs = plan.deleteAgeMs === null ? null : nowMs - plan.deleteAgeMs;
  const regions: HistoryRegion[] = [];
  let lowerMs = deleteBeforeMs ?? Number.NEGATIVE_INFINITY;
  // Coarsest (oldest) first, so each finer region starts where the coarser one ended.
  for (const tier of [...plan.tiers].reverse()) {
    const toMs = Math.floor((nowMs - tier.fromAgeMs) / tier.bucketMs) * tier.bucketMs;
    const fromMs = Number.isFinite(lowerMs) ? Math.floor(lowerMs / tier.bucketMs) * tier.bucketMs : lowerMs;
    if (toMs > fromMs) regions.push({ fromMs, toMs, bucketMs: tier.bucketMs });
    lowerMs = Math.max(lowerMs, toMs);
  }
  return { deleteBeforeMs, regions };
}

/**
 * The points of `tsMs` (any order) a region thins out: every point of a bucket but its last. The
 * last point is what GET /api/v1/slos/{id}/history answers for a bucket (the newest status known
 * then), so a chart read at the region's resolution, aligned to UTC buckets, is unchanged.
 */
export function thinnedPoints(tsMs: readonly number[], region: HistoryRegion): number[] {
  const lastOfBucket = new Map<number, number>();
  for (const ts of tsMs) {
    if (ts < region.fromMs || ts >= region.toMs) continue;
    const bucket = Math.floor(ts / region.bucketMs);
    const last = lastOfBucket.get(bucket);
    if (last === undefined || ts > last) lastOfBucket.set(bucket, ts);
  }
  return tsMs.filter((ts) => {
    if (ts < region.fromMs || ts >= region.toMs) return false;
    return lastOfBucket.get(Math.floor(ts / region.bucketMs)) !== ts;
  });
}

/** Reference: which of `tsMs` a pass at `nowMs` keeps (for tests; the task works region by region). */
export function keptHistory(tsMs: readonly number[], plan: HistoryPlan, nowMs: number): number[] {
  const { deleteBeforeMs, regions } = historyRegions(plan, nowMs);
  const gone = new Set<number>();
  for (const region of regions) for (const ts of thinnedPoints(tsMs, region)) gone.add(ts);
  return tsMs.filter((ts) => !gone.has(ts) && (deleteBeforeMs === null || ts >= deleteBeforeMs));
}

/** What a rule needs to run: the database, the batch size, and a pause that also says whether to go on. */
export interface RetentionRun {
  readonly db: Db;
  readonly nowMs: number;
  readonly batchRows: number;
  /**
   * Called after each statement that deleted rows: once `batchRows` rows went since the last pause,
   * waits `retention.pauseMs` (ingestion gets the database), else only yields to other work; answers
   * false when the pass must stop (the lead was lost, the server stops).
   */
  readonly pause: () => Promise<boolean>;
  /** Adds rows deleted from `table` to the pass's counts (and /metrics). */
  readonly count: (table: string, rows: number) => void;
  /** Adds partitions of `table` dropped whole (PostgreSQL's `sli_minutes`; their rows go to `count`). */
  readonly partitionsDropped?: ((table: string, partitions: number) => void) | undefined;
}

/** One retention rule: deletes what it owns, in batches, through `run`. */
export interface RetentionRule {
  readonly name: string;
  apply(run: RetentionRun): Promise<void>;
}

/** A batch delete by an indexed time column: `column < cutoffMs`, after equality on the index's leading columns. */
export interface ExpirySpec {
  readonly table: keyof Database & string;
  /** The label counted in /metrics (default: the table). */
  readonly label?: string | undefined;
  readonly column: string;
  readonly cutoffMs: number;
  /** Leading index columns pinned to a value (null: IS NULL). */
  readonly equal?: Readonly<Record<string, string | number | null>> | undefined;
}

/**
 * Deletes the rows of `spec` older than its cutoff, at most `batchRows` a statement, oldest first:
 * each batch finds its upper bound (the batchRows-th oldest time) through the index and deletes up
 * to it, so the SQL is the same on SQLite and PostgreSQL (neither has a portable DELETE … LIMIT)
 * and a statement holds its locks briefly. Rows sharing the bound's time go in the same batch.
 * Returns false when the pass was told to stop.
 */
export async function deleteExpired(run: RetentionRun, spec: ExpirySpec): Promise<boolean> {
  const kysely = run.db.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
  const column = sql.ref(spec.column);
  const where = (): RawBuilder<unknown> => {
    const parts = Object.entries(spec.equal ?? {}).map(([name, value]) =>
      value === null ? sql`${sql.ref(name)} IS NULL` : sql`${sql.ref(name)} = ${value}`,
    );
    return sql.join([...parts, sql`${column} < ${spec.cutoffMs}`], sql` AND `);
  };
  for (;;) {
    const bound = await sql<{ t: number | string }>`SELECT ${column} AS t FROM ${sql.table(spec.table)}
      WHERE ${where()} ORDER BY ${column} LIMIT 1 OFFSET ${run.batchRows - 1}`.execute(kysely);
    const boundMs = bound.rows[0] === undefined ? null : Number(bound.rows[0].t);
    const result = await sql`DELETE FROM ${sql.table(spec.table)} WHERE ${where()}${
      boundMs === null ? sql`` : sql` AND ${column} <= ${boundMs}`
    }`.execute(kysely);
    const deleted = Number(result.numAffectedRows ?? 0n);
    run.count(spec.label ?? spec.table, deleted);
    if (boundMs === null) return true;
    if (deleted > 0 && !(await run.pause())) return false;
  }
}

/**
 * The distinct values of `column`, the leading column of an index of `table`, without reading the
 * table: a recursive query hops from one value to the next through the index (both databases).
 */
export async function distinctLeading(
  db: Db,
  table: keyof Database & string,
  column: string,
): Promise<string[]> {
  const t = sql.table(table);
  const c = sql.ref(column);
  const rows = await sql<{ v: string | null }>`WITH RECURSIVE vals(v) AS (
      SELECT MIN(${c}) FROM ${t}
      UNION ALL
      SELECT (SELECT MIN(${c}) FROM ${t} WHERE ${c} > vals.v) FROM vals WHERE vals.v IS NOT NULL
    ) SELECT v FROM vals WHERE v IS NOT NULL`.execute(db.kysely);
  return rows.rows.map((r) => String(r.v));
}

/** What one pass did, for its log line. */
export interface RetentionSummary {
  /** Rows deleted per table (tables with none are left out). */
  readonly deleted: Readonly<Record<string, number>>;
  /** Partitions dropped whole per table (rows in them are in `deleted`); tables with none left out. */
  readonly partitionsDropped: Readonly<Record<string, number>>;
  readonly tookMs: number;
  /** Rules that failed (the others still ran). */
  readonly failed: readonly string[];
  /** The pass stopped early (lead lost, server stopping). */
  readonly stopped: boolean;
}

export interface RetentionTaskDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Pick<ShinraiMetrics, 'retentionDeleted'> &
    Partial<Pick<ShinraiMetrics, 'retentionPartitionsDropped'>>;
  readonly settings: RetentionSettings;
  readonly isLeader: () => boolean;
  /** The rules of a pass, built at its start (they read the current catalog). */
  readonly rules: (nowMs: number) => readonly RetentionRule[];
  /** Waits between batches (injected so tests need not wait). */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** The first pass waits this long after start (default 5 minutes: the start's own work goes first). */
  readonly firstPassDelayMs?: number | undefined;
}

/**
 * The leader's retention pass, every `retention.intervalMinutes`: runs each rule in turn (a failed
 * rule is logged and the next one runs), pausing between batches; a follower's pass does nothing.
 */
export class RetentionTask {
  private readonly task: PeriodicTask<RetentionSummary>;
  private stopping = false;
  private delay: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RetentionTaskDeps) {
    this.task = new PeriodicTask(() => this.pass(), {
      intervalMs: deps.settings.intervalMinutes * MINUTE_MS,
      log: deps.log,
      failure: 'retention: pass failed',
    });
  }

  start(): void {
    if (!this.deps.settings.enabled || this.delay) return;
    this.delay = setTimeout(
      () => {
        if (!this.stopping) this.task.start();
      },
      this.deps.firstPassDelayMs ?? 5 * MINUTE_MS,
    );
    this.delay.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.delay);
    await this.task.stop();
  }

  /** One pass now (after the one in flight); null on a follower or when it failed. */
  runNow(): Promise<RetentionSummary | null> {
    return this.task.runNow();
  }

  private async pass(): Promise<RetentionSummary | null> {
    const { db, clock, log, metrics, settings } = this.deps;
    if (!this.deps.isLeader()) return null;
    const startedMs = performance.now();
    const nowMs = clock.now();
    const deleted: Record<string, number> = {};
    const partitionsDropped: Record<string, number> = {};
    const failed: string[] = [];
    const sleep =
      this.deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    let stopped = false;
    // Rows deleted since the last pause: many small statements (a few points of history per SLO)
    // pause once per batchRows rows, like one full batch.
    let sincePause = 0;
    const run: RetentionRun = {
      db,
      nowMs,
      batchRows: settings.batchRows,
      pause: async () => {
        if (sincePause >= settings.batchRows) {
          sincePause = 0;
          await sleep(settings.pauseMs);
        } else await yieldToEventLoop();
        stopped = this.stopping || !this.deps.isLeader();
        return !stopped;
      },
      count: (table, rows) => {
        if (rows <= 0) return;
        sincePause += rows;
        deleted[table] = (deleted[table] ?? 0) + rows;
        metrics.retentionDeleted.inc({ table }, rows);
      },
      partitionsDropped: (table, partitions) => {
        if (partitions <= 0) return;
        partitionsDropped[table] = (partitionsDropped[table] ?? 0) + partitions;
        metrics.retentionPartitionsDropped?.inc({ table }, partitions);
      },
    };
    for (const rule of this.deps.rules(nowMs)) {
      if (stopped) break;
      try {
        await rule.apply(run);
      } catch (error) {
        failed.push(rule.name);
        log.warn({ err: error, rule: rule.name }, 'retention: a rule failed; the others go on');
      }
    }
    const summary: RetentionSummary = {
      deleted,
      partitionsDropped,
      tookMs: Math.round(performance.now() - startedMs),
      failed,
      stopped,
    };
    const total = Object.values(deleted).reduce((sum, n) => sum + n, 0);
    log.info(
      { ...summary },
      `retention: ${total} rows deleted${
        total
          ? ` (${Object.entries(deleted)
              .map(([t, n]) => `${t} ${n}`)
              .join(', ')})`
          : ''
      }${Object.entries(partitionsDropped)
        .map(([t, n]) => `, ${n} ${t} partitions dropped`)
        .join('')} in ${summary.tookMs} ms${stopped ? ', stopped early' : ''}`,
    );
    return summary;
  }
}
