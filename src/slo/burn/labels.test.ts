import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluationTargets } from '../evaluation.js';
import { loadSpecText } from '../spec/load.js';
import {
  BUDGET_TABLE_BURN_WINDOWS,
  burnWindowLabel,
  CURRENT_BURN_WINDOW,
  CURRENT_BURN_WINDOW_MS,
  DEFAULT_BURN_WINDOWS,
} from './index.js';

const DAY_MS = 86_400_000;

describe('burnWindowLabel', () => {
  it('formats milliseconds with the largest whole unit', () => {
    expect(burnWindowLabel(DAY_MS)).toBe('1d');
    expect(burnWindowLabel(90 * 60_000)).toBe('90m');
    expect(burnWindowLabel(30 * DAY_MS)).toBe('30d');
    expect(burnWindowLabel(7 * DAY_MS)).toBe('1w');
    expect(burnWindowLabel(1_500)).toBe('1500ms');
  });
});

describe('burn window labels come from one place', () => {
  it('reports the Workbook windows 5m … 3d for every SLO, the current one among them', () => {
    expect(DEFAULT_BURN_WINDOWS.map((w) => w.label)).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
    expect(CURRENT_BURN_WINDOW).toBe('1h');
    expect(DEFAULT_BURN_WINDOWS).toContainEqual({
      label: CURRENT_BURN_WINDOW,
      windowMs: CURRENT_BURN_WINDOW_MS,
    });
    expect(BUDGET_TABLE_BURN_WINDOWS).toEqual(['1h', '6h', '3d']);
  });

  it('keys an OpenSLO lookback window in the status by the label its alert rule shows', () => {
    const loaded = loadSpecText(
      'api.yaml',
      `
apiVersion: openslo/v1
kind: SLO
metadata: { name: api }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  indicator:
    metadata: { name: api-requests }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.99 }]
  alertPolicies:
    - kind: AlertPolicy
      metadata: { name: weekly }
      spec:
        conditions:
          - kind: AlertCondition
            metadata: { name: slow-burn }
            spec:
              severity: ticket
              condition: { kind: burnrate, op: gt, threshold: 1, lookbackWindow: 7d, alertAfter: 5m }
        notificationTargets: []
`,
    );
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const [target] = evaluationTargets(loaded.catalog);
    const labels = target!.parts[0]!.spec.burnWindows.map((w) => w.label);
    // The SLO page looks burn rates up by burnWindowLabel(condition window): both say `1w`.
    expect(labels).toContain(burnWindowLabel(7 * DAY_MS));
  });

  it('matches the web UI copy of the current burn window (web/src/rag.ts cannot import server code)', () => {
    const rag = readFileSync(new URL('../../../web/src/rag.ts', import.meta.url), 'utf8');
    expect(/export const CURRENT_BURN_WINDOW = '([^']+)';/.exec(rag)?.[1]).toBe(CURRENT_BURN_WINDOW);
  });
});
