/** Unit tests of the Markdown renderer: every section in both languages, and data that stays text. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeMarkdown, percent, reportMarkdown, safeLink } from './markdown.js';
import type { MonthlyReport } from './model.js';

const XSS = '<script>alert(1)</script>[x](javascript:alert(2))';

const REPORT: MonthlyReport = {
  product: { name: 'checkout', services: ['checkout'] },
  month: '2026-11',
  timeZone: 'America/New_York',
  period: { fromMs: Date.UTC(2026, 10, 1, 4), toMs: Date.UTC(2026, 11, 1, 5) },
  language: 'en',
  generatedAtMs: Date.UTC(2026, 11, 7),
  verdict: [
    {
      slo: 'checkout-availability',
      displayName: `${XSS} Checkout`,
      service: 'checkout',
      target: 0.999,
      attainment: 0.9993,
      met: true,
      budget: { unit: 'events', allowed: 4326, consumed: 3000, consumedShare: 3000 / 4326 },
      policyStep: { below: 0.5, action: 'Review the burn', gate: 'allow' },
      link: '/slos/checkout-availability',
    },
  ],
  todo: [
    {
      kind: 'policy',
      slo: 'checkout-availability',
      action: 'Review the burn',
      gate: 'allow',
      link: '/slos/checkout-availability',
    },
    {
      kind: 'overdue-action-item',
      id: 'a1',
      title: XSS,
      priority: 'P0',
      dueDate: '2026-11-20',
      link: '/postmortems/pm(1)',
    },
    {
      kind: 'risk-too-big',
      risk: 'Region loss',
      slo: 'checkout-availability',
      shareOfYearlyBudget: 0.4,
      link: '/risks#Region%20loss',
    },
    {
      kind: 'noisy-alert',
      slo: 'checkout-availability',
      rule: 'fast-burn',
      noiseShare: 0.75,
      link: '/alerts',
    },
  ],
  trend: [
    { month: '2026-11', slos: [{ slo: 'checkout-availability', attainment: 0.9993, consumedShare: 0.69 }] },
  ],
  incidents: [
    {
      reference: 'INC-1',
      title: XSS,
      severity: 'SEV2',
      status: 'resolved',
      startedAtMs: Date.UTC(2026, 10, 10, 14),
      durationMs: 3_600_000,
      budgetImpact: [{ slo: 'checkout-availability', unit: 'events', consumed: 3000, shareOfBudget: 0.5 }],
      postmortem: 'draft',
      link: '/incidents/INC-1',
    },
  ],
  actionItems: { opened: { P0: 1, P2: 2 }, closed: { P2: 1 }, overdue: { P0: 1 } },
  risks: [
    {
      name: 'Region loss',
      service: 'checkout',
      slo: 'checkout-availability',
      badMinutesPerYear: 210.375,
      yearlyBudgetMinutes: 525.96,
      shareOfYearlyBudget: 0.4,
      tooBig: true,
      link: '/risks#Region%20loss',
    },
  ],
  alerts: {
    weeks: [{ start: '2026-10-26', pages: 1, tickets: 2 }],
    noiseShare: 0.75,
    medianDetectionMs: 240_000,
  },
  delivery: {
    deployments: 12,
    leadTimeMedianMs: 7_200_000,
    changeFailRate: 0.25,
    recoveryMedianMs: 1_800_000,
    reworkRate: null,
    benchmarkYear: 2024,
    levels: {
      deploymentFrequency: 'high',
      leadTime: 'elite',
      changeFailRate: 'low',
      recoveryTime: null,
      reworkRate: null,
    },
  },
};

describe('reportMarkdown', () => {
  it('renders every section with exact figures and links', () => {
    const md = reportMarkdown(REPORT);
    for (const heading of [
      'Verdict',
      'What to do this month',
      'Trend (last 6 months)',
      'Incidents',
      'Action items',
      'Risks',
      'Alerts',
      'Delivery',
    ])
      expect(md).toContain(`## ${heading}`);
    expect(md).toContain('| 99.9% | 99.93% | met |');
    expect(md).toContain('69.3481% (3,000 / 4,326 events)');
    expect(md).toContain('[INC\\-1](/incidents/INC-1)');
    expect(md).toContain('(/postmortems/pm%281%29)');
    expect(md).toContain('| P0 | 1 | 0 | 1 |');
    expect(md).toContain('| P2 | 2 | 1 | 0 |');
    expect(md).toContain('| Deployments | 12 | High |');
    expect(md).toContain('Median time to detect a significant burn: 4 min');
  });

  it('renders Japanese', () => {
    const md = reportMarkdown({ ...REPORT, language: 'ja' });
    expect(md).toContain('# 信頼性レポート: checkout(2026-11)');
    expect(md).toContain('## 今月やること');
    expect(md).toContain('| デプロイ数 | 12 | 高 |');
  });

  it('keeps names and titles inert: no HTML tag, no link of their own', () => {
    const md = reportMarkdown(REPORT);
    expect(md).not.toMatch(/<script|<img|\]\(javascript:/i);
    expect(md).toContain('&lt;script&gt;');
  });

  it('escapes any text so it opens no tag, link, table cell or line of its own', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const out = escapeMarkdown(text);
        expect(out).not.toMatch(/[<>\n\r]/);
        // Every Markdown-significant character (and `:`/`@`, which start GFM autolinks) is preceded by a backslash.
        expect(out.replace(/\\[\\`*_{}[\]()#+\-.!|~:@]/g, '')).not.toMatch(/[`*_{}[\]()#+!|~:@\\]/);
      }),
    );
  });

  it('keeps links to paths that cannot close the Markdown link', () => {
    expect(safeLink('/risks#a (b)', 'https://shinrai.example/')).toBe(
      'https://shinrai.example/risks#a%20%28b%29',
    );
    expect(percent(null)).toBe('—');
    expect(percent(0.99953)).toBe('99.953%');
  });
});
