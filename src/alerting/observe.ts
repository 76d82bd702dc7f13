/**
 * What a rule's condition says about one evaluated status (pure): burn rates by window length in,
 * `holds`, `clear` or `no-data` out. A window without a burn rate (no events, too little
 * coverage) or data that is not current is no data, which holds the alert where it is.
 */

import { type AlertRule, meets } from '../slo/index.js';
import type { Observation } from './lifecycle.js';

/** Burn rate over a window (ms), or null/undefined when there is none. */
export type BurnRateLookup = (windowMs: number) => number | null | undefined;

/** Low-traffic guard: a condition holds only when its long window saw at least `minEvents` events. */
export interface TrafficGuard {
  readonly minEvents: number;
  /** Events over a window; undefined when not counted (time-slice methods), which passes the guard. */
  readonly events: (windowMs: number) => number | undefined;
}

export function observe(
  rule: AlertRule,
  burnRate: BurnRateLookup,
  dataCurrent = true,
  guard?: TrafficGuard,
): Observation {
  if (!dataCurrent) return 'no-data';
  let missing = false;
  for (const c of rule.conditions) {
    const events = guard?.events(c.longWindowMs);
    if (guard && events !== undefined && events < guard.minEvents) continue;
    const long = burnRate(c.longWindowMs);
    const short = c.shortWindowMs === undefined ? undefined : burnRate(c.shortWindowMs);
    if (
      long === null ||
      long === undefined ||
      (c.shortWindowMs !== undefined && (short === null || short === undefined))
    ) {
      missing = true;
      continue;
    }
    if (meets(long, c.op, c.factor) && (c.shortWindowMs === undefined || meets(short, c.op, c.factor)))
      return 'holds';
  }
  return missing ? 'no-data' : 'clear';
}

/** A lookup over a status' per-label values (burn rates, event counts), given the labels' lengths. */
export function lookupByLabel<T>(
  values: Readonly<Record<string, T>>,
  windows: ReadonlyArray<{ readonly label: string; readonly windowMs: number }>,
): (windowMs: number) => T | undefined {
  let byMs = labelsByMs.get(windows);
  if (!byMs) {
    byMs = new Map(windows.map((w) => [w.windowMs, w.label]));
    labelsByMs.set(windows, byMs);
  }
  const labels = byMs;
  return (windowMs) => {
    const label = labels.get(windowMs);
    return label === undefined ? undefined : values[label];
  };
}

/** Labels by window length per windows list (a spec's, the same every tick: built once). */
const labelsByMs = new WeakMap<object, Map<number, string>>();

/** What the guard rules look at in a status. */
export interface StatusFacts {
  readonly dataCurrent: boolean;
  /** Events (or data) in the last hour: false when the SLI stopped reporting. */
  readonly recentData: boolean;
  readonly budgetRemaining: number | null;
}

/** The no-data and budget-exhausted rules: they look at the status, not at burn rates. */
export function observeGuard(rule: AlertRule, facts: StatusFacts): Observation {
  if (rule.kind === 'no-data') return !facts.dataCurrent || !facts.recentData ? 'holds' : 'clear';
  if (!facts.dataCurrent) return 'no-data';
  if (facts.budgetRemaining === null) return 'no-data';
  return facts.budgetRemaining <= 0 ? 'holds' : 'clear';
}
