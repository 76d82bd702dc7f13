/**
 * The error-budget deploy gate (pure): for a service, each SLO's policy step in force gives
 * allow, warn or deny; the service answers the most restrictive. A budget Shinrai cannot vouch
 * for (never evaluated, data not current, evaluator stale) never answers allow silently: it warns
 * and says why. An active override, recorded with a reason and an expiry, lets a change through.
 */
import type { PolicyStep } from '../slo/index.js';
import { activePolicyStep } from '../slo/index.js';

export const GATE_DECISIONS = ['allow', 'warn', 'deny'] as const;
export type GateDecision = (typeof GATE_DECISIONS)[number];

const RANK: Record<GateDecision, number> = { allow: 0, warn: 1, deny: 2 };

/** What the gate knows about one SLO (an evaluation target) of the service. */
export interface GateSlo {
  readonly id: string;
  readonly steps: readonly PolicyStep[];
  /** Fraction of the period budget left; null when never evaluated or without data. */
  readonly remaining: number | null;
  /** Why the remaining budget may not be current (stale status, pulled data behind). */
  readonly doubt?: GateDoubt | undefined;
}

/** Why a budget figure may not be current: never evaluated, a stale status, data not current. */
export interface GateDoubt {
  readonly code: 'not-evaluated' | 'stale' | 'data' | 'error';
  readonly text: string;
}

/**
 * What an SLO's answer rests on, for a client that words it itself (the UI in Japanese):
 * no data; a policy step in force; a policy with no step in force; no policy with budget left;
 * no policy and the budget gone (warns: nothing says the team may ship on an empty budget).
 */
export const GATE_BASES = ['no-data', 'policy-step', 'no-step', 'no-policy', 'no-policy-exhausted'] as const;
export type GateBasis = (typeof GATE_BASES)[number];

export interface GateOverride {
  readonly id: string;
  readonly service: string;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly revokedAtMs?: number | undefined;
  readonly revokedBy?: string | undefined;
}

export interface GateReason {
  readonly slo: string;
  readonly decision: GateDecision;
  readonly remaining: number | null;
  /** The policy step in force, if any. */
  readonly step?: PolicyStep | undefined;
  readonly basis: GateBasis;
  readonly doubt?: GateDoubt['code'] | undefined;
  readonly message: string;
}

export interface GateAnswer {
  readonly service: string;
  readonly decision: GateDecision;
  /** What the policy alone says, before an override. */
  readonly policyDecision: GateDecision;
  readonly reasons: readonly GateReason[];
  readonly override?: GateOverride | undefined;
  /** One line for a CI log. */
  readonly summary: string;
}

const percent = (fraction: number) => `${Number((fraction * 100).toFixed(2))}%`;

/** An override in force at `nowMs`: not revoked and not expired. */
export function isActive(override: GateOverride, nowMs: number): boolean {
  return override.revokedAtMs === undefined && override.expiresAtMs > nowMs;
}

function reasonFor(slo: GateSlo): GateReason {
  const doubt = slo.doubt ? { doubt: slo.doubt.code } : {};
  if (slo.remaining === null)
    return {
      slo: slo.id,
      decision: 'warn',
      remaining: null,
      basis: 'no-data',
      ...doubt,
      message: `${slo.id}: no data, the remaining budget is unknown${slo.doubt ? ` (${slo.doubt.text})` : ''}`,
    };
  const step = activePolicyStep(slo.steps, slo.remaining);
  const basis: GateBasis = step
    ? 'policy-step'
    : slo.steps.length
      ? 'no-step'
      : slo.remaining <= 0
        ? 'no-policy-exhausted'
        : 'no-policy';
  const policy: GateDecision = step?.gate ?? (basis === 'no-policy-exhausted' ? 'warn' : 'allow');
  // A doubtful figure may still deny (the last known budget was gone) but never allows silently.
  const decision: GateDecision = slo.doubt && policy === 'allow' ? 'warn' : policy;
  const left = `${percent(slo.remaining)} of the budget left`;
  const message = step
    ? `${slo.id}: ${left}, below ${percent(step.below)}: ${step.action}`
    : `${slo.id}: ${left}, ${BASIS_TEXT[basis]}`;
  return {
    slo: slo.id,
    decision,
    remaining: slo.remaining,
    ...(step ? { step } : {}),
    basis,
    ...doubt,
    message: slo.doubt ? `${message} (${slo.doubt.text})` : message,
  };
}

const BASIS_TEXT: Record<GateBasis, string> = {
  'no-data': 'the remaining budget is unknown',
  'policy-step': 'a policy step applies',
  'no-step': 'no policy step applies',
  'no-policy': 'no error-budget policy',
  'no-policy-exhausted': 'no error-budget policy says what to do with the budget gone',
};

export function decideGate(
  service: string,
  slos: readonly GateSlo[],
  overrides: readonly GateOverride[],
  nowMs: number,
): GateAnswer {
  const reasons = slos
    .map(reasonFor)
    .sort((a, b) => RANK[b.decision] - RANK[a.decision] || a.slo.localeCompare(b.slo));
  const policyDecision = reasons.reduce<GateDecision>(
    (worst, r) => (RANK[r.decision] > RANK[worst] ? r.decision : worst),
    'allow',
  );
  const override =
    policyDecision === 'allow'
      ? undefined
      : overrides
          .filter((o) => o.service === service && isActive(o, nowMs))
          .sort((a, b) => b.expiresAtMs - a.expiresAtMs)[0];
  const decision = override ? 'allow' : policyDecision;
  const worst = reasons.find((r) => r.decision === policyDecision);
  const summary = override
    ? `allow ${service}: overridden by ${override.createdBy} until ${new Date(override.expiresAtMs).toISOString()} (${override.reason}); policy says ${policyDecision}: ${worst?.message}`
    : !slos.length
      ? `allow ${service}: no SLOs, nothing to protect`
      : `${decision} ${service}: ${decision === 'allow' ? reasons.map((r) => r.message).join('; ') : worst?.message}`;
  return { service, decision, policyDecision, reasons, ...(override ? { override } : {}), summary };
}
