import { describe, expect, it } from 'vitest';
import type { BudgetImpact } from './impact.js';
import { DEFAULT_SEVERITIES } from './model.js';
import { buildReview, type ReviewInput, reviewMarkdown } from './review.js';
import type { Incident } from './service.js';
import { testActionItem as item } from './testing.js';

const MIN = 60_000;
const DAY = 86_400_000;
const FROM = Date.UTC(2026, 9, 1);
const TO = Date.UTC(2026, 10, 1);

let number = 0;
function incident(over: Partial<Incident> & { at: number }): Incident {
  number += 1;
  const { at, ...rest } = over;
  return {
    id: `id-${number}`,
    number,
    reference: `INC-${number}`,
    title: 't',
    summary: '',
    severity: 'SEV2',
    status: 'closed',
    services: ['checkout'],
    slos: ['checkout-availability'],
    labels: {},
    drill: false,
    runbooks: [],
    milestones: { impactStartedAt: at, detectedAt: at + 5 * MIN, resolvedAt: at + 65 * MIN },
    createdAtMs: at + 5 * MIN,
    updatedAtMs: at,
    ...rest,
  };
}

const impact = (slo: string, consumed: number, shareOfBudget: number): BudgetImpact => ({
  slo,
  from: '',
  to: '',
  unit: 'events',
  consumed,
  shareOfBudget,
});

describe('buildReview', () => {
  const a = incident({ at: FROM + DAY, rootCause: 'Deploy' }); // INC-1: 30% → policy
  const b = incident({ at: FROM + 2 * DAY, rootCause: ' deploy ', severity: 'SEV1' }); // INC-2: 25% → policy
  const c = incident({ at: FROM + 3 * DAY, services: ['search'], slos: ['search-latency'] }); // INC-3: small
  const d = incident({ at: FROM + 4 * DAY, rootCause: 'capacity' }); // INC-4: 40% → policy, no postmortem
  const drill = incident({ at: FROM + 5 * DAY, drill: true, rootCause: 'deploy' });
  const cancelled = incident({ at: FROM + 6 * DAY, status: 'cancelled' });
  const before = incident({ at: FROM - 2 * DAY, rootCause: 'deploy' });
  const input: ReviewInput = {
    fromMs: FROM,
    toMs: TO,
    today: '2026-11-23',
    severities: DEFAULT_SEVERITIES,
    incidents: [
      { incident: a, impact: [impact('checkout-availability', 300, 0.3)] },
      { incident: b, impact: [impact('checkout-availability', 250, 0.25)] },
      { incident: c, impact: [impact('search-latency', 10, 0.01)] },
      { incident: d, impact: [impact('checkout-availability', 400, 0.4)] },
      { incident: drill, impact: [impact('checkout-availability', 999, 0.9)] },
      { incident: cancelled, impact: [] },
      { incident: before, impact: [impact('checkout-availability', 999, 0.9)] },
    ],
    postmortems: [
      { id: 'pm-a', status: 'published', incidents: ['INC-1'] },
      { id: 'pm-b', status: 'in-review', incidents: ['INC-2'] },
    ],
    actionItems: [
      item({ id: '1', postmortemId: 'pm-a', priority: 'P0', status: 'done' }),
      item({ id: '2', postmortemId: 'pm-a', title: 'late | one', owner: 'sre', dueDate: '2026-11-01' }),
      item({ id: '3', postmortemId: 'pm-b', dueDate: '2026-10-15', priority: 'P2' }),
      item({ id: '4', postmortemId: 'pm-old', dueDate: '2026-12-01' }),
    ],
    serviceOfSlo: new Map([
      ['checkout-availability', 'checkout'],
      ['search-latency', 'search'],
    ]),
  };
  const review = buildReview(input);

  it('counts the period’s real incidents only: no drills, no cancelled, none outside the period', () => {
    expect(review.incidents).toEqual({ count: 4, bySeverity: { SEV1: 1, SEV2: 3 } });
  });

  it('groups root causes case-insensitively and flags the recurring ones', () => {
    expect(review.rootCauses).toEqual([
      { category: 'deploy', incidents: ['INC-1', 'INC-2'], recurring: true },
      { category: 'capacity', incidents: ['INC-4'], recurring: false },
      { category: 'unknown', incidents: ['INC-3'], recurring: false },
    ]);
  });

  it('sums the budget each service’s SLOs lost to incidents, with the median time to resolve', () => {
    expect(review.services).toEqual([
      {
        service: 'checkout',
        incidents: ['INC-1', 'INC-2', 'INC-4'],
        bySeverity: { SEV1: 1, SEV2: 2 },
        budget: [
          {
            slo: 'checkout-availability',
            unit: 'events',
            consumed: 950,
            shareOfBudget: expect.closeTo(0.95, 12),
          },
        ],
        ttrMedianMinutes: 65,
      },
      {
        service: 'search',
        incidents: ['INC-3'],
        bySeverity: { SEV2: 1 },
        budget: [{ slo: 'search-latency', unit: 'events', consumed: 10, shareOfBudget: 0.01 }],
        ttrMedianMinutes: 65,
      },
    ]);
  });

  it('names the postmortems the budget policy requires and what each still lacks', () => {
    expect(review.postmortems).toEqual({
      required: ['INC-1', 'INC-2', 'INC-4'],
      gaps: [
        { incident: 'INC-2', gap: 'no P0 action item' },
        { incident: 'INC-4', gap: 'no postmortem' },
      ],
      byStatus: { published: 1, 'in-review': 1 },
    });
  });

  it('lists every overdue action item, oldest due first, and the period’s items by status', () => {
    expect(review.actionItems.overdue.map((i) => i.id)).toEqual(['3', '2']);
    expect(review.actionItems.byStatus).toEqual({ done: 1, open: 2 });
  });

  it('renders markdown for the meeting in English and Japanese, tables intact', () => {
    const en = reviewMarkdown(review);
    expect(en).toContain('# Reliability review');
    expect(en).toContain('| deploy | INC-1, INC-2 | **recurring** |');
    expect(en).toContain(
      '| checkout | INC-1, INC-2, INC-4 | SEV1 1, SEV2 2 | checkout-availability 950 events (95.0%) | 65 min |',
    );
    expect(en).toContain('INC-4 (no postmortem)');
    expect(en).toContain('| late \\| one | P1 | sre | 2026-11-01 |');
    const ja = reviewMarkdown(review, 'ja');
    expect(ja).toContain('# 信頼性レビュー');
    expect(ja).toContain('INC-4 (ポストモーテムなし)');
  });

  it('says so when the period was quiet', () => {
    const quiet = buildReview({ ...input, incidents: [], actionItems: [] });
    expect(quiet.incidents.count).toBe(0);
    expect(reviewMarkdown(quiet)).toContain('## Root-cause categories\n\nNone.');
  });
});
