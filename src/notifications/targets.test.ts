// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the syntax under test
import { describe, expect, it } from 'vitest';
import { alertRulesFor, loadSpecText } from '../slo/index.js';
import { catalogTargets, deliveryTarget, targetsForRule } from './targets.js';

const meta = { labels: {}, location: { file: 'f', line: 1, column: 1 }, format: 'openslo/v1' as const };

describe('deliveryTarget', () => {
  it('reads a webhook from annotations', () => {
    expect(
      deliveryTarget({
        ...meta,
        name: 'oncall',
        target: 'Webhook',
        annotations: { 'shinrai.dev/url': 'https://hooks.example.com/x', 'shinrai.dev/secret': '${S}' },
      }),
    ).toEqual({
      ok: true,
      target: { name: 'oncall', kind: 'webhook', url: 'https://hooks.example.com/x', secret: '${S}' },
    });
  });

  it('says why a target is not delivered', () => {
    expect(deliveryTarget({ ...meta, name: 'm', target: 'email', annotations: {} })).toMatchObject({
      ok: false,
      error: expect.stringContaining('"email" is not delivered by Shinrai'),
    });
    expect(deliveryTarget({ ...meta, name: 'w', target: 'webhook', annotations: {} })).toMatchObject({
      ok: false,
      error: expect.stringContaining('shinrai.dev/url'),
    });
  });
});

describe('teams targets', () => {
  const teams = (annotations: Record<string, string>, target = 'teams') =>
    deliveryTarget({ ...meta, name: 'chat', target, annotations });

  it('reads a Teams webhook and the language of its cards', () => {
    expect(teams({ 'shinrai.dev/url': '${TEAMS_URL}' })).toEqual({
      ok: true,
      target: { name: 'chat', kind: 'teams', url: '${TEAMS_URL}', secret: undefined },
    });
    expect(teams({ 'shinrai.dev/url': '${TEAMS_URL}', 'shinrai.dev/language': 'ja' })).toMatchObject({
      ok: true,
      target: { kind: 'teams', language: 'ja' },
    });
  });

  it('refuses a language it cannot write, or on a kind that is sent in English', () => {
    expect(teams({ 'shinrai.dev/url': 'https://x.example.com', 'shinrai.dev/language': 'fr' })).toEqual({
      ok: false,
      error: 'shinrai.dev/language must be one of en, ja',
    });
    expect(
      teams({ 'shinrai.dev/url': 'https://x.example.com', 'shinrai.dev/language': 'ja' }, 'slack'),
    ).toMatchObject({ ok: false, error: expect.stringContaining('only for target: teams') });
  });
});

describe('targetsForRule', () => {
  it('routes default rules to alerting.notify and OpenSLO rules to their policy targets', () => {
    const { catalog } = loadSpecText(
      'slo.yaml',
      `apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: { name: pager, annotations: { shinrai.dev/url: 'https://pager.example.com' } }
spec: { target: webhook }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: api }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 30d, isRolling: true }]
  indicator:
    metadata: { name: api-requests }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.999 }]
  alertPolicies:
    - kind: AlertPolicy
      metadata: { name: fast }
      spec:
        conditions:
          - kind: AlertCondition
            metadata: { name: hour }
            spec: { severity: page, condition: { kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 0m } }
        notificationTargets: [{ targetRef: pager }]
`,
    );
    const slo = catalog.slos[0]!;
    const rules = alertRulesFor(slo);
    expect(rules.ok && targetsForRule(slo, rules.rules[0]!, ['oncall'])).toEqual(['pager']);
    const defaults = alertRulesFor({ ...slo, alertPolicies: [] });
    expect(defaults.ok && targetsForRule(slo, defaults.rules[0]!, ['oncall'])).toEqual(['oncall']);
    expect([...catalogTargets(catalog).targets.keys()]).toEqual(['pager']);
  });
});

describe('uploaded targets', () => {
  it('are never delivered to, even if the loader let one through', () => {
    const def = {
      ...meta,
      location: { file: 'api:t.yaml', line: 1, column: 1 },
      name: 'evil',
      target: 'webhook',
      annotations: { 'shinrai.dev/url': 'https://hooks.example.com/${SECRET}' },
    };
    expect(deliveryTarget(def)).toMatchObject({
      ok: false,
      error: expect.stringContaining('uploaded through the API'),
    });
  });
});
