import { describe, expect, it } from 'vitest';
// The day math the page's reads use lives with the minutes; checked here against the page's days.
import { bucketMsFor, groupIntoDays, loadSpecText } from '../slo/index.js';
import type { Incident, TimelineEvent } from './service.js';
import {
  barLevel,
  buildInternalStatus,
  buildPublicStatus,
  componentStreams,
  type DayCounts,
  dayWindows,
  type IncidentWithTimeline,
  impactOf,
  publicStatusOf,
  type StatusPageInput,
} from './status-page.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 23, 12, 0);

const slo = (name: string, service: string, sli: string, target: number, annotations = '{}') => `---
apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}, annotations: ${annotations}}
spec:
  service: ${service}
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
metadata:
  name: checkout
  displayName: Checkout
  annotations: {shinrai.dev/public: "true", shinrai.dev/public-name: Checkout & Pay}
spec: {}
---
apiVersion: openslo/v1
kind: Service
metadata: {name: login, displayName: Secret Login}
spec: {}
${slo('checkout-availability', 'checkout', 'checkout-requests', 0.999)}${slo('checkout-fast', 'checkout', 'checkout-latency', 0.99)}${slo(
  'checkout-internal',
  'checkout',
  'checkout-internal-jobs',
  0.99,
  '{shinrai.dev/public: "false"}',
)}${slo('login-availability', 'login', 'login-requests', 0.999)}`;

const loaded = loadSpecText('specs.yaml', SPECS);
const catalog = loaded.catalog;

let nextNumber = 1;
function incident(overrides: Partial<Incident> = {}): Incident {
  const number = nextNumber++;
  return {
    id: `id-${number}`,
    number,
    reference: `INC-${number}`,
    title: 'Internal title',
    summary: 'internal summary',
    severity: 'SEV2',
    status: 'investigating',
    services: ['checkout'],
    slos: [],
    labels: { team: 'payments' },
    drill: false,
    runbooks: [],
    milestones: { detectedAt: NOW - HOUR },
    roles: { commander: 'alice' },
    createdAtMs: NOW - HOUR,
    updatedAtMs: NOW - HOUR,
    ...overrides,
  };
}

function event(
  atMs: number,
  text: string,
  isPublic: boolean,
  kind: TimelineEvent['kind'] = 'note',
): TimelineEvent {
  return {
    id: `${atMs}-${text}`,
    atMs,
    kind,
    source: 'api',
    actor: 'alice',
    text,
    starred: false,
    public: isPublic,
  };
}

function input(incidents: IncidentWithTimeline[], daily = new Map<string, DayCounts[]>()): StatusPageInput {
  return {
    catalog,
    incidents,
    days: dayWindows(NOW, 'UTC', 3),
    daily,
    nowMs: NOW,
    title: 'Status',
    timeZone: 'UTC',
    resolvedDays: 7,
  };
}

