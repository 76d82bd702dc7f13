/**
 * Property: any finite counts up to the accepted maximum (1e12 events per minute) never make the
 * engines, the budget report or the API's status schema throw, and every figure stays a number
 * (issue 14, findings 7 and 8). The status page's share of the property is in
 * src/incidents/status-page-bounds.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRepresentableMs } from '../platform/dates.js';
import type { BudgetStatus } from './budget/types.js';
import { budgetReport } from './budget-report.js';
import { MAX_COUNT_PER_MINUTE } from './counts.js';
import { evaluationTargets } from './evaluation.js';
import { newEngine, targetStatus } from './evaluator/state.js';
import { statusSchema } from './routes.js';
import { loadSpecText } from './spec/load.js';

const MIN = 60_000;
const DAY = 1_440 * MIN;
const T0 = Date.UTC(2026, 2, 14, 10, 15);

const slo = (name: string, body: string) => `---
apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}}
spec:
  service: shop
${body}`;
/** Every budgeting method, a rolling and a calendar window and a composite, over two streams (kept short: each run builds every engine). */
const SPECS = `apiVersion: openslo/v1
kind: Service
metadata: {name: shop}
spec: {}
${['api', 'web']
  .map(
    (name) => `---
apiVersion: openslo/v1
kind: SLI
metadata: {name: ${name}}
spec:
  ratioMetric:
    good: {metricSource: {type: shinrai, spec: {}}}
    total: {metricSource: {type: shinrai, spec: {}}}
`,
  )
  .join('')}${slo(
  'occurrences',
  `  indicatorRef: api
  timeWindow: [{duration: 7d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`,
)}${slo(
  'slices',
  `  indicatorRef: api
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Timeslices
  objectives: [{target: 0.95, timeSliceTarget: 0.9, timeSliceWindow: 5m}]
`,
)}${slo(
  'ratio-week',
  `  indicatorRef: web
  timeWindow:
    - duration: 1w
      isRolling: false
      calendar: {startTime: '2026-01-05 00:00:00', timeZone: Asia/Tokyo}
  budgetingMethod: RatioTimeslices
  objectives: [{target: 0.99999, timeSliceWindow: 1m}]
`,
)}${slo(
  'composite',
  `  timeWindow: [{duration: 2d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives:
    - {displayName: API, target: 0.9, compositeWeight: 2, indicatorRef: api}
    - {displayName: Web, target: 0.995, indicatorRef: web}
`,
)}`;

/** A count up to the bound: whole, fractional, tiny, or the bound itself. */
const total = fc.oneof(
  fc.constant(MAX_COUNT_PER_MINUTE),
  fc.double({ min: 0, max: MAX_COUNT_PER_MINUTE, noNaN: true }),
  fc.double({ min: 0, max: 1e-6, noNaN: true }),
  fc.integer({ min: 0, max: 1_000 }),
);
/** good ≤ total: all good, none, a fraction, or all but a sliver. */
const minute = total.chain((t) =>
  fc
    .oneof(
      fc.constant(t),
      fc.constant(0),
      fc.double({ min: 0, max: 1, noNaN: true }).map((f) => Math.min(t, t * f)),
      fc.double({ min: 0, max: 1e-6, noNaN: true }).map((d) => Math.max(0, t - d)),
    )
    .map((good) => ({ good, total: t })),
);
/** Minutes of one stream: a few anywhere in the last 10 days, up to the hour ahead. */
const stream = fc.array(fc.record({ offsetMin: fc.integer({ min: -40 * 1_440, max: 60 }), counts: minute }), {
  maxLength: 40,
});

function expectFinite(status: BudgetStatus, where: string): void {
  const numbers = [status.budget.total, status.budget.consumed, status.budget.remaining, status.coverage];
  for (const n of numbers) expect(Number.isFinite(n), `${where}: ${JSON.stringify(status)}`).toBe(true);
  if (status.sli !== null) expect(status.sli >= 0 && status.sli <= 1, where).toBe(true);
  for (const rate of Object.values(status.burnRates))
    expect(rate === null || (Number.isFinite(rate) && rate >= 0), where).toBe(true);
  if (status.exhaustionAt !== null) expect(isRepresentableMs(status.exhaustionAt), where).toBe(true);
}

describe('counts up to the accepted maximum', () => {
  it('never make the engines, the report or the API status throw, and every figure is a number', () => {
    const loaded = loadSpecText('bounded-counts.yaml', SPECS);
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { catalog } = loaded;
    const targets = evaluationTargets(catalog);
    fc.assert(
      fc.property(stream, stream, fc.integer({ min: 0, max: 3 * DAY }), (api, web, laterMs) => {
        const atMs = T0 + laterMs;
        const rows = [
          ...api.map((m) => ({ sli: 'api', tsMs: T0 + m.offsetMin * MIN, ...m.counts })),
          ...web.map((m) => ({ sli: 'web', tsMs: T0 + m.offsetMin * MIN, ...m.counts })),
        ];
        // The minutes as stored: one row per minute, summed and bounded like ingestion.
        const stored = new Map<string, Map<number, { good: number; total: number }>>();
        const kept = rows.filter((r) => {
          const ms = Math.floor(r.tsMs / MIN) * MIN;
          const minutes = stored.get(r.sli) ?? new Map<number, { good: number; total: number }>();
          stored.set(r.sli, minutes);
          const before = minutes.get(ms) ?? { good: 0, total: 0 };
          if (before.total + r.total > MAX_COUNT_PER_MINUTE) return false;
          minutes.set(ms, { good: before.good + r.good, total: before.total + r.total });
          return true;
        });

        const { report } = budgetReport(catalog, kept, atMs);
        expect(report.slos).toHaveLength(targets.length);
        for (const entry of report.slos) {
          const body = JSON.parse(JSON.stringify({ ...entry, evaluatedAt: report.at, stale: false }));
          // What the API serializes: a NaN or ∞ (JSON null where a number belongs) fails here.
          expect(statusSchema.safeParse(body).success, JSON.stringify(body)).toBe(true);
        }

        // The incremental engine over the same stored minutes, at the same instant.
        const engines = new Map<string, ReturnType<typeof newEngine>>();
        for (const target of targets)
          for (const part of target.parts) {
            const key = `${part.storageKey}\u0000${JSON.stringify(part.spec)}`;
            if (engines.has(key)) continue;
            const engine = newEngine(part.spec);
            engine.advanceTo(atMs);
            for (const [ms, c] of stored.get(part.storageKey) ?? []) engine.set(ms, c.good, c.total);
            engines.set(key, engine);
          }
        for (const target of targets) {
          const status = targetStatus(target, (part) =>
            engines.get(`${part.storageKey}\u0000${JSON.stringify(part.spec)}`)!.status(atMs),
          )!;
          expectFinite(status, target.id);
          const reference = report.slos.find((s) => s.id === target.id)!;
          // Large sums lose digits differently in the two engines; whether there is an SLI agrees.
          expect(status.sli === null, target.id).toBe(reference.sli === null);
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
