/**
 * The budget report use case: SLO definitions + SLI counts + a time → every SLO's status,
 * in the shape `shinrai budget --json` prints and the API will serve.
 */
import { isoOrNull } from '../platform/dates.js';
import type { BudgetStatus, MinuteCounts } from './budget/types.js';
import type { CountRow } from './data-file.js';
import { formatDuration } from './duration.js';
import { type EvaluationTarget, evaluateTarget, evaluationTargets } from './evaluation.js';
import type { Catalog, PolicyStep } from './model.js';
import { activePolicyStep } from './spec/shinrai-metadata.js';

export interface BudgetReportEntry {
  readonly id: string;
  readonly service: string;
  readonly slo: string;
  readonly objective?: string | undefined;
  readonly displayName?: string | undefined;
  readonly target: number;
  readonly window: string;
  readonly windowKind: 'rolling' | 'calendar';
  readonly budgetingMethod: string;
  readonly period: { readonly start: string; readonly end: string };
  readonly sli: number | null;
  readonly budget: {
    readonly unit: 'events' | 'minutes';
    readonly total: number;
    readonly consumed: number;
    readonly remaining: number;
  };
  readonly burnRates: Readonly<Record<string, number | null>>;
  readonly exhaustionAt: string | null;
  readonly dataSufficient: boolean;
  readonly coverage: number;
  /** The error-budget policy step in force, if the SLO has a policy and a step applies. */
  readonly policy?: PolicyStep | undefined;
}

export interface BudgetReport {
  readonly at: string;
  readonly slos: readonly BudgetReportEntry[];
}

export interface BudgetReportResult {
  readonly report: BudgetReport;
  /** Data names that matched no SLO, objective or SLI (likely typos). */
  readonly unmatchedData: readonly string[];
}

/** Groups rows into per-name, per-minute counts; slices coarser than a minute land on their start minute. */
export function minuteSeries(rows: readonly CountRow[]): Map<string, MinuteCounts[]> {
  const byName = new Map<string, Map<number, { good: number; total: number }>>();
  for (const row of rows) {
    let minutes = byName.get(row.sli);
    if (!minutes) {
      minutes = new Map();
      byName.set(row.sli, minutes);
    }
    const ts = Math.floor(row.tsMs / 60_000) * 60_000;
    const bucket = minutes.get(ts) ?? { good: 0, total: 0 };
    bucket.good += row.good;
    bucket.total += row.total;
    minutes.set(ts, bucket);
  }
  const out = new Map<string, MinuteCounts[]>();
  for (const [name, minutes] of byName)
    out.set(
      name,
      [...minutes].sort((a, b) => a[0] - b[0]).map(([ts, c]) => ({ ts, good: c.good, total: c.total })),
    );
  return out;
}

export function budgetReport(catalog: Catalog, rows: readonly CountRow[], atMs: number): BudgetReportResult {
  const series = minuteSeries(rows);
  const used = new Set<string>();
  const targets = evaluationTargets(catalog);
  const slos = targets.map((target) => {
    const status = evaluateTarget(
      target,
      (part) => {
        // The first name with data wins, so one stream is never counted twice.
        const key = part.dataKeys.find((k) => series.has(k));
        if (key === undefined) return [];
        used.add(key);
        return series.get(key)!;
      },
      atMs,
    );
    return reportEntry(target, status);
  });
  for (const target of targets)
    for (const part of target.parts) for (const k of part.dataKeys) if (series.has(k)) used.add(k);
  const unmatchedData = [...series.keys()].filter((name) => !used.has(name)).sort();
  return { report: { at: new Date(atMs).toISOString(), slos }, unmatchedData };
}

/** One SLO's entry in the report (and the status the server stores) from its target and engine status. */
export function reportEntry(target: EvaluationTarget, status: BudgetStatus): BudgetReportEntry {
  return { ...entryHead(target), ...entryFigures(target, status) };
}

/** What an entry says about its target alone (the same on every evaluation), in the entry's key order. */
export type EntryHead = Pick<
  BudgetReportEntry,
  | 'id'
  | 'service'
  | 'slo'
  | 'objective'
  | 'displayName'
  | 'target'
  | 'window'
  | 'windowKind'
  | 'budgetingMethod'
>;

/** The figures of an entry, in its key order after the head. */
export type EntryFigures = Omit<BudgetReportEntry, keyof EntryHead>;

/** The head of a target's entries. */
export function entryHead(target: EvaluationTarget): EntryHead {
  const { slo, objective } = target;
  return {
    id: target.id,
    service: slo.service,
    slo: slo.id,
    objective: objective && slo.objectives.length > 1 ? objective.key : undefined,
    displayName: objective?.displayName ?? slo.displayName,
    target: target.target,
    window: formatDuration(slo.window.duration),
    windowKind: slo.window.kind,
    budgetingMethod: slo.budgetingMethod,
  };
}

/** The figures of a target's entry for one engine status. */
export function entryFigures(target: EvaluationTarget, status: BudgetStatus): EntryFigures {
  return {
    period: { start: periodIso(status.period.startMs), end: periodIso(status.period.endMs) },
    sli: status.sli,
    budget: status.budget,
    burnRates: status.burnRates,
    // null ("never") too for an instant no Date can hold, so one SLO's figures never throw here.
    exhaustionAt: isoOrNull(status.exhaustionAt),
    dataSufficient: status.dataSufficient,
    coverage: status.coverage,
    policy:
      status.sli === null
        ? undefined
        : activePolicyStep(target.slo.shinrai.errorBudgetPolicy, status.budget.remaining),
  };
}

/**
 * ISO text of a period bound. Most entries of one evaluation share their bounds (every 28-day
 * rolling window ends at the same minute), so the last few texts are kept rather than formatting
 * two dates for each of thousands of entries.
 */
function periodIso(ms: number): string {
  let text = periodTexts.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (periodTexts.size >= 256) periodTexts.clear();
    periodTexts.set(ms, text);
  }
  return text;
}

const periodTexts = new Map<number, string>();
