import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOUR_MS, hourRuns } from './hour-sums.js';

describe('hourRuns', () => {
  it('merges duplicate and consecutive hours of an SLI into runs', () => {
    const h = (n: number) => n * HOUR_MS;
    expect(
      hourRuns([
        { sli: 'a', hourMs: h(5) },
        { sli: 'a', hourMs: h(3) },
        { sli: 'b', hourMs: h(3) },
        { sli: 'a', hourMs: h(4) },
        { sli: 'a', hourMs: h(4) },
        { sli: 'a', hourMs: h(9) },
      ]),
    ).toEqual([
      { sli: 'a', fromMs: h(3), toMs: h(6) },
      { sli: 'a', fromMs: h(9), toMs: h(10) },
      { sli: 'b', fromMs: h(3), toMs: h(4) },
    ]);
  });

  it('covers exactly the marked hours, in disjoint runs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ sli: fc.constantFrom('a', 'b', 'c'), hour: fc.integer({ min: 0, max: 40 }) })),
        (marks) => {
          const runs = hourRuns(marks.map((m) => ({ sli: m.sli, hourMs: m.hour * HOUR_MS })));
          const covered = runs.flatMap((r) => {
            const hours: string[] = [];
            for (let ms = r.fromMs; ms < r.toMs; ms += HOUR_MS) hours.push(`${r.sli}@${ms / HOUR_MS}`);
            return hours;
          });
          expect(covered.length).toBe(new Set(covered).size);
          expect(new Set(covered)).toEqual(new Set(marks.map((m) => `${m.sli}@${m.hour}`)));
        },
      ),
    );
  });
});
