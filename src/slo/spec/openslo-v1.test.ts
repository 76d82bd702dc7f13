import { describe, expect, it } from 'vitest';
import { sharedFixture } from '../../../test/support/fixtures.js';
import type { Diagnostic } from './diagnostics.js';
import { loadSpecs, loadSpecText } from './load.js';

const errors = (list: readonly Diagnostic[]) => list.filter((d) => d.severity === 'error');
const brief = (d: Diagnostic) => `${d.line}:${d.column} ${d.rule}`;

/** A valid SLO with every Shinrai annotation, to be modified by each test. */
function sloYaml(overrides: { spec?: string; annotations?: string; objectives?: string } = {}): string {
  return `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  annotations:
${
  overrides.annotations ??
  `    shinrai.dev/owner: team-payments
    shinrai.dev/journey: Pay for the cart
    shinrai.dev/runbook: https://runbooks.example.com/checkout`
}
spec:
  service: checkout
${
  overrides.spec ??
  `  indicator:
    metadata:
      name: checkout-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{code!~"5.."}[1m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total[1m]))
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences`
}
  objectives:
${overrides.objectives ?? '    - target: 0.999'}
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: checkout
spec:
  description: Checkout
`;
}

describe('OpenSLO v1 fixtures', () => {
  it('loads the coherent example set with no errors and every kind', async () => {
    const result = await loadSpecs(sharedFixture('openslo/v1'));
    expect(errors(result.diagnostics)).toEqual([]);
    const c = result.catalog;
    expect(c.services.map((s) => s.name).sort()).toEqual(['example-service', 'example-service-dev', 'web']);
    expect(c.slis.map((s) => s.name).sort()).toEqual([
      'annotator-throughput',
      'end-user-response',
      'search-availability',
      'wifi-client-satisfaction',
    ]);
    expect(c.dataSources.map((d) => d.name).sort()).toEqual(['appdynamics', 'datadog', 'prometheus']);
    expect(c.alertPolicies.map((p) => p.name).sort()).toEqual([
      'high-priority',
      'low-priority',
      'medium-priority',
    ]);
    expect(c.alertConditions.map((p) => p.name).sort()).toEqual(['cpu-usage-breach', 'latency-too-high']);
    expect(c.notificationTargets).toHaveLength(2);
    const slo = c.slos[0]!;
    expect(slo.id).toBe('web-availability');
    expect(slo.budgetingMethod).toBe('Timeslices');
    expect(slo.window).toEqual({
      kind: 'calendar',
      duration: { count: 1, unit: 'w' },
      startTime: '2022-01-01 12:00:00',
      timeZone: 'America/New_York',
    });
    expect(slo.objectives[0]).toMatchObject({
      target: 0.995,
      timeSliceTarget: 0.95,
      timeSliceWindow: { count: 1, unit: 'm' },
    });
    expect(slo.labels.team).toEqual(['team-a', 'team-b']);
  });

  it('resolves references in alert policies, inline and by name', async () => {
    const { catalog } = await loadSpecs(sharedFixture('openslo/v1'));
    const high = catalog.alertPolicies.find((p) => p.name === 'high-priority')!;
    expect(high.conditions[0]).toMatchObject({ name: 'memory-usage-breach', threshold: 2, severity: 'page' });
    expect(high.notificationTargets[0]).toMatchObject({
      name: 'pd-on-call-notification',
      target: 'pagerduty',
    });
    const medium = catalog.alertPolicies.find((p) => p.name === 'medium-priority')!;
    expect(medium.conditions[0]).toMatchObject({
      name: 'cpu-usage-breach',
      op: 'lte',
      lookbackWindow: { count: 1, unit: 'h' },
    });
    expect(medium.notificationTargets[0]).toMatchObject({
      name: 'on-call-slack-notification',
      target: 'slack',
    });
  });

  it('reports every problem of the upstream examples in one run, each located', async () => {
    const result = await loadSpecs(sharedFixture('openslo/v1-upstream'));
    const found = errors(result.diagnostics).map((d) => `${d.file.split('/').pop()}:${d.line} ${d.rule}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'alert_policies.yaml:18 openslo/ref-unresolved', // on-call-mail-notification
        'alert_policies.yaml:50 openslo/ref-unresolved', // on-call-pd-notification
        'slis.yaml:18 openslo/ref-unresolved', // my-datadog
        'slis.yaml:24 openslo/ref-unresolved',
        'slis.yaml:99 openslo/ref-unresolved', // my-prometheus
        'slos.yaml:40 openslo/op-on-ratio',
        'slos.yaml:14 openslo/service-unresolved', // web
        'services.yaml:24 spec/duplicate', // example-service twice
      ]),
    );
    const appdynamics = errors(result.diagnostics).filter((d) => d.message.includes('"appdynamics"'));
    expect(appdynamics.length).toBe(2);
    const op = result.diagnostics.find((d) => d.rule === 'openslo/op-on-ratio')!;
    expect(brief(op)).toBe('40:9 openslo/op-on-ratio');
    expect(op.hint).toMatch(/remove `op`/);
  });

  it('accepts the valid spec example and rejects the three that put op on ratio objectives', async () => {
    const ok = await loadSpecs(sharedFixture('openslo/spec-examples/budgeting-method/occurences-slo.yaml'));
    expect(errors(ok.diagnostics)).toEqual([]);
    expect(ok.catalog.slos[0]?.objectives[0]).toMatchObject({ op: 'lt', value: 500, target: 0.99 });
    for (const file of [
      'budgeting-method/ratio-timeslices.yaml',
      'budgeting-method/timeslices-slo.yaml',
      'treat-low-traffic-as-equally-important/timeslices-slo.yaml',
    ]) {
      const bad = await loadSpecs(sharedFixture(`openslo/spec-examples/${file}`));
      const rules = errors(bad.diagnostics).map((d) => d.rule);
      expect(rules, file).toContain('openslo/op-on-ratio');
      expect(bad.catalog.slos, file).toEqual([]);
    }
  });
});

