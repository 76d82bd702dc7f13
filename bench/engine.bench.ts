/**
 * Error-budget engine: cost of one evaluation cycle (every SLO gets its newest minute, advances one
 * minute and reports its status) for the incremental engine versus a fair from-scratch baseline:
 * one backward pass over per-minute typed arrays (scratch-budget.ts). The reference engine
 * (`evaluate`, Maps of objects) is timed too, for comparison. Every compared status must agree,
 * or the run fails.
 * Flags: --slos N (10000), --days D (30), --cycles C (10) timed after --warmup W (3) untimed
 * cycles, --scratch-sample K (100), --naive-sample K (10),
 * --method Occurrences|Timeslices|RatioTimeslices|mix (Occurrences), --perturb (adds one bad
 * event to SLO 0's incremental engine only: the checks must fail, proving they bite).
 */

import { evaluate } from '../src/slo/budget/evaluate.js';
import { IncrementalObjective } from '../src/slo/budget/incremental.js';
import type { BudgetingMethod, BudgetStatus, MinuteCounts, ObjectiveSpec } from '../src/slo/budget/types.js';
import { formatDuration } from '../src/slo/duration.js';
import { agree, check } from './check.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';
import { type ScratchStatus, scratchStatus } from './scratch-budget.js';

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
  // --perturb: one extra failed request for SLO 0 in the incremental engine only (see the header).
  const perturb = flags.perturb === true;
  for (let c = 0; c < warmup + cycles; c++) {
    const t0 = performance.now();
    for (let slo = 0; slo < slos; slo++) {
      const [good, total] = traffic(slo, minute);
      const engine = engines[slo]!;
      engine.add(atMs, good, total);
      if (perturb && slo === 0 && c === 0) engine.add(atMs, 0, 1);
      lastStatus[slo] = engine.status(atMs + MIN);
    }
    if (c >= warmup) incrementalMs.push(performance.now() - t0);
    atMs += MIN;
    minute++;
  }

  // The same instant's status from scratch over typed arrays, on a sample of SLOs (their
  // histories do not all fit in memory beside the engines), scaled to all of them.
  const scratchSample = Math.min(slos, intFlag(flags, 'scratch-sample', 100));
  let scratchTotalMs = 0;
  let scratchRuns = 0;
  let scratchDisagreements = 0;
  let firstScratchGap: string | undefined;
  for (let slo = 0; slo < scratchSample; slo++) {
    const good = new Float64Array(minute);
    const total = new Float64Array(minute);
    for (let i = 0; i < minute; i++) [good[i], total[i]] = traffic(slo, i);
    const spec = specs.get(methodOf(slo))!;
    // Warm the JIT up on the first SLO of each method, as the incremental cycles were (untimed).
    if (slo < METHODS.length) for (let w = 0; w < 20; w++) scratchStatus(spec, good, total, minute, atMs);
    let status: ScratchStatus | undefined;
    for (let c = 0; c < 2; c++) {
      const t0 = performance.now();
      status = scratchStatus(spec, good, total, minute, atMs);
      scratchTotalMs += performance.now() - t0;
      scratchRuns++;
    }
    const gap = statusGap(lastStatus[slo]!, status!);
    if (gap) {
      scratchDisagreements++;
      firstScratchGap ??= `SLO ${slo}: ${gap}`;
    }
  }
  const scratchPerSloMs = scratchTotalMs / scratchRuns;
  const scratchCycleMs = scratchPerSloMs * slos;

  // Naive: `evaluate` (the reference engine, Maps of objects) over the whole history, on a sample.
  let naiveTotalMs = 0;
  let naiveRuns = 0;
  let naiveDisagreements = 0;
  let firstNaiveGap: string | undefined;
  for (let slo = 0; slo < sample; slo++) {
    const history: MinuteCounts[] = [];
    for (let i = 0; i < minute; i++) {
      const [good, total] = traffic(slo, i);
      history.push({ ts: (firstMinute + i) * MIN, good, total });
    }
    const spec = specs.get(methodOf(slo))!;
    let status: BudgetStatus | undefined;
    for (let c = 0; c < 2; c++) {
      const t0 = performance.now();
      status = evaluate(spec, history, atMs);
      naiveTotalMs += performance.now() - t0;
      naiveRuns++;
    }
    const gap = statusGap(lastStatus[slo]!, {
      ...status!,
      remaining: status!.budget.remaining,
      budgetTotal: status!.budget.total,
      consumed: status!.budget.consumed,
    });
    if (gap) {
      naiveDisagreements++;
      firstNaiveGap ??= `SLO ${slo}: ${gap}`;
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
    `from scratch over typed arrays (baseline): ${ms(scratchPerSloMs)} ms per SLO, measured on ${scratchSample} SLOs × 2 → ${ms(scratchCycleMs)} ms per cycle scaled to ${slos} SLOs`,
  );
  console.log(
    `reference engine (evaluate, Maps of objects): ${ms(naivePerSloMs)} ms per SLO, measured on ${sample} SLOs × 2 → ${ms(naiveCycleMs)} ms per cycle scaled to ${slos} SLOs`,
  );
  console.log(
    `ratio from-scratch (typed arrays) / incremental: ${(scratchCycleMs / incrementalCycleMs).toFixed(0)}×`,
  );
  console.log(`ratio reference engine / incremental: ${(naiveCycleMs / incrementalCycleMs).toFixed(0)}×`);
  console.log(
    `state: ${Math.round(bytesPerSlo)} bytes per SLO in typed arrays, ${((bytesPerSlo * slos) / 2 ** 30).toFixed(2)} GiB in all; RSS ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB`,
  );
  check(
    scratchDisagreements === 0,
    `incremental statuses equal the from-scratch ones on ${scratchSample} SLOs (1e-9 relative)`,
    firstScratchGap,
  );
  check(
    naiveDisagreements === 0,
    `incremental statuses equal the reference engine's on ${sample} SLOs (1e-9 relative)`,
    firstNaiveGap,
  );
  check(
    Number.isFinite(scratchCycleMs / incrementalCycleMs) && incrementalCycleMs > 0,
    'the ratio is a finite number',
  );
}

/** The first figure on which an incremental status and a recomputed one differ, or undefined. */
function statusGap(incremental: BudgetStatus, other: ScratchStatus): string | undefined {
  const pairs: Array<[string, number | null, number | null]> = [
    ['sli', incremental.sli, other.sli],
    ['budget.remaining', incremental.budget.remaining, other.remaining],
    ['budget.total', incremental.budget.total, other.budgetTotal],
    ['budget.consumed', incremental.budget.consumed, other.consumed],
    ['currentBurnRate', incremental.currentBurnRate, other.currentBurnRate],
    ['coverage', incremental.coverage, other.coverage],
    ['exhaustionAt', incremental.exhaustionAt, other.exhaustionAt],
    ...Object.entries(other.burnRates).map(([label, rate]): [string, number | null, number | null] => [
      `burnRates.${label}`,
      incremental.burnRates[label] ?? null,
      rate,
    ]),
  ];
  for (const [what, a, b] of pairs) {
    if (!agree(a, b, 1e-9)) return `${what} ${a} vs ${b}`;
  }
  return undefined;
}
