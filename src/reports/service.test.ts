/** Unit tests of the calendar-month figures (pure: the engine over minutes given in memory). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluationTargets, loadSpecText, type MinuteRow } from '../slo/index.js';
import { monthFigures, reportTimeZone, summable, summedFigures } from './service.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const FROM = Date.UTC(2026, 10, 1, 4); // 2026-11-01 00:00 in New York
const TO = FROM + 721 * HOUR;
const PERIOD = { month: '2026-11', fromMs: FROM, toMs: TO, timeZone: 'America/New_York' };

const slo = (method: string, objective: string) => `apiVersion: openslo/v1
kind: SLO
metadata: {name: api}
spec:
  service: shop
  indicator:
    metadata: {name: api-requests}
    spec:
      ratioMetric:
        good: {metricSource: {type: shinrai, spec: {}}}
        total: {metricSource: {type: shinrai, spec: {}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: ${method}
  objectives: [${objective}]
`;

function target(method: string, objective: string) {
  const loaded = loadSpecText('slo.yaml', slo(method, objective));
  return evaluationTargets(loaded.catalog)[0]!;
}

/** 10 requests a minute over [fromMs, toMs), with the minutes in `bad` all bad. */
function minutes(fromMs: number, toMs: number, bad: Set<number>): MinuteRow[] {
  const rows: MinuteRow[] = [];
  for (let ms = fromMs; ms < toMs; ms += MIN)
    rows.push({ storageKey: 'api-requests', minuteMs: ms, good: bad.has(ms) ? 0 : 10, total: 10 });
  return rows;
}

describe('monthFigures', () => {
  it('counts events of the whole month for Occurrences, its last minute included', () => {
    const rows = minutes(FROM, TO, new Set([FROM, TO - MIN]));
    const f = monthFigures(target('Occurrences', '{target: 0.999}'), () => rows, PERIOD, TO + 5 * 24 * HOUR);
    const total = 721 * 60 * 10;
    expect(f).toMatchObject({ attainment: (total - 20) / total, unit: 'events', consumed: 20 });
    expect(f.allowed).toBeCloseTo(0.001 * total, 6);
  });

  it('counts 5-minute slices of the month (721 hours: 8652 slices), the last one included', () => {
    const rows = minutes(FROM, TO, new Set([FROM, TO - MIN]));
    const f = monthFigures(
      target('Timeslices', '{target: 0.95, timeSliceTarget: 0.9, timeSliceWindow: 5m}'),
      () => rows,
      PERIOD,
      TO + HOUR,
    );
    expect(f).toMatchObject({ attainment: 8650 / 8652, unit: 'minutes', consumed: 10 });
    expect(f.allowed).toBeCloseTo(0.05 * 8652 * 5, 6);
    expect(f.consumedShare).toBeCloseTo(10 / (0.05 * 8652 * 5), 12);
  });

  it('gives a month under way the whole month of slices as its budget, and a future month nothing', () => {
    const now = FROM + 24 * HOUR;
    const rows = minutes(FROM, now, new Set([FROM]));
    const t = target('Timeslices', '{target: 0.95, timeSliceTarget: 0.9, timeSliceWindow: 5m}');
    const f = monthFigures(t, () => rows, PERIOD, now);
    expect(f).toMatchObject({ attainment: 287 / 288, consumed: 5 });
    expect(f.allowed).toBeCloseTo(0.05 * 8652 * 5, 6);
    expect(monthFigures(t, () => [], PERIOD, FROM - 1)).toEqual({
      attainment: null,
      unit: 'minutes',
      allowed: 0,
      consumed: 0,
      consumedShare: null,
    });
  });
});

describe('summedFigures', () => {
  it("gives the engine's figures from the sums of a past month or a month under way (Occurrences)", () => {
    const t = target('Occurrences', '{target: 0.995}');
    expect(summable(t, PERIOD)).toBe(true);
    expect(
      summable(target('Timeslices', '{target: 0.95, timeSliceTarget: 0.9, timeSliceWindow: 5m}'), PERIOD),
    ).toBe(false);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ minute: fc.integer({ min: 0, max: 721 * 60 - 1 }), good: fc.nat(50), bad: fc.nat(50) }),
          { maxLength: 200 },
        ),
        fc.integer({ min: 1, max: 800 * 60 }),
        (drawn, nowMinute) => {
          const byMinute = new Map(drawn.map((d) => [d.minute, d]));
          const rows: MinuteRow[] = [...byMinute.values()]
            .sort((a, b) => a.minute - b.minute)
            .map((d) => ({
              storageKey: 'api-requests',
              minuteMs: FROM + d.minute * MIN,
              good: d.good,
              total: d.good + d.bad,
            }));
          // A month under way counts the whole minutes before now; a past one all of its minutes.
          const nowMs = FROM + nowMinute * MIN + 17_000;
          const endMs = Math.min(TO, Math.floor(nowMs / MIN) * MIN);
          const counted = rows.filter((r) => r.minuteMs < endMs);
          const sums = {
            good: counted.reduce((n, r) => n + r.good, 0),
            bad: counted.reduce((n, r) => n + r.total - r.good, 0),
            total: counted.reduce((n, r) => n + r.total, 0),
            dataMinutes: counted.filter((r) => r.total > 0).length,
          };
          expect(summedFigures(t, sums)).toEqual(monthFigures(t, () => rows, PERIOD, nowMs));
        },
      ),
    );
  });
});

describe('reportTimeZone', () => {
  const config = (reports?: string, statusPage = 'UTC', incidents = 'Europe/Paris') => ({
    reports: { timeZone: reports },
    statusPage: { timeZone: statusPage },
    incidents: { timeZone: incidents },
  });
  it('takes reports.timeZone, else the status page zone, else the incidents zone', () => {
    expect(reportTimeZone(config('Asia/Tokyo', 'America/New_York') as never)).toBe('Asia/Tokyo');
    expect(reportTimeZone(config(undefined, 'America/New_York') as never)).toBe('America/New_York');
    expect(reportTimeZone(config(undefined) as never)).toBe('Europe/Paris');
  });
});
