/**
 * Notification targets configured on the server (notificationTargets.<name>): a targetRef in any
 * spec (uploaded or on disk) may name one; an unknown name is still an unresolved ref; a spec
 * defining a configured name is an error and the configured target is the one used.
 */
import { describe, expect, it } from 'vitest';
import { configuredTargetSchema } from '../platform/notification-targets.js';
import { alertRulesFor, loadSpecText, SpecLoader } from '../slo/index.js';
import { catalogTargets, configuredTargets, targetsForRule, unsetReferences } from './targets.js';

const CONFIGURED = [{ name: 'oncall', kind: 'webhook' as const }];

const slo = (targetRef: string) => `apiVersion: openslo/v1
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
        notificationTargets: [{ targetRef: ${targetRef} }]
`;

const diskTarget = (name: string) => `apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: { name: ${name}, annotations: { shinrai.dev/url: 'https://disk.example.com/hook' } }
spec: { target: webhook }
`;

const errors = (result: ReturnType<typeof loadSpecText>) =>
  result.diagnostics.filter((d) => d.severity === 'error');

describe('a targetRef naming a configured notification target', () => {
  it('resolves in an uploaded spec: the rule notifies it, delivered from the configuration', () => {
    const result = loadSpecText('api:team.yaml', slo('oncall'), { configuredTargets: CONFIGURED });
    expect(errors(result)).toEqual([]);
    const [loaded] = result.catalog.slos;
    expect(loaded!.alertPolicies[0]!.notificationTargets).toEqual([
      expect.objectContaining({
        name: 'oncall',
        target: 'webhook',
        configured: true,
        annotations: {},
        location: expect.objectContaining({ file: 'api:team.yaml', line: 23 }),
      }),
    ]);
    const rules = alertRulesFor(loaded!);
    expect(rules.ok && targetsForRule(loaded!, rules.rules[0]!, [])).toEqual(['oncall']);
    // Not the catalog's target: nothing to deliver from the spec, and no problem reported for it.
    expect(catalogTargets(result.catalog)).toEqual({ targets: new Map(), problems: [] });
  });

  it('resolves in a spec on the server disk too', () => {
    const result = loadSpecText('team.yaml', slo('oncall'), { configuredTargets: CONFIGURED });
    expect(errors(result)).toEqual([]);
    expect(result.catalog.slos[0]!.alertPolicies[0]!.notificationTargets[0]!.configured).toBe(true);
  });

  it('is an unresolved ref when the server configures no such target', () => {
    const result = loadSpecText('api:team.yaml', slo('nobody'), { configuredTargets: CONFIGURED });
    expect(errors(result)).toEqual([
      expect.objectContaining({
        rule: 'openslo/ref-unresolved',
        line: 23,
        message: 'targetRef "nobody" names no AlertNotificationTarget',
        hint: "define it in the spec directory on the server (specs.path) or as notificationTargets.nobody in the server's config file; defined: oncall",
      }),
    ]);
    expect(result.catalog.slos[0]!.alertPolicies[0]!.notificationTargets).toEqual([]);
    // Without the configuration the same name is unknown.
    expect(errors(loadSpecText('api:team.yaml', slo('oncall'))).map((d) => d.rule)).toEqual([
      'openslo/ref-unresolved',
    ]);
  });

  it('suggests a configured name close to a mistyped one', () => {
    const result = loadSpecText('api:team.yaml', slo('oncal'), { configuredTargets: CONFIGURED });
    expect(errors(result)[0]?.hint).toBe('did you mean "oncall"?');
  });

  it('wins over a spec target of the same name, which is an error', () => {
    const result = loadSpecText('team.yaml', `${diskTarget('oncall')}---\n${slo('oncall')}`, {
      configuredTargets: CONFIGURED,
    });
    expect(errors(result)).toEqual([
      expect.objectContaining({
        rule: 'spec/target-configured',
        file: 'team.yaml',
        line: 3,
        message:
          'AlertNotificationTarget "oncall" is also configured on the server (notificationTargets.oncall in the config file)',
      }),
    ]);
    expect(result.catalog.notificationTargets).toEqual([]);
    expect(result.catalog.slos[0]!.alertPolicies[0]!.notificationTargets[0]!.configured).toBe(true);
    expect(catalogTargets(result.catalog).targets.size).toBe(0);
  });

  it('an inline target of a policy with a configured name is an error and not used', () => {
    const inline = slo('x').replace(
      '[{ targetRef: x }]',
      "[{ kind: AlertNotificationTarget, metadata: { name: oncall, annotations: { shinrai.dev/url: 'https://other.example.com' } }, spec: { target: webhook } }]",
    );
    const result = loadSpecText('team.yaml', inline, { configuredTargets: CONFIGURED });
    expect(errors(result).map((d) => d.rule)).toEqual(['spec/target-configured']);
    expect(result.catalog.slos[0]!.alertPolicies[0]!.notificationTargets).toEqual([]);
  });

  it('reaches the loader worker as names and kinds', async () => {
    const loader = new SpecLoader();
    try {
      const texts = [{ file: 'api:team.yaml', text: slo('oncall') }];
      const named = await loader.load(undefined, texts, CONFIGURED);
      expect(named.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const unnamed = await loader.load(undefined, texts);
      expect(unnamed.diagnostics.map((d) => d.rule)).toContain('openslo/ref-unresolved');
    } finally {
      await loader.close();
    }
  });
});

describe('configuredTargets', () => {
  it('builds delivery targets marked as configured, secrets kept as written', () => {
    const secret = '$' + '{S}';
    expect([
      ...configuredTargets({ oncall: { target: 'webhook', url: 'https://h.example.com', secret } }).values(),
    ]).toEqual([{ name: 'oncall', kind: 'webhook', url: 'https://h.example.com', secret, configured: true }]);
  });
});

describe('a configured teams target', () => {
  it('takes a language for its cards, and only a teams target does', () => {
    const url = 'https://x.example.com/workflows/1';
    const parsed = configuredTargetSchema.parse({ target: 'teams', url, language: 'ja' });
    expect([...configuredTargets({ chat: parsed }).values()]).toEqual([
      { name: 'chat', kind: 'teams', url, secret: undefined, configured: true, language: 'ja' },
    ]);
    const slack = configuredTargetSchema.safeParse({ target: 'slack', url, language: 'ja' });
    expect(slack.success).toBe(false);
    expect(slack.error?.issues).toEqual([
      expect.objectContaining({
        path: ['language'],
        message: expect.stringContaining('only for target: teams'),
      }),
    ]);
    expect(configuredTargetSchema.safeParse({ target: 'teams', url, language: 'fr' }).success).toBe(false);
  });
});

describe('unsetReferences', () => {
  it('names each configured url or secret whose variable is not set', () => {
    const ref = (name: string) => `\${${name}}`;
    const config = {
      a: { target: 'webhook' as const, url: `${ref('HOOK_URL')}/x`, secret: ref('HOOK_SECRET') },
      b: { target: 'slack' as const, url: 'https://hooks.example.com' },
    };
    expect(unsetReferences(config, { HOOK_URL: 'https://h.example.com' })).toEqual([
      `notificationTargets.a.secret uses ${ref('HOOK_SECRET')}, which is not set: deliveries to a fail until it is`,
    ]);
    expect(unsetReferences(config, { HOOK_URL: 'u', HOOK_SECRET: 's' })).toEqual([]);
  });
});
