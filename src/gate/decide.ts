/**
 * The error-budget deploy gate (pure): for a service, each SLO's policy step in force gives
 * allow, warn or deny; the service answers the most restrictive. A budget Shinrai cannot vouch
 * for (never evaluated, data not current, evaluator stale) never answers allow silently: it warns
 * and says why. An active override, recorded with a reason and an expiry, lets a change through.
 */
import type { PolicyStep } from '../slo/model.js';
import { activePolicyStep } from '../slo/spec/shinrai-metadata.js';

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
  readonly doubt?: string | undefined;
}

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
  if (slo.remaining === null)
    return {
      slo: slo.id,
      decision: 'warn',
      remaining: null,
      message: `${slo.id}: no data, the remaining budget is unknown${slo.doubt ? ` (${slo.doubt})` : ''}`,
    };
  const step = activePolicyStep(slo.steps, slo.remaining);
  const policy: GateDecision = step?.gate ?? 'allow';
  // A doubtful figure may still deny (the last known budget was gone) but never allows silently.
  const decision: GateDecision = slo.doubt && policy === 'allow' ? 'warn' : policy;
  const left = `${percent(slo.remaining)} of the budget left`;
  const message = step
    ? `${slo.id}: ${left}, below ${percent(step.below)}: ${step.action}`
    : `${slo.id}: ${left}${slo.steps.length ? ', no policy step applies' : ', no error-budget policy'}`;
  return {
    slo: slo.id,
    decision,
    remaining: slo.remaining,
    ...(step ? { step } : {}),
    message: slo.doubt ? `${message} (${slo.doubt})` : message,
  };
}

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
