import { describe, expect, it } from 'vitest';
import {
  addDays,
  burnedOverOf,
  dateIn,
  deploymentMarkers,
  deploymentsPath,
  durationText,
  failureReason,
  isIsoDate,
  isTimeZone,
  levelTone,
  metricsPath,
  minusMonths,
  overBudget,
  periodInstants,
  periodOf,
  signed,
  startOfDateMs,
  weeklySeries,
} from './delivery';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('durationText', () => {
  it('uses seconds, minutes, hours and days as the duration grows', () => {
    expect(durationText(30_000, 'en')).toBe('30s');
    expect(durationText(12 * MIN, 'en')).toBe('12m');
    expect(durationText(3.5 * HOUR, 'en')).toBe('3.5h');
    expect(durationText(47 * HOUR, 'en')).toBe('47h');
    expect(durationText(2.1 * DAY, 'en')).toBe('2.1d');
  });

  it('writes Japanese units in Japanese', () => {
    expect(durationText(3.5 * HOUR, 'ja')).toBe('3.5 時間');
    expect(durationText(2.1 * DAY, 'ja')).toBe('2.1 日');
    expect(durationText(12 * MIN, 'ja')).toBe('12 分');
  });

  it('answers a dash for no value', () => {
    expect(durationText(null, 'en')).toBe('—');
    expect(durationText(undefined, 'ja')).toBe('—');
    expect(durationText(Number.NaN, 'en')).toBe('—');
  });
});

describe('levelTone', () => {
  it('colours elite and high green, medium amber, low red and no level grey', () => {
    expect(levelTone({ name: 'elite' })).toBe('green');
    expect(levelTone({ name: 'high' })).toBe('green');
    expect(levelTone({ name: 'medium' })).toBe('amber');
    expect(levelTone({ name: 'low' })).toBe('red');
    expect(levelTone(null)).toBe('grey');
    expect(levelTone({ name: 'unheard-of' })).toBe('grey');
  });
});

