/**
 * SLO specs and helpers shared by the evaluator's unit and integration tests: every budgeting
 * method, a rolling and a calendar window, a multi-objective SLO, a composite sharing its streams
 * (and, for its API part, its engine) with other SLOs, and a recurring budget adjustment.
 */
import { expect } from 'vitest';
import type { BudgetStatus, MinuteCounts } from '../../src/slo/budget/types.js';
import { type EvaluationTarget, evaluateTarget } from '../../src/slo/evaluation.js';
import type { Catalog } from '../../src/slo/model.js';
import { loadSpecText } from '../../src/slo/spec/load.js';

const SLI = (name: string) => `apiVersion: openslo/v1
kind: SLI
metadata: {name: ${name}}
spec:
  ratioMetric:
    good: {metricSource: {type: shinrai, spec: {}}}
    total: {metricSource: {type: shinrai, spec: {}}}
`;

const SLO = (name: string, body: string) => `apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}}
spec:
  service: shop
${body}`;

/** The specs by name; pick a subset (or edit one) to simulate a spec change. */
export const SPEC_DOCUMENTS: Readonly<Record<string, string>> = {
  service: 'apiVersion: openslo/v1\nkind: Service\nmetadata: {name: shop}\nspec: {}\n',
  'sli-api': SLI('api'),
  'sli-web': SLI('web'),
  'api-availability': SLO(
    'api-availability',
    `  indicatorRef: api
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
`,
  ),
  'api-slices': SLO(
    'api-slices',
    `  indicatorRef: api
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Timeslices
  objectives: [{target: 0.95, timeSliceTarget: 0.9, timeSliceWindow: 5m}]
`,
  ),
  'web-month': SLO(
    'web-month',
    `  indicatorRef: web
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar: {startTime: '2026-01-01 00:00:00', timeZone: Asia/Tokyo}
  budgetingMethod: RatioTimeslices
  objectives:
    - {displayName: Most, target: 0.99, timeSliceWindow: 1m}
    - {displayName: Nearly all, target: 0.999, timeSliceWindow: 1m}
`,
  ),
  'shop-composite': SLO(
    'shop-composite',
    `  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives:
    - {displayName: API, target: 0.99, compositeWeight: 2, indicatorRef: api}
    - {displayName: Web, target: 0.995, indicatorRef: web}
`,
  ),
  maintenance: `apiVersion: shinrai.dev/v1
kind: BudgetAdjustment
metadata: {name: nightly}
spec:
  start: 2026-03-01 03:00:00
  timeZone: Asia/Tokyo
  duration: 20m
  rrule: FREQ=DAILY
  services: [shop]
`,
};

/** A catalog of the named documents (all by default); fails the test on any spec error. */
export function testCatalog(names: readonly string[] = Object.keys(SPEC_DOCUMENTS)): Catalog {
  const text = names.map((name) => SPEC_DOCUMENTS[name]!).join('---\n');
  const result = loadSpecText('evaluator-test.yaml', text);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.catalog;
}

/** The reference status of a target over stored per-minute rows (by storage key). */
export function referenceStatus(
  target: EvaluationTarget,
  rows: ReadonlyMap<string, ReadonlyMap<number, { good: number; total: number }>>,
  atMs: number,
): BudgetStatus {
  return evaluateTarget(
    target,
    (part): MinuteCounts[] =>
      [...(rows.get(part.storageKey) ?? new Map())]
        .sort((a, b) => a[0] - b[0])
        .map(([ts, c]) => ({ ts, good: c.good, total: c.total })),
    atMs,
  );
}

/** Numbers equal within 1e-9 relative (the engines' agreement), everything else exactly. */
export function expectClose(actual: unknown, expected: unknown, path = 'status'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const scale = Math.max(1, Math.abs(expected), Math.abs(actual));
    expect(Math.abs(actual - expected) <= 1e-9 * scale, `${path}: ${actual} vs ${expected}`).toBe(true);
    return;
  }
  if (expected && typeof expected === 'object' && actual && typeof actual === 'object') {
    expect(Object.keys(actual).sort(), path).toEqual(Object.keys(expected).sort());
    for (const key of Object.keys(expected))
      expectClose(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        `${path}.${key}`,
      );
    return;
  }
  expect(actual, path).toEqual(expected);
}
