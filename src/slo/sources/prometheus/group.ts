/**
 * Minute queries that one PromQL query answers together (pure). Sloth-style SLIs differ only by a
 * label value — `sum(rate(http_requests_total{job="a",code="500"}[1m]))` for job a, b, c… — and
 * `sum by (job) (rate(http_requests_total{code="500",job=~"a|b|c"}[1m]))` holds each of their
 * answers as the series labelled with its job. docs/prometheus.md ("Shared queries") says why the
 * numbers are the same.
 *
 * Only one shape is grouped: `sum(rate|increase(<selector>[1m]))`, members that differ only in the
 * value of one `label="value"` matcher. Anything else runs as written.
 */
import type { QueryGroup } from '../port.js';

const NAME = '[A-Za-z_:][A-Za-z0-9_:]*';
const LABEL = '[A-Za-z_][A-Za-z0-9_]*';
/** A double-quoted PromQL string, escapes included (kept verbatim when the matcher is not grouped on). */
const STRING = '"(?:[^"\\\\]|\\\\.)*"';
const SHAPE = new RegExp(
  `^sum\\s*\\(\\s*(rate|increase)\\s*\\(\\s*(${NAME})?\\s*\\{(.*)\\}\\s*\\[\\s*1m\\s*\\]\\s*\\)\\s*\\)$`,
  's',
);
const MATCHER = new RegExp(`\\s*(${LABEL})\\s*(=~|!~|!=|=)\\s*(${STRING})\\s*(,|$)`, 'y');
/** Values grouped on: no quote, backslash or line break, so they need no unescaping. */
const PLAIN_VALUE = /^[^"\\\n\r]+$/;

interface Matcher {
  readonly label: string;
  readonly text: string;
  /** The value of a `label="value"` matcher with a plain value; undefined otherwise. */
  readonly equals: string | undefined;
}

/** The parts of a groupable minute query, or undefined when it is not of the grouped shape. */
export function parseGroupable(
  query: string,
): { readonly fn: string; readonly name: string; readonly matchers: readonly Matcher[] } | undefined {
  const shape = SHAPE.exec(query.trim());
  if (!shape) return undefined;
  const [, fn, name = '', body = ''] = shape;
  const matchers: Matcher[] = [];
  // `{job="a", }` may end with a comma; anything else left over is not a selector we read.
  for (let at = 0; body.slice(at).trim() !== ''; ) {
    MATCHER.lastIndex = at;
    const m = MATCHER.exec(body);
    if (!m) return undefined;
    const [, label, op, literal, comma] = m as unknown as [string, string, string, string, string];
    const inner = literal.slice(1, -1);
    matchers.push({
      label,
      text: `${label}${op}${literal}`,
      equals: op === '=' && PLAIN_VALUE.test(inner) ? inner : undefined,
    });
    at = MATCHER.lastIndex;
    if (comma === '' && body.slice(at).trim() !== '') return undefined;
  }
  return { fn: fn!, name, matchers };
}

/** RE2 matches a literal value: its metacharacters escaped. */
function literalRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** A PromQL double-quoted string holding `text` (only backslashes and quotes need escaping here). */
function promString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

interface Candidate {
  readonly query: string;
  readonly key: string;
  readonly value: string;
}

/**
 * Groups of the given queries that one query answers together, at most `maxMembers` each; a query
 * in no group (another shape, or alone in its family) is left out and runs as written.
 */
export function groupMinuteQueries(queries: readonly string[], maxMembers: number): QueryGroup[] {
  // Every way each query could join a family: one per `label="value"` matcher it has.
  const families = new Map<
    string,
    { fn: string; name: string; others: string[]; label: string; members: Candidate[] }
  >();
  const candidates = new Map<string, Candidate[]>();
  for (const query of new Set(queries)) {
    const parsed = parseGroupable(query);
    if (!parsed) continue;
    const labels = parsed.matchers.map((m) => m.label);
    const own: Candidate[] = [];
    for (const [i, matcher] of parsed.matchers.entries()) {
      // A label matched twice (`job="a",job!="b"`) or `__name__` is not grouped on.
      if (matcher.equals === undefined || matcher.label === '__name__') continue;
      if (labels.indexOf(matcher.label) !== labels.lastIndexOf(matcher.label)) continue;
      const others = parsed.matchers
        .filter((_, j) => j !== i)
        .map((m) => m.text)
        .sort();
      const key = JSON.stringify([parsed.fn, parsed.name, others, matcher.label]);
      const candidate = { query, key, value: matcher.equals };
      let family = families.get(key);
      if (!family) {
        family = { fn: parsed.fn, name: parsed.name, others, label: matcher.label, members: [] };
        families.set(key, family);
      }
      family.members.push(candidate);
      own.push(candidate);
    }
    candidates.set(query, own);
  }
  // Greedy: the largest family first takes its queries; the rest regroup without them.
  const placed = new Set<string>();
  const groups: QueryGroup[] = [];
  for (;;) {
    let best: { key: string; size: number } | undefined;
    for (const [key, family] of families) {
      const size = family.members.filter((c) => !placed.has(c.query)).length;
      if (size >= 2 && (!best || size > best.size)) best = { key, size };
    }
    if (!best) break;
    const family = families.get(best.key)!;
    const members = family.members.filter((c) => !placed.has(c.query));
    for (const c of members) placed.add(c.query);
    for (let i = 0; i < members.length; i += maxMembers) {
      const slice = members.slice(i, i + maxMembers);
      if (slice.length < 2) continue;
      const values = [...new Set(slice.map((c) => c.value))].sort();
      const regex = values.map(literalRegex).join('|');
      const matchers = [...family.others, `${family.label}=~${promString(regex)}`].join(',');
      groups.push({
        query: `sum by (${family.label}) (${family.fn}(${family.name}{${matchers}}[1m]))`,
        label: family.label,
        members: new Map(slice.map((c) => [c.query, c.value])),
      });
    }
  }
  return groups;
}
