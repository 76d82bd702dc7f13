import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSpecText } from '../../spec/load.js';
import { deltaOf, prepareExport, type SeriesState } from './core.js';
import { otlpPlan, planCatalog } from './plan.js';

const OPTIONS = { newSeriesWindowMs: 600_000 };
const S = 1_000_000_000n;

/** A cumulative counter's points: increments per interval, and resets (a new start time). */
const history = fc.array(fc.record({ add: fc.nat(50), reset: fc.boolean() }), {
  minLength: 1,
  maxLength: 30,
});

function cumulativePoints(steps: ReadonlyArray<{ add: number; reset: boolean }>) {
  let start = 1_000n * S;
  let value = 0;
  const points = steps.map((step, i) => {
    const time = start + BigInt(i + 1) * S + 10n * S * BigInt(i);
    if (step.reset && i > 0) {
      start = time - S;
      value = 0;
    }
    value += step.add;
    return { startNs: start, timeNs: time, value };
  });
  return { points, truth: steps.reduce((a, s) => a + s.add, 0) };
}

function replay(
  points: ReadonlyArray<{ startNs: bigint; timeNs: bigint; value: number }>,
  cumulative: boolean,
): number {
  let state: SeriesState | undefined;
  let counted = 0;
  for (const p of points) {
    const d = deltaOf(state, p, cumulative, OPTIONS);
    if (d.state) state = d.state;
    if (d.counted) counted += d.count;
  }
  return counted;
}

describe('OTLP deltas', () => {
  it('counts a cumulative series exactly when delivered in order, retries included', () => {
    fc.assert(
      fc.property(history, fc.array(fc.nat(29)), (steps, retries) => {
        const { points, truth } = cumulativePoints(steps);
        // Each retry resends a point right after itself (an export sent twice).
        const delivered = points.flatMap((p, i) => (retries.includes(i) ? [p, p] : [p]));
        expect(replay(delivered, true)).toBe(truth);
      }),
    );
  });

  it('never counts more than was measured, whatever the order and repetition', () => {
    fc.assert(
      fc.property(
        history,
        fc.array(fc.nat(1000), { maxLength: 60 }),
        fc.boolean(),
        (steps, picks, cumulative) => {
          const { points, truth } = cumulativePoints(steps);
          const deltas = steps.map((s, i) => ({
            startNs: points[i]!.timeNs - S,
            timeNs: points[i]!.timeNs,
            value: s.add,
          }));
          const source = cumulative ? points : deltas;
          const delivered = [...source, ...picks.map((k) => source[k % source.length]!)];
          // shuffle deterministically by the picks
          const order = delivered.map((p, i) => ({ p, k: picks[i % Math.max(1, picks.length)] ?? i }));
          order.sort((a, b) => a.k - b.k);
          expect(
            replay(
              order.map((o) => o.p),
              cumulative,
            ),
          ).toBeLessThanOrEqual(truth);
        },
      ),
    );
  });

  it('counts a delta series once per point, duplicates ignored', () => {
    fc.assert(
      fc.property(history, (steps) => {
        const points = steps.map((s, i) => ({
          startNs: BigInt(i) * S,
          timeNs: BigInt(i + 1) * S,
          value: s.add,
        }));
        const truth = steps.reduce((a, s) => a + s.add, 0);
        expect(replay([...points, ...points], false)).toBe(truth);
      }),
    );
  });

  it('only sets the baseline of a cumulative series that started long before its first point', () => {
    const d = deltaOf(undefined, { startNs: 1n * S, timeNs: 100_000n * S, value: 500 }, true, OPTIONS);
    expect(d).toMatchObject({ counted: true, count: 0 });
    const next = deltaOf(d.state, { startNs: 1n * S, timeNs: 100_060n * S, value: 512 }, true, OPTIONS);
    expect(next.count).toBe(12);
  });
});

describe('OTLP plan', () => {
  it('warns when a latency threshold is snapped to a bucket boundary, naming the boundary', () => {
    const text = `apiVersion: openslo/v1
kind: Service
metadata: {name: shop}
spec: {}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: latency}
spec:
  service: shop
  indicator:
    metadata: {name: duration}
    spec:
      thresholdMetric:
        metricSource: {type: OpenTelemetry, spec: {metric: http.server.request.duration}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lte, value: 0.3, target: 0.99}]
`;
    const loaded = loadSpecText('latency.yaml', text);
    const snapped = loaded.diagnostics.find((d) => d.rule === 'otlp/threshold-snapped');
    expect(snapped).toMatchObject({ severity: 'warning', file: 'latency.yaml', line: 18 });
    expect(snapped?.message).toContain('the boundary 0.25 is used');
    const plan = planCatalog(loaded.catalog).plan;
    expect(plan.slis.has('duration')).toBe(true);
    expect(plan.byMetric.get('http.server.request.duration')?.[0]?.use).toEqual({
      kind: 'threshold',
      le: 0.25,
      goodAbove: false,
    });
  });
});

describe('OTLP series keys', () => {
  it('are the SHA-256 of metric, kind, temporality, resource, scope and sorted attributes, as stored since the first release', () => {
    const { catalog } = loadSpecText(
      'k.yaml',
      `apiVersion: openslo/v1
kind: SLO
metadata: {name: s}
spec:
  service: x
  indicator:
    metadata: {name: i}
    spec: {ratioMetric: {counter: true, good: {metricSource: {type: otlp, spec: {metric: m, attributes: {ok: true}}}}, total: {metricSource: {type: otlp, spec: {metric: m}}}}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
`,
    );
    const str = (key: string, stringValue: string) => ({ key, value: { stringValue } });
    const prepared = prepareExport(
      {
        resourceMetrics: [
          {
            resource: { attributes: [str('service.name', 'a'), str('host', 'h')] },
            scopeMetrics: [
              {
                scope: { name: 'lib', version: '1' },
                metrics: [
                  {
                    name: 'm',
                    sum: {
                      aggregationTemporality: 2,
                      isMonotonic: true,
                      dataPoints: [
                        {
                          attributes: [
                            str('z', 'last'),
                            { key: 'ok', value: { boolValue: true } },
                            { key: 'code', value: { intValue: 200 } },
                          ],
                          timeUnixNano: '1',
                          asInt: 1,
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
      otlpPlan(catalog),
    );
    const text = [
      'm',
      'sum',
      '2',
      'host\u0002string\u0002h\u0001service.name\u0002string\u0002a',
      'lib\u00011',
      'code\u0002number\u0002200\u0001ok\u0002boolean\u0002true\u0001z\u0002string\u0002last',
    ].join('\u0000');
    expect(prepared.keys).toEqual([createHash('sha256').update(text).digest('base64url')]);
  });
});
