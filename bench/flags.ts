/** Reading bench flags (`--slos 1000`): shared by every bench. */
import type { BenchFlags } from './run.js';

/** A whole-number flag of at least `min` (default 1), or the fallback when it is absent. */
export function intFlag(flags: BenchFlags, name: string, fallback: number, min = 1): number {
  const value = flags[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} needs a whole number ≥ ${min}`);
  return n;
}
