/**
 * The soak driver (issue 19, goal 8), shared by bench/soak.bench.ts (30 minutes, 1,000 SLIs, 50
 * readers) and test/soak.test.ts (a few minutes, scaled down): `shinrai serve` runs as a separate
 * child process (so its resident memory is its own) over a seeded database; this process sends
 * every SLI one batch per period (open loop, on a fixed schedule) while R readers load the UI's
 * overview and an SLO page at 30 days in turn, as the browser does (the page's reads together, its
 * ETag revalidations); every request's latency is kept, every error counted, and the server's
 * VmRSS is sampled from /proc. It checks nothing itself: it answers a `SoakResult` for the caller
 * to check and print.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createToken } from '../../src/platform/auth/tokens.js';
import { systemClock } from '../../src/platform/clock.js';
import { type Db, type Dialect, openDatabase } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrations.js';
import { percentile } from '../../src/platform/stats.js';
import { chartEndMs } from '../../web/src/history.js';
import { createTestDatabase } from './databases.js';
import { type ShinraiProcess, spawnShinrai } from './process.js';
import { ratioSloYaml } from './specs.js';

const MIN = 60_000;
const DAY = 86_400_000;
/** The SLO page's 30-day chart: the range and the step web/src/history.ts picks for it. */
const RANGE_30D_MS = 30 * DAY;
const STEP_30D = '5m';
const STEP_30D_MS = 5 * MIN;
/** What a browser sends. */
const BROWSER = 'gzip, deflate, br, zstd';
/** A request that takes longer than this is an error (the browser would show a spinner forever). */
const REQUEST_TIMEOUT_MS = 30_000;
/** SLOs per service: the SLO page reads the deployments of its service. */
const SLOS_PER_SERVICE = 50;
/**
 * Idle keep-alive sockets are closed on this side after this long, before the server closes them
 * (Fastify's keepAliveTimeout, 72 s): a request sent on a socket the server is closing at that
 * moment fails with ECONNRESET — a browser retries such a request on a new connection, Node's
 * Agent does not. Seen in a soak where a reader's spare sockets sat idle ~70 s between SLO pages.
 */
const IDLE_SOCKET_MS = 30_000;

export interface SoakOptions {
  readonly dialect: Dialect;
  /** Length of the soak proper (after the server is up and its history backfill is done). */
  readonly durationMs: number;
  /** SLIs, each with one SLO, each sent one batch per `periodMs`. */
  readonly slis: number;
  readonly periodMs: number;
  /** Count items per batch (one per second of the period, as an agent flushing every 10 s sends). */
  readonly itemsPerBatch: number;
  /** Concurrent UI readers. */
  readonly readers: number;
  /** A reader's pause between two page loads, on average (uniform in ½–1½ of it). */
  readonly thinkMs: number;
  /** SLOs with `historyDays` of one-minute data, whose SLO pages the readers open. */
  readonly watched: number;
  readonly historyDays: number;
  /** Hours of one-minute data the other SLIs start with. */
  readonly seedHours: number;
  /** How often the server's VmRSS is read. */
  readonly rssEveryMs: number;
  /** How long to wait for the server's start-up (statuses and history backfill) at most. */
  readonly readyTimeoutMs: number;
  /** Progress lines (stderr in the bench); none when absent. */
  readonly progress?: ((line: string) => void) | undefined;
}

/** One RSS sample: milliseconds since the soak began, resident bytes, requests then in flight. */
export interface RssSample {
  readonly atMs: number;
  readonly bytes: number;
  /** Batches and reads sent and not yet answered: a growing number is a server falling behind. */
  readonly inFlight: number;
}

