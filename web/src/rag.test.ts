import { describe, expect, it } from 'vitest';
import { currentBurn, ragOf, worstRag } from './rag';

const base = {
  budget: { unit: 'events' as const, total: 100, consumed: 10, remaining: 0.9 },
  burnRates: { '5m': 0.2, '1h': 0.5 },
  policy: undefined,
  sli: 0.9995,
};

describe('RAG reading', () => {
  it('is red when the budget is exhausted, even with a quiet burn', () => {
    expect(ragOf({ ...base, budget: { ...base.budget, remaining: 0 } })).toBe('red');
    expect(ragOf({ ...base, budget: { ...base.budget, remaining: -0.4 } })).toBe('red');
  });
  it('is amber when a policy step applies', () => {
    expect(ragOf({ ...base, policy: { below: 0.5, action: 'review', gate: 'allow' } })).toBe('amber');
  });
  it('is amber when the current (1h) burn rate is above 1', () => {
    expect(ragOf({ ...base, burnRates: { '5m': 0.1, '1h': 1.2 } })).toBe('amber');
  });
  it('is green when budget remains, no policy step applies and the burn is at most 1', () => {
    expect(ragOf(base)).toBe('green');
    expect(ragOf({ ...base, burnRates: { '1h': 1 } })).toBe('green');
  });
  it('is unknown without a status', () => {
    expect(ragOf(undefined)).toBe('unknown');
  });
  it('uses the shortest window when there is no 1h window', () => {
    expect(currentBurn({ burnRates: { '1d': 3, '30m': 0.5 } })).toBe(0.5);
  });
  it('takes the worst reading of several objectives', () => {
    expect(worstRag(['green', 'amber'])).toBe('amber');
    expect(worstRag(['green', 'red', 'amber'])).toBe('red');
    expect(worstRag([])).toBe('unknown');
  });
});
