/**
 * The soak (issue 19, goal 8): `shinrai serve` as its own process over a seeded database, with
 * steady ingestion (every SLI one batch per 10 s) and concurrent UI readers (the overview and an
 * SLO page at 30 days, in turn) for M minutes, on SQLite and on PostgreSQL. Reports read latency
 * per endpoint (goal: p99 ≤ 200 ms, reported met/MISSED, not checked: a busy box is no wrong
 * answer), ingestion latency, and the server's resident memory over time. Checks (a failure fails
 * `npm run bench`): no request failed and the server logged no error; every acknowledged batch is
 * stored (totals and idempotency keys); the server is alive and answering after the soak; no
 * resident-memory growth after the warm-up (the criterion in `leakVerdict`, test/support/soak.ts).
 * The driver is test/support/soak.ts, which test/soak.test.ts runs small.
 * Flags: --minutes M (30), --slis N (1000), --readers R (50), --think S seconds between a reader's
 * page loads (10), --period S seconds between an SLI's batches (10), --items I per batch (10),
 * --watched W SLOs with 30 days of data that readers open (50), --dialect sqlite|postgres|both
 * (both). See bench/README.md.
 */
import type { Dialect } from '../src/platform/db/database.js';
import { type EndpointStats, leakVerdict, runSoak, type SoakResult } from '../test/support/soak.js';
import { check } from './check.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const MIN = 60_000;
/** The goal: p99 of every API read. */
const GOAL_P99_MS = 200;
/** Leak criterion: after the first third, growth projected over 30 minutes ≤ 5 % of the median RSS. */
const WARMUP_FRACTION = 1 / 3;
const LEAK_LIMIT_FRACTION = 0.05;
const LEAK_PROJECT_MINUTES = 30;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (v: number) => (Number.isNaN(v) ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const sec = (v: number) => `${(v / 1000).toFixed(1)} s`;

function endpointLine(s: EndpointStats): string {
  const revalidated = s.notModified ? `, ${fmt(s.notModified)} answered 304` : '';
  return `  ${s.name.padEnd(52)} ${fmt(s.count).padStart(7)} requests  p50 ${ms(s.p50Ms).padStart(6)} ms  p99 ${ms(s.p99Ms).padStart(6)} ms  max ${ms(s.maxMs).padStart(7)} ms${revalidated}`;
}

function report(r: SoakResult, minutes: number): string {
  const tag = r.dialect;
  const leak = leakVerdict(r.rss, {
    warmupFraction: WARMUP_FRACTION,
    limitFraction: LEAK_LIMIT_FRACTION,
    projectMinutes: LEAK_PROJECT_MINUTES,
  });
  const rssBytes = r.rss.map((s) => s.bytes);
  console.log(
    `\n${tag}: seeded in ${sec(r.seedMs)}, server listening after ${sec(r.listeningMs)}, up with statuses and 30 days of history in ${sec(r.startupMs)}; soaked ${sec(r.soakMs)} (load average ${r.loadAverage[0].toFixed(2)} at the start, ${r.loadAverage[1].toFixed(2)} at the end)`,
  );
  console.log(
    `  ingestion: ${fmt(r.batchesAcknowledged)} / ${fmt(r.batchesSent)} batches acknowledged (${fmt(r.batchesAcknowledged / (r.soakMs / 1000))}/s), ${fmt(r.eventsAcknowledged)} events; at most ${r.maxInFlightBatches} in flight, ${r.lateBatches} sent over a period late`,
  );
  console.log(endpointLine(r.ingest));
  console.log(`  reads: ${fmt(r.pageLoads)} page loads`);
  for (const s of r.reads) console.log(endpointLine(s));
  console.log(endpointLine(r.allReads));
  console.log(
    `  RSS: ${mib(rssBytes[0] ?? Number.NaN)} at the start, ${mib(Math.max(...rssBytes))} at most, ${mib(rssBytes.at(-1) ?? Number.NaN)} at the end; after the first third: median ${mib(leak.medianBytes)}, slope ${(leak.slopeBytesPerMinute / 2 ** 20).toFixed(2)} MiB/min (${mib(leak.projectedBytes)} per ${LEAK_PROJECT_MINUTES} min; limit ${mib(leak.limitBytes)}), ${leak.samples} samples`,
  );
  // RSS over the run, one sample per tenth, for the README.
  const tenths: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const atMs = (r.soakMs * i) / 10;
    const sample = r.rss.reduce((best, s) =>
      Math.abs(s.atMs - atMs) < Math.abs(best.atMs - atMs) ? s : best,
    );
    tenths.push(`${(sample.atMs / MIN).toFixed(1)} min ${mib(sample.bytes)} (${sample.inFlight} in flight)`);
  }
  console.log(`  RSS over time (requests in flight): ${tenths.join(', ')}`);
  if (r.firstErrors.length) console.log(`  first errors:\n    ${r.firstErrors.join('\n    ')}`);
  if (r.serverErrors.length)
    console.log(`  server logged:\n    ${r.serverErrors.slice(0, 5).join('\n    ')}`);

  check(r.errors === 0, `${tag}: every request answered 2xx or 304`, `${r.errors} errors`);
  check(r.serverErrors.length === 0, `${tag}: the server logged no error`, `${r.serverErrors.length} lines`);
  check(
    r.batchesAcknowledged === r.batchesSent,
    `${tag}: every batch sent was acknowledged`,
    `${fmt(r.batchesAcknowledged)} / ${fmt(r.batchesSent)}`,
  );
  check(
    r.eventsStored === r.eventsAcknowledged && r.keysStored === r.batchesAcknowledged,
    `${tag}: stored totals equal the acknowledged events`,
    `${fmt(r.eventsStored)} stored / ${fmt(r.eventsAcknowledged)} acknowledged; ${fmt(r.keysStored)} idempotency keys / ${fmt(r.batchesAcknowledged)} batches`,
  );
  check(r.aliveAfter, `${tag}: the server process is alive and answers /healthz after the soak`);
  check(
    !leak.leak,
    `${tag}: no growth of resident memory after the warm-up`,
    `${mib(leak.projectedBytes)} projected per ${LEAK_PROJECT_MINUTES} min, limit ${mib(leak.limitBytes)}`,
  );
  // The goal is reported, not checked: a check fails the run, and a busy box is no wrong answer.
  const goal = r.allReads.p99Ms <= GOAL_P99_MS ? 'met' : 'MISSED';
  const worst = [...r.reads].sort((a, b) => b.p99Ms - a.p99Ms)[0];
  console.log(
    `  goal (p99 of API reads ≤ ${GOAL_P99_MS} ms): ${goal} (${ms(r.allReads.p99Ms)} ms; slowest endpoint: ${worst?.name ?? '—'} at ${ms(worst?.p99Ms ?? Number.NaN)} ms)`,
  );
  return `| ${tag} | ${minutes} min | ${fmt(r.batchesAcknowledged / (r.soakMs / 1000))}/s, ${fmt(r.eventsAcknowledged)} events | ${fmt(r.allReads.count)} | ${ms(r.allReads.p50Ms)} ms | ${ms(r.allReads.p99Ms)} ms | ${goal} | ${ms(worst?.p99Ms ?? Number.NaN)} ms (${worst?.name.replace(/^.*GET /, '') ?? '—'}) | ${ms(r.ingest.p99Ms)} ms | ${mib(rssBytes[0] ?? Number.NaN)} → ${mib(rssBytes.at(-1) ?? Number.NaN)} (max ${mib(Math.max(...rssBytes))}) | ${(leak.slopeBytesPerMinute / 2 ** 20).toFixed(2)} MiB/min | ${r.errors} | ${r.loadAverage[0].toFixed(1)} / ${r.loadAverage[1].toFixed(1)} |`;
}