export interface EndpointStats {
  readonly name: string;
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Answers of 304 (revalidated from the reader's ETag). */
  readonly notModified: number;
}

export interface SoakResult {
  readonly dialect: Dialect;
  /** Seeding and server start-up (statuses of every SLO and the watched SLOs' 30 days of history). */
  readonly seedMs: number;
  /** From the spawn until the server said it was listening. */
  readonly listeningMs: number;
  readonly startupMs: number;
  readonly soakMs: number;
  readonly batchesSent: number;
  readonly batchesAcknowledged: number;
  /** Events (the `total` of every item) of the acknowledged batches. */
  readonly eventsAcknowledged: number;
  /** Stored `sli_minutes` totals gained during the soak, read from the database after it. */
  readonly eventsStored: number;
  /** Idempotency keys stored for the soak's batches (one per acknowledged batch). */
  readonly keysStored: number;
  /** Batches that started later than scheduled by more than one period (the client fell behind). */
  readonly lateBatches: number;
  readonly maxInFlightBatches: number;
  readonly reads: readonly EndpointStats[];
  /** Every read together. */
  readonly allReads: EndpointStats;
  readonly ingest: EndpointStats;
  readonly pageLoads: number;
  readonly errors: number;
  /** The first few errors, each with the request and what went wrong. */
  readonly firstErrors: readonly string[];
  /** Lines the server logged at level error or fatal. */
  readonly serverErrors: readonly string[];
  readonly rss: readonly RssSample[];
  /** After the soak: the process had not exited and /healthz answered 200. */
  readonly aliveAfter: boolean;
  /** Load average (1 minute) at the start and the end of the soak. */
  readonly loadAverage: readonly [number, number];
}

function specs(slis: number): string {
  const docs: string[] = [];
  const services = Math.ceil(slis / SLOS_PER_SERVICE);
  for (let s = 0; s < services; s++)
    docs.push(
      `apiVersion: openslo/v1\nkind: Service\nmetadata: {name: ${serviceOf(s * SLOS_PER_SERVICE)}}\nspec: {}\n`,
    );
  for (let i = 0; i < slis; i++)
    docs.push(
      ratioSloYaml(`slo-${i}`, { service: serviceOf(i), sli: `sli-${i}`, window: '28d', target: 0.999 }),
    );
  return docs.join('---\n');
}

function serviceOf(sli: number): string {
  return `svc-${String(Math.floor(sli / SLOS_PER_SERVICE)).padStart(2, '0')}`;
}

/**
 * One-minute counts for SLIs `fromSli` … `toSli - 1` over minutes [firstMinute, lastMinute),
 * generated inside the database (200–999 requests a minute, one failure in 50 minutes), each minute
 * stamped as if ingested live.
 */
async function seedMinutes(db: Db, fromSli: number, toSli: number, firstMinute: number, lastMinute: number) {
  if (toSli <= fromSli || lastMinute <= firstMinute) return;
  const lit = sql.lit;
  const series =
    db.dialect === 'postgres'
      ? sql`WITH s(i) AS (SELECT g FROM generate_series(${lit(fromSli)}, ${lit(toSli - 1)}) g),
          m(x) AS (SELECT CAST(g AS bigint) FROM generate_series(${lit(firstMinute)}, ${lit(lastMinute - 1)}) g)`
      : sql`WITH RECURSIVE s(i) AS (SELECT ${lit(fromSli)} UNION ALL SELECT i + 1 FROM s WHERE i < ${lit(toSli - 1)}),
          m(x) AS (SELECT CAST(${lit(firstMinute)} AS bigint) UNION ALL SELECT x + 1 FROM m WHERE x < ${lit(lastMinute - 1)})`;
  await sql`${series}
    INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at)
    SELECT 'sli-' || i, x * ${lit(MIN)}, 200 + (i * 7 + x) % 800 - CASE WHEN (i + x) % 50 = 0 THEN 1 ELSE 0 END,
      200 + (i * 7 + x) % 800, x * ${lit(MIN)} + 30000
    FROM s CROSS JOIN m`.execute(db.kysely);
}

async function storedTotals(url: string, keyPrefix: string): Promise<{ total: number; keys: number }> {
  const db = openDatabase(url);
  try {
    const row = await db.kysely
      .selectFrom('sli_minutes')
      .select((eb) => eb.fn.sum<number | string>('total').as('total'))
      .executeTakeFirstOrThrow();
    const keys = await db.kysely
      .selectFrom('ingest_batches')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('idempotency_key', 'like', `${keyPrefix}%`)
      .executeTakeFirstOrThrow();
    return { total: Number(row.total ?? 0), keys: Number(keys.n) };
  } finally {
    await db.close();
  }
}

interface Answer {
  readonly status: number;
  readonly etag: string | undefined;
  readonly body: Buffer;
  readonly ms: number;
}

function send(
  agent: Agent,
  base: string,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(new URL(path, base), { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          etag: typeof res.headers.etag === 'string' ? res.headers.etag : undefined,
          body: Buffer.concat(chunks),
          ms: performance.now() - started,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

function stats(name: string, latencies: readonly number[], notModified: number): EndpointStats {
  const sorted = Float64Array.from(latencies).sort();
  return {
    name,
    count: sorted.length,
    p50Ms: percentile(latencies, 0.5) ?? Number.NaN,
    p99Ms: percentile(latencies, 0.99) ?? Number.NaN,
    maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    notModified,
  };
}

function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs one soak on a fresh database of `dialect`; always stops the server and drops the database. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = options.progress ?? (() => {});
  const tag = `[soak ${options.dialect}]`;
  if (options.watched > options.slis) throw new Error('watched SLOs must be among the SLIs');
  const testDb = await createTestDatabase(options.dialect);
  const specDir = mkdtempSync(join(tmpdir(), 'shinrai-soak-'));
  writeFileSync(join(specDir, 'soak.yaml'), specs(options.slis));
  let server: ShinraiProcess | undefined;
  const writeAgent = new Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS });
  const readerAgents: Agent[] = [];
  try {
    // Seed: tokens, W SLIs with `historyDays` of minutes, the rest with `seedHours`.
    const seedStart = performance.now();
    const startMinute = Math.floor(Date.now() / MIN);
    const db = openDatabase(testDb.url);
    let editor: string;
    const viewers: string[] = [];
    try {
      await migrateToLatest(db.kysely);
      editor = (await createToken({ db, clock: systemClock }, { name: 'soak-ingest', role: 'editor' })).token;
      for (let r = 0; r < options.readers; r++)
        viewers.push(
          (await createToken({ db, clock: systemClock }, { name: `soak-reader-${r}`, role: 'viewer' })).token,
        );
      await seedMinutes(db, 0, options.watched, startMinute - options.historyDays * 1440, startMinute);
      await seedMinutes(
        db,
        options.watched,
        options.slis,
        startMinute - Math.round(options.seedHours * 60),
        startMinute,
      );
      if (db.dialect === 'postgres') await sql`VACUUM ANALYZE sli_minutes`.execute(db.kysely);
    } finally {
      await db.close();
    }
    const keyPrefix = `soak-${Date.now().toString(36)}-`;
    const before = await storedTotals(testDb.url, keyPrefix);
    const seedMs = performance.now() - seedStart;
    say(`${tag} seeded in ${(seedMs / 1000).toFixed(1)} s; starting the server`);

    // Start-up: the server runs until every SLO has a status and the watched ones their history.
    const startupStart = performance.now();
    server = await spawnShinrai(
      ['--db', testDb.url, '--specs', specDir],
      {},
      {
        startTimeoutMs: options.readyTimeoutMs,
      },
    );
    const listeningMs = performance.now() - startupStart;
    const url = server.url;
    const pid = server.child.pid!;
    const probe = new Agent({ keepAlive: true, maxSockets: 1, timeout: IDLE_SOCKET_MS });
    readerAgents.push(probe);
    const identity = { authorization: `Bearer ${viewers[0] ?? editor}`, 'accept-encoding': 'identity' };
    // The backfill writes one point per 5-minute step of the stored days; the window has moved on
    // since the seed and live points come once a step, so a few at either end may be missing.
    const expectedPoints = Math.floor(0.95 * ((Math.min(options.historyDays, 30) * DAY) / STEP_30D_MS));
    for (;;) {
      if (performance.now() - startupStart > options.readyTimeoutMs)
        throw new Error(
          `${tag} the server's start-up took over ${options.readyTimeoutMs} ms:\n${server.stderr()}`,
        );
      const list = await send(probe, url, 'GET', '/api/v1/slos', identity);
      const withStatus =
        list.status === 200
          ? (JSON.parse(list.body.toString('utf8')) as { status: unknown[] }[]).filter(
              (s) => s.status.length > 0,
            ).length
          : 0;
      let historyReady = withStatus === options.slis;
      for (let w = 0; historyReady && w < options.watched; w++) {
        const nowMs = Math.floor(Date.now() / MIN) * MIN;
        const answer = await send(probe, url, 'GET', historyPath(w, nowMs), identity);
        const points =
          answer.status === 200
            ? (JSON.parse(answer.body.toString('utf8')) as { points: unknown[] }).points.length
            : 0;
        historyReady = points >= expectedPoints;
      }
      if (historyReady) break;
      await sleep(1000);
    }
    const startupMs = performance.now() - startupStart;
    say(
      `${tag} server listening after ${(listeningMs / 1000).toFixed(1)} s, up (pid ${pid}) with statuses and history after ${(startupMs / 1000).toFixed(1)} s; soaking`,
    );

    // The soak.
    const soakStart = performance.now();
    const endAt = soakStart + options.durationMs;
    const loadStart = loadAverage();
    const errors: string[] = [];
    let errorCount = 0;
    const fail = (what: string) => {
      errorCount++;
      if (errors.length < 10) errors.push(what);
    };
    const rss: RssSample[] = [];
    let inFlight = 0;
    let readsInFlight = 0;
    const sampleRss = () => {
      const bytes = readRss(pid);
      if (bytes !== undefined)
        rss.push({ atMs: performance.now() - soakStart, bytes, inFlight: inFlight + readsInFlight });
    };
    sampleRss();
    const rssTimer = setInterval(sampleRss, options.rssEveryMs);

    // Writers: batch n goes to SLI n mod S at soakStart + n × period / S, whatever came before.
    const ingestLatencies: number[] = [];
    let sent = 0;
    let acknowledged = 0;
    let eventsAcknowledged = 0;
    let late = 0;
    let maxInFlight = 0;
    const pending = new Set<Promise<void>>();
    const writer = (async () => {
      const gapMs = options.periodMs / options.slis;
      for (let n = 0; ; n++) {
        const dueAt = soakStart + n * gapMs;
        if (dueAt >= endAt) break;
        const wait = dueAt - performance.now();
        if (wait > 1) await sleep(wait);
        else if (wait < -options.periodMs) late++;
        const sli = `sli-${n % options.slis}`;
        const nowMs = Date.now();
        let events = 0;
        const lines: string[] = [];
        for (let k = 0; k < options.itemsPerBatch; k++) {
          const total = 20 + ((n + k) % 80);
          const bad = (n + k) % 97 === 0 ? 1 : 0;
          events += total;
          lines.push(`{"ts":${nowMs - k * 1000},"good":${total - bad},"total":${total}}`);
        }
        const key = `${keyPrefix}${n}`;
        sent++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const done = send(
          writeAgent,
          url,
          'POST',
          `/api/v1/sli/${sli}/events`,
          {
            authorization: `Bearer ${editor}`,
            'content-type': 'application/x-ndjson',
            'idempotency-key': key,
          },
          lines.join('\n'),
        )
          .then((answer) => {
            if (answer.status !== 200) {
              fail(
                `POST /api/v1/sli/${sli}/events: ${answer.status} ${answer.body.toString('utf8').slice(0, 300)}`,
              );
              return;
            }
            acknowledged++;
            eventsAcknowledged += events;
            ingestLatencies.push(answer.ms);
          })
          .catch((error: Error) => fail(`POST /api/v1/sli/${sli}/events: ${error.message}`))
          .finally(() => {
            inFlight--;
            pending.delete(done);
          });
        pending.add(done);
      }
    })();

    // Readers: overview, pause, an SLO page at 30 days, pause, … until the end.
    const latencies = new Map<string, number[]>();
    const notModified = new Map<string, number>();
    let pageLoads = 0;
    const reader = async (r: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 6, timeout: IDLE_SOCKET_MS });
      readerAgents.push(agent);
      const etags = new Map<string, string>();
      const auth = `Bearer ${viewers[r]!}`;
      const get = async (name: string, path: string) => {
        const headers: Record<string, string> = {
          authorization: auth,
          'accept-encoding': BROWSER,
          accept: 'application/json',
        };
        const etag = etags.get(path);
        if (etag) headers['if-none-match'] = etag;
        readsInFlight++;
        try {
          const answer = await send(agent, url, 'GET', path, headers);
          if (answer.status !== 200 && answer.status !== 304) {
            fail(`GET ${path}: ${answer.status} ${answer.body.toString('utf8').slice(0, 300)}`);
            return;
          }
          if (answer.status === 304) notModified.set(name, (notModified.get(name) ?? 0) + 1);
          else if (answer.etag) etags.set(path, answer.etag);
          const list = latencies.get(name) ?? [];
          if (list.length === 0) latencies.set(name, list);
          list.push(answer.ms);
        } catch (error) {
          fail(`GET ${path}: ${(error as Error).message}`);
        } finally {
          readsInFlight--;
        }
      };
      // Readers start spread over one pause, so they do not move in step.
      await sleep(Math.random() * options.thinkMs);
      for (let page = r; performance.now() < endAt; page++) {
        if (page % 2 === 0) {
          await Promise.all([
            get('overview: GET /api/v1/slos', '/api/v1/slos'),
            get('overview: GET /api/v1/alerts', '/api/v1/alerts'),
            get('overview: GET /api/v1/incidents?state=open', '/api/v1/incidents?state=open'),
          ]);
        } else {
          const w = Math.floor(Math.random() * options.watched);
          const id = `slo-${w}`;
          // The page's window moves with the clock in steps of its chart step (SloPage.tsx).
          const toMs = chartEndMs(Date.now(), RANGE_30D_MS);
          const fromMs = toMs - RANGE_30D_MS;
          await Promise.all([
            get('SLO page: GET /api/v1/slos/{id}', `/api/v1/slos/${id}`),
            get('SLO page: GET /api/v1/slos/{id}/spec', `/api/v1/slos/${id}/spec`),
            get('SLO page: GET /api/v1/slos/{id}/history (30 d, 5m)', historyPath(w, toMs)),
            get('SLO page: GET /api/v1/alerts?state=all', '/api/v1/alerts?state=all'),
            get('SLO page: GET /api/v1/incidents?state=all', '/api/v1/incidents?state=all'),
            get(
              'SLO page: GET /api/v1/deployments (30 d)',
              `/api/v1/deployments?${new URLSearchParams({
                service: serviceOf(w),
                from: new Date(fromMs).toISOString(),
                to: new Date(toMs).toISOString(),
                production: 'true',
                limit: '500',
              })}`,
            ),
          ]);
        }
        pageLoads++;
        const pause = options.thinkMs * (0.5 + Math.random());
        await sleep(Math.min(pause, Math.max(0, endAt - performance.now())));
      }
    };

