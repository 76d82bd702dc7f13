/** DORA performance levels (pure): places a metric value in a year's benchmark table (dora-benchmarks.ts). */
import { AppError } from '../platform/errors.js';
import {
  type BenchmarkTable,
  type Cluster,
  DORA_BENCHMARKS,
  LEVEL_LABELS,
  type LevelName,
} from './dora-benchmarks.js';

export type { BenchmarkTable, LevelName } from './dora-benchmarks.js';
export { DORA_BENCHMARKS, LEVEL_LABELS, LEVEL_NAMES } from './dora-benchmarks.js';

/** The metrics a level can be asked for. Rework rate has no cluster values in any table to 2024. */
export type LevelMetric =
  | 'deploymentFrequency'
  | 'leadTime'
  | 'changeFailRate'
  | 'recoveryTime'
  | 'reworkRate';

export interface Level {
  readonly name: LevelName;
  readonly label: string;
}

/** The years with a table, oldest first. */
export const BENCHMARK_YEARS: readonly number[] = DORA_BENCHMARKS.map((table) => table.year);

/** The latest table's year: the default. */
export const LATEST_BENCHMARK_YEAR: number = Math.max(...BENCHMARK_YEARS);

/** The year's table, or `{ok: false}` naming the years there are (for parsing a query parameter). */
export function benchmarkTable(
  year: number = LATEST_BENCHMARK_YEAR,
): { ok: true; table: BenchmarkTable } | { ok: false; error: string } {
  const table = DORA_BENCHMARKS.find((candidate) => candidate.year === year);
  return table
    ? { ok: true, table }
    : {
        ok: false,
        error: `No DORA benchmark table for ${year}: the years are ${BENCHMARK_YEARS.join(', ')}.`,
      };
}

/** The title the answers name the table by, e.g. "Accelerate State of DevOps Report 2024". */
export function benchmarkSource(year: number = LATEST_BENCHMARK_YEAR): { year: number; source: string } {
  const table = tableOrThrow(year);
  return { year: table.year, source: table.source.title };
}

/**
 * The level of `value` for `metric` in the `year` table (default: the latest). Units: deployment
 * frequency in deployments per day, lead and recovery times in ms, rates as fractions 0–1.
 * Null when the value is null or the table has no clusters for the metric (rework rate).
 * The value goes to the best cluster whose threshold it meets — at least the threshold for
 * deployment frequency, at most for the others — else to the year's worst cluster.
 * An unknown year throws AppError Invalid listing the years.
 */
export function levelFor(
  metric: LevelMetric,
  value: number | null,
  year: number = LATEST_BENCHMARK_YEAR,
): Level | null {
  const table = tableOrThrow(year);
  if (value === null || !Number.isFinite(value) || metric === 'reworkRate') return null;
  const meets = (cluster: Cluster): boolean => {
    const { threshold } = cluster[metric];
    if (threshold === null) return false;
    return metric === 'deploymentFrequency' ? value >= threshold : value <= threshold;
  };
  const cluster = table.clusters.find(meets) ?? table.clusters[table.clusters.length - 1]!;
  return { name: cluster.level, label: LEVEL_LABELS[cluster.level] };
}

function tableOrThrow(year: number): BenchmarkTable {
  const found = benchmarkTable(year);
  if (!found.ok) throw new AppError('Invalid', found.error);
  return found.table;
}
