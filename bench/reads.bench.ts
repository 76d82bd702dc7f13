/**
 * Hot reads (issue 19, goal 5): warm GET /api/v1/slos for N SLOs with their statuses, over
 * loopback, with the read cache (built once per tick, serialised and compressed once, ETag/304)
 * against the uncached route in the same run (the same handler code building every answer, on a
 * second server over the same database and spec store). Also: the first read after a tick (the
 * cache's build), and a revalidation answered 304. Then the SLO page's 30-day history (8,640
 * points at 5-minute steps, stored for one SLO), cached against uncached the same way, and its first
 * read after a new point. Flags: --slos N (1000), --requests R (200 per case, after 20 warm-up
 * requests; the history cases R / 4), --db sqlite|postgres|sqlite,postgres (sqlite). See
 * bench/README.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import type { Dialect } from '../src/platform/db/database.js';
import { buildServer } from '../src/platform/http/index.js';
import {
  getStatus,
  history,
  historyVersion,
  isStale,
  listStatuses,
  sloRoutes,
  statusesVersion,
} from '../src/slo/index.js';
import { ManualClock, startTestServer, type TestServer } from '../test/support/server.js';
import { check } from './check.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const MIN = 60_000;
const HOURS_OF_DATA = 6;
const DAY = 86_400_000;
/** The SLO page's 30-day chart: the range and the step web/src/history.ts picks for it. */
const HISTORY_DAYS = 30;
const HISTORY_STEP_MS = 5 * MIN;
const WARMUP = 20;
/** What a browser sends. */
const BROWSER = 'gzip, deflate, br, zstd';

