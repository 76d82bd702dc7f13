/**
 * Teams cards: every card Shinrai sends (firing page, firing ticket, resolved, with and without
 * links and burn rates, English and Japanese) passes Microsoft's `adaptivecards` library and the
 * properties the card schema requires; a broken card does not (the check bites).
 */
import { describe, expect, it } from 'vitest';
import { adaptiveCardProblems, teamsMessageProblems } from '../../test/support/adaptive-cards.js';
import { formatRequest } from './formats.js';
import type { WebhookPayload } from './outbox.js';
import { alertCard, CARD_LANGUAGES, cardSummary, teamsMessage } from './teams.js';

const firing: WebhookPayload = {
  version: 1,
  id: 'shr-abc-firing-1-teams',
  status: 'firing',
  at: '2026-11-23T10:01:00.000Z',
  alert: {
    id: 'abc',
    slo: 'checkout-availability',
    service: 'checkout',
    rule: 'page',
    tier: 'page',
    severity: 'critical',
    labels: { slo: 'checkout-availability', service: 'checkout' },
    annotations: {},
    burnRates: { '1h': 16.7, '5m': 200, '6h': null },
    firedAt: '2026-11-23T10:01:00.000Z',
    resolvedAt: null,
  },
  context: {
    budgetRemaining: 0.62,
    exhaustionAt: '2026-11-23T14:00:00.000Z',
    runbookUrl: 'https://runbooks.example.com/checkout',
    sloUrl: 'https://shinrai.example.com/slos/checkout-availability',
  },
};
const ticket: WebhookPayload = { ...firing, alert: { ...firing.alert, tier: 'ticket', severity: 'warning' } };
const resolved: WebhookPayload = {
  ...firing,
  status: 'resolved',
  alert: { ...firing.alert, resolvedAt: '2026-11-23T10:40:00.000Z' },
};
const bare: WebhookPayload = {
  ...firing,
  alert: { ...firing.alert, burnRates: {} },
  context: { runbookUrl: 'file:///etc/passwd' },
};
const ALL = { firing, ticket, resolved, bare } as const;

describe('Teams cards', () => {
  for (const language of CARD_LANGUAGES)
    for (const [name, payload] of Object.entries(ALL))
      it(`the ${name} card in ${language} is a valid Adaptive Card in the Teams envelope`, () => {
        const message = teamsMessage(payload, language);
        expect(teamsMessageProblems(message)).toEqual([]);
        // What goes on the wire is that message, as JSON.
        const sent = formatRequest('teams', 'https://example.invalid/hook', payload, 0, { language });
        expect(JSON.parse(sent.body)).toEqual(message);
      });

  it('shows what burns, the facts and the links', () => {
    const card = alertCard(firing) as unknown as { body: Array<Record<string, unknown>>; actions: unknown[] };
    const text = JSON.stringify(card);
    expect(card.body[0]).toMatchObject({ type: 'Container', style: 'attention' });
    expect(text).toContain('🚨 FIRING · page · checkout-availability');
    expect(text).toContain('checkout-availability (checkout) is burning its error budget 200.0× over 5m');
    const facts = (card.body[2] as { facts: Array<{ title: string; value: string }> }).facts;
    expect(Object.fromEntries(facts.map((f) => [f.title, f.value]))).toMatchObject({
      Service: 'checkout',
      Severity: 'critical',
      'Burn rates': '1h: 16.7× · 5m: 200.0× · 6h: —',
      'Budget left': '62.0%',
      'Exhausted at this rate': '2026-11-23T14:00:00.000Z',
    });
    expect(card.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Runbook', url: 'https://runbooks.example.com/checkout' },
      {
        type: 'Action.OpenUrl',
        title: 'SLO in Shinrai',
        url: 'https://shinrai.example.com/slos/checkout-availability',
      },
    ]);
    expect(alertCard(ticket).body).toEqual(
      expect.arrayContaining([expect.objectContaining({ style: 'warning' })]),
    );
    expect(alertCard(resolved).body).toEqual(
      expect.arrayContaining([expect.objectContaining({ style: 'good' })]),
    );
    // Only http(s) links become buttons.
    expect(alertCard(bare).actions).toBeUndefined();
  });

  it('writes Japanese cards in Japanese', () => {
    const text = JSON.stringify(alertCard(firing, 'ja'));
    expect(text).toContain('発火中');
    expect(text).toContain('エラーバジェット残り');
    expect(cardSummary(firing, 'ja')).toBe(
      'checkout-availability (checkout) がエラーバジェットを 5m で 200.0× の速さで消費しています',
    );
    expect(cardSummary(resolved, 'ja')).toContain('基準を下回りました');
    expect(JSON.stringify(alertCard(resolved, 'ja'))).not.toMatch(/RESOLVED|Budget left|Runbook/);
  });

  it('the check refuses broken cards', () => {
    const good = alertCard(firing) as unknown as Record<string, unknown> & {
      body: Array<Record<string, unknown>>;
    };
    expect(adaptiveCardProblems(good)).toEqual([]);
    const broken = (change: (card: typeof good) => void) => {
      const card = structuredClone(good);
      change(card);
      return adaptiveCardProblems(card);
    };
    expect(broken((c) => (c.type = 'MessageCard'))).toEqual(
      expect.arrayContaining([expect.stringContaining('card type')]),
    );
    expect(broken((c) => c.body.push({ type: 'Sparkline', points: [] }))).toEqual(
      expect.arrayContaining([expect.stringContaining('Unknown element type "Sparkline"')]),
    );
    expect(broken((c) => (c.body[1]!.weight = 'Heavy'))).toEqual(
      expect.arrayContaining([expect.stringContaining('Invalid value "Heavy"')]),
    );
    expect(broken((c) => (c.body[1]!.txt = c.body[1]!.text))).toEqual(
      expect.arrayContaining([expect.stringContaining('dropped or changed: $.body.1.txt')]),
    );
    expect(broken((c) => delete c.body[1]!.text)).toEqual([
      expect.stringContaining('$.body[1] (TextBlock) needs text'),
    ]);
    expect(
      broken((c) => ((c.body[2] as { facts: Array<Record<string, unknown>> }).facts[0]!.value = 3)),
    ).toEqual(expect.arrayContaining([expect.stringContaining('facts[0] needs value')]));
    expect(broken((c) => (c.actions = [{ type: 'Action.OpenUrl', title: 'x' }]))).toEqual(
      expect.arrayContaining([expect.stringContaining('Property "url" must be set')]),
    );
    expect(broken((c) => (c.version = '9.9'))).toEqual(
      expect.arrayContaining([expect.stringContaining('not supported')]),
    );
    expect(
      teamsMessageProblems({ type: 'message', attachments: [{ contentType: 'text/plain', content: good }] }),
    ).toEqual([expect.stringContaining('contentType')]);
    expect(teamsMessageProblems(good)).toEqual([expect.stringContaining('type must be "message"')]);
  });
});
