/**
 * Backtest: N SLOs × D days of one-minute data through the four default burn-rate windows (page
 * 1h/5m and 6h/30m, ticket 1d/2h and 3d/6h) with the production low-traffic guard
 * (DEFAULT_MIN_EVENTS, what `alerting.minEvents` defaults to). Reports the time and SLO-days per
 * second, and shows the cost grows with days × SLOs and not with window length: the same run with
 * windows ten times longer, and with half the SLOs and half the days, measured in the same process.
 * Checks (a failure fails `npm run bench`): half the SLOs give exactly those SLOs' alerts; half the
 * days give the same alerts up to the cut (a backtest only looks back); a known outage pages at its
 * first minute; a one-request-in-30-minutes SLO with one failure pages only without the guard.
 * Flags: --slos N (1000), --days D (90), --repeat R (3, median).
 */
import { type BacktestAlert, backtest } from '../src/alerting/backtest.js';
import { DEFAULT_MIN_EVENTS } from '../src/platform/config.js';
import { type AlertRule, alertRulesFor } from '../src/slo/burn/index.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { ratioSloYaml } from '../test/support/specs.js';
import { check } from './check.js';
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

type Series = { good: Float32Array; total: Float32Array };

function timeRun(
  data: ReadonlyArray<Series>,
  slos: number,
  rules: readonly AlertRule[],
  repeat: number,
  minEvents = DEFAULT_MIN_EVENTS,
): { ms: number; alerts: number; perSlo: BacktestAlert[][] } {
  const times: number[] = [];
  let perSlo: BacktestAlert[][] = [];
  for (let r = 0; r < repeat; r++) {
    const started = performance.now();
    perSlo = [];
    for (let s = 0; s < slos; s++)
      perSlo.push(backtest({ target: 0.999, rules, startMs: START, minEvents, ...data[s]! }));
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    ms: times[Math.floor(times.length / 2)]!,
    alerts: perSlo.reduce((n, a) => n + a.length, 0),
    perSlo,
  };
}

/** An alert as text, up to `cutMs`: what a backtest over data ending at `cutMs` must also report. */
function alertUpTo(alert: BacktestAlert, cutMs: number): string {
  const resolved = alert.resolvedAtMs !== null && alert.resolvedAtMs <= cutMs ? alert.resolvedAtMs : null;
  return `${alert.rule} pending ${alert.pendingAtMs} fired ${alert.firedAtMs} resolved ${resolved}`;
}

/** Known answers on hand-made series: an outage pages at once; the guard silences a near-empty SLO. */
function knownAnswers(rules: readonly AlertRule[]): void {
  const MIN = 60_000;
  const minutes = 3 * 1440;
  const outageFrom = 2 * 1440;
  const busy = { good: new Float32Array(minutes), total: new Float32Array(minutes) };
  for (let i = 0; i < minutes; i++) {
    busy.total[i] = 1000;
    busy.good[i] = i >= outageFrom && i < outageFrom + 30 ? 0 : 1000;
  }
  const page = rules.find((r) => r.tier === 'page')!;
  const pages = backtest({
    target: 0.999,
    rules,
    startMs: START,
    minEvents: DEFAULT_MIN_EVENTS,
    ...busy,
  }).filter((a) => a.rule === page.name);
  // At the end of the outage's first minute: 1,000 of 60,000 events failed in the last hour (16.7×).
  const firstMinuteEnd = START + (outageFrom + 1) * MIN;
  check(
    pages.length === 1 &&
      pages[0]!.pendingAtMs === firstMinuteEnd &&
      pages[0]!.firedAtMs === firstMinuteEnd + page.forMs,
    'a 30-minute full outage at 1,000 requests a minute pages once, at the end of its first minute',
    pages.map((a) => `pending ${new Date(a.pendingAtMs).toISOString()}`).join(', ') || 'no page',
  );

  // One request every 30 minutes, one of them failed: 2 events an hour, 12 in 6 hours (< 20).
  const quiet = { good: new Float32Array(minutes), total: new Float32Array(minutes) };
  for (let i = 0; i < minutes; i += 30) {
    quiet.total[i] = 1;
    quiet.good[i] = i === outageFrom ? 0 : 1;
  }
  const guarded = backtest({ target: 0.999, rules, startMs: START, minEvents: DEFAULT_MIN_EVENTS, ...quiet });
  const unguarded = backtest({ target: 0.999, rules, startMs: START, minEvents: 0, ...quiet });
  check(
    !guarded.some((a) => a.rule === page.name) && unguarded.some((a) => a.rule === page.name),
    `one failed request of a near-empty SLO pages only without the low-traffic guard (minEvents ${DEFAULT_MIN_EVENTS})`,
    `guarded: ${guarded.length} alerts, unguarded: ${unguarded.length}`,
  );
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
  console.log(
    `low-traffic guard: a condition needs ${DEFAULT_MIN_EVENTS} events in its long window (the default)`,
  );
  knownAnswers(rules);
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
    // What the guard costs: the same run without it (how this bench ran before 2026-12).
    {
      name: `${slos} SLOs × ${days} days, no low-traffic guard`,
      data: full,
      n: slos,
      rules,
      sloDays: slos * days,
      minEvents: 0,
    },
  ];
  const results = cases.map((c) => {
    process.stderr.write(`timing: ${c.name}…\n`);
    return { ...c, ...timeRun(c.data, c.n, c.rules, repeat, 'minEvents' in c ? c.minEvents : undefined) };
  });
  const base = results[0]!;
  const [, , halfSlos, halfDays] = results;
  // Each SLO's backtest depends only on its own series.
  check(
    halfSlos!.perSlo.every((alerts, i) => JSON.stringify(alerts) === JSON.stringify(base.perSlo[i])),
    `${halfSlos!.n} SLOs give exactly the alerts those SLOs gave in the full run`,
  );
  // A backtest only looks back: up to the cut, half the days give the same alerts.
  const cutMs = START + (minutes / 2) * 60_000;
  let differing = 0;
  for (let s = 0; s < slos; s++) {
    const full = base.perSlo[s]!.filter((a) => a.firedAtMs <= cutMs).map((a) => alertUpTo(a, cutMs));
    const half = halfDays!.perSlo[s]!.map((a) => alertUpTo(a, cutMs));
    if (JSON.stringify(full.sort()) !== JSON.stringify(half.sort())) differing++;
  }
  check(
    differing === 0,
    `half the days give the full run's alerts up to the cut`,
    `${differing} SLOs differ`,
  );
  console.log('| case | time | SLO-days/s | alerts | time ÷ expected (linear) |');
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    const expected = base.ms * (r.sloDays / base.sloDays);
    console.log(
      `| ${r.name} | ${(r.ms / 1000).toFixed(2)} s | ${Math.round(r.sloDays / (r.ms / 1000)).toLocaleString('en')} | ${r.alerts} | ${(r.ms / expected).toFixed(2)} |`,
    );
  }
}
