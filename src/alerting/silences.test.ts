import { describe, expect, it } from 'vitest';
import { matches, regexProblem, type Silence, silencedBy } from './silences.js';

const silence = (matchers: Silence['matchers'], startsAtMs = 0, endsAtMs = 100): Silence => ({
  id: 's1',
  matchers,
  startsAtMs,
  endsAtMs,
  comment: 'c',
  createdBy: 'me',
  createdAtMs: 0,
});
const labels = { slo: 'checkout-availability', severity: 'critical', tier: 'page' };

describe('silences', () => {
  it('match every matcher, equal or as a fully anchored regex', () => {
    expect(matches(silence([{ label: 'slo', value: 'checkout-availability' }]), labels, 10)).toBe(true);
    expect(matches(silence([{ label: 'slo', value: 'checkout' }]), labels, 10)).toBe(false);
    expect(matches(silence([{ label: 'slo', value: 'checkout-.*', regex: true }]), labels, 10)).toBe(true);
    expect(matches(silence([{ label: 'slo', value: 'checkout', regex: true }]), labels, 10)).toBe(false);
    expect(
      matches(
        silence([
          { label: 'slo', value: 'checkout-.*', regex: true },
          { label: 'tier', value: 'ticket' },
        ]),
        labels,
        10,
      ),
    ).toBe(false);
    // a label the alert lacks is the empty string, as in Alertmanager
    expect(matches(silence([{ label: 'team', value: '' }]), labels, 10)).toBe(true);
  });

  it('only between start (inclusive) and end (exclusive)', () => {
    const s = silence([{ label: 'tier', value: 'page' }], 10, 20);
    expect([9, 10, 19, 20].map((t) => matches(s, labels, t))).toEqual([false, true, true, false]);
    expect(silencedBy([s], labels, 15)).toEqual(['s1']);
  });

  it('names a broken regular expression', () => {
    expect(regexProblem('a.*')).toBeUndefined();
    expect(regexProblem('(')).toMatch(/Invalid regular expression/);
  });
});
