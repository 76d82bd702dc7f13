import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goFixed, goFloat, labelFilter } from './format.js';

describe('goFloat', () => {
  it.each([
    [99.9 / 100, '0.9990000000000001'],
    [(100 - 99.9) / 100, '0.0009999999999999432'],
    [(100 - 99.99) / 100, '0.00010000000000005117'],
    [(100 - 99.995) / 100, '4.999999999995453e-05'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [14.4, '14.4'],
    [6, '6'],
    [30, '30'],
    [123456, '123456'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [1e100, '1e+100'],
    [-0.5, '-0.5'],
    [0, '0'],
  ])('prints %d as Go does: %s', (x, text) => {
    expect(goFloat(x)).toBe(text);
  });

  it('round-trips every finite double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Number(goFloat(x))).toBe(x);
      }),
    );
  });
});

describe('goFixed', () => {
  it.each([
    [99.9, '99.9'],
    [99, '99'],
    [99.99, '99.99'],
    [1e-7, '0.0000001'],
    [1e21, '1000000000000000000000'],
  ])('prints %d without an exponent: %s', (x, text) => {
    expect(goFixed(x)).toBe(text);
  });
});

describe('labelFilter', () => {
  it('sorts labels and quotes values as Prometheus prints a label set', () => {
    expect(labelFilter({ sloth_slo: 'b', sloth_id: 'a-b', sloth_service: 'a' })).toBe(
      '{sloth_id="a-b", sloth_service="a", sloth_slo="b"}',
    );
    expect(labelFilter({ x: 'say "hi"\\' })).toBe('{x="say \\"hi\\"\\\\"}');
  });
});