export async function run(flags: BenchFlags): Promise<void> {
  const minutes = intFlag(flags, 'minutes', 30);
  const slis = intFlag(flags, 'slis', 1000);
  const readers = intFlag(flags, 'readers', 50);
  const thinkS = intFlag(flags, 'think', 10, 0);
  const periodS = intFlag(flags, 'period', 10);
  const items = intFlag(flags, 'items', 10);
  const watched = Math.min(slis, intFlag(flags, 'watched', 50));
  const dialectFlag = typeof flags.dialect === 'string' ? flags.dialect : 'both';
  if (!['sqlite', 'postgres', 'both'].includes(dialectFlag))
    throw new Error('--dialect is sqlite, postgres or both');
  const dialects: Dialect[] = dialectFlag === 'both' ? ['sqlite', 'postgres'] : [dialectFlag as Dialect];
  console.log(
    `${minutes} min per dialect: ${fmt(slis)} SLIs (one SLO each, 28-day rolling), each sent a batch of ${items} counts every ${periodS} s ` +
      `(${fmt(slis / periodS)} batches/s, open loop); ${readers} readers, each loading the overview and an SLO page at 30 days in turn ` +
      `with ${thinkS} s pauses (on average); ${watched} SLOs with 30 days of one-minute data (the pages readers open), the rest with 6 hours; ` +
      `the server is \`shinrai serve\` in its own process, defaults otherwise`,
  );
  const rows: string[] = [];
  for (const dialect of dialects) {
    const result = await runSoak({
      dialect,
      durationMs: minutes * MIN,
      slis,
      periodMs: periodS * 1000,
      itemsPerBatch: items,
      readers,
      thinkMs: thinkS * 1000,
      watched,
      historyDays: 30,
      seedHours: 6,
      rssEveryMs: 5000,
      readyTimeoutMs: 20 * MIN,
      progress: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
    });
    rows.push(report(result, minutes));
  }
  console.log(
    `\n| dialect | soak | ingestion | reads | read p50 | read p99 | goal p99 ≤ ${GOAL_P99_MS} ms | slowest endpoint p99 | ingest p99 | RSS start → end (max) | RSS slope after warm-up | errors | load avg start / end |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}`,
  );
}
