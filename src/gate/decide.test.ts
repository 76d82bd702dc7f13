import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyStep } from '../slo/index.js';
import { decideGate, type GateOverride, type GateSlo } from './decide.js';

// The policy from docs/spec-annotations.md, with the defaults the spec loader gives.
const STEPS: PolicyStep[] = [
  { below: 0.5, action: 'Review the burn at the weekly reliability meeting', gate: 'allow' },
  { below: 0.25, action: 'Reliability work comes before feature work', gate: 'warn' },
  { below: 0, action: 'Freeze feature releases; only P0 and security fixes ship', gate: 'deny' },
];
const NOW = Date.UTC(2026, 10, 23, 12);
const slo = (remaining: number | null, over: Partial<GateSlo> = {}): GateSlo => ({
  id: 'checkout-availability',
  steps: STEPS,
  remaining,
  ...over,
});
const override = (over: Partial<GateOverride> = {}): GateOverride => ({
  id: 'o1',
  service: 'checkout',
  reason: 'hotfix for INC-42',
  createdBy: 'alice',
  createdAtMs: NOW - 3_600_000,
  expiresAtMs: NOW + 3_600_000,
  ...over,
});

describe('decideGate at each policy step', () => {
  it.each([
    [0.8, 'allow', undefined],
    [0.5, 'allow', 0.5],
    [0.3, 'allow', 0.5],
    [0.25, 'warn', 0.25],
    [0.1, 'warn', 0.25],
    [0, 'deny', 0],
    [-0.5, 'deny', 0],
  ] as const)('budget %s left → %s (step %s)', (remaining, decision, below) => {
    const answer = decideGate('checkout', [slo(remaining)], [], NOW);
    expect(answer.decision).toBe(decision);
    expect(answer.reasons[0]!.step?.below).toBe(below);
  });

  it('says which SLO, how much budget and which step, in one line for CI', () => {
    expect(decideGate('checkout', [slo(-0.125)], [], NOW).summary).toBe(
      'deny checkout: checkout-availability: -12.5% of the budget left, below 0%: Freeze feature releases; only P0 and security fixes ship',
    );
    expect(decideGate('checkout', [slo(0.9, { steps: [] })], [], NOW).summary).toBe(
      'allow checkout: checkout-availability: 90% of the budget left, no error-budget policy',
    );
  });

  it('names the basis of each answer, and warns on a spent budget that no policy covers', () => {
    const basis = (remaining: number | null, steps = STEPS) => {
      const [reason] = decideGate('checkout', [slo(remaining, { steps })], [], NOW).reasons;
      return [reason!.basis, reason!.decision];
    };
    expect(basis(null)).toEqual(['no-data', 'warn']);
    expect(basis(0.1)).toEqual(['policy-step', 'warn']);
    expect(basis(0.8)).toEqual(['no-step', 'allow']);
    expect(basis(0.8, [])).toEqual(['no-policy', 'allow']);
    expect(basis(0, [])).toEqual(['no-policy-exhausted', 'warn']);
    expect(basis(-0.4, [])).toEqual(['no-policy-exhausted', 'warn']);
    const stale = decideGate(
      'checkout',
      [slo(0.9, { doubt: { code: 'stale', text: 'status is stale' } })],
      [],
      NOW,
    );
    expect(stale.reasons[0]).toMatchObject({ basis: 'no-step', doubt: 'stale', decision: 'warn' });
  });

  it('answers the most restrictive SLO of the service', () => {
    const answer = decideGate(
      'checkout',
      [slo(0.9, { id: 'a' }), slo(-0.1, { id: 'b' }), slo(0.2, { id: 'c' })],
      [],
      NOW,
    );
    expect(answer.decision).toBe('deny');
    expect(answer.reasons.map((r) => [r.slo, r.decision])).toEqual([
      ['b', 'deny'],
      ['c', 'warn'],
      ['a', 'allow'],
    ]);
  });

  it('never allows silently on a budget it cannot vouch for, but still denies on a known-exhausted one', () => {
    expect(decideGate('checkout', [slo(null)], [], NOW)).toMatchObject({
      decision: 'warn',
      summary: 'warn checkout: checkout-availability: no data, the remaining budget is unknown',
    });
    expect(
      decideGate('checkout', [slo(0.9, { doubt: { code: 'stale', text: 'status is stale' } })], [], NOW)
        .decision,
    ).toBe('warn');
    expect(
      decideGate('checkout', [slo(-0.2, { doubt: { code: 'stale', text: 'status is stale' } })], [], NOW)
        .decision,
    ).toBe('deny');
  });

  it('lets a change through while an override is active, and records what the policy said', () => {
    const answer = decideGate('checkout', [slo(-0.1)], [override()], NOW);
    expect(answer).toMatchObject({ decision: 'allow', policyDecision: 'deny', override: { id: 'o1' } });
    expect(answer.summary).toMatch(
      /^allow checkout: overridden by alice until .* \(hotfix for INC-42\); policy says deny/,
    );
    for (const stale of [
      override({ expiresAtMs: NOW }),
      override({ revokedAtMs: NOW - 1, revokedBy: 'bob' }),
      override({ service: 'search' }),
    ])
      expect(decideGate('checkout', [slo(-0.1)], [stale], NOW).decision).toBe('deny');
    // No override is consumed when the policy allows anyway.
    expect(decideGate('checkout', [slo(0.9)], [override()], NOW).override).toBeUndefined();
  });

  it('allows a service without SLOs', () => {
    expect(decideGate('checkout', [], [], NOW).summary).toBe('allow checkout: no SLOs, nothing to protect');
  });

  it('never gets more permissive as the budget drains', () => {
    const rank = { allow: 0, warn: 1, deny: 2 };
    fc.assert(
      fc.property(
        fc.double({ min: -2, max: 1, noNaN: true }),
        fc.double({ min: -2, max: 1, noNaN: true }),
        (a, b) => {
          const [more, less] = a >= b ? [a, b] : [b, a];
          expect(rank[decideGate('s', [slo(less)], [], NOW).decision]).toBeGreaterThanOrEqual(
            rank[decideGate('s', [slo(more)], [], NOW).decision],
          );
        },
      ),
    );
  });
});
