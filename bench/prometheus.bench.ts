/**
 * Prometheus: the same N Sloth SLOs (30-day period) kept current two ways, on the same data in one
 * run — (a) Prometheus evaluating the Sloth rules Shinrai generates, (b) Shinrai pulling the SLIs
 * from that Prometheus (no rules) and evaluating them itself. Reports CPU seconds per evaluation
 * cycle (for (b) Shinrai's plus what Prometheus spends answering its queries), resident memory, the
 * latency of one "budget remaining of every SLO" answer, and whether both agree on every SLO.
 * Flags: --slos N (1000), --jobs J (100), --days D (30), --cycles C (6), --eval-interval S (30),
 * --idle-seconds S (60), --skip-rules ((b) alone), --keep (leave the work directory). See bench/README.md.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type RunningShinrai, startShinrai } from '../src/app.js';
import { loadConfig } from '../src/platform/config.js';
import { generateRules } from '../src/rules/generate.js';
import { renderRuleFile } from '../src/rules/render.js';
import { listStatuses } from '../src/slo/evaluator/read.js';
import { loadSpecs } from '../src/slo/spec/load.js';
import { PROMTOOL_BIN, type PrometheusServer, startPrometheus } from '../test/support/prometheus.js';
import { ManualClock } from '../test/support/server.js';
import { check } from './check.js';
import { intFlag } from './flags.js';
import { DAY, jobCounts, MIN, makeJobs, makeSlos, slothSpec, writeOpenMetrics } from './prometheus/data.js';
import type { BenchFlags } from './run.js';

/** Agreement tolerance on budget remaining (a fraction of the budget), as in test/prometheus.test.ts. */
const TOLERANCE = 0.005;
const LATENCY_RUNS = 11;
/** The warm-up cycle after the first load moves the clock past the feed's 120 s margin. */
const WARMUP_MINUTES = 3;

