/** Benches check their own answers: a failed check is printed and makes `npm run bench` exit non-zero. */

const failures: string[] = [];

/** Records one check of a bench's result; prints it either way. Returns `ok`. */
export function check(ok: boolean, what: string, detail?: string): boolean {
  const line = `${what}${detail ? ` (${detail})` : ''}`;
  if (ok) console.log(`check ok: ${line}`);
  else {
    console.log(`CHECK FAILED: ${line}`);
    failures.push(line);
  }
  return ok;
}

/**
 * Whether two figures agree within `relative` of the larger magnitude (at least 1, so numbers
 * near 0 are compared absolutely); both null also agree, one null does not.
 */
export function agree(a: number | null | undefined, b: number | null | undefined, relative: number): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  if (a === b) return true;
  return Math.abs(a - b) <= relative * Math.max(1, Math.abs(a), Math.abs(b));
}

/** The checks that failed so far in this process. */
export function failedChecks(): readonly string[] {
  return failures;
}
