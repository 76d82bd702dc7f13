/** Unit tests of the DORA performance levels against the transcribed benchmark tables. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.js';
import {
  BENCHMARK_YEARS,
  benchmarkSource,
  benchmarkTable,
  DORA_BENCHMARKS,
  LATEST_BENCHMARK_YEAR,
  LEVEL_NAMES,
  type LevelMetric,
  levelFor,
} from './levels.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const name = (metric: LevelMetric, value: number | null, year?: number) =>
  levelFor(metric, value, year)?.name ?? null;

describe('benchmark tables', () => {
  it('cover 2021 to 2024, default to the latest, and list clusters best first', () => {
    expect(BENCHMARK_YEARS).toEqual([2021, 2022, 2023, 2024]);
    expect(LATEST_BENCHMARK_YEAR).toBe(2024);
    expect(benchmarkSource()).toEqual({ year: 2024, source: 'Accelerate State of DevOps Report 2024' });
    for (const table of DORA_BENCHMARKS) {
      const order = table.clusters.map((cluster) => LEVEL_NAMES.indexOf(cluster.level));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(table.source.where.length).toBeGreaterThan(10);
    }
    // 2022 had no elite cluster.
    expect(DORA_BENCHMARKS.find((table) => table.year === 2022)!.clusters.map((c) => c.level)).toEqual([
      'high',
      'medium',
      'low',
    ]);
  });

  it('answers an unknown year with an Invalid error naming the years', () => {
    expect(benchmarkTable(2019)).toEqual({
      ok: false,
      error: 'No DORA benchmark table for 2019: the years are 2021, 2022, 2023, 2024.',
    });
    expect(() => levelFor('leadTime', HOUR, 2019)).toThrow(AppError);
    expect(() => levelFor('leadTime', HOUR, 2019)).toThrow(/2021, 2022, 2023, 2024/);
  });
});

describe('levelFor', () => {
  it('places 2024 values by the worse edge of each cluster, best cluster first', () => {
    // deployments per day: elite ≥ 1, high ≥ 1/7, medium ≥ 1/30.4375, else low
    expect(levelFor('deploymentFrequency', 3)).toEqual({ name: 'elite', label: 'Elite' });
    expect(name('deploymentFrequency', 1)).toBe('elite');
    expect(name('deploymentFrequency', 0.5)).toBe('high');
    expect(name('deploymentFrequency', 1 / 7)).toBe('high');
    expect(name('deploymentFrequency', 0.1)).toBe('medium');
    expect(name('deploymentFrequency', 1 / 30.4375)).toBe('medium');
    expect(name('deploymentFrequency', 0.02)).toBe('low');
    expect(name('deploymentFrequency', 0)).toBe('low');
    // lead time: elite ≤ 1 day, high ≤ 1 week, medium ≤ 1 month, else low
    expect(name('leadTime', 30_000)).toBe('elite');
    expect(name('leadTime', DAY)).toBe('elite');
    expect(name('leadTime', DAY + 1)).toBe('high');
    expect(name('leadTime', 10 * DAY)).toBe('medium');
    expect(name('leadTime', 400 * DAY)).toBe('low');
    // recovery: elite ≤ 1 h; high and medium both "less than one day" → high; else low
    expect(name('recoveryTime', 30 * MIN)).toBe('elite');
    expect(name('recoveryTime', 2 * HOUR)).toBe('high');
    expect(name('recoveryTime', 2 * DAY)).toBe('low');
  });

  it('reads the non-monotonic 2024 change fail rates as upper edges from the best cluster down', () => {
    // elite 5%, high 20%, medium 10%, low 40%: medium's 10% lies inside high's 20%, so medium is never given
    expect(name('changeFailRate', 0)).toBe('elite');
    expect(name('changeFailRate', 0.05)).toBe('elite');
    expect(name('changeFailRate', 0.08)).toBe('high');
    expect(name('changeFailRate', 0.2)).toBe('high');
    expect(name('changeFailRate', 0.25)).toBe('low');
    expect(name('changeFailRate', 1)).toBe('low');
  });

  it('follows each earlier year’s own table', () => {
    // 2021: elite lead time < 1 h; 3 h falls in the gap before "one day to one week" → high
    expect(name('leadTime', 3 * HOUR, 2021)).toBe('high');
    expect(name('leadTime', 2 * 30 * DAY, 2021)).toBe('medium');
    // 2021 change fail rates: elite 0–15%, high/medium/low 16–30% → ≤ 30% high, above low
    expect(name('changeFailRate', 0.15, 2021)).toBe('elite');
    expect(name('changeFailRate', 0.3, 2021)).toBe('high');
    expect(name('changeFailRate', 0.31, 2021)).toBe('low');
    // 2021 frequency: 3 a week is between elite (daily) and high (weekly–monthly) → high
    expect(name('deploymentFrequency', 3 / 7, 2021)).toBe('high');
    // 2022: no elite; ten a day is high
    expect(name('deploymentFrequency', 10, 2022)).toBe('high');
    expect(name('recoveryTime', 1, 2022)).toBe('high');
    expect(name('changeFailRate', 0.4, 2022)).toBe('low');
    // 2023: low shares medium's frequency range; below once a month is low
    expect(name('deploymentFrequency', 0.1, 2023)).toBe('medium');
    expect(name('deploymentFrequency', 0.02, 2023)).toBe('low');
    expect(name('changeFailRate', 0.12, 2023)).toBe('medium');
    expect(name('changeFailRate', 0.16, 2023)).toBe('low');
  });

  it('gives no level for rework rate (no report to 2024 has clusters for it) or for no value', () => {
    for (const year of BENCHMARK_YEARS) expect(levelFor('reworkRate', 0.1, year)).toBeNull();
    expect(levelFor('leadTime', null)).toBeNull();
    expect(levelFor('changeFailRate', Number.NaN)).toBeNull();
  });

  it('never gives a better level to a worse value (property)', () => {
    const metric = fc.constantFrom<LevelMetric>(
      'deploymentFrequency',
      'leadTime',
      'changeFailRate',
      'recoveryTime',
    );
    fc.assert(
      fc.property(
        metric,
        fc.constantFrom(...BENCHMARK_YEARS),
        fc.double({ min: 0, max: 1e11, noNaN: true }),
        fc.double({ min: 0, max: 1e11, noNaN: true }),
        (m, year, a, b) => {
          const [better, worse] =
            m === 'deploymentFrequency' ? [Math.max(a, b), Math.min(a, b)] : [Math.min(a, b), Math.max(a, b)];
          const rank = (value: number) => LEVEL_NAMES.indexOf(levelFor(m, value, year)!.name);
          expect(rank(better)).toBeLessThanOrEqual(rank(worse));
        },
      ),
    );
  });
});
