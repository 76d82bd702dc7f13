import { describe, expect, it } from 'vitest';
import { groupMinuteQueries, parseGroupable } from './group.js';

const errors = (job: string) => `sum(rate(http_requests_total{job="${job}",code="500"}[1m]))`;
const totals = (job: string) => `sum(rate(http_requests_total{job="${job}"}[1m]))`;

describe('groupMinuteQueries', () => {
  it('answers Sloth queries that differ by job with one query grouped by job', () => {
    const queries = ['a', 'b', 'c'].flatMap((job) => [errors(job), totals(job)]);
    const groups = groupMinuteQueries(queries, 100);
    expect(groups).toHaveLength(2);
    const byQuery = new Map(groups.map((g) => [g.query, g]));
    const e = byQuery.get('sum by (job) (rate(http_requests_total{code="500",job=~"a|b|c"}[1m]))')!;
    expect(e.label).toBe('job');
    expect([...e.members]).toEqual([
      [errors('a'), 'a'],
      [errors('b'), 'b'],
      [errors('c'), 'c'],
    ]);
    expect(byQuery.get('sum by (job) (rate(http_requests_total{job=~"a|b|c"}[1m]))')?.members.size).toBe(3);
  });

  it('escapes regex metacharacters in the values, so each matches only itself', () => {
    const groups = groupMinuteQueries(
      ['sum(increase(req_total{path="/v1.2/a+b"}[1m]))', 'sum(increase(req_total{path="(x|y)"}[1m]))'],
      100,
    );
    expect(groups.map((g) => g.query)).toEqual([
      'sum by (path) (increase(req_total{path=~"\\\\(x\\\\|y\\\\)|/v1\\\\.2/a\\\\+b"}[1m]))',
    ]);
  });

  it('leaves other shapes, lone queries and differing selectors alone', () => {
    expect(
      groupMinuteQueries(
        [
          'sum(rate(x{job="a"}[5m]))', // not a minute window
          'sum(rate(x{job="b"}[5m]))',
          'rate(x{job="a"}[1m])', // no sum
          'sum(rate(y{job="a"}[1m])) * 60',
          'sum(rate(z{job="a"}[1m]))', // alone in its family
          'sum(rate(w{job="a",code="500"}[1m]))', // differ in two labels
          'sum(rate(w{job="b",code="400"}[1m]))',
          'sum(rate(v{job="a",job!="b"}[1m]))', // a label matched twice
          'sum(rate(v{job="c",job!="b"}[1m]))',
          'sum(rate(u{job=""}[1m]))', // empty values match a missing label
          'sum(rate(u{job="b"}[1m]))',
          'sum(rate(t{job="a\\"q"}[1m]))', // escaped values are not unescaped
          'sum(rate(t{job="b"}[1m]))',
        ],
        100,
      ),
    ).toEqual([]);
  });

  it('splits a family into groups of at most maxMembers and runs a remainder of one alone', () => {
    const queries = ['a', 'b', 'c', 'd', 'e'].map(totals);
    const groups = groupMinuteQueries(queries, 2);
    expect(groups.map((g) => [...g.members.values()])).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('groups on the label that gathers most queries', () => {
    const queries = ['a', 'b', 'c'].map(errors);
    expect(groupMinuteQueries(queries, 100).map((g) => g.label)).toEqual(['job']);
  });

  it('reads selectors with spaces, a braces-only name, escaped values in other matchers', () => {
    expect(parseGroupable(' sum ( increase ( {__name__="x", job = "a" , } [ 1m ] ) ) ')).toMatchObject({
      fn: 'increase',
      name: '',
      matchers: [
        { label: '__name__', equals: 'x' },
        { label: 'job', equals: 'a' },
      ],
    });
    const groups = groupMinuteQueries(
      ['sum(rate(x{msg="say \\"hi\\"",job="a"}[1m]))', 'sum(rate(x{msg="say \\"hi\\"",job="b"}[1m]))'],
      10,
    );
    expect(groups.map((g) => g.query)).toEqual(['sum by (job) (rate(x{msg="say \\"hi\\"",job=~"a|b"}[1m]))']);
    expect(parseGroupable('sum(rate(x{job="a" code="b"}[1m]))')).toBeUndefined();
    expect(parseGroupable('sum(rate(x{job="a"} offset 5m [1m]))')).toBeUndefined();
  });
});
