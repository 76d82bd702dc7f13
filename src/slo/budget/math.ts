import { isRepresentableMs } from '../../platform/dates.js';

/** One minute in milliseconds: the engine's unit of data. */
export const MINUTE_MS = 60_000;

/** Burn rate = error ratio / error budget (1 − target); 1 spends the budget exactly over the period. */
export function burnRate(errorRatio: number, target: number): number {
  return errorRatio / (1 - target);
}

/**
 * Time until the remaining fraction of the budget is spent at a constant burn rate:
 * `remaining × periodMs / burnRate`. 0 when nothing remains; null when not burning (or never).
 */
export function timeToExhaustionMs(
  remaining: number,
  periodMs: number,
  burnRate: number | null,
): number | null {
  if (remaining <= 0) return 0;
  if (burnRate === null || !(burnRate > 0)) return null;
  const ms = (remaining * periodMs) / burnRate;
  return Number.isFinite(ms) ? ms : null;
}

/**
 * `atMs` plus the time to exhaustion, rounded to the millisecond; `atMs` when already spent. null
 * ("never") when not burning, or when the instant lies beyond what a Date can hold (a tiny burn
 * rate over a huge healthy volume): such an instant would make every later formatting throw.
 */
export function exhaustionAtMs(
  atMs: number,
  remaining: number,
  periodMs: number,
  burnRate: number | null,
): number | null {
  const ms = timeToExhaustionMs(remaining, periodMs, burnRate);
  if (ms === null) return null;
  const at = atMs + Math.round(ms);
  return isRepresentableMs(at) ? at : null;
}

/**
 * Burn-rate threshold that spends `budgetFraction` of the period's budget within `windowMs`
 * (SRE Workbook: 2% of 30 days in 1 h → 14.4).
 */
export function alertBurnRate(budgetFraction: number, periodMs: number, windowMs: number): number {
  return (budgetFraction * periodMs) / windowMs;
}

/** Fraction of the period's budget that a constant burn rate spends in `windowMs`. */
export function budgetFractionSpent(burnRate: number, windowMs: number, periodMs: number): number {
  return (burnRate * windowMs) / periodMs;
}

/** Floor division to whole minutes (works for negative epochs too). */
export function minuteFloor(ms: number): number {
  return Math.floor(ms / MINUTE_MS);
}

/** Index of the first minute whose start is at or after `ms`. */
export function minuteCeil(ms: number): number {
  return Math.ceil(ms / MINUTE_MS);
}
