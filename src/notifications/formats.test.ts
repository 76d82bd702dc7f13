import { describe, expect, it } from 'vitest';
import { alertmanagerAlerts, formatRequest, slackMessage, summary } from './formats.js';
import type { WebhookPayload } from './outbox.js';

const firing: WebhookPayload = {
  version: 1,
  id: 'shr-abc-firing-1-oncall',
  status: 'firing',
  at: '2026-11-23T10:01:00.000Z',
  alert: {
    id: 'abc',
    slo: 'checkout-availability',
    service: 'checkout',
    rule: 'page',
    tier: 'page',
    severity: 'critical',
    labels: {
      slo: 'checkout-availability',
      service: 'checkout',
      severity: 'critical',
      tier: 'page',
      alertname: 'page',
    },
    annotations: {},
    burnRates: { '1h': 16.7, '5m': 200, '6h': 2.8, '30m': 33.3 },
    firedAt: '2026-11-23T10:01:00.000Z',
    resolvedAt: null,
  },
  context: {
    budgetRemaining: 0.62,
    exhaustionAt: '2026-11-23T14:00:00.000Z',
    runbookUrl: 'https://runbooks.example.com/checkout',
  },
};

describe('formats', () => {
  it('summarises what burns and how fast', () => {
    expect(summary(firing)).toBe(
      'checkout-availability (checkout) is burning its error budget 200.0× over 5m',
    );
    expect(summary({ ...firing, status: 'resolved' })).toContain(
      'no longer burns its error budget fast enough to page',
    );
  });

  it('builds a Slack message with the burn rates, budget left, exhaustion and runbook', () => {
    const message = slackMessage(firing) as { text: string; blocks: Array<Record<string, unknown>> };
    expect(message.text).toContain('FIRING · page · checkout-availability');
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('62.0%');
    expect(text).toContain('2026-11-23T14:00:00.000Z');
    expect(text).toContain('<https://runbooks.example.com/checkout|Runbook>');
    expect(message.blocks[0]).toMatchObject({ type: 'header' });
  });

  it('escapes Slack control characters in names', () => {
    const odd = { ...firing, alert: { ...firing.alert, slo: 'a<b>&c' } };
    expect(JSON.stringify(slackMessage(odd))).toContain('a&lt;b&gt;&amp;c');
  });

  it('sends Alertmanager alerts valid for five minutes while firing, ended at resolution', () => {
    const now = Date.parse('2026-11-23T10:02:00Z');
    const [alert] = alertmanagerAlerts([firing], now);
    expect(alert).toMatchObject({
      labels: { slo: 'checkout-availability', severity: 'critical', shinrai_rule: 'page' },
      annotations: { runbook_url: 'https://runbooks.example.com/checkout' },
      startsAt: '2026-11-23T10:01:00.000Z',
      endsAt: '2026-11-23T10:07:00.000Z',
    });
    const resolved = {
      ...firing,
      status: 'resolved' as const,
      alert: { ...firing.alert, resolvedAt: '2026-11-23T10:30:00.000Z' },
    };
    expect(alertmanagerAlerts([resolved], now)[0]!.endsAt).toBe('2026-11-23T10:30:00.000Z');
    expect(formatRequest('alertmanager', 'http://am:9093/', firing, now).url).toBe(
      'http://am:9093/api/v2/alerts',
    );
    expect(JSON.parse(formatRequest('webhook', 'http://hook', firing, now).body)).toEqual(firing);
  });
});
