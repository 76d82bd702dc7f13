/**
 * LogQL per minute (pure): the metric query whose value at instant t is the SLI's count of log
 * lines (or value) for the minute (t − 1m, t].
 */
import type { MetricSource } from '../../model.js';
import { type PlannedQuery, specText } from '../port.js';

/** The window a minute query covers: `{{.window}}` in a query becomes this. */
export const MINUTE_WINDOW = '1m';

const WINDOW_TEMPLATE = /\{\{\s*\.window\s*\}\}/g;
/** A range selector's duration (`[5m]`, `[1h30m]`) outside quoted text. */
const RANGE = /\[\s*((?:\d+(?:ms|[smhdwy]))+)\s*\]/g;
const ONE_MINUTE = new Set(['1m', '60s', '60000ms']);

/** Quoted strings (line filters, label values) blanked, so `|= "[5m]"` is not read as a range. */
function withoutStrings(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, (m) => ' '.repeat(m.length));
}

const shorten = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}…` : text);

/**
 * The minute query of a Loki metric source (`spec.logql`, or `spec.query`), or why not:
 * - a log query (a stream selector with its pipeline: `{app="checkout"} |= "error"`) counts its
 *   lines per minute: `sum(count_over_time(<query> [1m]))`;
 * - a metric query is used as written, with `{{.window}}` as `1m`; its range selectors must be one
 *   minute, or each minute would count lines of the minutes before it.
 * `counter: true` has no meaning for log lines and is ignored (docs/sources.md).
 */
export function planLogQl(metric: MetricSource): PlannedQuery {
  const written = specText(metric, 'logql', 'query');
  if (written === undefined)
    return { problem: 'a Loki metric source needs spec.logql (or spec.query): a LogQL query' };
  const text = written.replace(WINDOW_TEMPLATE, MINUTE_WINDOW);
  const bare = withoutStrings(text).trim();
  if (bare.startsWith('{')) {
    if ([...bare.matchAll(RANGE)].length)
      return {
        problem: `"${shorten(written)}" starts with a stream selector but has a range: write a log query ({app="x"} |= "error") or a whole metric query`,
      };
    return { query: `sum(count_over_time(${text} [${MINUTE_WINDOW}]))` };
  }
  const ranges = [...bare.matchAll(RANGE)].map((m) => m[1]!);
  if (!ranges.length)
    return {
      problem: `"${shorten(written)}" is neither a log query ({app="x"} |= "error") nor a metric query with a [1m] range (count_over_time(…[{{.window}}]))`,
    };
  const other = ranges.find((r) => !ONE_MINUTE.has(r));
  if (other !== undefined)
    return {
      problem: `"${shorten(written)}" uses a [${other}] range: a per-minute query needs [1m] (or [{{.window}}]), or minutes would overlap`,
    };
  return { query: text };
}
