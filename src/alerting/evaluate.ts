/**
 * One evaluation step of the live alerts (pure): every SLO's rules observed on its fresh status,
 * each alert advanced through its lifecycle. Returns the alerts that changed, with the
 * transition and the burn rates that caused it, for the store and (later) the notification outbox.
 */
import { createHash } from 'node:crypto';
import { type AlertRule, burnWindowLabel } from '../slo/index.js';
import { type AlertState, advance, INACTIVE, type Observation, type Transition } from './lifecycle.js';
import {
  type BurnRateLookup,
  observe,
  observeGuard,
  type StatusFacts,
  type TrafficGuard,
} from './observe.js';

export interface StoredAlert {
  readonly fingerprint: string;
  /** The evaluation target (`slo` or `slo/objective`). */
  readonly sloId: string;
  readonly service: string;
  readonly rule: string;
  readonly tier: AlertRule['tier'];
  readonly severity: string;
  readonly state: AlertState;
  readonly lastObservation: Observation;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Burn rates of the rule's windows at the last transition (what triggered or cleared it). */
  readonly burnRates: Readonly<Record<string, number | null>>;
  readonly resolvedAtMs: number | null;
  /** When the alert last started firing; kept after it resolves, so a resolution names its firing. */
  readonly lastFiredAtMs: number | null;
}

export interface AlertTarget {
  readonly sloId: string;
  readonly service: string;
  readonly rules: readonly AlertRule[];
  readonly burnRate: BurnRateLookup;
  /** False while the SLO's data is not current: every alert holds. */
  readonly dataCurrent: boolean;
  /** Low-traffic guard, when on. */
  readonly guard?: TrafficGuard | undefined;
  /** For the no-data and budget-exhausted rules. */
  readonly facts: StatusFacts;
}

export interface AlertChange {
  readonly alert: StoredAlert;
  /** Undefined when only the observation changed (no phase change). */
  readonly transition?: Transition | undefined;
}

/** Stable identity of one rule of one SLO: the same across restarts, replicas and spec reloads. */
export function alertFingerprint(sloId: string, rule: string): string {
  let ofRule = fingerprints.get(rule);
  if (!ofRule) {
    ofRule = new Map();
    fingerprints.set(rule, ofRule);
  }
  let fingerprint = ofRule.get(sloId);
  if (fingerprint === undefined) {
    fingerprint = createHash('sha256').update(`${sloId}\u0000${rule}`).digest('hex').slice(0, 16);
    if (++cachedFingerprints > MAX_CACHED_FINGERPRINTS) {
      for (const other of fingerprints.values()) other.clear();
      cachedFingerprints = 1;
    }
    ofRule.set(sloId, fingerprint);
  }
  return fingerprint;
}

/**
 * Fingerprints computed, by rule name and SLO: every rule of every SLO needs its own on every tick,
 * and hashing them was a fifth of the alert step for 10,000 SLOs. Bounded, cleared when full.
 */
const fingerprints = new Map<string, Map<string, string>>();
let cachedFingerprints = 0;
const MAX_CACHED_FINGERPRINTS = 200_000;

/** Burn rates of a rule's windows by label (`1h`, `5m`…), for the alert's details. */
function windowRates(rule: AlertRule, lookup: BurnRateLookup): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const c of rule.conditions)
    for (const ms of [c.longWindowMs, c.shortWindowMs])
      if (ms !== undefined) out[burnWindowLabel(ms)] = lookup(ms) ?? null;
  return out;
}

/**
 * How soon the budget runs out at the burn that fires the rule: `fast` for pages (2% in an hour,
 * 5% in six: days), `slow` for tickets (10% in one or three days: weeks), `exhausted` when it has.
 */
function exhaustionOf(rule: AlertRule): string {
  if (rule.kind === 'budget-exhausted') return 'exhausted';
  if (rule.kind === 'no-data') return 'unknown';
  return rule.tier === 'page' ? 'fast' : 'slow';
}

export function evaluateAlerts(
  targets: readonly AlertTarget[],
  previous: ReadonlyMap<string, StoredAlert>,
  atMs: number,
): AlertChange[] {
  const changes: AlertChange[] = [];
  for (const target of targets)
    for (const rule of target.rules) {
      const fingerprint = alertFingerprint(target.sloId, rule.name);
      const before = previous.get(fingerprint);
      const observation =
        (rule.kind ?? 'burn') === 'burn'
          ? observe(rule, target.burnRate, target.dataCurrent, target.guard)
          : observeGuard(rule, target.facts);
      const step = advance(before?.state ?? INACTIVE, observation, atMs, rule.forMs);
      if (!step.transition && before && before.lastObservation === observation) continue;
      if (!step.transition && !before && step.state.phase === 'inactive') continue;
      const labels = {
        ...rule.labels,
        slo: target.sloId,
        service: target.service,
        severity: rule.severity,
        tier: rule.tier,
        exhaustion: exhaustionOf(rule),
        alertname: rule.name,
      };
      changes.push({
        transition: step.transition,
        alert: {
          fingerprint,
          sloId: target.sloId,
          service: target.service,
          rule: rule.name,
          tier: rule.tier,
          severity: rule.severity,
          state: step.state,
          lastObservation: observation,
          labels,
          annotations: rule.annotations,
          burnRates: step.transition ? windowRates(rule, target.burnRate) : (before?.burnRates ?? {}),
          resolvedAtMs:
            step.transition === 'resolved' ? atMs : step.transition ? null : (before?.resolvedAtMs ?? null),
          lastFiredAtMs: step.state.firedAtMs ?? before?.lastFiredAtMs ?? null,
        },
      });
    }
  return changes;
}
