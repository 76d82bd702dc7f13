import { exhaustionAtMs, MINUTE_MS } from './math.js';
import type { BudgetStatus } from './types.js';

export interface CompositePart {
  status: BudgetStatus;
  /** > 0. */
  weight: number;
  /** The part's own target, in (0, 1). */
  target: number;
}

/** Σw·v / Σw over the parts whose value is not null; null when none has one. */
function weightedMean(values: ReadonlyArray<{ weight: number; value: number | null }>): number | null {
  let weightSum = 0;
  let sum = 0;
  for (const { weight, value } of values) {
    if (value === null) continue;
    weightSum += weight;
    sum += weight * value;
  }
  return weightSum > 0 ? sum / weightSum : null;
}

/**
 * An OpenSLO composite SLO as a weighted average of its parts' statuses (all evaluated at the same
 * instant, normally over the same window):
 * - sli, each burn rate and the current burn rate: Σw·x/Σw over the parts that have a value;
 * - remaining: Σw·remaining/Σw over all parts;
 * - budget in minutes-equivalent: total = (1 − T) × period minutes with T = Σw·target/Σw, and
 *   consumed = (1 − remaining) × total, so remaining = 1 − consumed/total holds;
 * - period: the span of the parts' periods; exhaustion from the combined current burn rate;
 * - coverage: the lowest part's; dataSufficient only when every part's is.
 * Throws RangeError on no parts, a weight that is not > 0, or parts at different instants.
 */
export function combineComposite(parts: ReadonlyArray<CompositePart>): BudgetStatus {
  const first = parts[0];
  if (!first) throw new RangeError('a composite needs at least one part');
  for (const part of parts) {
    if (!(part.weight > 0 && Number.isFinite(part.weight))) {
      throw new RangeError(`composite weights must be > 0 (got ${part.weight})`);
    }
    if (part.status.at !== first.status.at)
      throw new RangeError('composite parts must be evaluated at the same instant');
  }
  const mean = (pick: (status: BudgetStatus) => number | null) =>
    weightedMean(parts.map((p) => ({ weight: p.weight, value: pick(p.status) })));

  const at = first.status.at;
  const startMs = Math.min(...parts.map((p) => p.status.period.startMs));
  const endMs = Math.max(...parts.map((p) => p.status.period.endMs));
  const remaining = mean((s) => s.budget.remaining)!;
  const target = weightedMean(parts.map((p) => ({ weight: p.weight, value: p.target })))!;
  const total = ((1 - target) * (endMs - startMs)) / MINUTE_MS;

  const burnRates: Record<string, number | null> = {};
  const labels = new Set(parts.flatMap((p) => Object.keys(p.status.burnRates)));
  for (const label of labels) burnRates[label] = mean((s) => s.burnRates[label] ?? null);
  const currentBurnRate = mean((s) => s.currentBurnRate);
  // The least-trafficked part decides a low-traffic guard: its noise moves the combined burn rate.
  const windowEvents: Record<string, number> = {};
  for (const label of labels)
    windowEvents[label] = Math.min(...parts.map((p) => p.status.windowEvents[label] ?? 0));

  return {
    at,
    period: { startMs, endMs },
    sli: mean((s) => s.sli),
    budget: { unit: 'minutes', total, consumed: (1 - remaining) * total, remaining },
    burnRates,
    windowEvents,
    currentBurnRate,
    exhaustionAt: exhaustionAtMs(at, remaining, endMs - startMs, currentBurnRate),
    dataSufficient: parts.every((p) => p.status.dataSufficient),
    coverage: Math.min(...parts.map((p) => p.status.coverage)),
  };
}
