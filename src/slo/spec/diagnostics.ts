import type { SourceLocation } from '../model.js';

export type Severity = 'error' | 'warning';

/** One problem found in a spec, located so an editor or a person can jump to it. */
export interface Diagnostic extends SourceLocation {
  readonly severity: Severity;
  /** Stable rule id, e.g. `openslo/op-on-ratio`; documented in docs/validation-rules.md. */
  readonly rule: string;
  readonly message: string;
  readonly hint?: string | undefined;
}

/** `file:line:column  rule  message  (hint)` — the format `shinrai validate` prints. */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint ? `  (${d.hint})` : '';
  const level = d.severity === 'warning' ? 'warning ' : '';
  return `${d.file}:${d.line}:${d.column}  ${level}${d.rule}  ${d.message}${hint}`;
}

/** Stable order: by file, then position, then rule — so output diffs cleanly between runs. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule),
  );
}

export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === 'error');
}
