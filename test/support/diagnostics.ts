import { expect } from 'vitest';
import type { Diagnostic } from '../../src/slo/spec/diagnostics.js';

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
export function at(text: string, needle: string, nth = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`${JSON.stringify(needle)} is not in the text`);
  }
  const lines = text.slice(0, index).split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/** Asserts a diagnostic with this rule at this position (and severity) exists, and returns it. */
export function expectDiagnostic(
  diagnostics: readonly Diagnostic[],
  rule: string,
  where: { line: number; column: number },
  severity: 'error' | 'warning' = 'error',
): Diagnostic {
  const found = diagnostics.find(
    (d) => d.rule === rule && d.line === where.line && d.column === where.column,
  );
  expect(
    found,
    `${rule} at ${where.line}:${where.column} in ${JSON.stringify(diagnostics, null, 1)}`,
  ).toBeDefined();
  expect(found!.severity).toBe(severity);
  return found!;
}
