// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the syntax under test
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandEnv } from './env.js';
import { median, percentile, percentileCont, percentileContSorted, percentilesContInPlace } from './stats.js';

describe('median and percentile', () => {
  it('order the values themselves and answer null when empty', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(percentile([30, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.9)).toBe(9);
    expect(percentile([1], 0.9)).toBe(1);
    expect(percentile([], 0.9)).toBeNull();
  });
});

describe('percentileCont (interpolated, as PERCENTILE_CONT)', () => {
  it('interpolates at position (n - 1) * p between the sorted values', () => {
    // [10, 20, 30, 40]: p50 at position 1.5 -> 20 + 0.5 * (30 - 20) = 25
    expect(percentileCont([40, 10, 30, 20], 0.5)).toBe(25);
    // p90 at position 2.7 -> 30 + 0.7 * (40 - 30) = 37
    expect(percentileCont([40, 10, 30, 20], 0.9)).toBeCloseTo(37, 10);
    // odd count: p50 is the middle value itself; p0 and p1 are the ends
    expect(percentileCont([3, 1, 2], 0.5)).toBe(2);
    expect(percentileCont([3, 1, 2], 0)).toBe(1);
    expect(percentileCont([3, 1, 2], 1)).toBe(3);
    expect(percentileCont([7], 0.9)).toBe(7);
    expect(percentileCont([], 0.5)).toBeNull();
    expect(percentileContSorted(Float64Array.of(0, 100), 0.25)).toBe(25);
  });

  it('by selection (percentilesContInPlace) answers exactly what sorting answers, in any order of p', () => {
    const values = fc.oneof(
      fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 50 }), // many ties
      fc.array(
        fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }).map((v) => v + 0),
        { maxLength: 200 },
      ), // no -0
      fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 601, maxLength: 3000 }), // the sampling branch
    );
    const ps = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(values, ps, (list, wanted) => {
        const sorted = Float64Array.from(list).sort();
        const expected = wanted.map((p) => percentileContSorted(sorted, p));
        expect(percentilesContInPlace(Float64Array.from(list), wanted)).toEqual(expected);
      }),
    );
    expect(percentilesContInPlace(new Float64Array(0), [0.5, 0.9])).toEqual([null, null]);
  });
});

describe('expandEnv', () => {
  it('fills ${VAR} and names the first one missing', () => {
    expect(expandEnv('Bearer ${A}-${B}', { A: 'x', B: 'y' })).toEqual({ ok: true, value: 'Bearer x-y' });
    expect(expandEnv('${A}${NOPE}${ALSO}', { A: 'x' })).toEqual({ ok: false, missing: 'NOPE' });
    expect(expandEnv('plain $A {B}', {})).toEqual({ ok: true, value: 'plain $A {B}' });
  });
});
