/** Unit tests of the DORA metrics core: hand-worked vectors for the traps, and properties with fast-check. */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.js';
import { computeDeliveryMetrics, type DeliveryMetrics, type DeliveryMetricsInput } from './metrics.js';
import type { CauseLink, DeployedChange, DeploymentFact, DeploymentKind, DeploymentStatus } from './model.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (iso: string): number => Date.parse(iso);

/** [midnight starting `from`, midnight after `to`) in the zone, as the route computes it. */
function period(
  from: string,
  to: string,
  timeZone: string,
): Pick<DeliveryMetricsInput, 'fromMs' | 'toMs' | 'timeZone'> {
  return {
    fromMs: DateTime.fromISO(from, { zone: timeZone }).toMillis(),
    toMs: DateTime.fromISO(to, { zone: timeZone }).plus({ days: 1 }).toMillis(),
    timeZone,
  };
}

function deployment(
  id: string,
  finishedIso: string,
  options: { service?: string; status?: DeploymentStatus; kind?: DeploymentKind; fixes?: string[] } = {},
): DeploymentFact {
  return {
    id,
    service: options.service ?? 'checkout',
    finishedAtMs: at(finishedIso),
    status: options.status ?? 'success',
    kind: options.kind ?? 'normal',
    fixes: options.fixes ?? [],
  };
}

function change(sha: string, committedAtMs: number, firstDeployedAtMs: number): DeployedChange {
  return { service: 'checkout', sha, committedAtMs, firstDeployedAtMs };
}

function metrics(
  input: Partial<DeliveryMetricsInput> & Pick<DeliveryMetricsInput, 'fromMs' | 'toMs' | 'timeZone'>,
): DeliveryMetrics {
  return computeDeliveryMetrics({ deployments: [], causes: [], changes: [], ...input });
}

const SEPTEMBER_UTC = period('2026-09-01', '2026-09-30', 'UTC');

