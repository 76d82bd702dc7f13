import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { testActionItem as item } from '../incidents/testing.js';
import { analyseRisks } from './analysis.js';
import { backlogCsv, backlogMarkdown, buildBacklog } from './backlog.js';
import { testRisk as risk } from './testing.js';

const analysis = analyseRisks({
  risks: [
    risk({ name: 'db-failover-manual', description: 'Manual database failover' }), // 426.125 min/yr
    risk({ name: 'cert-expiry', ettdMinutes: 60, ettfDays: 365.25, status: 'mitigated' }),
    risk({ name: 'slow-search', service: 'search', ettrMinutes: 10, ettfDays: 60 }),
  ],
  factors: [],
  slos: [{ id: 'checkout-availability', service: 'checkout', target: 0.999 }],
});

describe('buildBacklog', () => {
  const backlog = buildBacklog({
    analysis,
    items: [
      item({
        id: 'a',
        title: 'Automate failover',
        risk: 'db-failover-manual',
        riskEffect: { ettrMinutes: 5 },
      }),
      item({ id: 'b', postmortemId: 'pm-1', title: 'Write the "failover, manual" runbook', priority: 'P0' }),
      item({
        id: 'c',
        title: 'Done already',
        status: 'done',
        risk: 'db-failover-manual',
        riskEffect: { ettrMinutes: 0 },
      }),
      item({
        id: 'd',
        postmortemId: 'pm-1',
        title: 'Alert sooner',
        priority: 'P2',
        risk: 'db-failover-manual',
      }),
      item({ id: 'e', title: 'Orphan', postmortemId: 'pm-x' }),
    ],
    servicesOf: (i) => (i.postmortemId === 'pm-1' ? ['checkout'] : []),
  });

  it('ranks each service’s open work by budget minutes saved a year, estimates first, P0 before P2', () => {
    expect(backlog.map((s) => s.service)).toEqual(['checkout', 'search', 'unassigned']);
    const checkout = backlog[0]!.entries;
    expect(checkout.map((e) => [e.kind, e.title, e.savedMinutesPerYear])).toEqual([
      ['risk', 'Manual database failover', expect.closeTo(426.125, 9)],
      // (5 + 30) → (5 + 5) minutes a failure, 12.175 failures a year.
      ['action-item', 'Automate failover', expect.closeTo(304.375, 9)],
      ['action-item', 'Write the "failover, manual" runbook', null],
      ['action-item', 'Alert sooner', null],
    ]);
    expect(backlog[1]!.entries.map((e) => e.risk)).toEqual(['slow-search']);
    expect(backlog[2]!.entries.map((e) => e.title)).toEqual(['Orphan']);
  });

  it('exports CSV that parses back, quotes and all', () => {
    const rows = parse(backlogCsv(backlog), { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(6);
    expect(rows[2]).toMatchObject({
      service: 'checkout',
      rank: '3',
      kind: 'action-item',
      title: 'Write the "failover, manual" runbook',
      priority: 'P0',
      saved_minutes_per_year: '',
    });
    expect(rows[1]!.saved_minutes_per_year).toBe('304.4');
  });

  it('exports markdown with one table per service', () => {
    const md = backlogMarkdown(backlog);
    expect(md).toContain('## checkout');
    expect(md).toContain('| 2 | action-item | Automate failover | db-failover-manual | P1 | — | — | 304.4 |');
    expect(md).toContain('| not estimated |');
    expect(backlogMarkdown([])).toContain('Nothing open');
  });
});