    let progressAt = soakStart + MIN;
    const progressTimer = setInterval(() => {
      if (performance.now() < progressAt) return;
      progressAt += MIN;
      const reads = [...latencies.values()].reduce((n, l) => n + l.length, 0);
      const last = rss.at(-1);
      say(
        `${tag} ${((performance.now() - soakStart) / MIN).toFixed(0)} min: ${acknowledged} batches acknowledged, ${reads} reads, ${errorCount} errors, RSS ${last ? (last.bytes / 2 ** 20).toFixed(0) : '?'} MiB, load ${loadAverage()}`,
      );
    }, 1000);
    await Promise.all([writer, ...Array.from({ length: options.readers }, (_, r) => reader(r))]);
    await Promise.all([...pending]);
    clearInterval(rssTimer);
    clearInterval(progressTimer);
    sampleRss();
    const soakMs = performance.now() - soakStart;
    const loadEnd = loadAverage();

    // After: the stored totals, the server still answering, its logged errors.
    const after = await storedTotals(testDb.url, keyPrefix);
    let aliveAfter = false;
    try {
      const health = await send(probe, url, 'GET', '/healthz', {});
      aliveAfter =
        health.status === 200 && server.child.exitCode === null && server.child.signalCode === null;
    } catch {
      aliveAfter = false;
    }
    const serverErrors = server
      .stderr()
      .split('\n')
      .filter((line) => {
        try {
          return (JSON.parse(line) as { level?: number }).level! >= 50;
        } catch {
          return false;
        }
      });