describe('status page view model', () => {
  it('loads the test specs without errors', () => {
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('cuts local days in the zone, today ending now', () => {
    const utc = dayWindows(NOW, 'UTC', 3);
    expect(utc.map((d) => d.date)).toEqual(['2026-11-21', '2026-11-22', '2026-11-23']);
    expect(utc[0]).toEqual({
      date: '2026-11-21',
      startMs: Date.UTC(2026, 10, 21),
      endMs: Date.UTC(2026, 10, 22),
    });
    expect(utc[2]!.endMs).toBe(NOW);
    // Tokyo is UTC+9: 12:00Z is 21:00 on the 23rd there, and the 23rd began at 15:00Z on the 22nd.
    const tokyo = dayWindows(NOW, 'Asia/Tokyo', 2);
    expect(tokyo.map((d) => [d.date, new Date(d.startMs).toISOString()])).toEqual([
      ['2026-11-22', '2026-11-21T15:00:00.000Z'],
      ['2026-11-23', '2026-11-22T15:00:00.000Z'],
    ]);
    // New York leaves DST on 2026-11-01: that day lasts 25 hours.
    const newYork = dayWindows(Date.UTC(2026, 10, 2, 12), 'America/New_York', 3);
    const nov1 = newYork.find((d) => d.date === '2026-11-01')!;
    expect(nov1.endMs - nov1.startMs).toBe(25 * HOUR);
  });

  it('groups buckets into Tokyo days at 15:00 UTC, and leaves days without data empty', () => {
    const days = dayWindows(NOW, 'Asia/Tokyo', 3);
    const grouped = groupIntoDays(days, [
      { storageKey: 'a', startMs: Date.UTC(2026, 10, 22, 14, 45), good: 9, total: 10 },
      { storageKey: 'a', startMs: Date.UTC(2026, 10, 22, 15, 0), good: 5, total: 5 },
      { storageKey: 'a', startMs: Date.UTC(2026, 10, 22, 16, 0), good: 4, total: 5 },
      { storageKey: 'a', startMs: Date.UTC(2026, 9, 1), good: 1, total: 1 },
    ]);
    expect(grouped.get('a')).toEqual([
      { good: 0, total: 0 },
      { good: 9, total: 10 },
      { good: 9, total: 10 },
    ]);
  });

  it('sums in 15-minute buckets when every day boundary falls on one (also +05:30, +05:45), else minutes', () => {
    expect(bucketMsFor(dayWindows(NOW, 'Asia/Kolkata', 5))).toBe(15 * MIN);
    expect(bucketMsFor(dayWindows(NOW, 'Asia/Kathmandu', 5))).toBe(15 * MIN);
    expect(bucketMsFor([{ date: '1900-01-01', startMs: 7 * MIN, endMs: DAY + 7 * MIN }])).toBe(MIN);
  });

  it('grades a day against its error budget: ok within it, degraded up to 10×, down beyond, no-data without events', () => {
    expect(barLevel(0, 0, 0)).toBe('no-data');
    expect(barLevel(999, 1000, 1)).toBe('ok');
    expect(barLevel(998, 1000, 1)).toBe('degraded');
    expect(barLevel(990, 1000, 1)).toBe('degraded');
    expect(barLevel(989, 1000, 1)).toBe('down');
    expect(barLevel(9, 10, 10 * (1 - 0.9))).toBe('ok');
    expect(barLevel(0, 10, 10 * (1 - 0.9))).toBe('degraded');
  });

  it('maps severity to impact and statuses to public words', () => {
    expect(['SEV1', 'SEV2', 'SEV3', 'SEV4'].map((s) => impactOf(s as Incident['severity']))).toEqual([
      'major-outage',
      'partial-outage',
      'degraded',
      'degraded',
    ]);
    expect(['P0', 'P1', 'P2', 'SEV1'].map((s) => impactOf(s, ['P0', 'P1', 'P2']))).toEqual([
      'major-outage',
      'partial-outage',
      'degraded',
      'degraded',
    ]);
    expect(publicStatusOf('triage')).toBe('investigating');
    expect(publicStatusOf('monitoring')).toBe('monitoring');
    expect(publicStatusOf('closed')).toBe('resolved');
  });

  it('builds public bars from the public SLOs only, judged against their combined budget', () => {
    expect(
      componentStreams(catalog, 'public')
        .get('checkout')!
        .map((s) => s.storageKey),
    ).toEqual(['checkout-requests', 'checkout-latency']);
    expect(componentStreams(catalog, 'internal').get('checkout')).toHaveLength(3);
    const daily = new Map<string, DayCounts[]>([
      // Day 1: 99.95% success (within 0.1%) and 99.5% fast (within 1%): ok together, though
      // the sum (99.77%) is below the strictest target.
      // Day 2: no data. Day 3: 90% fast only: 10× the 1% budget of 100 events → degraded.
      [
        'checkout-requests',
        [
          { good: 9995, total: 10_000 },
          { good: 0, total: 0 },
          { good: 0, total: 0 },
        ],
      ],
      [
        'checkout-latency',
        [
          { good: 9950, total: 10_000 },
          { good: 0, total: 0 },
          { good: 90, total: 100 },
        ],
      ],
      // Marked public: "false": never in the public figures.
      [
        'checkout-internal-jobs',
        [
          { good: 0, total: 1_000_000 },
          { good: 0, total: 0 },
          { good: 0, total: 0 },
        ],
      ],
    ]);
    const view = buildPublicStatus(input([], daily));
    const checkout = view.components[0]!;
    expect(view.components.map((c) => c.name)).toEqual(['Checkout & Pay']);
    expect(checkout.bars.map((b) => b.level)).toEqual(['ok', 'no-data', 'degraded']);
    expect(checkout.bars[0]!.availability).toBeCloseTo((9995 + 9950) / 20_000, 12);
    expect(checkout.bars[1]!.availability).toBeNull();
    expect(checkout.availability).toBeCloseTo((9995 + 9950 + 90) / 20_100, 12);
    const internal = buildInternalStatus(input([], daily));
    expect(internal.components.find((c) => c.service === 'checkout')!.bars[0]!.level).toBe('down');
  });

  it('shows only announced, non-drill, non-cancelled incidents on public services; states follow them', () => {
    const sev1 = incident({ severity: 'SEV1' });
    const sev3 = incident({ severity: 'SEV3' });
    const unannounced = incident({ severity: 'SEV1', title: 'unannounced' });
    const drill = incident({ severity: 'SEV1', drill: true });
    const cancelled = incident({ severity: 'SEV1', status: 'cancelled' });
    const privateOnly = incident({ severity: 'SEV1', services: ['login'] });
    const resolved = incident({
      status: 'resolved',
      milestones: { detectedAt: NOW - 3 * DAY, resolvedAt: NOW - 2 * DAY },
    });
    const longAgo = incident({
      status: 'closed',
      milestones: { detectedAt: NOW - 30 * DAY, resolvedAt: NOW - 20 * DAY },
    });
    const announced = (i: Incident, at = NOW - 10 * MIN) => ({
      incident: i,
      timeline: [event(at - MIN, 'private note', false), event(at, `public ${i.reference}`, true)],
    });
    const view = buildPublicStatus(
      input([
        announced(sev3, NOW - 5 * MIN),
        announced(sev1),
        { incident: unannounced, timeline: [event(NOW, 'private only', false)] },
        announced(drill),
        announced(cancelled),
        announced(privateOnly),
        announced(resolved, NOW - 2 * DAY),
        announced(longAgo, NOW - 20 * DAY),
      ]),
    );
    expect(view.incidents).toEqual([
      {
        components: ['Checkout & Pay'],
        impact: 'degraded',
        status: 'investigating',
        updates: [
          {
            at: new Date(NOW - 5 * MIN).toISOString(),
            html: `<p>public ${sev3.reference}</p>\n`,
            text: `public ${sev3.reference}`,
          },
        ],
      },
      {
        components: ['Checkout & Pay'],
        impact: 'major-outage',
        status: 'investigating',
        updates: [
          {
            at: new Date(NOW - 10 * MIN).toISOString(),
            html: `<p>public ${sev1.reference}</p>\n`,
            text: `public ${sev1.reference}`,
          },
        ],
      },
      {
        components: ['Checkout & Pay'],
        impact: 'partial-outage',
        status: 'resolved',
        updates: [
          {
            at: new Date(NOW - 2 * DAY).toISOString(),
            html: `<p>public ${resolved.reference}</p>\n`,
            text: `public ${resolved.reference}`,
          },
        ],
      },
    ]);
    expect(view.components[0]!.state).toBe('major-outage');
    expect(view.overall).toBe('major-outage');
    const quiet = buildPublicStatus(input([{ incident: unannounced, timeline: [] }, announced(drill)]));
    expect(quiet.components[0]!.state).toBe('operational');
    expect(quiet.incidents).toEqual([]);
  });

  it('counts an incident naming only an SLO against the SLO’s service', () => {
    const bySlo = incident({ severity: 'SEV2', services: [], slos: ['checkout-availability'] });
    const view = buildPublicStatus(input([{ incident: bySlo, timeline: [event(NOW, 'looking', true)] }]));
    expect(view.components[0]!.state).toBe('partial-outage');
  });

  it('gives the internal page every service and open incident, drills marked, with the whole timeline', () => {
    const drill = incident({ severity: 'SEV1', drill: true, services: ['login'] });
    const real = incident({ severity: 'SEV3', services: ['login'] });
    const timeline = [
      event(NOW - 2 * MIN, 'SEV3 declared: Internal title', false, 'declared'),
      event(NOW - MIN, 'internal note', false),
      event(NOW, 'public note', true),
    ];
    const view = buildInternalStatus(
      input([
        { incident: drill, timeline: [] },
        { incident: real, timeline },
        { incident: incident({ status: 'resolved' }), timeline: [] },
      ]),
    );
    expect(view.components.map((c) => [c.service, c.name, c.public, c.state])).toEqual([
      ['checkout', 'Checkout & Pay', true, 'operational'],
      ['login', 'Secret Login', false, 'degraded'],
    ]);
    expect(view.incidents.map((i) => [i.reference, i.drill])).toEqual([
      [real.reference, false],
      [drill.reference, true],
    ]);
    expect(view.incidents[0]!.timeline.map((e) => [e.text, e.public])).toEqual([
      ['public note', true],
      ['internal note', false],
      ['SEV3 declared: Internal title', false],
    ]);
  });
});
