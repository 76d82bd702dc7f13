/**
 * A realistic monthly report (pure data) for tests and previews of every renderer: the checkout
 * product's November 2026 in Asia/Tokyo, with SLOs met and missed, every kind of "what to do"
 * item, 6 trend months, incidents, action items, risks, alerts and delivery. `hostileReport`
 * puts script payloads into every text field that comes from data, for XSS tests.
 */
import type { MonthlyReport, ReportLanguage, TodoItem } from './model.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** 2026-11-01T00:00 in Asia/Tokyo. */
const FROM_MS = Date.parse('2026-11-01T00:00:00+09:00');
/** 2026-12-01T00:00 in Asia/Tokyo. */
const TO_MS = Date.parse('2026-12-01T00:00:00+09:00');

/** The checkout product's November 2026 (Asia/Tokyo), in `language`. */
export function reportFixture(language: ReportLanguage = 'en'): MonthlyReport {
  return {
    product: { name: 'checkout', services: ['checkout-api', 'payments'] },
    month: '2026-11',
    timeZone: 'Asia/Tokyo',
    period: { fromMs: FROM_MS, toMs: TO_MS },
    language,
    generatedAtMs: Date.parse('2026-12-01T09:00:00+09:00'),
    verdict: [
      {
        slo: 'checkout-availability',
        displayName: 'Checkout availability',
        service: 'checkout-api',
        target: 0.999,
        attainment: 0.99812,
        met: false,
        budget: { unit: 'events', allowed: 12_840, consumed: 24_130, consumedShare: 1.879 },
        policyStep: {
          below: 0,
          action: 'Freeze feature deploys; only reliability fixes until the budget recovers',
          gate: 'deny',
        },
        link: '/slos/checkout-availability',
      },
      {
        slo: 'checkout-latency/p99',
        displayName: 'Checkout latency (p99 < 800 ms)',
        service: 'checkout-api',
        target: 0.99,
        attainment: 0.99304,
        met: true,
        budget: { unit: 'minutes', allowed: 432, consumed: 300.5, consumedShare: 0.6956 },
        policyStep: {
          below: 0.5,
          action: 'Review the top latency regressions at the weekly reliability meeting',
          gate: 'warn',
        },
        link: '/slos/checkout-latency',
      },
      {
        slo: 'payments-availability',
        displayName: 'Payments availability',
        service: 'payments',
        target: 0.9995,
        attainment: 0.99991,
        met: true,
        budget: { unit: 'events', allowed: 4_210, consumed: 758, consumedShare: 0.18 },
        link: '/slos/payments-availability',
      },
      {
        slo: 'payments-webhooks',
        service: 'payments',
        target: 0.995,
        attainment: null,
        met: null,
        budget: { unit: 'events', allowed: 0, consumed: 0, consumedShare: null },
        link: '/slos/payments-webhooks',
      },
    ],
    todo: [
      {
        kind: 'policy',
        slo: 'checkout-availability',
        action: 'Freeze feature deploys; only reliability fixes until the budget recovers',
        gate: 'deny',
        link: '/slos/checkout-availability',
      },
      {
        kind: 'policy',
        slo: 'checkout-latency/p99',
        action: 'Review the top latency regressions at the weekly reliability meeting',
        gate: 'warn',
        link: '/slos/checkout-latency',
      },
      {
        kind: 'overdue-action-item',
        id: 'AI-42',
        title: 'Add a circuit breaker around the card tokenizer',
        priority: 'P1',
        dueDate: '2026-11-14',
        link: '/incidents/INC-2026-031#action-items',
      },
      {
        kind: 'overdue-action-item',
        id: 'AI-57',
        title: 'Alert on connection pool saturation',
        priority: 'P2',
        dueDate: '2026-11-28',
        link: '/incidents/INC-2026-034#action-items',
      },
      {
        kind: 'risk-too-big',
        risk: 'Single database primary fails over',
        slo: 'checkout-availability',
        shareOfYearlyBudget: 0.62,
        link: '/risks#single-database-primary',
      },
      {
        kind: 'noisy-alert',
        slo: 'checkout-latency/p99',
        rule: 'slow-burn',
        noiseShare: 0.58,
        link: '/alerts?slo=checkout-latency',
      },
    ],
    trend: [
      ['2026-06', 0.99951, 0.49, 0.9921, 0.79, 0.99978, 0.44],
      ['2026-07', 0.99932, 0.68, 0.99412, 0.588, 0.99989, 0.22],
      ['2026-08', 0.99871, 1.29, 0.98803, 1.197, 0.9999, 0.2],
      ['2026-09', 0.99944, 0.56, 0.99155, 0.845, 0.99961, 0.78],
      ['2026-10', 0.99917, 0.83, 0.99401, 0.599, 0.99995, 0.1],
      ['2026-11', 0.99812, 1.879, 0.99304, 0.6956, 0.99991, 0.18],
    ].map(([month, a1, c1, a2, c2, a3, c3]) => ({
      month: month as string,
      slos: [
        { slo: 'checkout-availability', attainment: a1 as number, consumedShare: c1 as number },
        { slo: 'checkout-latency/p99', attainment: a2 as number, consumedShare: c2 as number },
        { slo: 'payments-availability', attainment: a3 as number, consumedShare: c3 as number },
      ],
    })),
    incidents: [
      {
        reference: 'INC-2026-031',
        title: 'Card payments failing for 38 minutes after tokenizer deploy',
        severity: 'SEV1',
        status: 'closed',
        startedAtMs: Date.parse('2026-11-06T14:12:00+09:00'),
        durationMs: 38 * MINUTE_MS,
        budgetImpact: [
          { slo: 'checkout-availability', unit: 'events', consumed: 15_400, shareOfBudget: 1.199 },
          { slo: 'payments-availability', unit: 'events', consumed: 610, shareOfBudget: 0.145 },
        ],
        postmortem: 'published',
        link: '/incidents/INC-2026-031',
      },
      {
        reference: 'INC-2026-034',
        title: 'Slow checkout during the 11.11 sale',
        severity: 'SEV2',
        status: 'resolved',
        startedAtMs: Date.parse('2026-11-11T20:03:00+09:00'),
        durationMs: 2 * HOUR_MS + 17 * MINUTE_MS,
        budgetImpact: [
          { slo: 'checkout-latency/p99', unit: 'minutes', consumed: 137, shareOfBudget: 0.317 },
          { slo: 'checkout-availability', unit: 'events', consumed: 5_020, shareOfBudget: 0.391 },
        ],
        postmortem: 'in-review',
        link: '/incidents/INC-2026-034',
      },
      {
        reference: 'INC-2026-039',
        title: 'Webhook deliveries to merchants delayed',
        severity: 'SEV3',
        status: 'monitoring',
        startedAtMs: Date.parse('2026-11-29T09:40:00+09:00'),
        durationMs: null,
        budgetImpact: [],
        postmortem: 'none',
        link: '/incidents/INC-2026-039',
      },
    ],
    actionItems: {
      opened: { P0: 1, P1: 4, P2: 6, P3: 2 },
      closed: { P0: 1, P1: 2, P2: 3 },
      overdue: { P1: 1, P2: 1 },
    },
    risks: [
      {
        name: 'Single database primary fails over',
        service: 'checkout-api',
        slo: 'checkout-availability',
        badMinutesPerYear: 326,
        yearlyBudgetMinutes: 525.6,
        shareOfYearlyBudget: 0.62,
        tooBig: true,
        link: '/risks#single-database-primary',
      },
      {
        name: 'Card network regional outage',
        service: 'payments',
        slo: 'payments-availability',
        badMinutesPerYear: 90,
        yearlyBudgetMinutes: 262.8,
        shareOfYearlyBudget: 0.342,
        tooBig: false,
        link: '/risks#card-network-outage',
      },
      {
        name: 'Bad config push',
        service: 'checkout-api',
        badMinutesPerYear: 48.5,
        yearlyBudgetMinutes: 525.6,
        shareOfYearlyBudget: 0.092,
        tooBig: false,
        link: '/risks#bad-config-push',
      },
    ],
    alerts: {
      weeks: [
        { start: '2026-10-26', pages: 1, tickets: 3 },
        { start: '2026-11-02', pages: 4, tickets: 6 },
        { start: '2026-11-09', pages: 7, tickets: 9 },
        { start: '2026-11-16', pages: 2, tickets: 5 },
        { start: '2026-11-23', pages: 1, tickets: 4 },
        { start: '2026-11-30', pages: 0, tickets: 1 },
      ],
      noiseShare: 0.27,
      medianDetectionMs: 6 * MINUTE_MS + 30_000,
    },
    delivery: {
      deployments: 84,
      leadTimeMedianMs: 19 * HOUR_MS,
      changeFailRate: 0.083,
      recoveryMedianMs: 47 * MINUTE_MS,
      reworkRate: 0.06,
      benchmarkYear: 2024,
      levels: {
        deploymentFrequency: 'elite',
        leadTime: 'high',
        changeFailRate: 'high',
        recoveryTime: 'elite',
        reworkRate: null,
      },
    },
  };
}