describe('OpenSLO v1 rules', () => {
  it('loads a valid SLO with its Shinrai metadata and no warnings', () => {
    const result = loadSpecText('slo.yaml', sloYaml());
    expect(result.diagnostics).toEqual([]);
    const slo = result.catalog.slos[0]!;
    expect(slo.shinrai).toMatchObject({
      owner: 'team-payments',
      journey: 'Pay for the cart',
      runbookUrl: 'https://runbooks.example.com/checkout',
      noData: 'excluded',
    });
    expect(slo.indicator?.indicator.kind).toBe('ratio');
    expect(slo.window).toEqual({ kind: 'rolling', duration: { count: 28, unit: 'd' } });
  });

  it('rejects target and targetPercent together and out-of-range targets with a hint', () => {
    const both = loadSpecText(
      'slo.yaml',
      sloYaml({ objectives: '    - target: 0.99\n      targetPercent: 99' }),
    );
    expect(errors(both.diagnostics).map(brief)).toEqual(['33:22 openslo/target-one-of']);
    const percentAsFraction = loadSpecText('slo.yaml', sloYaml({ objectives: '    - target: 99.9' }));
    const [d] = errors(percentAsFraction.diagnostics);
    expect(d?.rule).toBe('openslo/target-range');
    expect(d?.hint).toBe('did you mean targetPercent: 99.9?');
    const none = loadSpecText('slo.yaml', sloYaml({ objectives: '    - displayName: Good' }));
    expect(errors(none.diagnostics).map((x) => x.rule)).toEqual(['openslo/target-one-of']);
  });

  it('converts targetPercent to a fraction', () => {
    const result = loadSpecText('slo.yaml', sloYaml({ objectives: '    - targetPercent: 99.95' }));
    expect(result.catalog.slos[0]?.objectives[0]?.target).toBeCloseTo(0.9995, 12);
  });

  it('names the field and suggests the fix for an unknown field', () => {
    const text = sloYaml().replace('budgetingMethod: Occurrences', 'budgetMethod: Occurrences');
    const found = errors(loadSpecText('slo.yaml', text).diagnostics);
    const unknown = found.find((d) => d.rule === 'spec/unknown-field')!;
    expect(brief(unknown)).toBe('30:3 spec/unknown-field');
    expect(unknown.hint).toBe('did you mean "budgetingMethod"?');
    // The missing budgetingMethod is reported in the same run.
    expect(found.map((d) => d.rule)).toContain('spec/required');
  });

  it('requires exactly one time window', () => {
    const two = sloYaml().replace(
      '    - duration: 28d\n      isRolling: true',
      '    - duration: 28d\n      isRolling: true\n    - duration: 7d\n      isRolling: true',
    );
    expect(errors(loadSpecText('slo.yaml', two).diagnostics).map((d) => d.rule)).toEqual([
      'openslo/time-window-count',
    ]);
  });

  it('rejects a bad duration, time zone and start time at their lines', () => {
    const text = sloYaml().replace(
      '    - duration: 28d\n      isRolling: true',
      '    - duration: 1mo\n      calendar:\n        startTime: 2024-01-01T00:00:00Z\n        timeZone: Asia/Tokio',
    );
    const found = errors(loadSpecText('slo.yaml', text).diagnostics).map(brief);
    expect(found).toEqual(['28:17 openslo/duration', '30:20 openslo/start-time', '31:19 openslo/time-zone']);
  });

  it('requires timeSliceTarget and timeSliceWindow for Timeslices', () => {
    const text = sloYaml().replace('budgetingMethod: Occurrences', 'budgetingMethod: Timeslices');
    const found = errors(loadSpecText('slo.yaml', text).diagnostics);
    expect(found.map((d) => d.rule)).toEqual(['openslo/timeslices-fields', 'openslo/timeslices-fields']);
    const good = text.replace(
      '    - target: 0.999',
      '    - target: 0.999\n      timeSliceTarget: 0.95\n      timeSliceWindow: 5',
    );
    const ok = loadSpecText('slo.yaml', good);
    expect(errors(ok.diagnostics)).toEqual([]);
    expect(ok.catalog.slos[0]?.objectives[0]?.timeSliceWindow).toEqual({ count: 5, unit: 'm' });
  });

  it('reads a month-long slice window as an error, since m is minutes and M is months', () => {
    const text = sloYaml()
      .replace('budgetingMethod: Occurrences', 'budgetingMethod: RatioTimeslices')
      .replace('    - target: 0.999', '    - target: 0.999\n      timeSliceWindow: 1M');
    expect(errors(loadSpecText('slo.yaml', text).diagnostics).map((d) => d.rule)).toEqual([
      'openslo/time-slice-window',
    ]);
  });

  it('requires op and value for a threshold SLI', () => {
    const threshold = `  indicator:
    metadata:
      name: search-latency
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: histogram_quantile(0.99, rate(latency_bucket[5m]))
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences`;
    const missing = loadSpecText('slo.yaml', sloYaml({ spec: threshold }));
    expect(errors(missing.diagnostics).map((d) => d.rule)).toEqual(['openslo/threshold-op-value']);
    const ok = loadSpecText(
      'slo.yaml',
      sloYaml({ spec: threshold, objectives: '    - target: 0.99\n      op: lt\n      value: 300' }),
    );
    expect(errors(ok.diagnostics)).toEqual([]);
  });

  it('checks ratio metric combinations', () => {
    const both = sloYaml().replace(
      '        total:',
      '        bad:\n          metricSource:\n            type: Prometheus\n            spec: {query: x}\n        total:',
    );
    expect(errors(loadSpecText('slo.yaml', both).diagnostics).map((d) => d.rule)).toEqual([
      'openslo/good-xor-bad',
    ]);
    const raw = sloYaml().replace(
      '        counter: true',
      '        counter: true\n        raw:\n          metricSource:\n            type: Prometheus\n            spec: {query: x}',
    );
    const rules = errors(loadSpecText('slo.yaml', raw).diagnostics).map((d) => d.rule);
    expect(rules).toEqual(['openslo/raw-type', 'openslo/ratio-raw-exclusive', 'openslo/ratio-raw-exclusive']);
  });

  it('resolves indicatorRef across documents and suggests a near name when it is wrong', () => {
    const sli = `---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: checkout-requests
spec:
  ratioMetric:
    good: {metricSource: {type: Prometheus, spec: {query: a}}}
    total: {metricSource: {type: Prometheus, spec: {query: b}}}
`;
    const spec = `  indicatorRef: checkout-request
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences`;
    const result = loadSpecText('slo.yaml', sloYaml({ spec }) + sli);
    const [d] = errors(result.diagnostics);
    expect(d?.rule).toBe('openslo/ref-unresolved');
    expect(d?.hint).toBe('did you mean "checkout-requests"?');
    expect(brief(d!)).toBe('11:17 openslo/ref-unresolved');
    const fixed = loadSpecText(
      'slo.yaml',
      sloYaml({ spec: spec.replace('checkout-request', 'checkout-requests') }) + sli,
    );
    expect(errors(fixed.diagnostics)).toEqual([]);
    expect(fixed.catalog.slos[0]?.indicator?.name).toBe('checkout-requests');
  });

  it('loads a composite SLO with weights and rejects a mixed one', () => {
    const objectives = `    - displayName: API
      target: 0.999
      compositeWeight: 2
      indicatorRef: api
    - displayName: Web
      target: 0.99
      indicatorRef: web`;
    const slis = ['api', 'web']
      .map(
        (n) => `---
apiVersion: openslo/v1
kind: SLI
metadata: {name: ${n}}
spec:
  ratioMetric:
    good: {metricSource: {type: Prometheus, spec: {query: a}}}
    total: {metricSource: {type: Prometheus, spec: {query: b}}}
`,
      )
      .join('');
    const spec = `  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences`;
    const ok = loadSpecText('slo.yaml', sloYaml({ spec, objectives }) + slis);
    expect(errors(ok.diagnostics)).toEqual([]);
    const slo = ok.catalog.slos[0]!;
    expect(slo.composite).toBe(true);
    expect(slo.objectives.map((o) => [o.key, o.compositeWeight, o.indicator?.name])).toEqual([
      ['api', 2, 'api'],
      ['web', 1, 'web'],
    ]);
    const mixed = loadSpecText('slo.yaml', sloYaml({ objectives }) + slis);
    expect(errors(mixed.diagnostics).map((d) => d.rule)).toEqual(['openslo/composite-indicator']);
  });

  it('allows exactly one condition per alert policy and one of inline or ref', () => {
    const text = `apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: fast-burn}
spec:
  conditions:
    - conditionRef: a
    - conditionRef: b
  notificationTargets:
    - targetRef: slack
      kind: AlertNotificationTarget
`;
    const rules = errors(loadSpecText('policy.yaml', text).diagnostics).map(brief);
    expect(rules).toEqual(['6:5 openslo/alert-policy-conditions', '10:13 openslo/inline-or-ref']);
  });

  it('normalises labels given as strings or lists', () => {
    const text = sloYaml().replace(
      '  annotations:',
      '  labels:\n    team: payments\n    env: [prod, staging]\n  annotations:',
    );
    const slo = loadSpecText('slo.yaml', text).catalog.slos[0]!;
    expect(slo.labels).toEqual({ team: ['payments'], env: ['prod', 'staging'] });
  });

  it('reads lists of objects, multi-document files and JSON alike', () => {
    const json = JSON.stringify([
      { apiVersion: 'openslo/v1', kind: 'Service', metadata: { name: 'a' }, spec: {} },
      { apiVersion: 'openslo/v1', kind: 'Service', metadata: { name: 'b' } },
    ]);
    expect(loadSpecText('svc.json', json).catalog.services.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('reports YAML syntax errors with their position and keeps loading other documents', () => {
    const text = `apiVersion: openslo/v1
kind: Service
metadata: {name: ok}
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: [broken
`;
    const result = loadSpecText('svc.yaml', text);
    expect(result.catalog.services.map((s) => s.name)).toEqual(['ok']);
    expect(errors(result.diagnostics)[0]?.rule).toBe('yaml/syntax');
    expect(errors(result.diagnostics)[0]?.line).toBeGreaterThanOrEqual(8);
  });

  it('reports an unknown apiVersion and an unknown kind', () => {
    const text =
      'apiVersion: openslo/v2\nkind: SLO\n---\napiVersion: openslo/v1\nkind: Slo\nmetadata: {name: x}\nspec: {}\n';
    const found = errors(loadSpecText('x.yaml', text).diagnostics);
    expect(found.map(brief)).toEqual(['1:13 spec/api-version', '5:7 spec/enum']);
    expect(found[1]?.hint).toBe('did you mean "SLO"?');
  });
});

describe('what loads', () => {
  it('skips an object with an error and keeps the valid ones', () => {
    const bad = sloYaml({ objectives: '    - target: 0.999\n      targetPercent: 99.9' });
    const good = sloYaml().replace('checkout-availability', 'checkout-errors').split('---')[0]!;
    const result = loadSpecText('slo.yaml', `${good}---\n${bad}`);
    expect(errors(result.diagnostics).map((d) => d.rule)).toEqual(['openslo/target-one-of']);
    expect(result.catalog.slos.map((s) => s.id)).toEqual(['checkout-errors']);
  });

  it('refuses, at the objective, an SLO the engine cannot evaluate', () => {
    const result = loadSpecText('slo.yaml', sloYaml({ objectives: '    - target: 0' }));
    const [d] = errors(result.diagnostics);
    expect(d?.rule).toBe('shinrai/not-evaluable');
    expect(d?.line).toBe(32);
    expect(result.catalog.slos).toEqual([]);
  });
});

describe('Shinrai annotations', () => {
  it('warns about a missing owner, journey and runbook and a target of 99.999%', () => {
    const result = loadSpecText(
      'slo.yaml',
      sloYaml({ annotations: '    {}', objectives: '    - target: 0.99999' }),
    );
    expect(errors(result.diagnostics)).toEqual([]);
    expect(result.diagnostics.map((d) => d.rule).sort()).toEqual([
      'shinrai/no-journey',
      'shinrai/no-owner',
      'shinrai/no-runbook',
      'shinrai/target-too-high',
    ]);
  });

  it('inherits owner, journey and runbook from the Service', () => {
    const text = sloYaml({ annotations: '    {}' }).replace(
      'metadata:\n  name: checkout\n',
      'metadata:\n  name: checkout\n  annotations:\n    shinrai.dev/owner: team-payments\n    shinrai.dev/journey: Buy\n    shinrai.dev/runbook: https://r.example.com\n',
    );
    const result = loadSpecText('slo.yaml', text);
    expect(result.diagnostics).toEqual([]);
    expect(result.catalog.slos[0]?.shinrai.owner).toBe('team-payments');
  });

  it('reads an error-budget policy, highest threshold first, with default gates', () => {
    const annotations = `    shinrai.dev/owner: team-payments
    shinrai.dev/journey: Pay
    shinrai.dev/runbook: https://r.example.com
    shinrai.dev/error-budget-policy: |
      - below: 0%
        action: Freeze feature releases; only P0 and security fixes
      - below: 25%
        action: Reliability work first`;
    const slo = loadSpecText('slo.yaml', sloYaml({ annotations })).catalog.slos[0]!;
    expect(slo.shinrai.errorBudgetPolicy).toEqual([
      { below: 0.25, action: 'Reliability work first', gate: 'warn' },
      { below: 0, action: 'Freeze feature releases; only P0 and security fixes', gate: 'deny' },
    ]);
  });

  it('reads shinrai.dev/public and public-name on the Service without the SLO inheriting them', () => {
    const text = sloYaml().replace(
      'metadata:\n  name: checkout\n',
      'metadata:\n  name: checkout\n  annotations:\n    shinrai.dev/public: "true"\n    shinrai.dev/public-name: Checkout & Pay\n',
    );
    const result = loadSpecText('slo.yaml', text);
    expect(result.diagnostics).toEqual([]);
    expect(result.catalog.services[0]?.shinrai).toMatchObject({ public: true, publicName: 'Checkout & Pay' });
    expect(result.catalog.slos[0]?.shinrai.public).toBeUndefined();
    const hidden = sloYaml({
      annotations: `    shinrai.dev/owner: team-payments
    shinrai.dev/journey: Pay
    shinrai.dev/runbook: https://r.example.com
    shinrai.dev/public: "false"`,
    });
    expect(loadSpecText('slo.yaml', hidden).catalog.slos[0]?.shinrai.public).toBe(false);
  });

  it('rejects shinrai.dev/public other than "true"/"false" and an empty public name, at the annotation', () => {
    const annotations = `    shinrai.dev/owner: team-payments
    shinrai.dev/journey: Pay
    shinrai.dev/runbook: https://r.example.com
    shinrai.dev/public: yes please
    shinrai.dev/public-name: "  "`;
    const found = errors(loadSpecText('slo.yaml', sloYaml({ annotations })).diagnostics);
    expect(found.map(brief)).toEqual(['9:25 shinrai/public', '10:30 shinrai/public-name']);
    expect(found[0]?.hint).toContain('"true"');
  });

  it('rejects a malformed policy step and a runbook that is not a URL', () => {
    const annotations = `    shinrai.dev/owner: team-payments
    shinrai.dev/journey: Pay
    shinrai.dev/runbook: see wiki
    shinrai.dev/error-budget-policy: |
      - below: lots
        action: Panic`;
    const found = errors(loadSpecText('slo.yaml', sloYaml({ annotations })).diagnostics);
    expect(found.map((d) => d.rule)).toEqual(['shinrai/runbook-url', 'shinrai/error-budget-policy']);
  });
});
