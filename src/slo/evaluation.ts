/**
 * From SLO definitions to what the engine evaluates: one evaluation target per objective (or
 * one per composite SLO), each with the engine's ObjectiveSpec, its adjustments and the names
 * under which its SLI data arrives.
 */
import { DateTime } from 'luxon';
import { combineComposite, evaluate } from './budget/index.js';
import type { Adjustment, BudgetStatus, BurnWindow, MinuteCounts, ObjectiveSpec } from './budget/types.js';
import {
  alertRulesFor,
  burnWindowLabel,
  CURRENT_BURN_WINDOW_MS,
  DEFAULT_BURN_WINDOWS,
  windowsFromDefinition,
} from './burn/index.js';
import { fixedDurationMs } from './duration.js';
import type {
  BudgetAdjustmentDefinition,
  Catalog,
  Objective,
  SliDefinition,
  SloDefinition,
} from './model.js';

export const DEFAULT_MIN_DATA_COVERAGE = 0.9;

/** One stream of SLI data evaluated against one objective. */
export interface EvaluationPart {
  readonly key: string;
  /** Where the server stores this part's per-minute counts (see storageKey). */
  readonly storageKey: string;
  /** Data arrives under any of these names (SLO id, objective id, SLI name). */
  readonly dataKeys: readonly string[];
  readonly weight: number;
  readonly target: number;
  readonly spec: ObjectiveSpec;
}

export interface EvaluationTarget {
  /** `slo-id`, or `slo-id/objective-key` when an SLO has several objectives. */
  readonly id: string;
  readonly slo: SloDefinition;
  /** Undefined for a composite SLO, which combines its parts. */
  readonly objective?: Objective | undefined;
  readonly target: number;
  readonly parts: readonly EvaluationPart[];
}

export function evaluationTargets(catalog: Catalog): EvaluationTarget[] {
  const targets: EvaluationTarget[] = [];
  for (const slo of catalog.slos) {
    const adjustments = adjustmentsFor(slo, catalog.budgetAdjustments);
    if (slo.composite) {
      const parts = slo.objectives.map((objective) => ({
        key: objective.key,
        storageKey: objective.indicator
          ? storageKey(objective.indicator, objective)
          : `${slo.id}/${objective.key}`,
        dataKeys: [`${slo.id}/${objective.key}`, ...(objective.indicator ? [objective.indicator.name] : [])],
        weight: objective.compositeWeight ?? 1,
        target: objective.target,
        spec: objectiveSpec(slo, objective, adjustments, catalog),
      }));
      const totalWeight = parts.reduce((sum, p) => sum + p.weight, 0);
      const target = parts.reduce((sum, p) => sum + p.weight * p.target, 0) / totalWeight;
      targets.push({ id: slo.id, slo, target, parts });
      continue;
    }
    const single = slo.objectives.length === 1;
    for (const objective of slo.objectives) {
      const id = single ? slo.id : `${slo.id}/${objective.key}`;
      const dataKeys = [...new Set([id, slo.id, slo.name, ...(slo.indicator ? [slo.indicator.name] : [])])];
      targets.push({
        id,
        slo,
        objective,
        target: objective.target,
        parts: [
          {
            key: objective.key,
            storageKey: slo.indicator ? storageKey(slo.indicator, objective) : id,
            dataKeys,
            weight: 1,
            target: objective.target,
            spec: objectiveSpec(slo, objective, adjustments, catalog),
          },
        ],
      });
    }
  }
  return targets;
}

/**
 * The name under which an objective's per-minute counts are stored. Ratio SLIs store counts once
 * per SLI; threshold SLIs store one stream per threshold, since a raw value (a latency) is good
 * or bad only against an objective's `op`/`value`.
 */
export function storageKey(sli: SliDefinition, objective: Objective): string {
  return sli.indicator.kind === 'threshold' ? `${sli.name}:${objective.op}:${objective.value}` : sli.name;
}

