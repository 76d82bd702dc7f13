/**
 * Alert quality over the last days, from the database: firings and resolutions from
 * `alert_events`, verdicts from `alert_feedback`, significant burns from the stored minutes.
 * Used by `GET /api/v1/alerts/quality` and `shinrai alerts quality`.
 */
import type { Kysely } from 'kysely';
import { DAY_MS } from '../platform/dates.js';
import type { Database, Db } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import type { AlertRule, Catalog, SloDefinition } from '../slo/index.js';
import { type EvaluationTarget, evaluationTargets, readMinutes } from '../slo/index.js';
import {
  type BacktestReport,
  backtestReport,
  periodOf,
  significantEvents,
  targetSeries,
} from './backtest-report.js';
import type { StoredAlert } from './evaluate.js';
import {
  type BurnEvent,
  detection,
  type Firing,
  type RuleQuality,
  ruleQuality,
  type SloQuality,
} from './quality.js';
import { readAlerts } from './store.js';

export interface QualityReport {
  readonly from: string;
  readonly to: string;
  readonly rules: readonly RuleQuality[];
  readonly slos: readonly SloQuality[];
}

export async function qualityReport(
  db: Db,
  catalog: Catalog,
  nowMs: number,
  days: number,
): Promise<QualityReport> {
  const fromMs = nowMs - days * DAY_MS;
  const { firings, burns } = await qualityInputs(db, catalog, fromMs, nowMs);
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(nowMs).toISOString(),
    rules: ruleQuality(firings, nowMs - fromMs),
    slos: detection(burns, firings),
  };
}

/**
 * What alert quality is computed from over `[fromMs, toMs)`: the firings that started in it, and
 * the significant burns of the catalog's targets in its stored minutes (whole minutes).
 */
export async function qualityInputs(
  db: Db,
  catalog: Catalog,
  fromMs: number,
  toMs: number,
): Promise<{ firings: Firing[]; burns: BurnEvent[] }> {
  const firings = await readFirings(db.kysely, fromMs, toMs);
  const burns: BurnEvent[] = [];
  const range = { startMs: Math.floor(fromMs / 60_000) * 60_000, endMs: Math.floor(toMs / 60_000) * 60_000 };
  for (const target of evaluationTargets(catalog)) {
    const history = await storedSeries(db, target, range);
    if (!history) continue;
    for (const e of significantEvents(history, { periodMs: periodOf(target) }))
      burns.push({ slo: target.id, startMs: e.startMs, endMs: e.endMs, budgetShare: e.budgetShare });
  }
  return { firings, burns };
}

/** A target's stored minutes over [startMs, endMs) as backtest input; undefined when it has none. */
export async function storedSeries(
  db: Db,
  target: EvaluationTarget,
  range: { startMs: number; endMs: number },
) {
  const minutes = new Map<string, Awaited<ReturnType<typeof readMinutes>>>();
  for (const part of target.parts)
    minutes.set(part.storageKey, await readMinutes(db, part.storageKey, range.startMs, range.endMs));
  if (![...minutes.values()].some((rows) => rows.length)) return undefined;
  return targetSeries(target, (part) => minutes.get(part.storageKey), range);
}

export interface StoredBacktestInput {
  readonly sloId: string;
  readonly objective?: string | undefined;
  readonly fromMs: number;
  readonly toMs: number;
  readonly minBudgetShare: number;
}

/**
 * Replays an SLO's stored minutes through its alert rules. Throws NotFound for an unknown SLO or
 * objective. Minutes without data count as no events.
 */
export async function backtestStored(
  db: Db,
  catalog: Catalog,
  rulesFor: (slo: SloDefinition) => readonly AlertRule[],
  minEvents: number | undefined,
  input: StoredBacktestInput,
): Promise<{ target: EvaluationTarget; report: BacktestReport }> {
  const targets = evaluationTargets(catalog).filter((t) => t.slo.id === input.sloId);
  if (!targets.length) throw new AppError('NotFound', `no SLO with id ${JSON.stringify(input.sloId)}`);
  const target = input.objective ? targets.find((t) => t.objective?.key === input.objective) : targets[0];
  if (!target)
    throw new AppError('NotFound', `SLO ${input.sloId} has no objective ${JSON.stringify(input.objective)}`);
  const range = { startMs: input.fromMs, endMs: input.toMs };
  const history =
    (await storedSeries(db, target, range)) ?? targetSeries(target, () => [], range, { allowEmpty: true })!;
  const report = backtestReport(
    { ...history, rules: rulesFor(target.slo), minEvents },
    { periodMs: periodOf(target), minBudgetShare: input.minBudgetShare },
  );
  return { target, report };
}

/** Every firing in [fromMs, toMs) with its resolution (if any) and its verdict (if any). */
export async function readFirings(db: Kysely<Database>, fromMs: number, toMs: number): Promise<Firing[]> {
  const alerts = await readAlerts(db);
  const events = await db
    .selectFrom('alert_events')
    .select(['fingerprint', 'at', 'transition'])
    .where('at', '>=', fromMs)
    .where('at', '<', toMs)
    .where('transition', 'in', ['firing', 'resolved'])
    .orderBy('fingerprint')
    .orderBy('at')
    .execute();
  const verdicts = new Map(
    (await db.selectFrom('alert_feedback').select(['fingerprint', 'fired_at', 'verdict']).execute()).map(
      (v) => [`${v.fingerprint}\u0000${Number(v.fired_at)}`, v.verdict],
    ),
  );
  const firings: Firing[] = [];
  const open = new Map<string, { alert: StoredAlert; firedAtMs: number }>();
  const close = (fingerprint: string, resolvedAtMs: number | null) => {
    const o = open.get(fingerprint);
    if (!o) return;
    open.delete(fingerprint);
    firings.push({
      fingerprint,
      slo: o.alert.sloId,
      rule: o.alert.rule,
      tier: o.alert.tier,
      firedAtMs: o.firedAtMs,
      resolvedAtMs,
      verdict: verdicts.get(`${fingerprint}\u0000${o.firedAtMs}`),
    });
  };
  for (const e of events) {
    const alert = alerts.get(e.fingerprint);
    if (!alert) continue;
    if (e.transition === 'firing') {
      close(e.fingerprint, null);
      open.set(e.fingerprint, { alert, firedAtMs: Number(e.at) });
    } else close(e.fingerprint, Number(e.at));
  }
  for (const fingerprint of [...open.keys()]) close(fingerprint, null);
  return firings;
}

/** Records a verdict on the alert's latest firing; throws when it never fired. */
export async function giveFeedback(
  db: Kysely<Database>,
  alert: StoredAlert,
  input: { verdict: 'actionable' | 'noise'; note: string; by: string },
  nowMs: number,
): Promise<{ firedAtMs: number }> {
  const firedAtMs = alert.lastFiredAtMs;
  if (firedAtMs === null) throw new Error('never fired');
  const row = {
    fingerprint: alert.fingerprint,
    fired_at: firedAtMs,
    verdict: input.verdict,
    note: input.note,
    given_by: input.by,
    given_at: nowMs,
  };
  await db
    .insertInto('alert_feedback')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['fingerprint', 'fired_at']).doUpdateSet({
        verdict: row.verdict,
        note: row.note,
        given_by: row.given_by,
        given_at: row.given_at,
      }),
    )
    .execute();
  return { firedAtMs };
}
