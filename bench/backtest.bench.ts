/**
 * Backtest: N SLOs × D days of one-minute data through the four default burn-rate windows (page
 * 1h/5m and 6h/30m, ticket 1d/2h and 3d/6h). Reports the time and SLO-days per second, and checks
 * the cost grows with days × SLOs and not with window length: the same run with windows ten times
 * longer, and with half the SLOs and half the days, measured in the same process.
 * Flags: --slos N (1000), --days D (90), --repeat R (3, median).
 */
import { backtest } from '../src/alerting/backtest.js';
import { type AlertRule, alertRulesFor } from '../src/alerting/policy.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { ratioSloYaml } from '../test/support/specs.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const START = Date.UTC(2026, 0, 1);

function defaultRules(): readonly AlertRule[] {
  const slo = loadSpecText(
    'bench.yaml',
    ratioSloYaml('bench', { service: 'bench', sli: 'bench-requests', window: '30d', target: 0.999 }),
  ).catalog.slos[0]!;
  const rules = alertRulesFor(slo);
  if (!rules.ok) throw new Error(rules.error);
  return rules.rules;
}

/** The same rules with every window `factor` times longer (same factors): the cost must not change. */
function stretched(rules: readonly AlertRule[], factor: number): AlertRule[] {
  return rules.map((r) => ({
    ...r,
    conditions: r.conditions.map((c) => ({
      ...c,
      longWindowMs: c.longWindowMs * factor,
      shortWindowMs: c.shortWindowMs === undefined ? undefined : c.shortWindowMs * factor,
    })),
  }));
}

/** Deterministic traffic: 200–1,200 requests a minute, a little noise, an incident every ~9 days. */
function traffic(slo: number, minutes: number): { good: Float32Array; total: Float32Array } {
  // Float32 holds whole counts below 16 million exactly, at half the memory (1,000 × 90 days: 1 GB).
  const total = new Float32Array(minutes);
  const good = new Float32Array(minutes);
  let seed = (slo * 2654435761) >>> 0;
  const random = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const base = 200 + Math.floor(random() * 1000);
  let incidentLeft = 0;
  let incidentRate = 0;
  for (let i = 0; i < minutes; i++) {
    if (incidentLeft === 0 && random() < 1 / (9 * 1440)) {
      incidentLeft = 5 + Math.floor(random() * 240);
      incidentRate = 0.005 + random() * 0.5;
    }
    const t = base + Math.floor(random() * 50);
    const rate = incidentLeft > 0 ? incidentRate : random() < 0.01 ? 0.002 : 0;
    if (incidentLeft > 0) incidentLeft--;
    total[i] = t;
    good[i] = t - Math.round(t * rate);
  }
  return { good, total };
}

function timeRun(
  data: ReadonlyArray<{ good: Float32Array; total: Float32Array }>,
  slos: number,
  rules: readonly AlertRule[],
  repeat: number,
): { ms: number; alerts: number } {
  const times: number[] = [];
  let alerts = 0;
  for (let r = 0; r < repeat; r++) {
    const started = performance.now();
    alerts = 0;
    for (let s = 0; s < slos; s++)
      alerts += backtest({ target: 0.999, rules, startMs: START, ...data[s]! }).length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, alerts };
}

export function run(flags: BenchFlags): void {
  const slos = intFlag(flags, 'slos', 1000);
  const days = intFlag(flags, 'days', 90);
  const repeat = intFlag(flags, 'repeat', 3);
  const minutes = days * 1440;
  process.stderr.write(`generating ${slos} SLOs × ${days} days of one-minute data…\n`);
  const full = Array.from({ length: slos }, (_, s) => traffic(s, minutes));
  const half = full.map(({ good, total }) => ({
    good: good.subarray(0, minutes / 2),
    total: total.subarray(0, minutes / 2),
  }));
  const rules = defaultRules();
  // Warm the JIT up before anything is timed.
  timeRun(full, Math.min(slos, 20), rules, 1);
  const cases = [
    {
      name: `${slos} SLOs × ${days} days, default windows`,
      data: full,
      n: slos,
      rules,
      sloDays: slos * days,
    },
    {
      name: `${slos} SLOs × ${days} days, windows 10× longer`,
      data: full,
      n: slos,
      rules: stretched(rules, 10),
      sloDays: slos * days,
    },
    {
      name: `${slos / 2} SLOs × ${days} days`,
      data: full,
      n: Math.floor(slos / 2),
      rules,
      sloDays: Math.floor(slos / 2) * days,
    },
    { name: `${slos} SLOs × ${days / 2} days`, data: half, n: slos, rules, sloDays: (slos * days) / 2 },
  ];
  const results = cases.map((c) => {
    process.stderr.write(`timing: ${c.name}…\n`);
    return { ...c, ...timeRun(c.data, c.n, c.rules, repeat) };
  });
  const base = results[0]!;
  console.log('| case | time | SLO-days/s | alerts | time ÷ expected (linear) |');
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    const expected = base.ms * (r.sloDays / base.sloDays);
    console.log(
      `| ${r.name} | ${(r.ms / 1000).toFixed(2)} s | ${Math.round(r.sloDays / (r.ms / 1000)).toLocaleString('en')} | ${r.alerts} | ${(r.ms / expected).toFixed(2)} |`,
    );
  }
}
