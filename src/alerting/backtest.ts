/**
 * Replaying one-minute history through alert rules (pure): which alerts would have fired, when,
 * and when they would have resolved. Window sums come from prefix sums, so the cost is
 * O(minutes × conditions) whatever the window lengths.
 *
 * At the end of minute i (instant t = start + (i + 1) min) the burn rate over a window of W minutes
 * is (bad / total over the last W minutes) / (1 − target); a window reaching before the data
 * uses what there is. A window without events has no burn rate, and no data never fires.
 */
import { type AlertState, advance, INACTIVE } from './lifecycle.js';
import { type AlertRule, type BurnCondition, meets } from './policy.js';

const MINUTE_MS = 60_000;

export interface BacktestInput {
  /** The objective, a fraction (0.999). */
  readonly target: number;
  readonly rules: readonly AlertRule[];
  /** Start of the first minute, epoch ms (a whole minute). */
  readonly startMs: number;
  /** Good and total events per minute, from `startMs`. */
  readonly good: ArrayLike<number>;
  readonly total: ArrayLike<number>;
  /**
   * Low-traffic guard: a condition holds only when its long window saw at least this many events
   * (default 0: off). One failed request out of ten is a 10% error rate, not an emergency.
   */
  readonly minEvents?: number | undefined;
}

export interface BacktestAlert {
  readonly rule: string;
  readonly tier: AlertRule['tier'];
  readonly severity: string;
  /** Instant the rule's condition first held (before `forMs`). */
  readonly pendingAtMs: number;
  readonly firedAtMs: number;
  /** Null when still firing at the end of the data. */
  readonly resolvedAtMs: number | null;
  /** Highest long-window burn rate of the condition that held, while firing. */
  readonly peakBurnRate: number;
}

export function backtest(input: BacktestInput): BacktestAlert[] {
  const n = input.total.length;
  if (input.good.length !== n) throw new RangeError('good and total must have one value per minute each');
  if (!(input.target > 0 && input.target < 1)) throw new RangeError('target must be in (0, 1)');
  const budget = 1 - input.target;
  const minEvents = input.minEvents ?? 0;
  // prefix[i] = sum of the first i minutes
  const badPrefix = new Float64Array(n + 1);
  const totalPrefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const total = input.total[i]!;
    const bad = Math.min(Math.max(total - input.good[i]!, 0), total);
    badPrefix[i + 1] = badPrefix[i]! + bad;
    totalPrefix[i + 1] = totalPrefix[i]! + total;
  }
  const window = (end: number, windowMs: number) => {
    const start = Math.max(0, end - Math.round(windowMs / MINUTE_MS));
    return { bad: badPrefix[end]! - badPrefix[start]!, total: totalPrefix[end]! - totalPrefix[start]! };
  };
  const burnRate = (end: number, windowMs: number): number | null => {
    const w = window(end, windowMs);
    return w.total > 0 ? w.bad / w.total / budget : null;
  };
  /** The long-window burn rate of the first condition that holds at minute end `end`, or null. */
  const holding = (conditions: readonly BurnCondition[], end: number): number | null => {
    for (const c of conditions) {
      const long = window(end, c.longWindowMs);
      if (long.total < minEvents || long.total === 0) continue;
      const longRate = long.bad / long.total / budget;
      if (!meets(longRate, c.factor, c.op)) continue;
      if (c.shortWindowMs !== undefined && !meets(burnRate(end, c.shortWindowMs), c.factor, c.op)) continue;
      return longRate;
    }
    return null;
  };

  const alerts: BacktestAlert[] = [];
  for (const rule of input.rules) {
    let state: AlertState = INACTIVE;
    let peak = 0;
    for (let end = 1; end <= n; end++) {
      const atMs = input.startMs + end * MINUTE_MS;
      const rate = holding(rule.conditions, end);
      const previous = state;
      const step = advance(state, rate === null ? 'clear' : 'holds', atMs, rule.forMs);
      state = step.state;
      if (step.transition === 'firing') peak = rate!;
      else if (state.phase === 'firing') peak = Math.max(peak, rate!);
      if (step.transition === 'resolved')
        alerts.push(alertOf(rule, previous.pendingSinceMs!, previous.firedAtMs!, atMs, peak));
    }
    if (state.phase === 'firing')
      alerts.push(alertOf(rule, state.pendingSinceMs!, state.firedAtMs!, null, peak));
  }
  return alerts.sort((a, b) => a.firedAtMs - b.firedAtMs || a.rule.localeCompare(b.rule));
}

function alertOf(
  rule: AlertRule,
  pendingAtMs: number,
  firedAtMs: number,
  resolvedAtMs: number | null,
  peakBurnRate: number,
): BacktestAlert {
  return {
    rule: rule.name,
    tier: rule.tier,
    severity: rule.severity,
    pendingAtMs,
    firedAtMs,
    resolvedAtMs,
    peakBurnRate,
  };
}