describe('computeDeliveryMetrics: hand-worked vectors', () => {
  it('leaves out lead times of 0 s and below, keeps 30 s, and ignores changes deployed outside the period', () => {
    const deployedMs = at('2026-09-10T12:00:00Z');
    const result = metrics({
      ...SEPTEMBER_UTC,
      changes: [
        change('zero', deployedMs, deployedMs), // 0 s → excluded
        change('skew', deployedMs + 5 * SECOND, deployedMs), // −5 s (clock skew) → excluded
        change('thirty', deployedMs - 30 * SECOND, deployedMs), // 30 s
        change('hour', deployedMs - HOUR, deployedMs), // 1 h
        change('two', deployedMs - 2 * HOUR, deployedMs), // 2 h
        change('after', 0, at('2026-10-01T00:00:00Z')), // deployed after the period → ignored
        change('before', 0, at('2026-08-31T23:59:59Z')), // deployed before the period → ignored
      ],
    });
    // sorted [30 s, 1 h, 2 h]: median at position (3 − 1) · 0.5 = 1 → 1 h;
    // p90 at position 1.8 → 1 h + 0.8 · (2 h − 1 h) = 1.8 h = 6,480,000 ms
    expect(result.leadTime).toEqual({
      changes: 3,
      excluded: 2,
      medianMs: HOUR,
      p90Ms: 6_480_000,
      level: { name: 'elite', label: 'Elite' }, // 2024: ≤ 1 day
    });
  });

  it('counts a deployment named by two incidents once, and works out every metric of a month by hand', () => {
    const deployments = [
      deployment('d1', '2026-09-02T10:00:00Z'), // caused INC-1 and INC-2 → failed (once)
      deployment('d2', '2026-09-03T10:00:00Z'), // next reaching production is d3 (normal) → not failed
      deployment('d2x', '2026-09-03T12:00:00Z', { status: 'failure', kind: 'hotfix' }), // job failed: in no metric
      deployment('d3', '2026-09-04T10:00:00Z', { status: 'rolled_back' }), // rolled back → failed
      deployment('d5', '2026-09-06T10:00:00Z'), // followed by the hotfix d6 → failed
      deployment('d6', '2026-09-06T11:00:00Z', { kind: 'hotfix' }), // unplanned
      deployment('d7', '2026-09-08T10:00:00Z', { fixes: ['INC-1'] }), // unplanned (fixes an incident)
      deployment('p1', '2026-09-10T10:00:00Z', { service: 'payments' }), // last of its service
    ];
    const causes: CauseLink[] = [
      {
        incidentId: 'INC-1',
        deploymentId: 'd1',
        impactStartedAtMs: at('2026-09-02T09:50:00Z'),
        resolvedAtMs: at('2026-09-02T11:00:00Z'),
      },
      {
        incidentId: 'INC-2',
        deploymentId: 'd1',
        impactStartedAtMs: at('2026-09-02T10:30:00Z'),
        resolvedAtMs: at('2026-09-02T12:00:00Z'),
      },
    ];
    const result = metrics({ ...SEPTEMBER_UTC, deployments, causes });

    // 30 days; successes d1 d2 d5 d6 d7 p1 = 6 (d3 rolled back, d2x failed) → 6 / 30 = 0.2 a day, 1.4 a week
    expect(result.period.days).toBe(30);
    expect(result.deploymentFrequency.count).toBe(6);
    expect(result.deploymentFrequency.perDay).toBeCloseTo(0.2, 12);
    expect(result.deploymentFrequency.perWeek).toBeCloseTo(1.4, 12);
    expect(result.deploymentFrequency.level).toEqual({ name: 'high', label: 'High' }); // ≥ 1/7 a day
    // reached production: d1 d2 d3 d5 d6 d7 p1 = 7; failed d1 d3 d5 = 3 → 3/7
    expect(result.changeFailRate).toEqual({
      deployments: 7,
      failed: 3,
      rate: 3 / 7,
      level: { name: 'low', label: 'Low' }, // 2024: above high's 20%
    });
    // d1: start min(10:00, 09:50, 10:30) = 09:50; end min(d7 fixing INC-1 on Sep 8, last resolution 12:00)
    //     = 12:00 → 2 h 10 min = 7,800,000 ms
    // d3: rolled back, no incident, next (d5) is normal → not recovered
    // d5: restored by the hotfix d6 at 11:00 → 1 h
    // [1 h, 2 h 10 min]: median 1 h 35 min = 5,700,000; p90 = 3.6e6 + 0.9 · 4.2e6 = 7,380,000
    expect(result.recoveryTime).toEqual({
      failed: 3,
      recovered: 2,
      medianMs: 5_700_000,
      p90Ms: 7_380_000,
      level: { name: 'high', label: 'High' }, // 2024: ≤ 1 day
    });
    // unplanned: d6 (hotfix), d7 (fixes) = 2 of 7; no report to 2024 gives rework levels
    expect(result.reworkRate).toEqual({ deployments: 7, unplanned: 2, rate: 2 / 7, level: null });
    expect(result.benchmark).toEqual({ year: 2024, source: 'Accelerate State of DevOps Report 2024' });

    // Sep 1 2026 is a Tuesday: weeks start Aug 31, Sep 7, 14, 21, 28; the last three have no deployments.
    expect(result.weeks.map((week) => week.start)).toEqual([
      '2026-08-31',
      '2026-09-07',
      '2026-09-14',
      '2026-09-21',
      '2026-09-28',
    ]);
    // week of Aug 31: d1 d2 d3 d5 d6 reached (5), successes d1 d2 d5 d6 (4), failed 3, unplanned 1 (d6),
    // recoveries [2 h 10 min, 1 h] → median 1 h 35 min
    expect(result.weeks[0]).toEqual({
      start: '2026-08-31',
      startMs: at('2026-08-31T00:00:00Z'),
      deployments: 4,
      leadTimeMedianMs: null,
      changeFailRate: 3 / 5,
      recoveryMedianMs: 5_700_000,
      reworkRate: 1 / 5,
    });
    // week of Sep 7: d7 and p1, neither failed; d7 unplanned
    expect(result.weeks[1]).toMatchObject({
      deployments: 2,
      changeFailRate: 0,
      reworkRate: 1 / 2,
      recoveryMedianMs: null,
    });
    for (const week of result.weeks.slice(2)) {
      expect(week).toMatchObject({
        deployments: 0,
        leadTimeMedianMs: null,
        changeFailRate: null,
        recoveryMedianMs: null,
        reworkRate: null,
      });
    }
  });

  it('fails the last deployment of the period on a hotfix after the period, which also ends its recovery', () => {
    const result = metrics({
      ...SEPTEMBER_UTC,
      deployments: [
        deployment('e1', '2026-09-30T20:00:00Z'),
        deployment('e2', '2026-10-01T01:00:00Z', { kind: 'hotfix' }), // after the period
      ],
    });
    expect(result.changeFailRate).toMatchObject({ deployments: 1, failed: 1, rate: 1 });
    expect(result.recoveryTime).toMatchObject({ failed: 1, recovered: 1, medianMs: 5 * HOUR });
    // e2 is outside the period: not rework, not counted
    expect(result.reworkRate).toMatchObject({ deployments: 1, unplanned: 0, rate: 0 });
    expect(result.deploymentFrequency.count).toBe(1);
  });

  it('ends recovery at a fix deployment of another service, or never while an incident is open', () => {
    const result = metrics({
      ...SEPTEMBER_UTC,
      deployments: [
        deployment('a1', '2026-09-10T00:00:00Z'),
        deployment('b1', '2026-09-10T03:00:00Z', { service: 'cart', fixes: ['INC-9'] }),
        deployment('a2', '2026-09-20T00:00:00Z'),
      ],
      causes: [
        { incidentId: 'INC-9', deploymentId: 'a1', impactStartedAtMs: at('2026-09-10T01:00:00Z') },
        { incidentId: 'INC-8', deploymentId: 'a2', impactStartedAtMs: at('2026-09-20T01:00:00Z') },
      ],
    });
    // a1: 00:00 → b1 at 03:00 = 3 h (INC-9 still open: no resolution end). a2: INC-8 open, no fix → not recovered.
    expect(result.recoveryTime).toMatchObject({
      failed: 2,
      recovered: 1,
      medianMs: 3 * HOUR,
      p90Ms: 3 * HOUR,
    });
  });

  it('counts calendar days and Monday weeks across the end of DST in America/New_York (Nov 1 2026)', () => {
    const range = period('2026-10-26', '2026-11-08', 'America/New_York');
    // Oct 26 00:00 EDT = 04:00Z; Nov 9 00:00 EST = 05:00Z: 14 calendar days, 337 hours
    expect(range.fromMs).toBe(at('2026-10-26T04:00:00Z'));
    expect(range.toMs).toBe(at('2026-11-09T05:00:00Z'));
    const result = metrics({
      ...range,
      deployments: [
        deployment('out', '2026-10-26T03:30:00Z'), // Oct 25 23:30 EDT: before the period
        deployment('n1', '2026-11-02T04:30:00Z'), // Nov 1 23:30 EST: still the week of Oct 26 (169 h long)
        deployment('n2', '2026-11-09T04:30:00Z'), // Nov 8 23:30 EST: last hour of the period
      ],
    });
    expect(result.period.days).toBe(14);
    expect(result.deploymentFrequency.count).toBe(2);
    expect(result.deploymentFrequency.perDay).toBeCloseTo(2 / 14, 12);
    expect(result.weeks.map(({ start, startMs, deployments }) => ({ start, startMs, deployments }))).toEqual([
      { start: '2026-10-26', startMs: at('2026-10-26T04:00:00Z'), deployments: 1 },
      { start: '2026-11-02', startMs: at('2026-11-02T05:00:00Z'), deployments: 1 },
    ]);
    // The 25-hour day alone is one day, in the week of Oct 26.
    const sunday = metrics(period('2026-11-01', '2026-11-01', 'America/New_York'));
    expect(sunday.period.days).toBe(1);
    expect(sunday.weeks.map((week) => week.start)).toEqual(['2026-10-26']);
  });

  it('counts calendar days and Monday weeks across the start of DST in America/New_York (Mar 8 2026)', () => {
    const range = period('2026-03-02', '2026-03-15', 'America/New_York');
    const result = metrics({
      ...range,
      deployments: [
        deployment('out', '2026-03-02T04:30:00Z'), // Mar 1 23:30 EST: before the period
        deployment('m1', '2026-03-09T04:30:00Z'), // Mar 9 00:30 EDT: the second week (the first is 167 h)
        deployment('m2', '2026-03-16T03:30:00Z'), // Mar 15 23:30 EDT: last hour of the period
      ],
    });
    expect(result.period.days).toBe(14);
    expect(result.weeks.map(({ start, startMs, deployments }) => ({ start, startMs, deployments }))).toEqual([
      { start: '2026-03-02', startMs: at('2026-03-02T05:00:00Z'), deployments: 0 },
      { start: '2026-03-09', startMs: at('2026-03-09T04:00:00Z'), deployments: 2 },
    ]);
    expect(metrics(period('2026-03-08', '2026-03-08', 'America/New_York')).period.days).toBe(1);
  });

  it('uses Asia/Tokyo days and weeks, not UTC ones', () => {
    const range = period('2026-09-01', '2026-09-30', 'Asia/Tokyo');
    expect(range.fromMs).toBe(at('2026-08-31T15:00:00Z'));
    const result = metrics({
      ...range,
      deployments: [
        deployment('k0', '2026-08-31T14:30:00Z'), // Aug 31 23:30 JST: before
        deployment('k1', '2026-08-31T16:00:00Z'), // Sep 1 01:00 JST: first day
        deployment('k4', '2026-09-06T15:30:00Z'), // Mon Sep 7 00:30 JST: second week (Sunday in UTC)
        deployment('k2', '2026-09-30T15:30:00Z'), // Oct 1 00:30 JST: after
      ],
    });
    expect(result.period).toEqual({ ...range, days: 30 });
    expect(result.weeks.map((week) => [week.start, week.deployments])).toEqual([
      ['2026-08-31', 1],
      ['2026-09-07', 1],
      ['2026-09-14', 0],
      ['2026-09-21', 0],
      ['2026-09-28', 0],
    ]);
  });

  it('answers an empty period of data with counts of 0 and nulls, never NaN', () => {
    const result = metrics(SEPTEMBER_UTC);
    expect(result.deploymentFrequency).toEqual({
      count: 0,
      perDay: 0,
      perWeek: 0,
      level: { name: 'low', label: 'Low' },
    });
    expect(result.leadTime).toEqual({ changes: 0, excluded: 0, medianMs: null, p90Ms: null, level: null });
    expect(result.changeFailRate).toEqual({ deployments: 0, failed: 0, rate: null, level: null });
    expect(result.recoveryTime).toEqual({
      failed: 0,
      recovered: 0,
      medianMs: null,
      p90Ms: null,
      level: null,
    });
    expect(result.reworkRate).toEqual({ deployments: 0, unplanned: 0, rate: null, level: null });
    expect(hasNaN(result)).toBe(false);
  });

  it('uses the requested benchmark year, and rejects an unknown year or time zone as Invalid', () => {
    const result = metrics({
      ...SEPTEMBER_UTC,
      benchmarkYear: 2022,
      deployments: Array.from({ length: 60 }, (_, i) =>
        deployment(`x${i}`, `2026-09-${String(1 + (i % 30)).padStart(2, '0')}T12:00:00Z`),
      ),
    });
    // 60 / 30 = 2 a day: elite in 2024, but 2022 had no elite cluster → high
    expect(result.benchmark).toEqual({ year: 2022, source: '2022 Accelerate State of DevOps Report' });
    expect(result.deploymentFrequency.level?.name).toBe('high');
    expect(() => metrics({ ...SEPTEMBER_UTC, benchmarkYear: 2020 })).toThrow(/2021, 2022, 2023, 2024/);
    expect(() => metrics({ ...SEPTEMBER_UTC, timeZone: 'Mars/Olympus' })).toThrow(AppError);
    expect(() => metrics({ fromMs: 0, toMs: 20 * 365 * DAY, timeZone: 'UTC' })).toThrow(/at most 3660/);
  });

  it('computes 100k deployments and 100k changes (sanity, no timing)', () => {
    const range = period('2026-01-01', '2026-12-31', 'Europe/Berlin');
    const deployments: DeploymentFact[] = [];
    const changes: DeployedChange[] = [];
    for (let i = 0; i < 100_000; i++) {
      const finishedAtMs = range.fromMs + ((i * 7_919) % 365) * DAY + (i % 86_400) * SECOND;
      deployments.push({
        id: `d${i}`,
        service: `svc${i % 50}`,
        finishedAtMs,
        status: i % 100 === 0 ? 'rolled_back' : 'success',
        kind: i % 25 === 0 ? 'hotfix' : 'normal',
        fixes: [],
      });
      changes.push(change(`c${i}`, finishedAtMs - (1 + (i % 48)) * HOUR, finishedAtMs));
    }
    const result = metrics({ ...range, deployments, changes });
    expect(result.changeFailRate.deployments).toBe(100_000);
    expect(result.deploymentFrequency.count).toBe(99_000);
    expect(result.reworkRate.unplanned).toBe(4_000);
    expect(result.leadTime.changes).toBe(100_000);
    expect(result.weeks.reduce((sum, week) => sum + week.deployments, 0)).toBe(99_000);
    expect(hasNaN(result)).toBe(false);
  });
});

