import { describe, expect, it } from 'vitest';
import { loadSpecText } from './load.js';

const SERVICES = `apiVersion: openslo/v1
kind: Service
metadata: { name: checkout }
spec: {}
---
apiVersion: openslo/v1
kind: Service
metadata: { name: search }
spec: {}
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: search-availability }
spec:
  service: search
  indicator:
    metadata: { name: search-requests }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
---
apiVersion: shinrai.dev/v1
kind: RiskFactor
metadata: { name: no-runbook }
spec: { description: No runbook for this failure, addEttr: 30m }
`;

const risk = (spec: string) => `${SERVICES}---
apiVersion: shinrai.dev/v1
kind: Risk
metadata: { name: db-failover-manual }
spec:
${spec}`;

describe('Risk and RiskFactor specs', () => {
  it('reads durations, shares and links into the catalog', () => {
    const result = loadSpecText(
      'risks.yaml',
      risk(`  service: checkout
  description: The database primary fails and failover is manual
  ettd: 5m
  ettr: 30m
  impact: 100%
  ettf: 30d
  factors: [no-runbook]
  status: accepted
`),
    );
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.catalog.risks).toEqual([
      expect.objectContaining({
        name: 'db-failover-manual',
        service: 'checkout',
        ettdMinutes: 5,
        ettrMinutes: 30,
        impact: 1,
        ettfDays: 30,
        slos: [],
        factors: ['no-runbook'],
        status: 'accepted',
      }),
    ]);
    expect(result.catalog.riskFactors).toEqual([
      expect.objectContaining({
        name: 'no-runbook',
        addEttdMinutes: 0,
        addEttrMinutes: 30,
        ettfMultiplier: 1,
      }),
    ]);
  });

  it.each([
    [
      '  service: checkout\n  ettd: 5\n  ettr: 30m\n  impact: 1\n  ettf: 30d\n',
      'spec.ettd',
      /must be a string/,
    ],
    ['  service: checkout\n  ettd: 5m\n  ettr: 1M\n  impact: 1\n  ettf: 30d\n', 'spec.ettr', /fixed unit/],
    ['  service: checkout\n  ettd: 5m\n  ettr: 30m\n  impact: 0%\n  ettf: 30d\n', 'spec.impact', /above 0%/],
    [
      '  service: checkout\n  ettd: 5m\n  ettr: 30m\n  impact: 150%\n  ettf: 30d\n',
      'spec.impact',
      /at most 100%/,
    ],
    [
      '  service: chekout\n  ettd: 5m\n  ettr: 30m\n  impact: 1\n  ettf: 30d\n',
      null,
      /service "chekout" names no Service.*|did you mean "checkout"/,
    ],
    [
      '  service: checkout\n  ettd: 5m\n  ettr: 30m\n  impact: 1\n  ettf: 30d\n  slos: [search-availability]\n',
      null,
      /belongs to "search"/,
    ],
    [
      '  service: checkout\n  ettd: 5m\n  ettr: 30m\n  impact: 1\n  ettf: 30d\n  factors: [no-runbok]\n',
      null,
      /factors "no-runbok" names no RiskFactor/,
    ],
  ])('reports a bad risk where it is written: %#', (spec, _field, message) => {
    const result = loadSpecText('risks.yaml', risk(spec));
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => `${e.message} ${e.hint ?? ''}`).join('\n')).toMatch(message);
    for (const e of errors) expect(e.file).toBe('risks.yaml');
    expect(errors[0]!.line).toBeGreaterThan(30);
    expect(result.catalog.risks).toEqual([]);
  });

  it('points at the misspelt factor or foreign SLO itself, not only at the risk', () => {
    const text = risk(
      '  service: checkout\n  ettd: 5m\n  ettr: 30m\n  impact: 1\n  ettf: 30d\n  slos: [search-availability]\n  factors: [no-runbook, no-runbok]\n',
    );
    const lines = text.split('\n');
    const where = (word: string) => {
      const line = lines.findLastIndex((l) => l.includes(word));
      return { line: line + 1, column: lines[line]!.indexOf(word) + 1 };
    };
    const errors = loadSpecText('risks.yaml', text).diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((e) => ({ line: e.line, column: e.column, rule: e.rule }))).toEqual([
      { ...where('search-availability'), rule: 'shinrai/risk-slo-service' },
      { ...where('no-runbok]'), rule: 'openslo/ref-unresolved' },
    ]);
  });
});
