/** Numbers, percentages, times and durations through Intl, in the current language. */
import i18n from './i18n';

const lang = () => i18n.language || 'en';

/** `minDigits` below `digits` drops trailing zeros (30% rather than 30.0%). */
export function percent(fraction: number | null | undefined, digits = 1, minDigits = digits): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return new Intl.NumberFormat(lang(), {
    style: 'percent',
    minimumFractionDigits: minDigits,
    maximumFractionDigits: digits,
  }).format(fraction);
}

/** A target or SLI such as 99.95%: enough digits to tell the nines apart. */
export function nines(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return new Intl.NumberFormat(lang(), {
    style: 'percent',
    minimumFractionDigits: 2,
    maximumFractionDigits: 3,
  }).format(fraction);
}

export function number(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(lang(), { maximumFractionDigits: digits }).format(value);
}

/** A duration in minutes: "35 min", "35 分". */
export function minutes(value: number | null | undefined, digits = 1): string {
  return duration(value, 'minute', 'short', digits);
}

/** A duration in days: "60 days", "60 日". */
export function days(value: number | null | undefined, digits = 2): string {
  return duration(value, 'day', 'long', digits);
}

function duration(
  value: number | null | undefined,
  unit: 'minute' | 'day',
  unitDisplay: 'short' | 'long',
  digits: number,
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(lang(), {
    style: 'unit',
    unit,
    unitDisplay,
    maximumFractionDigits: digits,
  }).format(value);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** "in 3 days", "2 hours ago" — relative to now. */
export function relative(iso: string | null | undefined, nowMs = Date.now()): string {
  if (!iso) return '—';
  const diffMs = Date.parse(iso) - nowMs;
  const abs = Math.abs(diffMs);
  const rtf = new Intl.RelativeTimeFormat(lang(), { numeric: 'auto' });
  if (abs < 3_600_000) return rtf.format(Math.round(diffMs / 60_000), 'minute');
  if (abs < 2 * 86_400_000) return rtf.format(Math.round(diffMs / 3_600_000), 'hour');
  return rtf.format(Math.round(diffMs / 86_400_000), 'day');
}
