import { describe, expect, it } from 'vitest';
import { catchUpSummary } from './catchup.js';
import type { Incident, TimelineEvent } from './service.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0);
const incident: Incident = {
  id: 'i',
  number: 7,
  reference: 'INC-7',
  title: 'Checkout errors',
  summary: '',
  severity: 'SEV2',
  status: 'identified',
  services: ['checkout'],
  slos: ['checkout-availability'],
  labels: {},
  drill: false,
  runbooks: [],
  milestones: { impactStartedAt: T0, detectedAt: T0 + 5 * MIN, acknowledgedAt: T0 + 7 * MIN },
  roles: { commander: 'alice', scribe: 'bob' },
  createdAtMs: T0 + 5 * MIN,
  updatedAtMs: T0 + 7 * MIN,
};
const event = (minute: number, text: string, starred = false): TimelineEvent => ({
  id: String(minute),
  atMs: T0 + minute * MIN,
  kind: 'note',
  source: 'api',
  actor: 'alice',
  text,
  starred,
  public: false,
});

describe('catchUpSummary', () => {
  it('says where the incident stands, who holds what, what it cost and what mattered', () => {
    const text = catchUpSummary(
      incident,
      [
        event(5, 'declared'),
        event(8, 'Rolled back v2.3', true),
        event(9, 'Errors dropping'),
        event(10, 'Watching'),
      ],
      [
        {
          slo: 'checkout-availability',
          from: '',
          to: '',
          unit: 'events',
          consumed: 5000,
          shareOfBudget: 0.174,
        },
      ],
      T0 + 30 * MIN,
    );
    expect(text).toBe(
      [
        'INC-7 SEV2 — Checkout errors',
        'Status: identified, 30 min since impact started (2026-11-23T10:00:00Z).',
        'Services: checkout.',
        'Roles: commander alice, scribe bob.',
        "Error budget of checkout-availability: 5000 events consumed (17.4% of the period's budget).",
        'Milestones: detected 2026-11-23T10:05:00Z, acknowledged 2026-11-23T10:07:00Z.',
        'Key events:',
        '- 2026-11-23T10:08:00Z Rolled back v2.3 (alice)',
        'Latest:',
        '- 2026-11-23T10:05:00Z declared (alice)',
        '- 2026-11-23T10:09:00Z Errors dropping (alice)',
        '- 2026-11-23T10:10:00Z Watching (alice)',
      ].join('\n'),
    );
  });
});
