import { describe, expect, it } from 'vitest';
import { channelName, incidentCard, nextChannelName } from './card.js';

describe('channelName', () => {
  it('keeps ASCII words, folds full-width and accented letters', () => {
    expect(channelName('inc-', 7, 'Checkout latency — EU')).toBe('inc-7-checkout-latency-eu');
    expect(channelName('inc-', 8, 'Ｃｈｅｃｋｏｕｔ café')).toBe('inc-8-checkout-cafe');
    expect(channelName('inc-', 9, '決済 API の障害')).toBe('inc-9-api');
  });
  it('falls back to the number when a title has no ASCII letter or digit', () => {
    expect(channelName('inc-', 12, '決済の障害')).toBe('inc-12');
  });
  it('stays within 80 characters and never ends in a hyphen', () => {
    const name = channelName('inc-', 123, `${'a'.repeat(70)} bbbbbbbbbb`);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name.endsWith('-')).toBe(false);
    expect(nextChannelName(name, 2).length).toBeLessThanOrEqual(80);
    expect(nextChannelName('inc-1-db', 1)).toBe('inc-1-db-2');
  });
});

describe('incidentCard', () => {
  const incident = {
    id: 'i1',
    number: 1,
    reference: 'INC-1',
    title: '<b>Search</b>',
    summary: '',
    severity: 'SEV2',
    status: 'investigating' as const,
    services: [],
    slos: ['search-availability'],
    labels: {},
    drill: false,
    runbooks: ['https://runbooks.example.com/search'],
    milestones: {},
    roles: { commander: 'Alice (U0ALICE)' },
    createdAtMs: 0,
    updatedAtMs: 0,
  };
  it('writes Japanese when asked, mentions role holders and shows budget consumed', () => {
    const card = incidentCard({
      incident,
      impact: [{ slo: 'search-availability', shareOfBudget: 0.125 }],
      severities: ['SEV1', 'SEV2'],
      extraRoles: ['security'],
      language: 'ja',
    });
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('重大度');
    expect(text).toContain('<@U0ALICE>');
    expect(text).toContain('12.5%');
    // The title sits in a plain_text header, which Slack never reads as markup.
    expect(card.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(text).toContain('security');
  });
});