// ---- properties ----

const FROM_MS = SEPTEMBER_UTC.fromMs;
const TO_MS = SEPTEMBER_UTC.toMs;
const ZONES = ['UTC', 'America/New_York', 'Asia/Tokyo', 'Europe/Berlin'] as const;

/** A set of deployments (unique ids) around the period, with causes naming some of them and changes. */
const scenario = fc
  .record({
    deployments: fc.uniqueArray(
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 4 }),
        service: fc.constantFrom('a', 'b', 'c'),
        finishedAtMs: fc.integer({ min: FROM_MS - 5 * DAY, max: TO_MS + 5 * DAY }),
        status: fc.constantFrom<DeploymentStatus>('success', 'success', 'failure', 'rolled_back'),
        kind: fc.constantFrom<DeploymentKind>('normal', 'normal', 'hotfix', 'rollback'),
        fixes: fc.array(fc.constantFrom('I1', 'I2', 'I3'), { maxLength: 2 }),
      }),
      { selector: (d) => d.id, maxLength: 40 },
    ),
    causes: fc.array(
      fc.record({
        incidentId: fc.constantFrom('I1', 'I2', 'I3', 'I4'),
        pick: fc.nat(),
        impactOffsetMs: fc.integer({ min: -2 * HOUR, max: 2 * DAY }),
        resolvedAfterMs: fc.option(fc.integer({ min: 0, max: 3 * DAY }), { nil: undefined }),
      }),
      { maxLength: 10 },
    ),
    changes: fc.array(
      fc.record({
        committedOffsetMs: fc.integer({ min: -HOUR, max: 10 * DAY }),
        firstDeployedAtMs: fc.integer({ min: FROM_MS - 5 * DAY, max: TO_MS + 5 * DAY }),
      }),
      { maxLength: 30 },
    ),
    timeZone: fc.constantFrom(...ZONES),
  })
  .map(({ deployments, causes, changes, timeZone }) => {
    const links: CauseLink[] = deployments.length
      ? causes.map((cause) => {
          const target = deployments[cause.pick % deployments.length]!;
          const impactStartedAtMs = target.finishedAtMs + cause.impactOffsetMs;
          return {
            incidentId: cause.incidentId,
            deploymentId: target.id,
            impactStartedAtMs,
            resolvedAtMs:
              cause.resolvedAfterMs === undefined ? undefined : impactStartedAtMs + cause.resolvedAfterMs,
          };
        })
      : [];
    return {
      ...period('2026-09-01', '2026-09-30', timeZone),
      deployments: deployments as DeploymentFact[],
      causes: links,
      changes: changes.map((c, i) =>
        change(`s${i}`, c.firstDeployedAtMs - c.committedOffsetMs, c.firstDeployedAtMs),
      ),
    } satisfies DeliveryMetricsInput;
  });