    const reads = [...latencies.entries()].map(([name, l]) => stats(name, l, notModified.get(name) ?? 0));
    reads.sort((a, b) => a.name.localeCompare(b.name));
    return {
      dialect: options.dialect,
      seedMs,
      listeningMs,
      startupMs,
      soakMs,
      batchesSent: sent,
      batchesAcknowledged: acknowledged,
      eventsAcknowledged,
      eventsStored: after.total - before.total,
      keysStored: after.keys - before.keys,
      lateBatches: late,
      maxInFlightBatches: maxInFlight,
      reads,
      allReads: stats(
        'all reads',
        [...latencies.values()].flat(),
        [...notModified.values()].reduce((a, b) => a + b, 0),
      ),
      ingest: stats('POST /api/v1/sli/{name}/events', ingestLatencies, 0),
      pageLoads,
      errors: errorCount,
      firstErrors: errors,
      serverErrors,
      rss,
      aliveAfter,
      loadAverage: [loadStart, loadEnd],
    };
  } finally {
    await server?.kill('SIGTERM');
    writeAgent.destroy();
    for (const agent of readerAgents) agent.destroy();
    rmSync(specDir, { recursive: true, force: true });
    await testDb.drop();
  }
}

function historyPath(watched: number, toMs: number): string {
  const from = new Date(toMs - RANGE_30D_MS).toISOString();
  const to = new Date(toMs).toISOString();
  return `/api/v1/slos/slo-${watched}/history?from=${from}&to=${to}&step=${STEP_30D}`;
}

