/**
 * OpenSLO duration shorthand: a positive integer followed by one case-sensitive unit.
 * `m` is minutes and `M` is months — `1m` is one minute, never one month.
 */
export type DurationUnit = 'm' | 'h' | 'd' | 'w' | 'M' | 'Q' | 'Y';

export interface Duration {
  readonly count: number;
  readonly unit: DurationUnit;
}

const UNIT_MS: Record<'m' | 'h' | 'd' | 'w', number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const SHORTHAND = /^([1-9][0-9]*)([mhdwMQY])$/;

export type DurationParse = { ok: true; value: Duration } | { ok: false; error: string };

/** Parses `30d`, `1M`, `2w`…; the error says what is wrong in one sentence. */
export function parseDuration(text: string): DurationParse {
  const match = SHORTHAND.exec(text.trim());
  if (!match) {
    return {
      ok: false,
      error: `"${text}" is not a duration: write a positive whole number and one unit of m h d w M Q Y (e.g. 5m, 1h, 28d, 1M)`,
    };
  }
  const count = Number(match[1]);
  if (!Number.isSafeInteger(count)) return { ok: false, error: `"${text}" is too large` };
  return { ok: true, value: { count, unit: match[2] as DurationUnit } };
}

/** Parses a duration the caller knows is valid (constants, tests); throws otherwise. */
export function duration(text: string): Duration {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

/** True when the unit has a fixed length in milliseconds (m, h, d, w). */
export function isFixedLength(d: Duration): d is Duration & { unit: 'm' | 'h' | 'd' | 'w' } {
  return d.unit in UNIT_MS;
}

/**
 * Length in milliseconds of a fixed-length duration. Months, quarters and years have no fixed
 * length; callers that accept them must go through calendar arithmetic (Luxon), so this returns
 * undefined for them instead of guessing.
 */
export function fixedDurationMs(d: Duration): number | undefined {
  return isFixedLength(d) ? d.count * UNIT_MS[d.unit] : undefined;
}

/** Nominal length (30-day months, 91-day quarters, 365-day years) for sizing and display only. */
export function nominalDurationMs(d: Duration): number {
  const fixed = fixedDurationMs(d);
  if (fixed !== undefined) return fixed;
  const day = UNIT_MS.d;
  const days = d.unit === 'M' ? 30 : d.unit === 'Q' ? 91 : 365;
  return d.count * days * day;
}

export function formatDuration(d: Duration): string {
  return `${d.count}${d.unit}`;
}

const PROM_UNITS: readonly (readonly [unit: string, ms: number, exactOnly: boolean])[] = [
  ['y', 365 * UNIT_MS.d, true],
  ['w', UNIT_MS.w, true],
  ['d', UNIT_MS.d, false],
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
