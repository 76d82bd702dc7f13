/**
 * Error-budget engine: cost of one evaluation cycle (every SLO gets its newest minute, advances one
 * minute and reports its status) for the incremental engine versus recomputing from the whole history
 * with `evaluate`. Flags: --slos N (10000), --days D (30), --cycles C (10) timed after --warmup W (3)
 * untimed cycles, --naive-sample K (10),
 * --method Occurrences|Timeslices|RatioTimeslices|mix (Occurrences).
 */

import { evaluate } from '../src/slo/budget/evaluate.js';
import { IncrementalObjective } from '../src/slo/budget/incremental.js';
import type { BudgetingMethod, BudgetStatus, MinuteCounts, ObjectiveSpec } from '../src/slo/budget/types.js';
import { formatDuration } from '../src/slo/duration.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const MIN = 60_000;
const BURN_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];
const UNIT_MS: Record<string, number> = { m: MIN, h: 60 * MIN, d: 1_440 * MIN };
const METHODS: BudgetingMethod[] = ['Occurrences', 'Timeslices', 'RatioTimeslices'];

function objective(days: number, method: BudgetingMethod): ObjectiveSpec {
  return {
    target: 0.999,
    method,
    timeSliceTarget: 0.99,
    timeSliceMs: MIN,
    window: { kind: 'rolling', duration: { count: days, unit: 'd' }, windowMs: days * 1_440 * MIN },
    noData: 'excluded',
    adjustments: [],
    burnWindows: BURN_WINDOWS.map((label) => ({
      label,
      windowMs: Number(label.slice(0, -1)) * UNIT_MS[label.slice(-1)]!,
    })),
    currentBurnWindowMs: 60 * MIN,
    minDataCoverage: 0.9,
  };
}

/** Deterministic traffic: 200–999 requests a minute, a few failures, rare incidents. */
function traffic(slo: number, minute: number): [good: number, total: number] {
  let h = Math.imul(slo ^ 0x9e3779b9, 0x85ebca6b) ^ minute;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  const total = 200 + (h % 800);
  const bad = (h >>> 20) % 2_000 === 0 ? total >> 2 : (h >>> 9) % 50 === 0 ? 1 : 0;
  return [total - bad, total];
}

function ms(n: number): string {
  return n < 10 ? n.toFixed(3) : n < 1000 ? n.toFixed(1) : n.toFixed(0);
}

