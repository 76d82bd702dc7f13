/**
 * Datadog metric queries per minute (pure): the query whose points are one per minute, each the
 * SLI's count (or value) for that minute, by a `.rollup(<aggregator>, 60)`.
 */
import type { MetricSource } from '../../model.js';
import { type PlannedQuery, specText } from '../port.js';

/** `.rollup(sum, 60)` and its aggregator and interval. */
const ROLLUP = /\.rollup\(\s*([a-z]*)\s*(?:,\s*([^)\s]*)\s*)?\)/g;
/**
 * One metric query: `[space_agg:]metric.name{scope}[ by {tags}]` followed by any chain of
 * `.function(args)` (`.as_count()`, `.fill(zero)`). Arithmetic, formulas and wrapping functions
 * (`top(…)`) are not one query: a rollup appended to them would not apply to every metric in them.
 */
const SINGLE =
  /^(?:[a-z0-9_]+:)?[A-Za-z][\w.]*\s*\{[^{}]*\}(?:\s*by\s*\{[^{}]*\})?(?:\s*\.[a-z_]+\([^()]*\))*$/;
const COUNTED = /\.as_count\(\s*\)/;
const AS_RATE = /\.as_rate\(\s*\)/;

const shorten = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}…` : text);

/**
 * The minute query of a Datadog metric source (`spec.query`, as the OpenSLO examples write it),
 * or why not. A query without a rollup gets `.rollup(sum, 60)` when it counts (`.as_count()`,
 * added for `counter: true`) and `.rollup(avg, 60)` otherwise; a query with rollups must roll up
 * every 60 seconds.
 */
export function planDatadogQuery(metric: MetricSource, counter: boolean): PlannedQuery {
  const written = specText(metric, 'query');
  if (written === undefined)
    return {
      problem:
        'a Datadog metric source needs spec.query (a Datadog metric query such as sum:requests{*}.as_count())',
    };
  const text = written.replace(/\s+/g, ' ');
  const rollups = [...text.matchAll(ROLLUP)];
  if (rollups.length) {
    const bad = rollups.find((m) => m[2] !== '60');
    if (bad)
      return {
        problem: `"${shorten(written)}" rolls up ${bad[2] ? `every ${bad[2]} s` : 'at the default interval'}: a per-minute query needs .rollup(<aggregator>, 60)`,
      };
    return { query: text };
  }
  if (!SINGLE.test(text))
    return {
      problem: `"${shorten(written)}" is not a single metric query: add .rollup(sum, 60) (counts) or .rollup(avg, 60) to each metric in it`,
    };
  if (counter && AS_RATE.test(text))
    return {
      problem: `counter: true counts events, but "${shorten(written)}" asks for a rate (.as_rate()): use .as_count()`,
    };
  const counted = counter && !COUNTED.test(text) ? `${text}.as_count()` : text;
  return { query: `${counted}.rollup(${COUNTED.test(counted) ? 'sum' : 'avg'}, 60)` };
}