/** N SLOs on N SLIs of one service: 28-day Occurrences, every 4th Timeslices, every 10th a calendar month. */
function specs(slos: number): string {
  const docs = ['apiVersion: openslo/v1\nkind: Service\nmetadata: {name: bench}\nspec: {}\n'];
  for (let i = 0; i < slos; i++) {
    const window =
      i % 10 === 9
        ? "[{duration: 1M, isRolling: false, calendar: {startTime: '2026-01-01 00:00:00', timeZone: Asia/Tokyo}}]"
        : '[{duration: 28d, isRolling: true}]';
    const sliced = i % 4 === 3;
    docs.push(`apiVersion: openslo/v1
kind: SLO
metadata: {name: slo-${i}, displayName: 'Bench SLO ${i}', labels: {tier: [t${i % 3}]}}
spec:
  service: bench
  indicator:
    metadata: {name: sli-${i}}
    spec:
      ratioMetric:
        good: {metricSource: {type: shinrai, spec: {}}}
        total: {metricSource: {type: shinrai, spec: {}}}
  timeWindow: ${window}
  budgetingMethod: ${sliced ? 'Timeslices' : 'Occurrences'}
  objectives: [{target: 0.999${sliced ? ', timeSliceTarget: 0.99, timeSliceWindow: 5m' : ''}}]
`);
  }
  return docs.join('---\n');
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(base: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(new URL(path, base), { method: 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          ms: performance.now() - started,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The path a case reads: the one its name shows after GET, else the SLO list. */
function pathOf(name: string): string {
  return /GET (\S+)/.exec(name)?.[1] ?? '/api/v1/slos';
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

async function runOn(dialect: Dialect, slos: number, requests: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shinrai-reads-'));
  writeFileSync(join(dir, 'bench.yaml'), specs(slos));
  const nowMs = Date.UTC(2026, 2, 14, 10, 0, 5);
  const clock = new ManualClock(nowMs);
  let server: TestServer | undefined;
  let baseline: Awaited<ReturnType<typeof buildServer>> | undefined;
  try {
    server = await startTestServer(dialect, { specs: dir, clock });
    const { ctx } = server.shinrai;
    const token = await server.token('viewer');
    // HOURS_OF_DATA hours of one-minute traffic per SLI, written into the database directly.
    const lastMinute = Math.floor(nowMs / MIN);
    const firstMinute = lastMinute - HOURS_OF_DATA * 60;
    const lit = sql.lit;
    await sql`
      WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${lit(slos - 1)}),
        m(x) AS (SELECT CAST(${lit(firstMinute)} AS bigint) UNION ALL SELECT x + 1 FROM m WHERE x < ${lit(lastMinute - 1)})
      INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at)
      SELECT 'sli-' || i, x * ${lit(MIN)}, 200 + (i * 7 + x) % 800 - CASE WHEN (i + x) % 50 = 0 THEN 1 ELSE 0 END,
        200 + (i * 7 + x) % 800, x * ${lit(MIN)} + 30000
      FROM s CROSS JOIN m`.execute(ctx.db.kysely);
    // Tick until every SLO has a status (the start-up backfill may take several).
    for (let i = 0; i < 100 && (await listStatuses(ctx.db)).size < slos; i++)
      await server.shinrai.evaluator.tick();
    const stored = (await listStatuses(ctx.db)).size;
    check(stored === slos, `every one of ${slos} SLOs has a stored status (${dialect})`, `${stored} stored`);

    // The baseline: the same routes without the cache, over the same database and spec store.
    baseline = await buildServer(ctx, [
      sloRoutes({
        specs: ctx.specs,
        now: () => clock.now(),
        isStale: (evaluatedAt) => isStale(evaluatedAt, clock.now(), ctx.config.evaluator.tickSeconds),
        statuses: {
          listStatuses: () => listStatuses(ctx.db),
          getStatus: (id) => getStatus(ctx.db, id),
          history: (id, range) => history(ctx.db, id, range),
          version: () => statusesVersion(ctx.db),
        },
        cache: false,
      }),
    ]);
    await baseline.listen({ host: '127.0.0.1', port: 0 });
    const cachedUrl = server.shinrai.url;
    const baselineUrl = `http://127.0.0.1:${(baseline.server.address() as AddressInfo).port}`;
    const auth = { authorization: `Bearer ${token}` };

    // The first read after a tick builds the answer (and its br body): timed once per tick against
    // an uncached read right beside it, in alternating order so the tick's after-effects (GC) fall
    // on both alike.
    const firstReads: number[] = [];
    const besideReads: number[] = [];
    const browser = { ...auth, 'accept-encoding': BROWSER };
    for (let t = 0; t < 6; t++) {
      clock.advance(MIN);
      await server.shinrai.evaluator.tick();
      if (t % 2 === 0) {
        firstReads.push((await get(cachedUrl, '/api/v1/slos', browser)).ms);
        besideReads.push((await get(baselineUrl, '/api/v1/slos', browser)).ms);
      } else {
        besideReads.push((await get(baselineUrl, '/api/v1/slos', browser)).ms);
        firstReads.push((await get(cachedUrl, '/api/v1/slos', browser)).ms);
      }
    }

    // Correctness: the cached bytes are the fresh ones, each encoding decodes to them, 304 on the ETag.
    const fresh = await get(baselineUrl, '/api/v1/slos', { ...auth, 'accept-encoding': 'identity' });
    const plain = await get(cachedUrl, '/api/v1/slos', { ...auth, 'accept-encoding': 'identity' });
    const gzip = await get(cachedUrl, '/api/v1/slos', { ...auth, 'accept-encoding': 'gzip' });
    const br = await get(cachedUrl, '/api/v1/slos', { ...auth, 'accept-encoding': BROWSER });
    const entries = (JSON.parse(fresh.body.toString('utf8')) as { status: unknown[] }[]).filter(
      (s) => s.status.length > 0,
    ).length;
    check(
      fresh.status === 200 && entries === slos,
      `the uncached answer lists ${slos} SLOs with a status (${dialect})`,
      `${entries} with a status`,
    );
    check(
      plain.body.equals(fresh.body),
      `the cached body equals the freshly built one byte for byte (${dialect})`,
      `${plain.body.length} vs ${fresh.body.length} bytes`,
    );
    check(
      br.headers['content-encoding'] === 'br' && brotliDecompressSync(br.body).equals(fresh.body),
      `the br body decodes to the same bytes (${dialect})`,
    );
    check(
      gzip.headers['content-encoding'] === 'gzip' && gunzipSync(gzip.body).equals(fresh.body),
      `the gzip body decodes to the same bytes (${dialect})`,
    );
    const etag = String(br.headers.etag ?? '');
    const revalidated = await get(cachedUrl, '/api/v1/slos', {
      ...auth,
      'accept-encoding': BROWSER,
      'if-none-match': etag,
    });
    check(
      revalidated.status === 304 && revalidated.body.length === 0 && revalidated.headers.etag === etag,
      `a 304 is answered to the ETag (${dialect})`,
      `status ${revalidated.status}`,
    );

    // Warm reads, the cases interleaved round by round so load on the box hits them alike.
    const cases = [
      { name: 'uncached, identity', url: baselineUrl, headers: { ...auth, 'accept-encoding': 'identity' } },
      {
        name: 'uncached, browser (gzip per request)',
        url: baselineUrl,
        headers: { ...auth, 'accept-encoding': BROWSER },
      },
      { name: 'cached, identity', url: cachedUrl, headers: { ...auth, 'accept-encoding': 'identity' } },
      { name: 'cached, browser (br)', url: cachedUrl, headers: { ...auth, 'accept-encoding': BROWSER } },
      { name: 'cached, gzip', url: cachedUrl, headers: { ...auth, 'accept-encoding': 'gzip' } },
      {
        name: 'cached, revalidation (304)',
        url: cachedUrl,
        headers: { ...auth, 'accept-encoding': BROWSER, 'if-none-match': etag },
      },
    ];
    // The floor of any authenticated read: the token lookup and Fastify, no answer to build; and
    // the overview's two other reads, built per request (weak ETag only).
    const other = (name: string) => ({
      name,
      url: cachedUrl,
      headers: { ...auth, 'accept-encoding': BROWSER },
    });
    cases.push(
      other('floor: GET /api/v1/whoami'),
      other('overview: GET /api/v1/alerts'),
      other('overview: GET /api/v1/incidents?state=open'),
    );
    const times = cases.map(() => [] as number[]);
    const sizes = cases.map(() => 0);
    for (let round = 0; round < WARMUP + requests; round++)
      for (const [i, c] of cases.entries()) {
        const answer = await get(c.url, pathOf(c.name), c.headers);
        if (answer.status !== 200 && answer.status !== 304)
          throw new Error(`${c.name}: status ${answer.status}`);
        if (round >= WARMUP) times[i]!.push(answer.ms);
        sizes[i] = answer.body.length;
      }
    const p50 = times.map((t) => quantile(t, 0.5));
    console.log(
      `${dialect}: GET /api/v1/slos, ${slos} SLOs with statuses (${kib(fresh.body.length)} of JSON), ${requests} warm requests per case over loopback (keep-alive)`,
    );
    for (const [i, c] of cases.entries())
      console.log(
        `  ${c.name.padEnd(44)} p50 ${ms(p50[i]!).padStart(6)} ms  p95 ${ms(quantile(times[i]!, 0.95)).padStart(6)} ms  body ${kib(sizes[i]!)}`,
      );
    console.log(
      `  first read after a tick, browser (builds the answer): median ${ms(quantile(firstReads, 0.5))} ms (all: ${firstReads.map(ms).join(', ')}); an uncached read beside it: median ${ms(quantile(besideReads, 0.5))} ms (all: ${besideReads.map(ms).join(', ')})`,
    );
    console.log(
      `  ratio uncached / cached p50: identity ${(p50[0]! / p50[2]!).toFixed(0)}×, browser ${(p50[1]! / p50[3]!).toFixed(0)}×`,
    );
    console.log(
      `  goal (p50 ≤ 5 ms, warm, browser): ${p50[3]! <= 5 ? 'met' : 'NOT met'} (${ms(p50[3]!)} ms)`,
    );

    await historyReads(
      dialect,
      server,
      clock,
      { cachedUrl, baselineUrl, auth },
      Math.max(1, Math.round(requests / 4)),
    );
  } finally {
    await baseline?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(flags: BenchFlags): Promise<void> {
  const slos = intFlag(flags, 'slos', 1000);
  const requests = intFlag(flags, 'requests', 200);
  const dialects = String(flags.db === undefined || flags.db === true ? 'sqlite' : flags.db).split(',');
  for (const dialect of dialects) {
    if (dialect !== 'sqlite' && dialect !== 'postgres')
      throw new Error('--db takes sqlite, postgres or both');
    await runOn(dialect, slos, requests);
  }
  agent.destroy();
}

/**
 * The SLO page's 30-day history read: 30 days of 5-minute points stored for slo-0 (burn rates with
 * the keys the evaluator stores), read warm from the cached and the uncached server, and the first
 * read after a new point is stored (the cache's build) beside an uncached read.
 */
async function historyReads(
  dialect: Dialect,
  server: TestServer,
  clock: ManualClock,
  urls: { cachedUrl: string; baselineUrl: string; auth: Record<string, string> },
  requests: number,
): Promise<void> {
  const { db } = server.shinrai.ctx;
  const { cachedUrl, baselineUrl, auth } = urls;
  const sample = await db.kysely
    .selectFrom('slo_history')
    .select('burn_rates')
    .where('slo_id', '=', 'slo-0')
    .executeTakeFirst();
  const keys = Object.keys(JSON.parse(sample?.burn_rates ?? '{"1h": 0}') as Record<string, unknown>);
  const toMs = Math.floor(clock.now() / MIN) * MIN;
  const fromMs = toMs - HISTORY_DAYS * DAY;
  const firstStep = Math.ceil(fromMs / HISTORY_STEP_MS) * HISTORY_STEP_MS;
  const rows = [];
  for (let ts = firstStep, i = 0; ts < toMs - 2 * HISTORY_STEP_MS; ts += HISTORY_STEP_MS, i++)
    rows.push({
      slo_id: 'slo-0',
      ts,
      // Figures with as many digits as computed ones have.
      sli: 1 - ((i * 7919) % 1000) / 3_000_017,
      remaining: 1 - i / 20_011,
      burn_rates: JSON.stringify(
        Object.fromEntries(keys.map((k, j) => [k, ((i * 7919 + j * 104_729) % 100_003) / 33_331.7])),
      ),
    });
  for (let i = 0; i < rows.length; i += 1000)
    await db.kysely
      .insertInto('slo_history')
      .values(rows.slice(i, i + 1000))
      .onConflict((oc) => oc.columns(['slo_id', 'ts']).doNothing())
      .execute();
  if (dialect === 'postgres') await sql`VACUUM ANALYZE slo_history`.execute(db.kysely);
  const path = `/api/v1/slos/slo-0/history?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}&step=5m`;
  const browser = { ...auth, 'accept-encoding': BROWSER };

  // Correctness first: the cached bytes are the fresh ones, br decodes to them, 304 on the ETag.
  const fresh = await get(baselineUrl, path, { ...auth, 'accept-encoding': 'identity' });
  const points = (JSON.parse(fresh.body.toString('utf8')) as { points: unknown[] }).points.length;
  check(
    fresh.status === 200 && points >= 8_600,
    `the uncached 30-day history has its 8,640 points less the newest steps (${dialect})`,
    `${points} points`,
  );
  const plain = await get(cachedUrl, path, { ...auth, 'accept-encoding': 'identity' });
  check(
    plain.body.equals(fresh.body),
    `the cached 30-day history equals the freshly built one byte for byte (${dialect})`,
    `${plain.body.length} vs ${fresh.body.length} bytes`,
  );
  const br = await get(cachedUrl, path, browser);
  check(
    br.headers['content-encoding'] === 'br' && brotliDecompressSync(br.body).equals(fresh.body),
    `the history's br body decodes to the same bytes (${dialect})`,
  );
  const etag = String(br.headers.etag ?? '');
  const revalidated = await get(cachedUrl, path, { ...browser, 'if-none-match': etag });
  check(
    revalidated.status === 304 && revalidated.body.length === 0,
    `a 304 is answered to the history's ETag (${dialect})`,
    `status ${revalidated.status}`,
  );

  const cases = [
    { name: 'uncached, identity', url: baselineUrl, headers: { ...auth, 'accept-encoding': 'identity' } },
    { name: 'uncached, browser (gzip per request)', url: baselineUrl, headers: browser },
    { name: 'cached, identity', url: cachedUrl, headers: { ...auth, 'accept-encoding': 'identity' } },
    { name: 'cached, browser (br)', url: cachedUrl, headers: browser },
    { name: 'cached, revalidation (304)', url: cachedUrl, headers: { ...browser, 'if-none-match': etag } },
  ];
  const warmup = Math.min(WARMUP, requests);
  const times = cases.map(() => [] as number[]);
  const sizes = cases.map(() => 0);
  for (let round = 0; round < warmup + requests; round++)
    for (const [i, c] of cases.entries()) {
      const answer = await get(c.url, path, c.headers);
      if (answer.status !== 200 && answer.status !== 304)
        throw new Error(`history ${c.name}: ${answer.status}`);
      if (round >= warmup) times[i]!.push(answer.ms);
      sizes[i] = answer.body.length;
    }

  // The first read after the range's stored points change (the cache builds the answer and its
  // br body), beside an uncached read, in alternating order: a point removed (as retention thins),
  // then stored again (as the backfill fills a gap).
  const firstReads: number[] = [];
  const besideReads: number[] = [];
  const moved = rows[100]!;
  for (let t = 0; t < 6; t++) {
    if (t % 2 === 0)
      await db.kysely
        .deleteFrom('slo_history')
        .where('slo_id', '=', 'slo-0')
        .where('ts', '=', moved.ts)
        .execute();
    else await db.kysely.insertInto('slo_history').values(moved).execute();
    if (t % 2 === 0) {
      firstReads.push((await get(cachedUrl, path, browser)).ms);
      besideReads.push((await get(baselineUrl, path, browser)).ms);
    } else {
      besideReads.push((await get(baselineUrl, path, browser)).ms);
      firstReads.push((await get(cachedUrl, path, browser)).ms);
    }
  }
  await db.kysely
    .deleteFrom('slo_history')
    .where('slo_id', '=', 'slo-0')
    .where('ts', '=', moved.ts)
    .execute();
  const after = await get(cachedUrl, path, { ...auth, 'accept-encoding': 'identity' });
  const afterFresh = await get(baselineUrl, path, { ...auth, 'accept-encoding': 'identity' });
  check(
    after.body.equals(afterFresh.body) && !after.body.equals(fresh.body),
    `after its points changed the cached history is rebuilt, equal to the fresh one (${dialect})`,
  );
  // The range moving on one step (the SLO page's next 5 minutes, a tick having stored the point
  // at its end): the cache builds the answer from the one before (points copied as bytes, the
  // last step's read), against a build from scratch of the same range (a point of it removed
  // first, so the copied points no longer match the stored ones). Read as JSON (identity): the
  // build alone, which runs on the event loop (a browser's br body is made after it, in libuv's
  // pool, the same for both). CPU time of this process, which runs the server: less noisy than
  // wall time on a shared box.
  await db.kysely.insertInto('slo_history').values(moved).execute();
  const identity = { ...auth, 'accept-encoding': 'identity' };
  await get(cachedUrl, path, identity);
  const cpuSince = (start: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
  const steps = {
    movedCpu: [] as number[],
    movedMs: [] as number[],
    scratchCpu: [] as number[],
    scratchMs: [] as number[],
  };
  const newest = rows.at(-1)!;
  let stepPath = path;
  for (let k = 1; k <= 6; k++) {
    await db.kysely
      .insertInto('slo_history')
      .values({ ...newest, ts: toMs + k * HISTORY_STEP_MS })
      // The evaluator may have stored it already.
      .onConflict((oc) => oc.columns(['slo_id', 'ts']).doNothing())
      .execute();
    const range = [fromMs + k * HISTORY_STEP_MS, toMs + k * HISTORY_STEP_MS].map((t) =>
      new Date(t).toISOString(),
    );
    stepPath = `/api/v1/slos/slo-0/history?from=${range[0]}&to=${range[1]}&step=5m`;
    let started = process.cpuUsage();
    const identical = await get(cachedUrl, stepPath, identity);
    steps.movedCpu.push(cpuSince(started));
    steps.movedMs.push(identical.ms);
    const identicalFresh = await get(baselineUrl, stepPath, identity);
    check(
      identical.body.equals(identicalFresh.body),
      `the history one step on, built from the previous answer, equals the fresh one byte for byte (${dialect}, step ${k})`,
    );
    await db.kysely
      .deleteFrom('slo_history')
      .where('slo_id', '=', 'slo-0')
      .where('ts', '=', moved.ts)
      .execute();
    started = process.cpuUsage();
    steps.scratchMs.push((await get(cachedUrl, stepPath, identity)).ms);
    steps.scratchCpu.push(cpuSince(started));
    // Stored again and read (from scratch again), so the next step has every point to copy.
    await db.kysely.insertInto('slo_history').values(moved).execute();
    await get(cachedUrl, stepPath, identity);
  }

  // The version read alone: what every cached request pays before its bytes.
  const versionTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await historyVersion(db, 'slo-0', fromMs, toMs);
    versionTimes.push(performance.now() - started);
  }

  const p50 = times.map((t) => quantile(t, 0.5));
  console.log(
    `${dialect}: GET /api/v1/slos/{id}/history, ${HISTORY_DAYS} days at 5m (${points} points, ${kib(fresh.body.length)} of JSON), ${requests} warm requests per case`,
  );
  for (const [i, c] of cases.entries())
    console.log(
      `  ${c.name.padEnd(44)} p50 ${ms(p50[i]!).padStart(6)} ms  p95 ${ms(quantile(times[i]!, 0.95)).padStart(6)} ms  body ${kib(sizes[i]!)}`,
    );
  console.log(
    `  first read after the points changed, browser (builds the answer): median ${ms(quantile(firstReads, 0.5))} ms (all: ${firstReads.map(ms).join(', ')}); an uncached read beside it: median ${ms(quantile(besideReads, 0.5))} ms (all: ${besideReads.map(ms).join(', ')})`,
  );
  console.log(
    `  first read one step on, identity (built from the previous answer): median ${ms(quantile(steps.movedCpu, 0.5))} ms CPU, ${ms(quantile(steps.movedMs, 0.5))} ms; the same range built from scratch: median ${ms(quantile(steps.scratchCpu, 0.5))} ms CPU, ${ms(quantile(steps.scratchMs, 0.5))} ms (CPU ratio ${(quantile(steps.scratchCpu, 0.5) / quantile(steps.movedCpu, 0.5)).toFixed(1)}×; all CPU: ${steps.movedCpu.map(ms).join(', ')} vs ${steps.scratchCpu.map(ms).join(', ')})`,
  );
  console.log(`  the version read alone (historyVersion): median ${ms(quantile(versionTimes, 0.5))} ms`);
  console.log(
    `  ratio uncached / cached p50: identity ${(p50[0]! / p50[2]!).toFixed(0)}×, browser ${(p50[1]! / p50[3]!).toFixed(0)}×`,
  );
}
