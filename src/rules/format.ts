/**
 * Numbers, durations and label matchers printed exactly as Sloth (Go) prints them, so generated
 * rules are text-compatible with Sloth's: same record names, same windows, same constants.
 */

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

/** A label matcher as Prometheus prints a label set: sorted, `{a="x", b="y"}`. */
export function labelFilter(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return `{${pairs.sort().join(', ')}}`;
}
