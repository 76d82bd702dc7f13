/**
 * Numbers, durations and label matchers printed exactly as Sloth (Go) prints them, so generated
 * rules are text-compatible with Sloth's: same record names, same windows, same constants.
 */

const DAY_MS = 86_400_000;

/** Shortest round-trip digits and decimal exponent of |x| (x finite and non-zero). */
function shortestDigits(x: number): { digits: string; exp: number } {
  const [mantissa = '', exponent = '0'] = Math.abs(x).toExponential().split('e');
  return { digits: mantissa.replace('.', ''), exp: Number(exponent) };
}

function special(x: number): string | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  return undefined;
}

function fixed(digits: string, exp: number): string {
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return digits + '0'.repeat(exp + 1 - digits.length);
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/**
 * Go's `%g` / `%v` for a float64 (`strconv.FormatFloat(x, 'g', -1, 64)`): shortest round-trip
 * digits, exponent form below 1e-4 and from 1e6 up (`0.0009999999999999432`, `1e-05`, `1e+06`).
 */
export function goFloat(x: number): string {
  const s = special(x);
  if (s !== undefined) return s;
  const { digits, exp } = shortestDigits(x);
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return sign + fixed(digits, exp);
}

/** Go's `strconv.FormatFloat(x, 'f', -1, 64)`: shortest digits, never an exponent (`99.9`, `0.00001`). */
export function goFixed(x: number): string {
  const s = special(x);
  if (s !== undefined) return s;
  const { digits, exp } = shortestDigits(x);
  return (x < 0 ? '-' : '') + fixed(digits, exp);
}

const PROM_UNITS: readonly (readonly [unit: string, ms: number, exactOnly: boolean])[] = [
  ['y', 365 * DAY_MS, true],
  ['w', 7 * DAY_MS, true],
  ['d', DAY_MS, false],
  ['h', 3_600_000, false],
  ['m', 60_000, false],
  ['s', 1_000, false],
  ['ms', 1, false],
];

/**
 * A duration as Prometheus prints it (`model.Duration.String`): years and weeks only when they
 * divide the duration exactly, so 30d stays `30d` but 28d is `4w` and 7d is `1w` — the suffix of
 * Sloth's record names (`slo:sli_error:ratio_rate4w`).
 */
export function promDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size, exactOnly] of PROM_UNITS) {
    if (exactOnly && rest % size !== 0) continue;
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

/** Go's `time.Duration.Hours()`: whole hours plus the remainder as a fraction, in that order. */
export function goHours(ms: number): number {
  return Math.trunc(ms / 3_600_000) + (ms % 3_600_000) / 3_600_000;
}

/** A label matcher as Prometheus prints a label set: sorted, `{a="x", b="y"}`. */
export function labelFilter(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return `{${pairs.sort().join(', ')}}`;
}