/** A script payload, and a few more ways to break out of HTML, Markdown and attributes. */
export const XSS_PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  "'><svg onload=alert(3)>",
  '[click](javascript:alert(4))',
  '</title><script>alert(5)</script>',
] as const;

/** The fixture with a payload in every text that comes from data (names, titles, actions, links). */
export function hostileReport(language: ReportLanguage = 'en'): MonthlyReport {
  const base = reportFixture(language);
  const pick = (i: number) => XSS_PAYLOADS[i % XSS_PAYLOADS.length]!;
  let n = 0;
  const bad = (prefix = '') => `${prefix}${pick(n++)}`;
  return {
    ...base,
    product: { name: bad('checkout'), services: [bad('api'), bad('payments')] },
    verdict: base.verdict.map((v) => ({
      ...v,
      slo: bad(v.slo),
      displayName: bad(v.displayName ?? ''),
      service: bad(),
      policyStep: v.policyStep ? { ...v.policyStep, action: bad() } : undefined,
      link: 'javascript:alert(6)',
    })),
    todo: base.todo.map((item): TodoItem => {
      switch (item.kind) {
        case 'policy':
          return { ...item, slo: bad(), action: bad(), link: '"><script>alert(7)</script>' };
        case 'overdue-action-item':
          return { ...item, title: bad(), priority: bad(), dueDate: bad(), link: '//evil.example/x' };
        case 'risk-too-big':
          return { ...item, risk: bad(), slo: bad(), link: 'javascript:alert(8)' };
        case 'noisy-alert':
          return { ...item, slo: bad(), rule: bad(), link: `/alerts?q=${pick(0)}` };
        default:
          return item;
      }
    }),
    trend: base.trend.map((m) => ({ ...m, slos: m.slos.map((s) => ({ ...s, slo: bad(s.slo) })) })),
    incidents: base.incidents.map((i) => ({
      ...i,
      reference: bad(),
      title: bad(i.title),
      severity: bad(),
      status: bad(),
      postmortem: bad(),
      budgetImpact: i.budgetImpact.map((b) => ({ ...b, slo: bad() })),
    })),
    actionItems: { opened: { [bad()]: 1 }, closed: {}, overdue: { [bad()]: 2 } },
    risks: base.risks.map((r) => ({ ...r, name: bad(), service: bad(), slo: bad() })),
    alerts: { ...base.alerts, weeks: base.alerts.weeks.map((w) => ({ ...w, start: bad() })) },
    delivery: base.delivery && { ...base.delivery, levels: { [bad()]: bad() } },
  };
}