function hasNaN(value: unknown): boolean {
  if (typeof value === 'number') return Number.isNaN(value);
  if (value && typeof value === 'object') return Object.values(value).some(hasNaN);
  return false;
}

const inUnit = (rate: number | null) => rate === null || (rate >= 0 && rate <= 1);
const ordered = (median: number | null, p90: number | null) =>
  (median === null) === (p90 === null) && (median === null || median <= p90!);

describe('computeDeliveryMetrics: properties', () => {
  it('keeps rates in [0, 1], failed ≤ deployments, median ≤ p90, week sums equal to totals, no NaN', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const result = computeDeliveryMetrics(input);
        expect(inUnit(result.changeFailRate.rate) && inUnit(result.reworkRate.rate)).toBe(true);
        expect(result.changeFailRate.failed).toBeLessThanOrEqual(result.changeFailRate.deployments);
        expect(result.recoveryTime.recovered).toBeLessThanOrEqual(result.recoveryTime.failed);
        expect(result.reworkRate.unplanned).toBeLessThanOrEqual(result.reworkRate.deployments);
        expect(ordered(result.leadTime.medianMs, result.leadTime.p90Ms)).toBe(true);
        expect(ordered(result.recoveryTime.medianMs, result.recoveryTime.p90Ms)).toBe(true);
        expect(result.deploymentFrequency.count).toBeLessThanOrEqual(result.changeFailRate.deployments);
        expect(result.weeks.reduce((sum, week) => sum + week.deployments, 0)).toBe(
          result.deploymentFrequency.count,
        );
        for (const week of result.weeks)
          expect(inUnit(week.changeFailRate) && inUnit(week.reworkRate)).toBe(true);
        expect(hasNaN(result)).toBe(false);
      }),
    );
  });

  it('does not depend on the order of the input arrays', () => {
    fc.assert(
      fc.property(scenario, fc.integer(), (input, seed) => {
        const shuffle = <T>(items: readonly T[]): T[] =>
          items
            .map((item, i) => ({ item, key: Math.sin(seed + i * 12.9898) }))
            .sort((a, b) => a.key - b.key)
            .map(({ item }) => item);
        const shuffled = {
          ...input,
          deployments: shuffle(input.deployments),
          causes: shuffle(input.causes),
          changes: shuffle(input.changes),
        };
        expect(computeDeliveryMetrics(shuffled)).toEqual(computeDeliveryMetrics(input));
        expect(
          computeDeliveryMetrics({
            ...input,
            deployments: [...input.deployments].reverse(),
            changes: [...input.changes].reverse(),
          }),
        ).toEqual(computeDeliveryMetrics(input));
      }),
    );
  });

  const extra = fc.record({
    service: fc.constantFrom('a', 'b', 'c'),
    status: fc.constantFrom<DeploymentStatus>('success', 'failure', 'rolled_back'),
    kind: fc.constantFrom<DeploymentKind>('normal', 'hotfix', 'rollback'),
    fixes: fc.array(fc.constantFrom('I1', 'I2', 'I3'), { maxLength: 2 }),
    offsetMs: fc.integer({ min: 0, max: 10 * DAY }),
  });

  it('changes nothing when a deployment is added before the period', () => {
    fc.assert(
      fc.property(scenario, extra, (input, added) => {
        const { offsetMs, ...rest } = added;
        const before: DeploymentFact = { id: '#before', ...rest, finishedAtMs: input.fromMs - 1 - offsetMs };
        const withIt = computeDeliveryMetrics({ ...input, deployments: [...input.deployments, before] });
        expect(withIt).toEqual(computeDeliveryMetrics(input));
      }),
    );
  });

  it('changes only follow-up failures and recoveries when a deployment is added after the period', () => {
    fc.assert(
      fc.property(scenario, extra, (input, added) => {
        const { offsetMs, ...rest } = added;
        const after: DeploymentFact = { id: '#after', ...rest, finishedAtMs: input.toMs + offsetMs };
        const base = computeDeliveryMetrics(input);
        const withIt = computeDeliveryMetrics({ ...input, deployments: [...input.deployments, after] });
        expect(withIt.deploymentFrequency).toEqual(base.deploymentFrequency);
        expect(withIt.leadTime).toEqual(base.leadTime);
        expect(withIt.reworkRate).toEqual(base.reworkRate);
        expect(withIt.changeFailRate.deployments).toBe(base.changeFailRate.deployments);
        // Only "followed by a hotfix/rollback" (and the recovery it ends) may change: the new deployment
        // can become, or push away, the next deployment of the period's last one of its service.
        expect(withIt.weeks.map((week) => week.deployments)).toEqual(
          base.weeks.map((week) => week.deployments),
        );
      }),
    );
  });
});
