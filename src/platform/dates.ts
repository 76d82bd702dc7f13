/** Instants as JavaScript can represent them: a Date holds at most ±8.64e15 ms around the epoch. */

/** One day of 24 hours in milliseconds (a UTC day; calendar days in a time zone come from Luxon). */
export const DAY_MS = 86_400_000;

/** The largest |epoch milliseconds| a Date can hold (ECMA-262 §21.4.1.1): about ±275,760 years. */
export const MAX_DATE_MS = 8.64e15;

/** True when `ms` is an instant a Date can hold (finite and within ±MAX_DATE_MS). */
export function isRepresentableMs(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}

/**
 * ISO 8601 of `ms`, or null when no Date can hold it: an instant computed from a rate (time to
 * exhaustion) may lie beyond year 275760, which means "never" rather than a crash.
 */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined || !isRepresentableMs(ms) ? null : new Date(ms).toISOString();
}

/** ISO 8601 of `ms`, or the number itself when no Date can hold it (for error messages). */
export function isoOrRaw(ms: number): string {
  return isoOrNull(ms) ?? String(ms);
}
