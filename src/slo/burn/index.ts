/**
 * The public face of `slo/burn/`: burn-rate and alert-window math (pure, no I/O, no clock) that
 * the evaluator, `alerting/`, `rules/` and the CLI stand on — which windows an SLO's period has,
 * their burn-rate factors, the alert rules an SLO has, and the labels burn rates are keyed by.
 */
export { meets } from '../threshold.js';
export {
  type AlertRule,
  type AlertRulesResult,
  type AlertTierName,
  alertPeriodMs,
  alertRulesFor,
  type BurnCondition,
  NO_DATA_AFTER_MS,
  rulesFromPolicies,
} from './alert-rules.js';
export {
  BUDGET_TABLE_BURN_WINDOWS,
  burnWindowLabel,
  CURRENT_BURN_WINDOW,
  CURRENT_BURN_WINDOW_MS,
  DEFAULT_BURN_WINDOWS,
} from './labels.js';
export {
  type AlertWindowSet,
  type AlertWindowSpec,
  type BurnRateFactors,
  burnRateFactor,
  burnRateFactors,
  distinctWindowsMs,
  goHours,
  SLOTH_WINDOWS_28D,
  SLOTH_WINDOWS_30D,
  type WindowsChoice,
  type WindowsSource,
  windowsForPeriod,
  windowsFromDefinition,
} from './windows.js';
