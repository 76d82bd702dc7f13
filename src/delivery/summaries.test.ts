import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FLAG_RESTORING, FLAG_SUCCESS } from './metrics.js';
import { buildSummary, packedBytes, packSummary, summaryHeader, unpackSummary } from './summaries.js';

describe('packed day summaries', () => {
  it('unpack what they pack, bit for bit, with the day in the header', () => {
    const times = fc.array(fc.integer({ min: 0, max: 2 ** 52 }), { maxLength: 30 });
    fc.assert(
      fc.property(
        times,
        times,
        times,
        fc.integer({ min: 0, max: 2 ** 31 }),
        (finishes, groupTimes, leads, day) => {
          const summary = {
            finishedAtMs: Float64Array.from(finishes),
            flags: Uint8Array.from(finishes, (_, i) => i % 4),
            groupAtMs: Float64Array.from(groupTimes),
            groupSize: Uint32Array.from(groupTimes, (_, i) => (i === 0 ? leads.length : 0)),
            leadTimeMs: Float64Array.from(leads, (v) => v - 2 ** 51),
          };
          const packed = packSummary(summary, day);
          expect(packed.byteLength).toBe(packedBytes(finishes.length, groupTimes.length, leads.length));
          expect(summaryHeader(packed)).toEqual({
            deployments: finishes.length,
            groups: groupTimes.length,
            leads: leads.length,
            day,
          });
          // Inside a larger buffer at an odd offset, as a database driver may hand it over.
          const shifted = new Uint8Array(packed.byteLength + 3);
          shifted.set(packed, 3);
          expect(unpackSummary(shifted.subarray(3))).toEqual(summary);
        },
      ),
    );
  });

  it('orders deployments by finish then id, keeps only those that reached production, and groups lead times by first deployment', () => {
    const { data, ids } = buildSummary(
      20_000,
      [
        { id: 'b', finishedAtMs: 2000, status: 'success', kind: 'normal' },
        { id: 'a', finishedAtMs: 2000, status: 'rolled_back', kind: 'hotfix' },
        { id: 'c', finishedAtMs: 1000, status: 'failure', kind: 'normal' },
        { id: 'd', finishedAtMs: 500, status: 'success', kind: 'rollback' },
      ],
      [
        { committedAtMs: 100, firstDeployedAtMs: 2000 },
        { committedAtMs: 400, firstDeployedAtMs: 500 },
        { committedAtMs: 2000, firstDeployedAtMs: 2000 },
      ],
    );
    expect(ids).toEqual(['d', 'a', 'b']);
    const day = unpackSummary(data);
    expect([...day.finishedAtMs]).toEqual([500, 2000, 2000]);
    expect([...day.flags]).toEqual([FLAG_SUCCESS | FLAG_RESTORING, FLAG_RESTORING, FLAG_SUCCESS]);
    expect([...day.groupAtMs]).toEqual([500, 2000]);
    expect([...day.groupSize]).toEqual([1, 2]);
    // A lead time of 0 is kept here: the metrics count it as excluded.
    expect([...day.leadTimeMs].slice(0, 1)).toEqual([100]);
    expect([...day.leadTimeMs].slice(1).sort((a, b) => a - b)).toEqual([0, 1900]);
  });
});
