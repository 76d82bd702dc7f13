/**
 * Alert quality over the last days, from the database: firings and resolutions from
 * `alert_events`, verdicts from `alert_feedback`, significant burns from the stored minutes.
 * Used by `GET /api/v1/alerts/quality` and `shinrai alerts quality`.
 */
import type { Kysely } from 'kysely';
import type { Db } from '../platform/db/database.js';
import type { Database } from '../platform/db/schema.js';
import { evaluationTargets } from '../slo/evaluation.js';
import { readMinutes } from '../slo/evaluator/store.js';
import type { Catalog } from '../slo/model.js';
import { periodOf, significantEvents, targetSeries } from './backtest-report.js';
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

const DAY_MS = 86_400_000;

export async function qualityReport(
  db: Db,
  catalog: Catalog,
  nowMs: number,
  days: number,
): Promise<QualityReport> {
  const fromMs = nowMs - days * DAY_MS;
  const firings = await readFirings(db.kysely, fromMs, nowMs);
  const burns: BurnEvent[] = [];
  const range = { startMs: Math.floor(fromMs / 60_000) * 60_000, endMs: Math.floor(nowMs / 60_000) * 60_000 };
  for (const target of evaluationTargets(catalog)) {
    const minutes = new Map<string, Awaited<ReturnType<typeof readMinutes>>>();
    for (const part of target.parts)
      minutes.set(part.storageKey, await readMinutes(db, part.storageKey, fromMs, nowMs));
    if (![...minutes.values()].some((rows) => rows.length)) continue;
    const history = targetSeries(target, (part) => minutes.get(part.storageKey), range)!;
    for (const e of significantEvents(history, { periodMs: periodOf(target) }))
      burns.push({ slo: target.id, startMs: e.startMs, endMs: e.endMs, budgetShare: e.budgetShare });
  }
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(nowMs).toISOString(),
    rules: ruleQuality(firings, nowMs - fromMs),
    slos: detection(burns, firings),
  };
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
