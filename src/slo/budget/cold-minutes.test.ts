import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColdMinutes, mergeRanges } from './cold-minutes.js';

const rangeArb = fc
  .tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 40 }))
  .map(([from, length]) => ({ from, to: from + length }));

/** The stored value of minute m in the model: any fixed function of m. */
const stored = (m: number) => ({ minute: m, good: m % 7, total: (m % 7) + (m % 3) });

function rowsOf(range: { from: number; to: number }) {
  const rows = [];
  for (let m = range.from; m < range.to; m++) if (m % 5 !== 0) rows.push(stored(m));
  return rows;
}

describe('ColdMinutes', () => {
  it('reads back what was put, zeros for minutes without a row, and lists exactly what is missing', () => {
    fc.assert(
      fc.property(
        fc.array(rangeArb, { maxLength: 8 }),
        fc.array(rangeArb, { maxLength: 4 }),
        (puts, keeps) => {
          const cold = new ColdMinutes();
          const loaded = new Set<number>();
          for (const range of puts) {
            cold.put(range, rowsOf(range));
            for (let m = range.from; m < range.to; m++) loaded.add(m);
          }
          const out = new Float64Array(2);
          for (let m = 0; m < 250; m++) {
            expect(cold.read(m, out)).toBe(loaded.has(m));
            if (loaded.has(m)) {
              const want = m % 5 === 0 ? { good: 0, total: 0 } : stored(m);
              expect([out[0], out[1]]).toEqual([want.good, want.total]);
            }
          }
          const missing = new Set<number>();
          for (const r of cold.missing([{ from: 0, to: 250 }]))
            for (let m = r.from; m < r.to; m++) missing.add(m);
          for (let m = 0; m < 250; m++) expect(missing.has(m)).toBe(!loaded.has(m));
          // holds never claims a range with a minute missing (it may miss one spanning two loads).
          for (const want of [...puts, ...keeps])
            if (cold.holds([want])) expect(cold.missing([want])).toEqual([]);
          if (puts[0] && puts[0].to > puts[0].from) expect(cold.holds([puts[0]])).toBe(true);
          expect(cold.bytes).toBe(16 * loaded.size);

          // retain keeps what meets the kept ranges (whole blocks up to 10 minutes, cut beyond).
          cold.retain(keeps, 10);
          const kept = new Set<number>();
          for (const k of mergeRanges(keeps)) for (let m = k.from; m < k.to; m++) kept.add(m);
          for (let m = 0; m < 250; m++) {
            if (kept.has(m) && loaded.has(m)) expect(cold.read(m, out)).toBe(true);
            if (!loaded.has(m)) expect(cold.read(m, out)).toBe(false);
          }
          let held = 0;
          for (let m = 0; m < 250; m++) if (cold.read(m, out)) held++;
          expect(cold.bytes).toBe(16 * held);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('fills only gaps: minutes already loaded keep their values', () => {
    const cold = new ColdMinutes();
    cold.put({ from: 10, to: 20 }, [{ minute: 12, good: 1, total: 2 }]);
    cold.put({ from: 5, to: 25 }, [
      { minute: 12, good: 9, total: 9 },
      { minute: 22, good: 3, total: 4 },
    ]);
    const out = new Float64Array(2);
    cold.read(12, out);
    expect([...out]).toEqual([1, 2]);
    cold.read(22, out);
    expect([...out]).toEqual([3, 4]);
    expect(cold.covers([{ from: 5, to: 25 }])).toBe(true);
    expect(cold.bytes).toBe(20 * 16);
  });
});
