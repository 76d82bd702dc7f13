import Fastify, { type FastifyError } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import pino from 'pino';
import { type Db, type Dialect, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { AppError } from '../src/platform/errors.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../src/platform/http/problem.js';
import { createMetrics, type ShinraiMetrics } from '../src/platform/metrics.js';
import { Evaluator } from '../src/slo/evaluator/evaluator.js';
import { createLeaderElection } from '../src/slo/evaluator/leader.js';
import { aggregateBatch } from '../src/slo/ingest/aggregate.js';
import { parseBatch } from '../src/slo/ingest/parse.js';
import { ingestRoutes } from '../src/slo/ingest/routes.js';
import type { Catalog } from '../src/slo/model.js';
import { routeSli } from '../src/slo/sli-routing.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase } from '../test/support/databases.js';
import { check } from './check.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const MIN = 60_000;
/** Distinct bodies cycled through (keys differ per request, so they are all new batches). */
const BODY_VARIANTS = 32;

/** N threshold SLIs (`latency-<i>`), each under one SLO (lt 300 ms, 99 %, 28 days). */
function benchCatalog(slis: number): Catalog {
  const docs = ['apiVersion: openslo/v1\nkind: Service\nmetadata: {name: bench}\nspec: {}\n'];
  for (let i = 0; i < slis; i++)
    docs.push(`apiVersion: openslo/v1
kind: SLO
metadata: {name: latency-slo-${i}}
spec:
  service: bench
  indicator:
    metadata: {name: latency-${i}}
    spec: {thresholdMetric: {metricSource: {type: shinrai, spec: {}}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lt, value: 300, target: 0.99}]
`);
  const loaded = loadSpecText('bench.yaml', docs.join('---\n'));
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`bench specs: ${errors[0]!.message}`);
  return loaded.catalog;
}

/** NDJSON batches of latencies (log-normal-ish around 120 ms), each spanning about a minute. */
function benchBodies(batch: number, startMs: number): string[] {
  let seed = 42;
  const random = () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 2 ** 32;
  };
  return Array.from({ length: BODY_VARIANTS }, (_, v) => {
    const lines: string[] = [];
    const fromMs = startMs - (v % 10) * MIN;
    for (let i = 0; i < batch; i++) {
      const tsMs = fromMs + Math.floor((i / batch) * MIN);
      const value = Math.round(120 * Math.exp(0.6 * (random() + random() + random() - 1.5)) * 10) / 10;
      lines.push(`{"ts":${tsMs},"value":${value}}`);
    }
    return lines.join('\n');
  });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));

interface LoadResult {
  readonly requestsPerSecond: number;
  readonly eventsPerSecond: number;
  readonly batches: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly acceptedEvents: number;
}

/** Baseline: parse + aggregate of the same batches on this thread, no HTTP or database. */
function baseline(catalog: Catalog, bodies: readonly string[], slis: number, nowMs: number, seconds: number) {
  const endMs = performance.now() + seconds * 1000;
  let events = 0;
  let i = 0;
  const startMs = performance.now();
  while (performance.now() < endMs) {
    const route = routeSli(catalog, `latency-${i % slis}`)!;
    const parsed = parseBatch(
      bodies[i % bodies.length]!,
      { name: route.sli.name, kind: route.kind, streams: route.streams },
      { nowMs },
    );
    if (!parsed.ok) throw parsed.error;
    aggregateBatch(parsed.items, route.streams);
    events += parsed.items.length;
    i++;
  }
  return events / ((performance.now() - startMs) / 1000);
}

