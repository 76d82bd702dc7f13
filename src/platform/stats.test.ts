// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the syntax under test
import { describe, expect, it } from 'vitest';
import { expandEnv } from './env.js';
import { median, percentile } from './stats.js';

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

describe('expandEnv', () => {
  it('fills ${VAR} and names the first one missing', () => {
    expect(expandEnv('Bearer ${A}-${B}', { A: 'x', B: 'y' })).toEqual({ ok: true, value: 'Bearer x-y' });
    expect(expandEnv('${A}${NOPE}${ALSO}', { A: 'x' })).toEqual({ ok: false, missing: 'NOPE' });
    expect(expandEnv('plain $A {B}', {})).toEqual({ ok: true, value: 'plain $A {B}' });
  });
});
