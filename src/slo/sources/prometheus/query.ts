/**
 * PromQL per minute (pure): the query whose value at instant t is the SLI's count (or value) for
 * the minute (t − 1m, t].
 */
import type { MetricSource } from '../../model.js';
import { type PlannedQuery, specText } from '../port.js';

/** The window a minute query covers: `{{.window}}` in a query (Sloth, OpenSLO examples) becomes this. */
export const MINUTE_WINDOW = '1m';

const WINDOW_TEMPLATE = /\{\{\s*\.window\s*\}\}/g;
const HAS_WINDOW = /\{\{\s*\.window\s*\}\}/;

/**
 * A plain series selector — `name{label="v",…}` or `{…}` — the only thing `counter: true` can wrap
 * in `increase(…[1m])`. Anything else (a sum, a rate, a function) would be a PromQL error on every pull.
 */
const SELECTOR = /^(?:[A-Za-z_:][A-Za-z0-9_:]*\s*)?(?:\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\})?$/;

/**
 * `{{.window}}` becomes `1m`; a `counter: true` query (a cumulative counter selector) becomes
 * `sum(increase(<selector>[1m]))`; any other query is used as written.
 */
export function minuteQuery(query: string, counter: boolean | undefined): string {
  const text = query.trim();
  if (HAS_WINDOW.test(text)) return text.replace(WINDOW_TEMPLATE, MINUTE_WINDOW);
  return counter ? `sum(increase(${text}[${MINUTE_WINDOW}]))` : text;
}

/** The minute query of a Prometheus metric source (`spec.query`, or `spec.promql`), or why not. */
export function planPromQl(metric: MetricSource, counter: boolean): PlannedQuery {
  const text = specText(metric, 'query', 'promql');
  if (text === undefined) return { problem: 'a Prometheus metric source needs spec.query (PromQL)' };
  if (counter && !HAS_WINDOW.test(text) && !SELECTOR.test(text))
    return {
      problem: `counter: true needs a plain series selector (like http_requests_total{job="api"}) to wrap in increase(…[1m]); "${text.length > 80 ? `${text.slice(0, 77)}…` : text}" is not one — write the per-minute query with {{.window}} and drop counter: true`,
    };
  return { query: minuteQuery(text, counter) };
}
