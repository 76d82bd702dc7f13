/**
 * NRQL per minute (pure): an SLI's NRQL (`SELECT count(*) FROM Transaction WHERE …`) becomes the
 * query whose one-minute TIMESERIES buckets are the SLI's counts; the client adds the range
 * (`SINCE <ms> UNTIL <ms>`) of each chunk.
 */
import type { MetricSource } from '../../model.js';
import { type PlannedQuery, specText } from '../port.js';

/** The bucket clause every planned query ends with. */
export const TIMESERIES_MINUTE = 'TIMESERIES 1 minute';

/** Clauses Shinrai writes itself: a spec that gives them would clash with the range of each pull. */
const OWN_CLAUSES = /\b(SINCE|UNTIL|TIMESERIES|COMPARE\s+WITH|SLIDE\s+BY)\b/i;
const STARTS = /^(SELECT|FROM)\b/i;

/** The NRQL with string literals and backquoted names blanked, so clause words inside them don't count. */
function withoutLiterals(nrql: string): string {
  return nrql.replace(/'(?:[^'\\]|\\.|'')*'|`[^`]*`|"(?:[^"\\]|\\.)*"/g, "''");
}

/** The minute query of a New Relic metric source (`spec.nrql`, or `spec.query`), or why not. */
export function planNrql(metric: MetricSource, counter: boolean): PlannedQuery {
  const text = specText(metric, 'nrql', 'query');
  if (text === undefined)
    return {
      problem:
        "a New Relic metric source needs spec.nrql (or spec.query): NRQL such as SELECT count(*) FROM Transaction WHERE appName = 'checkout'",
    };
  const nrql = text.replace(/;\s*$/, '').replace(/\s+/g, ' ');
  if (!STARTS.test(nrql)) return { problem: `spec.nrql must be an NRQL query starting with SELECT or FROM` };
  const clause = OWN_CLAUSES.exec(withoutLiterals(nrql));
  if (clause)
    return {
      problem: `spec.nrql must not contain ${clause[1]!.toUpperCase().replace(/\s+/g, ' ')}: Shinrai adds SINCE, UNTIL and ${TIMESERIES_MINUTE} to read each minute; remove it`,
    };
  if (counter)
    return {
      problem:
        'counter: true does not apply to NRQL: an aggregate such as count(*) already counts each minute; drop counter: true',
    };
  return { query: `${nrql} ${TIMESERIES_MINUTE}` };
}

/** The NRQL sent for the minutes in [fromMs, toMs): the planned query with its range. */
export function rangedNrql(planned: string, fromMs: number, toMs: number): string {
  return `${planned} SINCE ${fromMs} UNTIL ${toMs}`;
}
