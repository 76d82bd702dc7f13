import type { BudgetReport, BudgetReportEntry } from '../slo/index.js';
import { BUDGET_TABLE_BURN_WINDOWS } from '../slo/index.js';

/** Columns a string takes in a terminal: East Asian wide characters (Japanese) take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x20000 && code <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

/** Left-aligned text table; numbers are pre-formatted strings. Japanese cells line up too. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) =>
    Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - displayWidth(c)))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function percent(fraction: number | null, digits = 3): string {
  if (fraction === null) return '—';
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function burn(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return rate >= 100 ? rate.toFixed(0) : rate.toFixed(2);
}

/** `in 3d 4h`, `in 43m`, `now`, `—`. */
export function until(iso: string | null, atIso: string): string {
  if (iso === null) return '—';
  const ms = Date.parse(iso) - Date.parse(atIso);
  if (ms <= 0) return 'exhausted';
  const minutes = Math.round(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `in ${days}d ${hours}h`;
  if (hours > 0) return `in ${hours}h ${minutes % 60}m`;
  return `in ${minutes}m`;
}

export function budgetTable(report: BudgetReport): string {
  const rows = report.slos.map((s: BudgetReportEntry) => [
    s.id,
    s.service,
    percent(s.target, s.target >= 0.999 ? 2 : 1)
      .replace(/0+%$/, '%')
      .replace(/\.%$/, '%'),
    s.windowKind === 'rolling' ? s.window : `${s.window} cal`,
    percent(s.sli),
    s.sli === null ? '—' : percent(s.budget.remaining, 1),
    ...BUDGET_TABLE_BURN_WINDOWS.map((w) => burn(s.burnRates[w])),
    until(s.exhaustionAt, report.at),
    s.dataSufficient ? 'ok' : s.sli === null ? 'no data' : `partial (${Math.round(s.coverage * 100)}%)`,
    s.policy ? `${s.policy.gate}: ${s.policy.action}` : '',
  ]);
  return table(
    [
      'SLO',
      'SERVICE',
      'TARGET',
      'WINDOW',
      'SLI',
      'BUDGET LEFT',
      ...BUDGET_TABLE_BURN_WINDOWS.map((w) => `BURN ${w}`),
      'EXHAUSTS',
      'DATA',
      'POLICY',
    ],
    rows,
  );
}