/** The engine's view of one objective. */
export function objectiveSpec(
  slo: SloDefinition,
  objective: Objective,
  adjustments: readonly Adjustment[],
  catalog?: Catalog,
): ObjectiveSpec {
  const window =
    slo.window.kind === 'rolling'
      ? {
          kind: 'rolling' as const,
          duration: slo.window.duration,
          windowMs: fixedDurationMs(slo.window.duration)!,
        }
      : {
          kind: 'calendar' as const,
          duration: slo.window.duration,
          startTime: slo.window.startTime,
          timeZone: slo.window.timeZone,
        };
  return {
    target: objective.target,
    method: slo.budgetingMethod,
    timeSliceTarget: objective.timeSliceTarget,
    timeSliceMs: objective.timeSliceWindow ? fixedDurationMs(objective.timeSliceWindow) : undefined,
    window,
    noData: slo.shinrai.noData,
    adjustments,
    burnWindows: burnWindowsFor(slo, catalog),
    currentBurnWindowMs: CURRENT_BURN_WINDOW_MS,
    minDataCoverage: DEFAULT_MIN_DATA_COVERAGE,
  };
}

/**
 * The default windows plus any other window an alert rule of the SLO needs (an OpenSLO
 * `lookbackWindow` of 4h, say), so live alerts read every burn rate from the status.
 */
function burnWindowsFor(slo: SloDefinition, catalog: Catalog | undefined): readonly BurnWindow[] {
  const rules = alertRulesFor(slo, (catalog?.alertWindows ?? []).map(windowsFromDefinition));
  if (!rules.ok) return DEFAULT_BURN_WINDOWS;
  const known = new Set(DEFAULT_BURN_WINDOWS.map((w) => w.windowMs));
  const extra = rules.rules
    .flatMap((r) => r.conditions.flatMap((c) => [c.longWindowMs, c.shortWindowMs ?? c.longWindowMs]))
    .filter((ms) => !known.has(ms) && ms % 60_000 === 0 && ms <= rules.periodMs);
  if (!extra.length) return DEFAULT_BURN_WINDOWS;
  const windows = [
    ...DEFAULT_BURN_WINDOWS,
    ...[...new Set(extra)].map((windowMs) => ({ label: burnWindowLabel(windowMs), windowMs })),
  ];
  return windows.sort((a, b) => a.windowMs - b.windowMs);
}

/** Adjustments naming the SLO or its service; an adjustment naming neither applies to all. */
export function adjustmentsFor(slo: SloDefinition, all: readonly BudgetAdjustmentDefinition[]): Adjustment[] {
  return all
    .filter(
      (a) =>
        (a.slos.length === 0 && a.services.length === 0) ||
        a.slos.includes(slo.id) ||
        a.services.includes(slo.service),
    )
    .map((a): Adjustment => {
      const durationMs = fixedDurationMs(a.duration)!;
      const start = DateTime.fromFormat(
        a.start,
        a.start.length > 16 ? 'yyyy-MM-dd HH:mm:ss' : 'yyyy-MM-dd HH:mm',
        {
          zone: a.timeZone,
        },
      );
      if (!a.rrule)
        return { kind: 'one-off', startMs: start.toMillis(), endMs: start.toMillis() + durationMs };
      return {
        kind: 'recurring',
        rrule: `DTSTART;TZID=${a.timeZone}:${start.toFormat("yyyyMMdd'T'HHmmss")}\nRRULE:${a.rrule}`,
        durationMs,
      };
    });
}

/** Status of one target from per-part minute data, using the reference (from-scratch) engine. */
export function evaluateTarget(
  target: EvaluationTarget,
  dataFor: (part: EvaluationPart) => Iterable<MinuteCounts>,
  atMs: number,
): BudgetStatus {
  const statuses = target.parts.map((part) => ({
    status: evaluate(part.spec, dataFor(part), atMs),
    weight: part.weight,
    target: part.target,
  }));
  return target.slo.composite ? combineComposite(statuses) : statuses[0]!.status;
}
