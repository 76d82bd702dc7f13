/** Threshold comparison (pure): one rule for "value op threshold", for SLI values and burn rates alike. */
import type { ThresholdOp } from './model.js';

/**
 * Does `value` meet `op threshold` (`lt 300` → value < 300; `gt 14.4` → value > 14.4)? A missing
 * value (null, undefined, NaN: no data) never does. Raw SLI values are good when they meet their
 * objective's threshold; an alert condition holds when its burn rate meets the factor.
 */
export function meets(value: number | null | undefined, op: ThresholdOp, threshold: number): boolean {
  if (value === null || value === undefined || Number.isNaN(value)) return false;
  switch (op) {
    case 'lt':
      return value < threshold;
    case 'lte':
      return value <= threshold;
    case 'gt':
      return value > threshold;
    case 'gte':
      return value >= threshold;
  }
}