describe('calendar dates', () => {
  it('knows real dates from look-alikes', () => {
    expect(isIsoDate('2026-02-28')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2026-2-1')).toBe(false);
    expect(isIsoDate(null)).toBe(false);
  });

  it('subtracts months clamping the day to the month end', () => {
    expect(minusMonths('2026-12-07', 3)).toBe('2026-09-07');
    expect(minusMonths('2026-05-31', 3)).toBe('2026-02-28');
    expect(minusMonths('2026-02-15', 6)).toBe('2025-08-15');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });

  it('reads the date of an instant in a time zone', () => {
    const ms = Date.parse('2026-12-06T20:00:00Z');
    expect(dateIn(ms, 'UTC')).toBe('2026-12-06');
    expect(dateIn(ms, 'Asia/Tokyo')).toBe('2026-12-07');
  });

  it('finds the first instant of a date, across DST changes too', () => {
    expect(new Date(startOfDateMs('2026-12-07', 'Asia/Tokyo')).toISOString()).toBe(
      '2026-12-06T15:00:00.000Z',
    );
    expect(new Date(startOfDateMs('2026-03-08', 'America/New_York')).toISOString()).toBe(
      '2026-03-08T05:00:00.000Z',
    );
    expect(new Date(startOfDateMs('2026-03-09', 'America/New_York')).toISOString()).toBe(
      '2026-03-09T04:00:00.000Z',
    );
    expect(new Date(startOfDateMs('2026-10-25', 'Europe/Berlin')).toISOString()).toBe(
      '2026-10-24T22:00:00.000Z',
    );
    // Santiago skips midnight in September: the day starts at 01:00 local, 04:00 UTC; in April
    // midnight comes twice and the date begins at the second.
    expect(new Date(startOfDateMs('2026-09-06', 'America/Santiago')).toISOString()).toBe(
      '2026-09-06T04:00:00.000Z',
    );
    expect(new Date(startOfDateMs('2026-04-05', 'America/Santiago')).toISOString()).toBe(
      '2026-04-05T04:00:00.000Z',
    );
  });

  it('knows time zones', () => {
    expect(isTimeZone('Asia/Tokyo')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});

describe('periodOf', () => {
  const now = Date.parse('2026-12-06T20:00:00Z');

  it('counts the last months up to today in the zone', () => {
    expect(periodOf('3m', {}, 'UTC', now)).toEqual({ from: '2026-09-07', to: '2026-12-06', timeZone: 'UTC' });
    expect(periodOf('6m', {}, 'Asia/Tokyo', now)).toEqual({
      from: '2026-06-08',
      to: '2026-12-07',
      timeZone: 'Asia/Tokyo',
    });
  });

  it('takes custom dates, swapping reversed ones, and falls back when they are bad', () => {
    expect(periodOf('custom', { from: '2026-09-01', to: '2026-11-30' }, 'UTC', now)).toEqual({
      from: '2026-09-01',
      to: '2026-11-30',
      timeZone: 'UTC',
    });
    expect(periodOf('custom', { from: '2026-11-30', to: '2026-09-01' }, 'UTC', now).from).toBe('2026-09-01');
    expect(periodOf('custom', { from: 'yesterday', to: '2026-09-01' }, 'UTC', now).from).toBe('2026-09-07');
  });

  it('covers whole days in the zone', () => {
    const { fromMs, toMs } = periodInstants({ from: '2026-09-01', to: '2026-11-30', timeZone: 'Asia/Tokyo' });
    expect(new Date(fromMs).toISOString()).toBe('2026-08-31T15:00:00.000Z');
    expect(new Date(toMs).toISOString()).toBe('2026-11-30T15:00:00.000Z');
  });
});

describe('paths', () => {
  const period = { from: '2026-09-01', to: '2026-11-30', timeZone: 'Asia/Tokyo' };

  it('asks for metrics with dates, zone and only the scope given', () => {
    expect(metricsPath({ service: 'checkout' }, period)).toBe(
      '/api/v1/delivery/metrics?service=checkout&from=2026-09-01&to=2026-11-30&tz=Asia%2FTokyo',
    );
    expect(metricsPath({ team: 'payments' }, period, 2023)).toBe(
      '/api/v1/delivery/metrics?team=payments&from=2026-09-01&to=2026-11-30&tz=Asia%2FTokyo&benchmark=2023',
    );
  });

  it('asks for production deployments in a range, with the burn filter and the page cursor', () => {
    const range = { fromMs: Date.parse('2026-09-01T00:00:00Z'), toMs: Date.parse('2026-09-02T00:00:00Z') };
    expect(
      deploymentsPath({ service: 'checkout' }, range, { burnedOver: 0.05, limit: 50, before: 'c1' }),
    ).toBe(
      '/api/v1/deployments?service=checkout&from=2026-09-01T00%3A00%3A00.000Z&to=2026-09-02T00%3A00%3A00.000Z&production=true&burnedOver=0.05&limit=50&before=c1',
    );
    expect(deploymentsPath({}, range)).not.toContain('burnedOver');
  });

  it('reads the burn filter as a fraction of a budget, ignoring nonsense', () => {
    expect(burnedOverOf('0.05')).toBe(0.05);
    expect(burnedOverOf('5')).toBeNull();
    expect(burnedOverOf('-1')).toBeNull();
    expect(burnedOverOf('abc')).toBeNull();
    expect(burnedOverOf(null)).toBeNull();
  });
});

describe('deployments', () => {
  const side = (share: number | null) => ({ consumed: 1, shareOfBudget: share, burnRate: 1 });

  it('names the SLOs whose budget the hours after burned more than the threshold', () => {
    const budget = [
      { slo: 'a', unit: 'events' as const, before: side(0), after: side(0.06), burnRateChange: 2 },
      { slo: 'b', unit: 'minutes' as const, before: side(0), after: side(0.05), burnRateChange: 0 },
      { slo: 'c', unit: 'events' as const, before: side(0), after: side(null), burnRateChange: null },
    ];
    expect(overBudget(budget, 0.05)).toEqual(['a']);
    expect(overBudget(budget, 0.01)).toEqual(['a', 'b']);
  });

  it('draws markers only inside the range, oldest first, failed ones marked', () => {
    const deployments = [
      { id: 'd3', finishedAt: '2026-12-06T12:00:00Z', status: 'success', failed: true },
      { id: 'd1', finishedAt: '2026-12-06T08:00:00Z', status: 'success', failed: false },
      { id: 'd2', finishedAt: '2026-12-06T10:00:00Z', status: 'rolled_back', failed: false },
      { id: 'job', finishedAt: '2026-12-06T11:00:00Z', status: 'failure', failed: false },
      { id: 'old', finishedAt: '2026-11-01T10:00:00Z', status: 'success', failed: false },
    ];
    const range = { fromMs: Date.parse('2026-12-06T00:00:00Z'), toMs: Date.parse('2026-12-07T00:00:00Z') };
    const markers = deploymentMarkers(deployments, range, (d, failed) => `${d.id}${failed ? '!' : ''}`);
    expect(markers.map((m) => [m.id, m.failed, m.label])).toEqual([
      ['d1', false, 'd1'],
      ['d2', true, 'd2!'],
      ['job', false, 'job'],
      ['d3', true, 'd3!'],
    ]);
  });

  it('says why a deployment failed', () => {
    expect(failureReason({ status: 'success', failed: false, causedIncidents: [] })).toBeNull();
    expect(failureReason({ status: 'rolled_back', failed: true, causedIncidents: ['INC-1'] })).toBe(
      'rolledBack',
    );
    // A failed deployment job shipped nothing: not a failure in production.
    expect(failureReason({ status: 'failure', failed: false })).toBeNull();
    expect(failureReason({ status: 'success', failed: true, causedIncidents: ['INC-1'] })).toBe('incident');
    expect(failureReason({ status: 'success', failed: true, causedIncidents: [] })).toBe('followedByFix');
  });

  it('writes a change with its sign', () => {
    expect(signed(1.46, 'en')).toBe('+1.5');
    expect(signed(-0.3, 'en')).toBe('-0.3');
    expect(signed(0, 'en')).toBe('0');
    expect(signed(null, 'en')).toBe('—');
  });

  it('puts weekly points at the start of each week in the zone', () => {
    const weeks = [
      { start: '2026-09-07', n: 3 },
      { start: '2026-09-14', n: null },
    ];
    expect(weeklySeries(weeks, (w) => w.n, 'Asia/Tokyo')).toEqual({
      timesMs: [Date.parse('2026-09-06T15:00:00Z'), Date.parse('2026-09-13T15:00:00Z')],
      values: [3, null],
    });
  });
});