export async function run(flags: BenchFlags): Promise<void> {
  const slos = intFlag(flags, 'slos', 10_000);
  const days = intFlag(flags, 'days', 30);
  const cycles = intFlag(flags, 'cycles', 10);
  const warmup = flags.warmup === '0' ? 0 : intFlag(flags, 'warmup', 3);
  const sample = Math.min(slos, intFlag(flags, 'naive-sample', 10));
  const methodFlag = typeof flags.method === 'string' ? flags.method : 'Occurrences';
  if (methodFlag !== 'mix' && !METHODS.includes(methodFlag as BudgetingMethod)) {
    throw new Error('--method is Occurrences, Timeslices, RatioTimeslices or mix');
  }
  const methodOf = (slo: number): BudgetingMethod =>
    methodFlag === 'mix' ? METHODS[slo % METHODS.length]! : (methodFlag as BudgetingMethod);
  const specs = new Map(METHODS.map((m) => [m, objective(days, m)]));
  const historyMin = days * 1_440;
  const firstMinute = Math.floor(Date.UTC(2026, 0, 1) / MIN);
  const fillEndMs = (firstMinute + historyMin) * MIN;

  console.log(
    `${slos} SLOs × ${days} days of one-minute data, ${methodFlag}, rolling ${days}d, burn windows ${BURN_WINDOWS.join(' ')} + ${formatDuration({ count: days, unit: 'd' })}`,
  );

  // Fill: start each engine at the end of the history, then backfill every minute (late data).
  const fillStart = performance.now();
  const engines: IncrementalObjective[] = [];
  let lastReport = fillStart;
  for (let slo = 0; slo < slos; slo++) {
    const engine = new IncrementalObjective(specs.get(methodOf(slo))!);
    engine.advanceTo(fillEndMs);
    for (let i = 0; i < historyMin; i++) {
      const [good, total] = traffic(slo, i);
      engine.add((firstMinute + i) * MIN, good, total);
    }
    engines.push(engine);
    const now = performance.now();
    if (now - lastReport > 5_000 || slo === slos - 1) {
      lastReport = now;
      const rssGiB = process.memoryUsage().rss / 2 ** 30;
      process.stderr.write(
        `fill: ${slo + 1}/${slos} SLOs, ${((now - fillStart) / 1000).toFixed(0)} s, RSS ${rssGiB.toFixed(1)} GiB\n`,
      );
    }
  }
  const fillSeconds = (performance.now() - fillStart) / 1000;

  // Incremental: each cycle adds the newest minute to every SLO, advances one minute and reads the status.
  let atMs = fillEndMs;
  let minute = historyMin;
  const incrementalMs: number[] = [];
  const lastStatus: BudgetStatus[] = [];
  for (let c = 0; c < warmup + cycles; c++) {
    const t0 = performance.now();
    for (let slo = 0; slo < slos; slo++) {
      const [good, total] = traffic(slo, minute);
      const engine = engines[slo]!;
      engine.add(atMs, good, total);
      lastStatus[slo] = engine.status(atMs + MIN);
    }
    if (c >= warmup) incrementalMs.push(performance.now() - t0);
    atMs += MIN;
    minute++;
  }

  // Naive: `evaluate` over the whole history, timed on a sample of SLOs and scaled to all of them.
  let naiveTotalMs = 0;
  let naiveRuns = 0;
  let worstGap = 0;
  for (let slo = 0; slo < sample; slo++) {
    const history: MinuteCounts[] = [];
    for (let i = 0; i < minute; i++) {
      const [good, total] = traffic(slo, i);
      history.push({ ts: (firstMinute + i) * MIN, good, total });
    }
    const spec = specs.get(methodOf(slo))!;
    for (let c = 0; c < 2; c++) {
      const t0 = performance.now();
      const status = evaluate(spec, history, atMs);
      naiveTotalMs += performance.now() - t0;
      naiveRuns++;
      const incremental = lastStatus[slo]!;
      worstGap = Math.max(worstGap, Math.abs(status.budget.remaining - incremental.budget.remaining));
    }
  }
  const naivePerSloMs = naiveTotalMs / naiveRuns;
  const naiveCycleMs = naivePerSloMs * slos;
  const sorted = [...incrementalMs].sort((a, b) => a - b);
  const incrementalCycleMs = sorted[Math.floor(sorted.length / 2)]!;
  const bytesPerSlo = engines.reduce((sum, e) => sum + e.stateBytes(), 0) / slos;

  console.log(`fill (backfill ${historyMin} minutes per SLO): ${fillSeconds.toFixed(1)} s`);
  console.log(
    `incremental: ${ms(incrementalCycleMs)} ms per cycle (median of ${cycles} after ${warmup} warm-up; all: ${incrementalMs.map(ms).join(', ')})`,
  );
  console.log(
    `naive evaluate: ${ms(naivePerSloMs)} ms per SLO, measured on ${sample} SLOs × 2 → ${ms(naiveCycleMs)} ms per cycle scaled to ${slos} SLOs`,
  );
  console.log(`ratio naive / incremental: ${Math.round(naiveCycleMs / incrementalCycleMs)}×`);
  console.log(
    `state: ${Math.round(bytesPerSlo)} bytes per SLO in typed arrays, ${((bytesPerSlo * slos) / 2 ** 30).toFixed(2)} GiB in all; RSS ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB`,
  );
  console.log(`agreement on the sampled SLOs: max |Δ remaining| = ${worstGap.toExponential(2)}`);
}
