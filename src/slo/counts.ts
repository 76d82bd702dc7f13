/**
 * The bound on SLI counts (pure): every item, and every stored minute, holds at most
 * MAX_COUNT_PER_MINUTE events, so sums over any window stay finite and every figure computed from
 * them (SLI, budget, burn rates, the status page's daily ratios) is a number, never NaN or ∞.
 */

/**
 * At most this many events per item and per stored minute of one stream: 1e12 a minute is
 * ~1.7e10 events a second, far above any real service, and a year of such minutes (5.3e17)
 * still sums to a finite double.
 */
export const MAX_COUNT_PER_MINUTE = 1e12;

/** True when `n` is a count Shinrai stores: finite, ≥ 0 and ≤ MAX_COUNT_PER_MINUTE. */
export function isStorableCount(n: number): boolean {
  return Number.isFinite(n) && n >= 0 && n <= MAX_COUNT_PER_MINUTE;
}

/** `1e12` style text of the bound, for messages. */
export const MAX_COUNT_TEXT = '1e12';
