/**
 * Property: the status page (view models, HTML and /status.json's JSON) stays numbers — no NaN%,
 * no 500 — for any daily sums stored minutes can reach under the ingestion bound (1e12 events per
 * minute, so at most 1.44e15 a day per stream). Issue 14, finding 8.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSpecText, MAX_COUNT_PER_MINUTE } from '../slo/index.js';
import { buildInternalStatus, buildPublicStatus, type DayCounts, dayWindows } from './status-page.js';
import { renderInternalPage, renderPublicPage } from './status-page-html.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0);
const DAYS = 5;
const MAX_PER_DAY = 1_440 * MAX_COUNT_PER_MINUTE;

const slo = (name: string, sli: string, target: number) => `---
apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}}
spec:
  service: checkout
  indicator:
    metadata: {name: ${sli}}
    spec:
      ratioMetric:
        good: {metricSource: {type: shinrai, spec: {}}}
        total: {metricSource: {type: shinrai, spec: {}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: ${target}}]
`;
const SPECS = `apiVersion: openslo/v1
kind: Service
metadata: {name: checkout, annotations: {shinrai.dev/public: "true"}}
spec: {}
${slo('checkout-availability', 'checkout-requests', 0.999)}${slo('checkout-fast', 'checkout-latency', 0.99999)}`;

const day: fc.Arbitrary<DayCounts> = fc
  .oneof(
    fc.constant(MAX_PER_DAY),
    fc.double({ min: 0, max: MAX_PER_DAY, noNaN: true }),
    fc.double({ min: 0, max: 1e-6, noNaN: true }),
    fc.constant(0),
  )
  .chain((total) =>
    fc
      .oneof(
        fc.constant(total),
        fc.constant(0),
        fc.double({ min: 0, max: 1, noNaN: true }).map((f) => Math.min(total, total * f)),
      )
      .map((good) => ({ good, total })),
  );

describe('status page with counts up to the accepted maximum', () => {
  it('never throws and never shows NaN or Infinity', () => {
    const loaded = loadSpecText('specs.yaml', SPECS);
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const days = dayWindows(NOW, 'UTC', DAYS);
    fc.assert(
      fc.property(
        fc.array(day, { minLength: DAYS, maxLength: DAYS }),
        fc.array(day, { minLength: DAYS, maxLength: DAYS }),
        (requests, latency) => {
          const input = {
            catalog: loaded.catalog,
            incidents: [],
            days,
            daily: new Map([
              ['checkout-requests', requests],
              ['checkout-latency', latency],
            ]),
            nowMs: NOW,
            title: 'Status',
            timeZone: 'UTC',
            resolvedDays: 7,
          };
          const views = [buildPublicStatus(input), buildInternalStatus(input)];
          for (const view of views)
            for (const component of view.components) {
              const figures = [component.availability, ...component.bars.map((b) => b.availability)];
              for (const a of figures) expect(a === null || (a >= 0 && a <= 1), String(a)).toBe(true);
            }
          const texts = [
            // /status.json answers the view model as JSON.
            JSON.stringify(views[0]),
            renderPublicPage(views[0]! as ReturnType<typeof buildPublicStatus>, 'en'),
            renderPublicPage(views[0]! as ReturnType<typeof buildPublicStatus>, 'ja'),
            renderInternalPage(views[1]! as ReturnType<typeof buildInternalStatus>, 'en'),
          ];
          for (const text of texts) expect(text).not.toMatch(/NaN|Infinity/);
        },
      ),
      { numRuns: 200 },
    );
  });
});