const started = performance.now();
function progress(message: string): void {
  process.stderr.write(
    `[prometheus ${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${message}\n`,
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const floorMinute = (ms: number) => Math.floor(ms / MIN) * MIN;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const secs = (s: number) => (s < 0.1 ? s.toFixed(4) : s < 10 ? s.toFixed(3) : s.toFixed(1));

/** Runs `work`, timing it: wall seconds, and this process' CPU seconds (the box is shared: wall is noisy). */
async function timed<T>(
  label: string,
  work: () => Promise<T>,
): Promise<{ value: T; seconds: number; cpu: number }> {
  progress(`${label} …`);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await work();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(c0);
  const cpu = (used.user + used.system) / 1e6;
  progress(`${label}: ${seconds.toFixed(1)} s (${cpu.toFixed(1)} CPU s here)`);
  return { value, seconds, cpu };
}

function promtool(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-16 * 1024);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`promtool ${args.join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}

/** OpenMetrics file → TSDB blocks in dataDir (large blocks: one parse of the input per block window). */
async function backfill(file: string, dataDir: string): Promise<void> {
  await promtool([
    'tsdb',
    'create-blocks-from',
    'openmetrics',
    '--quiet',
    '--max-block-duration=486h',
    file,
    dataDir,
  ]);
}

/** Prometheus' own metrics (its /metrics page), summed by metric name. */
async function selfMetrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) sums.set(match[1]!, (sums.get(match[1]!) ?? 0) + value);
  }
  return sums;
}

async function timedQuery(prom: PrometheusServer, expr: string, atMs: number) {
  const t0 = performance.now();
  const result = await prom.query(expr, atMs);
  return { ms: performance.now() - t0, result };
}

/** What the evaluator and puller log at debug level, for the first-load and steady-cycle figures. */
interface TickLog {
  msg: string;
  tookMs?: number;
  waitingBackfills?: number;
  historyWaiting?: number;
  historyMs?: number;
  historyPoints?: number;
}

export async function run(flags: BenchFlags): Promise<void> {
  const sloCount = intFlag(flags, 'slos', 1_000);
  const jobCount = Math.min(sloCount, intFlag(flags, 'jobs', 100));
  const days = intFlag(flags, 'days', 30);
  const cycles = intFlag(flags, 'cycles', 6);
  const evalSeconds = intFlag(flags, 'eval-interval', 30);
  const idleSeconds = intFlag(flags, 'idle-seconds', 60);
  // (b) alone (the first load and steady cycles, checked against the generated counts): for
  // iterating on Shinrai's side, when (a)'s 15+ minutes at full size are not what is measured.
  const skipRules = flags['skip-rules'] === true;
  if (days !== 30)
    progress(`note: Sloth SLOs have a 30-day period; --days ${days} only changes the data stored`);

  const work = await mkdtemp(join(tmpdir(), 'shinrai-bench-prom-'));
  const dataDir = join(work, 'tsdb');
  const specsDir = join(work, 'specs');
  let prom: PrometheusServer | undefined;
  let shinrai: RunningShinrai | undefined;
  try {
    // ---- Data, specs, rules ----------------------------------------------------------------------
    // The counters end at wall-clock now (Prometheus evaluates rules at wall-clock time); one extra
    // day before the period covers Shinrai's first load and Sloth's 30 days from the start.
    const endMs = floorMinute(Date.now());
    const dataStartMs = endMs - (days + 1) * DAY;
    const jobs = makeJobs(jobCount, endMs, days);
    const slos = makeSlos(sloCount, jobs);
    await mkdir(specsDir);
    for (const job of jobs)
      await writeFile(
        join(specsDir, `${job.name}.yaml`),
        slothSpec(
          job,
          slos.filter((s) => s.job === job),
        ),
      );
    const loaded = await loadSpecs(specsDir);
    const specErrors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (specErrors.length) throw new Error(`bench specs: ${specErrors[0]!.message}`);
    const rules = generateRules(loaded.catalog);
    if (rules.slos.length !== sloCount) throw new Error(`rules for ${rules.slos.length} of ${sloCount} SLOs`);
    const rulesFile = join(work, 'rules.yml');
    await writeFile(rulesFile, renderRuleFile(rules.groups));
    const ruleCount = rules.groups.reduce((n, g) => n + g.rules.length, 0);
    progress(
      `${sloCount} Sloth SLOs on ${jobCount} jobs; rules: ${rules.groups.length} groups, ${ruleCount} rules (${mib((await stat(rulesFile)).size)})`,
    );

    const omFile = join(work, 'data.om');
    const written = await timed(
      `writing ${days + 1} days of counters and the ratio_rate5m history (OpenMetrics)`,
      () =>
        writeOpenMetrics(omFile, {
          jobs,
          slos,
          dataStartMs,
          fromMs: dataStartMs,
          toMs: endMs,
          ratioHistory: true,
          progress,
        }),
    );
    progress(`  ${written.value.samples.toLocaleString('en')} samples, ${mib(written.value.bytes)}`);
    const blocks = await timed('promtool tsdb create-blocks-from openmetrics', () =>
      backfill(omFile, dataDir),
    );
    await rm(omFile);

    // The minutes that passed meanwhile, so the raw series reach the wall clock when rules start.
    const topUpMs = floorMinute(Date.now());
    if (topUpMs > endMs) {
      await timed(`top-up: ${(topUpMs - endMs) / MIN} minutes up to now`, async () => {
        await writeOpenMetrics(omFile, {
          jobs,
          slos,
          dataStartMs,
          fromMs: endMs + MIN,
          toMs: topUpMs,
          ratioHistory: true,
        });
        await backfill(omFile, dataDir);
        await rm(omFile);
      });
    }

    // ---- (a) Prometheus evaluating the rules -----------------------------------------------------
    const a = skipRules
      ? undefined
      : await (async () => {
          prom = (
            await timed('(a) starting Prometheus with the rules', () =>
              startPrometheus({ dataDir, ruleFiles: [rulesFile], evaluationInterval: `${evalSeconds}s` }),
            )
          ).value;
          const groupCount = rules.groups.length;
          // Warm-up: every group has been evaluated at least once (the first pass loads the blocks' chunks).
          const warm = await timed('(a) first evaluation of every group', async () => {
            for (;;) {
              const m = await selfMetrics(prom!.url);
              const iterations = m.get('prometheus_rule_group_iterations_total') ?? 0;
              if (iterations >= 2 * groupCount) return m;
              await sleep(1_000);
            }
          });
          void warm;
          const windowMs = cycles * evalSeconds * 1000;
          const a0 = { usage: prom.usage(), metrics: await selfMetrics(prom.url), t: performance.now() };
          progress(`(a) measuring ${cycles} evaluation intervals of ${evalSeconds} s …`);
          await sleep(windowMs);
          const a1 = { usage: prom.usage(), metrics: await selfMetrics(prom.url), t: performance.now() };
          const delta = (name: string) => (a1.metrics.get(name) ?? 0) - (a0.metrics.get(name) ?? 0);
          // iterations_total counts scheduled evaluations, missed ones included.
          const aCycles =
            (delta('prometheus_rule_group_iterations_total') -
              delta('prometheus_rule_group_iterations_missed_total')) /
            groupCount;
          const aCpu = a1.usage.cpuSeconds - a0.usage.cpuSeconds;
          const aWallSeconds = (a1.t - a0.t) / 1000;
          const aEvalSum = a1.metrics.get('prometheus_rule_group_last_duration_seconds') ?? 0;
          const aFailures = a1.metrics.get('prometheus_rule_evaluation_failures_total') ?? 0;
          const aMissed = delta('prometheus_rule_group_iterations_missed_total');
          const aRss = a1.usage.rssBytes;
          progress(
            `(a) ${aCpu.toFixed(2)} CPU s over ${aCycles.toFixed(2)} cycles (${aWallSeconds.toFixed(0)} s); rule groups' last durations sum to ${aEvalSum.toFixed(2)} s; ${aFailures} failed evaluations, ${aMissed} missed iterations`,
          );
          const aLatency: number[] = [];
          let aAnswered = 0;
          for (let i = 0; i < LATENCY_RUNS; i++) {
            const q = await timedQuery(prom, 'slo:period_error_budget_remaining:ratio', Date.now());
            aLatency.push(q.ms);
            aAnswered = q.result.length;
          }
          // Cross-check for the agreement below: the instant query of the period expression at an
          // instant the rule manager evaluated reproduces the recorded slo:sli_error:ratio_rate30d.
          // Both at one instant, so they see the same (latest) evaluation.
          const recordedAtMs = Date.now();
          const recorded = await prom.query('timestamp(slo:sli_error:ratio_rate30d)', recordedAtMs);
          const recordedValues = new Map(
            (await prom.query('slo:sli_error:ratio_rate30d', recordedAtMs)).map((r) => [
              r.labels.sloth_id!,
              r.value,
            ]),
          );
          let recheckMax = 0;
          let rechecked = 0;
          for (const r of recorded.slice(0, 20)) {
            const id = r.labels.sloth_id!;
            const sel = `slo:sli_error:ratio_rate5m{sloth_id="${id}"}`;
            const [again] = await prom.query(
              `sum_over_time(${sel}[30d]) / ignoring (sloth_window) count_over_time(${sel}[30d])`,
              r.value * 1000,
            );
            const want = recordedValues.get(id);
            if (again && want !== undefined) {
              recheckMax = Math.max(recheckMax, Math.abs(again.value - want) / want);
              rechecked++;
            }
          }
          progress(
            `(a) recomputed ratio_rate30d at its evaluation instant for ${rechecked} SLOs: max relative Δ ${recheckMax.toExponential(2)}`,
          );
          await prom.stop();
          prom = undefined;
          return {
            aCpu,
            aCycles,
            aWallSeconds,
            aEvalSum,
            aFailures,
            aMissed,
            aRss,
            aLatency,
            aAnswered,
            recheckMax,
            rechecked,
          };
        })();
    if (!a) progress('(a) not run (--skip-rules)');

    // ---- (b) Shinrai pulling from Prometheus without rules ----------------------------------------
    prom = (await timed('(b) starting Prometheus without rules', () => startPrometheus({ dataDir }))).value;
    await sleep(5_000);
    const i0 = prom.usage();
    const i0t = performance.now();
    progress(`(b) Prometheus idle baseline, ${idleSeconds} s …`);
    await sleep(idleSeconds * 1000);
    const idleRate = (prom.usage().cpuSeconds - i0.cpuSeconds) / ((performance.now() - i0t) / 1000);
    progress(`(b) idle: ${(idleRate * 1000).toFixed(1)} ms CPU per second`);

    // Shinrai's clock: inside the data, far enough before its end for the steady cycles.
    // The evaluator's change feed re-reads rows stamped up to 2 minutes (its margin) before the newest
    // it has read, so the cycle after the first load re-reads the whole load once more: a warm-up
    // cycle 3 minutes later, not counted.
    const clock = new ManualClock(topUpMs - (cycles + WARMUP_MINUTES + 3) * MIN);
    const logs: TickLog[] = [];
    const log = pino(
      { level: 'debug' },
      {
        write: (line: string) => {
          const entry = JSON.parse(line) as TickLog;
          if (entry.msg === 'evaluation tick') logs.push(entry);
        },
      },
    );
    const config = loadConfig({
      flags: {
        'db.url': join(work, 'shinrai.db'),
        'server.port': 0,
        'specs.path': specsDir,
        'specs.watch': false,
        'auth.anonymousRead': true,
        'log.level': 'silent',
        'evaluator.tickSeconds': 3600,
        'prometheus.url': prom.url,
        'prometheus.delaySeconds': 0,
        'prometheus.intervalSeconds': 3600,
        'prometheus.concurrency': 4,
      },
    });
    const shinraiStart = performance.now();
    const shinraiCpuStart = process.cpuUsage();
    shinrai = await startShinrai(config, { clock, log });
    const running = shinrai;
    const pull = await timed('(b) first load: pulling the whole period of every SLI', async () => {
      for (let i = 0; i < 5; i++) {
        const summary = await running.puller.cycle();
        if (summary && summary.failed === 0 && summary.skipped === 0 && summary.pulled === summary.slis)
          return summary;
        progress(`  pull cycle incomplete: ${JSON.stringify(summary)}`);
      }
      throw new Error('the first load did not complete in 5 pull cycles');
    });
    progress(
      `  ${pull.value.queries.toLocaleString('en')} range queries, ${pull.value.minutes.toLocaleString('en')} minutes stored`,
    );
    const statusesIn = await timed('(b) first load: evaluating until every SLO has a status', async () => {
      for (let i = 0; i < 100; i++) {
        await running.evaluator.tick();
        const statuses = await listStatuses(running.ctx.db);
        if (statuses.size >= sloCount && !logs.at(-1)?.waitingBackfills) return statuses.size;
      }
      throw new Error('statuses did not come in within 100 ticks');
    });
    const history = await timed('(b) first load: history backfill (slo_history replay)', async () => {
      while (logs.at(-1)?.historyWaiting) await running.evaluator.tick();
    });
    const firstLoadSeconds = (performance.now() - shinraiStart) / 1000;
    const firstLoadUsage = process.cpuUsage(shinraiCpuStart);
    const firstLoadCpu = (firstLoadUsage.user + firstLoadUsage.system) / 1e6;

    // Steady cycles: one minute later, pull the new minute of every SLI, evaluate.
    const steady: Array<{ shinraiCpu: number; promCpu: number; wall: number; tickMs: number }> = [];
    const warmups: Array<{ shinraiCpu: number; promCpu: number; wall: number }> = [];
    for (let c = 0; c < 1 + cycles; c++) {
      clock.advance(c === 0 ? WARMUP_MINUTES * MIN : MIN);
      const before = logs.length;
      const cpu0 = process.cpuUsage();
      const p0 = prom.usage();
      const t0 = performance.now();
      const summary = await running.puller.cycle();
      await running.evaluator.tick();
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const p1 = prom.usage();
      if (!summary || summary.failed || summary.pulled !== summary.slis)
        throw new Error(`steady pull incomplete: ${JSON.stringify(summary)}`);
      const sample = {
        shinraiCpu: (cpu.user + cpu.system) / 1e6,
        promCpu: p1.cpuSeconds - p0.cpuSeconds,
        wall,
        tickMs: logs[before]?.tookMs ?? Number.NaN,
      };
      (c === 0 ? warmups : steady).push(sample);
      progress(
        `(b) cycle ${c}${c === 0 ? ' (warm-up)' : ''}: Shinrai ${secs(sample.shinraiCpu)} CPU s, Prometheus ${secs(sample.promCpu)} CPU s, ${secs(wall)} s wall (${summary.queries} queries, tick ${sample.tickMs} ms)`,
      );
    }
    const bShinrai = median(steady.map((s) => s.shinraiCpu));
    const bProm = median(steady.map((s) => s.promCpu));
    const bWall = median(steady.map((s) => s.wall));
    const bTotal = median(steady.map((s) => s.shinraiCpu + s.promCpu));
    const bShinraiRss = process.memoryUsage().rss;
    const bPromRss = prom.usage().rssBytes;

    const bLatency: number[] = [];
    let bAnswered = 0;
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const t0 = performance.now();
      const response = await fetch(`${running.url}/api/v1/slos`);
      const body = (await response.json()) as { items?: unknown[] } | unknown[];
      bLatency.push(performance.now() - t0);
      if (!response.ok) throw new Error(`GET /api/v1/slos: HTTP ${response.status}`);
      bAnswered = Array.isArray(body) ? body.length : (body.items?.length ?? 0);
    }

    // ---- Agreement at Shinrai's instant -----------------------------------------------------------
    const atMs = clock.now();
    const statuses = await listStatuses(running.ctx.db);
    const sel = 'slo:sli_error:ratio_rate5m';
    const periodRatios = new Map(
      (
        await prom.query(
          `sum_over_time(${sel}[30d]) / ignoring (sloth_window) count_over_time(${sel}[30d])`,
          atMs,
        )
      ).map((r) => [r.labels.sloth_id!, r.value]),
    );
    const deltas: Array<{ id: string; delta: number; shinrai: number; sloth: number }> = [];
    const notOk: string[] = [];
    for (const slo of slos) {
      const status = statuses.get(slo.id);
      const ratio = periodRatios.get(slo.id);
      if (!status || ratio === undefined)
        throw new Error(`no ${status ? 'Sloth value' : 'status'} for ${slo.id}`);
      const state = status.data?.state;
      if (state !== 'ok') notOk.push(slo.id);
      const sloth = 1 - ratio / (1 - slo.objective / 100);
      deltas.push({
        id: slo.id,
        delta: Math.abs(status.budget.remaining - sloth),
        shinrai: status.budget.remaining,
        sloth,
      });
    }
    // The same from the generated counts: the exact (traffic-weighted) remaining, and Sloth's
    // unweighted average of the 5-minute ratios, to show where a difference comes from.
    const kAt = Math.round((atMs - dataStartMs) / MIN);
    const periodMinutes = 30 * 1_440;
    const exact = new Map<string, { weighted: number; averaged: number }>();
    for (const job of jobs) {
      const { total, errors } = jobCounts(job, dataStartMs, kAt);
      let e = 0;
      let t = 0;
      for (let m = kAt - periodMinutes; m < kAt; m++) {
        if (m < 0) continue;
        e += errors[m]!;
        t += total[m]!;
      }
      let sum = 0;
      let n = 0;
      for (let k = Math.max(5, kAt - periodMinutes); k <= kAt; k++) {
        let e5 = 0;
        let t5 = 0;
        for (let m = k - 5; m < k; m++) {
          e5 += errors[m]!;
          t5 += total[m]!;
        }
        sum += e5 / t5;
        n++;
      }
      exact.set(job.name, { weighted: e / t, averaged: sum / n });
    }
    let shinraiVsExact = 0;
    let slothVsAverage = 0;
    for (const [i, d] of deltas.entries()) {
      const slo = slos[i]!;
      const truth = exact.get(slo.job.name)!;
      const budget = 1 - slo.objective / 100;
      shinraiVsExact = Math.max(shinraiVsExact, Math.abs(d.shinrai - (1 - truth.weighted / budget)));
      slothVsAverage = Math.max(slothVsAverage, Math.abs(d.sloth - (1 - truth.averaged / budget)));
    }
    const maxDelta = Math.max(...deltas.map((d) => d.delta));
    const over = deltas.filter((d) => d.delta > TOLERANCE);
    const remainings = deltas.map((d) => d.shinrai);

    // ---- Report --------------------------------------------------------------------------------
    const aPerCycle = a ? a.aCpu / a.aCycles : Number.NaN;
    const aNetPerCycle = a ? (a.aCpu - idleRate * a.aWallSeconds) / a.aCycles : Number.NaN;
    console.log(
      `${sloCount} Sloth SLOs (30-day period) on ${jobCount} jobs × 2 series, ${days + 1} days stored at 60 s; ` +
        `${rules.groups.length} rule groups / ${ruleCount} rules, evaluation interval ${evalSeconds} s`,
    );
    console.log(
      `data: ${written.value.samples.toLocaleString('en')} samples (${mib(written.value.bytes)} OpenMetrics) written in ${written.seconds.toFixed(0)} s, blocks in ${blocks.seconds.toFixed(0)} s`,
    );
    console.log('');
    console.log('| | (a) Prometheus + Sloth rules | (b) Shinrai pulling | a / b |');
    console.log('|---|---|---|---|');
    console.log(
      a
        ? `| CPU s per cycle | ${secs(aPerCycle)} (${secs(aNetPerCycle)} above idle) | ${secs(bTotal)} (Shinrai ${secs(bShinrai)} + Prometheus ${secs(bProm)}) | ${(aPerCycle / bTotal).toFixed(1)}× (${(aNetPerCycle / bTotal).toFixed(1)}× above idle) |`
        : `| CPU s per cycle | – | ${secs(bTotal)} (Shinrai ${secs(bShinrai)} + Prometheus ${secs(bProm)}) | – |`,
    );
    console.log(
      `| resident memory | ${a ? `Prometheus ${mib(a.aRss)}` : '–'} | Shinrai ${mib(bShinraiRss)} + Prometheus ${mib(bPromRss)} | |`,
    );
    console.log(
      `| budget remaining of every SLO, median of ${LATENCY_RUNS} | ${a?.aLatency.length ? `${median(a.aLatency).toFixed(1)} ms (instant query, ${a.aAnswered} series)` : '–'} | ${median(bLatency).toFixed(1)} ms (GET /api/v1/slos, ${bAnswered} SLOs) | |`,
    );
    console.log('');
    console.log(
      a
        ? `(a) ${a.aCycles.toFixed(2)} cycles in ${a.aWallSeconds.toFixed(0)} s: ${a.aCpu.toFixed(2)} CPU s; sum of rule groups' last durations ${a.aEvalSum.toFixed(2)} s; ` +
            `${a.aFailures} failed evaluations, ${a.aMissed} missed iterations; Prometheus idle ${(idleRate * 1000).toFixed(1)} ms CPU/s`
        : '(a) not run (--skip-rules)',
    );
    console.log(
      `(b) steady cycle (median of ${steady.length}): ${secs(bWall)} s wall; Shinrai CPU ${steady.map((s) => secs(s.shinraiCpu)).join(', ')}; Prometheus CPU ${steady.map((s) => secs(s.promCpu)).join(', ')}`,
    );
    console.log(
      `(b) first load: ${firstLoadSeconds.toFixed(0)} s, ${firstLoadCpu.toFixed(0)} CPU s here (pull ${pull.seconds.toFixed(0)} s / ${pull.cpu.toFixed(0)} CPU s: ${pull.value.queries.toLocaleString('en')} range queries; statuses ${statusesIn.seconds.toFixed(0)} s / ${statusesIn.cpu.toFixed(0)} CPU s; history replay ${history.seconds.toFixed(0)} s / ${history.cpu.toFixed(0)} CPU s)`,
    );
    console.log(
      `agreement at ${new Date(atMs).toISOString()} (budget remaining, fraction of budget): max |Δ| ${maxDelta.toExponential(2)}, median ${median(deltas.map((d) => d.delta)).toExponential(2)}; ` +
        `${over.length} of ${deltas.length} SLOs over ${TOLERANCE}; remaining ranges ${Math.min(...remainings).toFixed(3)} … ${Math.max(...remainings).toFixed(3)}; ` +
        `${notOk.length} statuses not "ok"` +
        (a
          ? `; ratio_rate30d recomputed at rule instants: max relative Δ ${a.recheckMax.toExponential(2)} (${a.rechecked} SLOs)`
          : ''),
    );
    console.log(
      `from the generated counts: Shinrai vs the exact traffic-weighted remaining: max |Δ| ${shinraiVsExact.toExponential(2)}; ` +
        `Prometheus vs the unweighted average of the 5-minute ratios: max |Δ| ${slothVsAverage.toExponential(2)}`,
    );
    console.log(
      `(b) warm-up cycle after the first load (the feed margin re-reads the load): Shinrai CPU ${warmups.map((s) => secs(s.shinraiCpu)).join(', ')} s`,
    );
    for (const d of over.slice(0, 10))
      console.log(`  over tolerance: ${d.id}: Shinrai ${d.shinrai.toFixed(5)}, Sloth ${d.sloth.toFixed(5)}`);
    // Wrong answers fail the run. Shinrai and Sloth may differ from each other (Sloth's period ratio
    // is unweighted, see bench/README.md), but each must equal its own definition on the counts.
    check(notOk.length === 0, 'every Shinrai status is "ok"', `${notOk.length} not ok`);
    check(
      shinraiVsExact <= 1e-9,
      "Shinrai's budget remaining equals the exact traffic-weighted one from the generated counts",
      `max |Δ| ${shinraiVsExact.toExponential(2)}`,
    );
    check(
      slothVsAverage <= 1e-8,
      "the Sloth rules' remaining equals the unweighted mean of the exact 5-minute ratios",
      `max |Δ| ${slothVsAverage.toExponential(2)}`,
    );
    if (a) {
      check(
        a.rechecked > 0 && a.recheckMax <= 1e-9,
        'the recorded ratio_rate30d equals its expression as an instant query',
        `${a.rechecked} SLOs, max relative Δ ${a.recheckMax.toExponential(2)}`,
      );
      check(a.aFailures === 0, 'Prometheus evaluated the rules without a failure', `${a.aFailures} failed`);
    }
  } finally {
    await shinrai?.stop().catch((error: unknown) => progress(`stopping Shinrai: ${String(error)}`));
    await prom?.stop().catch((error: unknown) => progress(`stopping Prometheus: ${String(error)}`));
    if (flags.keep) progress(`work directory kept: ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}
