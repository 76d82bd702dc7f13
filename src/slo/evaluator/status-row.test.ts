import { describe, expect, it } from 'vitest';
import { SPEC_DOCUMENTS } from '../../../test/support/evaluator-specs.js';
import type { BudgetStatus } from '../budget/index.js';
import type { DataState } from '../data-state.js';
import { evaluationTargets } from '../evaluation.js';
import { loadSpecText } from '../spec/load.js';
import { statusRow, storedStatus } from './evaluator.js';

const AT = Date.UTC(2026, 2, 14, 10, 17, 23);

/** Figures with every kind of value: nulls, fractions, an instant, per-window maps. */
function figures(sli: number | null): BudgetStatus {
  return {
    at: AT,
    period: { startMs: AT - 28 * 86_400_000, endMs: AT },
    sli,
    budget: { unit: 'events', total: 870.6000000000008, consumed: 49, remaining: 0.9437169767976109 },
    burnRates: { '5m': 9.803921568627443, '1h': null, '28d': 0.05628302320238911 },
    windowEvents: { '5m': 3_000 },
    currentBurnRate: 0.1,
    exhaustionAt: sli === null ? null : AT + 1e9,
    dataSufficient: sli !== null,
    coverage: 1 / 3,
  };
}

describe('statusRow', () => {
  // The row is built from each target's head serialised once: it must be the very text of the
  // stored status, whatever the target (objectives, display names that need escaping) and figures.
  const text = Object.values(SPEC_DOCUMENTS)
    .join('---\n')
    .replace('displayName: Most', 'displayName: "Most \\"quoted\\" – 日本語"');
  const result = loadSpecText('row.yaml', text);
  const targets = evaluationTargets(result.catalog);

  it('writes the JSON of the stored status, byte for byte', () => {
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(targets.some((t) => t.objective?.displayName?.includes('"'))).toBe(true);
    const data: DataState = {
      source: 'prometheus:default',
      state: 'no-data',
      since: '2026-03-14T10:00:00.000Z',
      retrying: true,
      failures: 2,
      lastError: 'HTTP 503 "unavailable"',
    };
    for (const target of targets)
      for (const dated of [
        { target, status: figures(0.99) },
        { target, status: figures(null) },
        { target, status: figures(0.5), data },
      ]) {
        const row = statusRow(dated, AT);
        expect(row.status).toBe(JSON.stringify(storedStatus(dated, AT)));
        expect(row).toMatchObject({ slo_id: target.id, evaluated_at: AT });
        // Twice: the second row comes from the cached head.
        expect(statusRow(dated, AT).status).toBe(row.status);
      }
  });
});