async function load(
  url: string,
  options: {
    bodies: readonly string[];
    slis: number;
    batch: number;
    concurrency: number;
    warmupS: number;
    durationS: number;
    runId: string;
  },
): Promise<LoadResult> {
  const startMs = performance.now();
  const measureFromMs = startMs + options.warmupS * 1000;
  const endMs = measureFromMs + options.durationS * 1000;
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  let acceptedEvents = 0;
  let measuredEvents = 0;
  let firstFailure: string | undefined;
  const worker = async () => {
    while (performance.now() < endMs) {
      const n = next++;
      const t0 = performance.now();
      const response = await fetch(`${url}/api/v1/sli/latency-${n % options.slis}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': `${options.runId}-${n}` },
        body: options.bodies[n % options.bodies.length],
      });
      const text = await response.text();
      const t1 = performance.now();
      if (response.status !== 200) {
        failures++;
        firstFailure ??= `${response.status} ${text.slice(0, 300)}`;
        continue;
      }
      acceptedEvents += options.batch;
      if (t0 >= measureFromMs && t1 <= endMs) {
        latencies.push(t1 - t0);
        measuredEvents += options.batch;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (firstFailure) console.log(`  first failure: ${firstFailure}`);
  latencies.sort((a, b) => a - b);
  return {
    // Batches that finished inside the timed window, over its length.
    requestsPerSecond: latencies.length / options.durationS,
    eventsPerSecond: measuredEvents / options.durationS,
    batches: latencies.length,
    failures,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    acceptedEvents,
  };
}

async function runDialect(
  dialect: Dialect,
  catalog: Catalog,
  options: {
    bodies: readonly string[];
    slis: number;
    batch: number;
    concurrency: number;
    warmupS: number;
    durationS: number;
    evaluatorTickS: number;
  },
): Promise<LoadResult & { stored: number }> {
  // A file in a fresh temp directory, or a fresh PostgreSQL schema.
  const testDb = await createTestDatabase(dialect);
  const url = testDb.url;
  const cleanup = () => testDb.drop();
  const db: Db = openDatabase(url);
  const log = pino({ level: 'silent' });
  const metrics = createMetrics();
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  let evaluator: Evaluator | undefined;
  try {
    await migrateToLatest(db.kysely);
    if (options.evaluatorTickS > 0) {
      evaluator = new Evaluator({
        db,
        clock: { now: () => Date.now() },
        log,
        metrics,
        specs: () => ({ catalog, version: 1 }),
        config: { tickSeconds: options.evaluatorTickS, historyStepSeconds: 60 },
        leader: createLeaderElection({ db, url, retrySeconds: 5, log, metrics }),
      });
      await evaluator.start();
      // Measure the steady state: the first tick builds every SLO's engine state.
      const t0 = performance.now();
      await evaluator.tick();
      console.log(
        `  evaluator: first tick (${catalog.slos.length} SLOs, empty tables) took ${ms(performance.now() - t0)} ms`,
      );
    }
    const ticksBefore = await evaluationTotals(metrics);
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.setErrorHandler((error: FastifyError | AppError, _request, reply) => {
      const appError = error instanceof AppError ? error : new AppError('Internal', error.message);
      return reply.status(appError.status).type(PROBLEM_CONTENT_TYPE).send(toProblem(appError));
    });
    ingestRoutes(app, { db, clock: { now: () => Date.now() }, metrics, catalog: () => catalog });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const result = await load(address, { ...options, runId: `${dialect}-${Date.now()}` });
    const { total } = await db.kysely
      .selectFrom('sli_minutes')
      .select((eb) => eb.fn.sum<number>('total').as('total'))
      .executeTakeFirstOrThrow();
    if (evaluator) {
      const after = await evaluationTotals(metrics);
      const ticks = after.count - ticksBefore.count;
      console.log(
        `  evaluator: ${ticks} ticks under load, ${ms(((after.sum - ticksBefore.sum) / Math.max(1, ticks)) * 1000)} ms each on average (outcomes: ${after.outcomes})`,
      );
    }
    return { ...result, stored: Number(total ?? 0) };
  } finally {
    await app.close();
    await evaluator?.stop();
    await db.close();
    await cleanup();
  }
}

async function evaluationTotals(metrics: ShinraiMetrics) {
  const seconds = (await metrics.evaluationSeconds.get()).values;
  const outcomes = (await metrics.evaluations.get()).values.map((v) => `${v.labels.outcome}=${v.value}`);
  return {
    sum: seconds.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0,
    count: seconds.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
    outcomes: outcomes.join(', ') || 'none',
  };
}

/** `--batch 1,100,1000`: the batch sizes to run, each a whole number ≥ 1. */
function batchSizes(flags: BenchFlags): number[] {
  const value = flags.batch;
  if (value === undefined) return [1, 100, 1000];
  const sizes = String(value)
    .split(',')
    .map((part) => Number(part.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    throw new Error('--batch needs whole numbers ≥ 1, comma-separated (e.g. 1,100,1000)');
  }
  return sizes;
}

export async function run(flags: BenchFlags): Promise<void> {
  const slis = intFlag(flags, 'slis', 300);
  const batches = batchSizes(flags);
  const concurrency = intFlag(flags, 'concurrency', 8);
  const durationS = intFlag(flags, 'duration', 10);
  const warmupS = intFlag(flags, 'warmup', 3, 0);
  const evaluatorTickS = intFlag(flags, 'evaluator-tick', 5, 0);
  const dialectFlag = typeof flags.dialect === 'string' ? flags.dialect : 'both';
  if (!['sqlite', 'postgres', 'both'].includes(dialectFlag))
    throw new Error('--dialect is sqlite, postgres or both');
  const dialects: Dialect[] = dialectFlag === 'both' ? ['sqlite', 'postgres'] : [dialectFlag as Dialect];

  const catalog = benchCatalog(slis);
  const nowMs = Date.now();
  console.log(
    `${slis} threshold SLIs, batches of ${batches.join(', ')} raw events (NDJSON) with an Idempotency-Key each, ` +
      `${concurrency} in flight, ${durationS} s timed after ${warmupS} s warm-up per case, evaluator ${evaluatorTickS ? `every ${evaluatorTickS} s` : 'off'}`,
  );

  const rows: string[] = [];
  for (const batch of batches) {
    const bodies = benchBodies(batch, nowMs);
    baseline(catalog, bodies, slis, nowMs, 1);
    const baselineRate = baseline(catalog, bodies, slis, nowMs, 3);
    console.log(
      `\nbatch ${batch} (${fmt(bodies[0]!.length / 1024)} KiB): baseline (parse + aggregate only, one thread) ${fmt(baselineRate)} events/s`,
    );
    for (const dialect of dialects) {
      const r = await runDialect(dialect, catalog, {
        bodies,
        slis,
        batch,
        concurrency,
        warmupS,
        durationS,
        evaluatorTickS,
      });
      console.log(
        `${dialect}, batch ${batch}: ${fmt(r.requestsPerSecond)} requests/s, ${fmt(r.eventsPerSecond)} events/s (${r.batches} batches timed), ` +
          `batch latency p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms, max ${ms(r.maxMs)} ms; ratio to baseline ${(r.eventsPerSecond / baselineRate).toFixed(3)}`,
      );
      check(
        r.failures === 0,
        `${dialect}, batch ${batch}: every request was acknowledged`,
        `${r.failures} failed`,
      );
      check(
        r.stored === r.acceptedEvents,
        `${dialect}, batch ${batch}: stored totals equal the acknowledged events`,
        `${fmt(r.stored)} stored / ${fmt(r.acceptedEvents)} acknowledged`,
      );
      check(r.batches > 0, `${dialect}, batch ${batch}: batches finished inside the timed window`);
      rows.push(
        `| ${dialect} | ${batch} | ${fmt(r.requestsPerSecond)} | ${fmt(r.eventsPerSecond)} | ${ms(r.p50Ms)} ms | ${ms(r.p99Ms)} ms | ${(r.eventsPerSecond / baselineRate).toFixed(3)} |`,
      );
    }
  }
  console.log(
    `\n| dialect | batch | requests/s | events/s | p50 batch | p99 batch | ratio to baseline |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}`,
  );
}