export interface LeakVerdict {
  /** Samples after the warm-up, on which the line is fitted. */
  readonly samples: number;
  readonly medianBytes: number;
  /** Least-squares slope of RSS over time after the warm-up. */
  readonly slopeBytesPerMinute: number;
  /** The slope's growth over `projectMinutes`. */
  readonly projectedBytes: number;
  readonly limitBytes: number;
  readonly leak: boolean;
}

/**
 * The leak criterion: after the warm-up (the first `warmupFraction` of the run), fit a line to RSS
 * over time by least squares; a leak is a slope that would add more than `limitFraction` of the
 * post-warm-up median RSS in `projectMinutes`. The fit uses every sample, so the garbage
 * collector's saw-tooth averages out instead of deciding the verdict as two single samples would.
 */
export function leakVerdict(
  rss: readonly RssSample[],
  {
    warmupFraction,
    limitFraction,
    projectMinutes,
  }: { warmupFraction: number; limitFraction: number; projectMinutes: number },
): LeakVerdict {
  const endMs = rss.at(-1)?.atMs ?? 0;
  const kept = rss.filter((s) => s.atMs >= endMs * warmupFraction);
  const n = kept.length;
  const sorted = kept.map((s) => s.bytes).sort((a, b) => a - b);
  const medianBytes = n ? sorted[Math.floor((n - 1) / 2)]! : Number.NaN;
  let slope = Number.NaN;
  if (n >= 2) {
    const meanT = kept.reduce((a, s) => a + s.atMs, 0) / n;
    const meanB = kept.reduce((a, s) => a + s.bytes, 0) / n;
    let num = 0;
    let den = 0;
    for (const s of kept) {
      num += (s.atMs - meanT) * (s.bytes - meanB);
      den += (s.atMs - meanT) ** 2;
    }
    slope = den > 0 ? (num / den) * MIN : Number.NaN;
  }
  const projectedBytes = slope * projectMinutes;
  const limitBytes = limitFraction * medianBytes;
  return {
    samples: n,
    medianBytes,
    slopeBytesPerMinute: slope,
    projectedBytes,
    limitBytes,
    leak: !(projectedBytes <= limitBytes),
  };
}
