/**
 * The monthly report at scale, on SQLite and PostgreSQL: seeds a fresh database with N SLOs × M
 * months of one-minute data (bulk inserts straight into `sli_minutes`, as ingestion would have left
 * them), then times GET /api/v1/reports/monthly (JSON and HTML) for the product that holds every
 * SLO on a real server, and checks each SLO's verdict (attainment, budget allowed and consumed,
 * consumed share) and every trend month against a naive reference summed here from the generator.
 * The bulk load's hour sums are made first and timed (what the leader's refresh does as live
 * ingestion writes). Baselines measured in the same run: the former floor (one aggregate query a
 * month over every key's minutes), the naive reference itself, and the report's former path — every minute read (readMinutes)
 * and walked by the budget engine (monthFigures). Flags: --slos N (50), --months M (6, at most 6:
 * the trend's length), --runs R (5 timed after 1 warm-up), --tz ZONE (Asia/Tokyo), --dialect
 * sqlite|postgres|both (both), --layout interleaved|contiguous (interleaved: rows in the order live
 * ingestion writes them; contiguous: one SLI after the other, as a backfill would), --no-engine
 * (skip the former path's baseline: minutes at full size),
 * --perturb (one more bad event in the reference of one SLO: the checks must fail).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import pg from 'pg';
import type { Dialect } from '../src/platform/db/database.js';
import { monthFigures } from '../src/reports/index.js';
import { evaluationTargets, type MinuteRow, readMinutes, refreshHourSums } from '../src/slo/index.js';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
import { ManualClock, startTestServer, type TestServer } from '../test/support/server.js';
import { agree, check } from './check.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const MIN = 60_000;
const DAY = 1440 * MIN;
/** The report's month; the data covers the M months ending with it. */
const REPORT_MONTH = '2026-11';
const TREND = 6;
const TARGETS = [0.999, 0.995, 0.99] as const;
const PRODUCT = 'owner:team-bench';
type Layout = 'interleaved' | 'contiguous';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const sec = (startMs: number) => ((performance.now() - startMs) / 1000).toFixed(1);

const sloName = (s: number) => `slo-${String(s).padStart(3, '0')}`;
const sliName = (s: number) => `sli-${String(s).padStart(3, '0')}`;
const serviceName = (s: number) => `svc-${String(s % 10).padStart(2, '0')}`;
const targetOf = (s: number) => TARGETS[s % TARGETS.length]!;

function hash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * One minute of SLO s (minute index i from the data's start): 100–499 requests, a stray failure now
 * and then, and once every 30 days an outage of 5–94 minutes failing 5–65% of requests (integers,
 * so sums are exact).
 */
function minute(s: number, i: number): { good: number; total: number } {
  const h = hash(s, i);
  const total = 100 + (h % 400);
  let bad = (h >>> 9) % 50 === 0 ? 1 + ((h >>> 15) % 3) : 0;
  const outage = (i + s * 9973) % (30 * 1440);
  if (outage < 5 + ((s * 13) % 90)) bad = Math.max(bad, Math.floor(total * (0.05 + (s % 7) * 0.1)));
  return { good: total - bad, total };
}

interface Month {
  readonly month: string;
  readonly fromMs: number;
  readonly toMs: number;
}

function monthsOf(timeZone: string): Month[] {
  const last = DateTime.fromISO(`${REPORT_MONTH}-01`, { zone: timeZone });
  const out: Month[] = [];
  for (let k = TREND - 1; k >= 0; k--) {
    const start = last.minus({ months: k });
    out.push({
      month: start.toFormat('yyyy-MM'),
      fromMs: start.toMillis(),
      toMs: start.plus({ months: 1 }).toMillis(),
    });
  }
  return out;
}

interface Figures {
  attainment: number | null;
  allowed: number;
  consumed: number;
  consumedShare: number | null;
}

/** The reference: Σgood and Σtotal of each SLO's month summed minute by minute from the generator. */
function reference(
  slos: number,
  months: readonly Month[],
  dataFromMs: number,
  perturb: boolean,
): Figures[][] {
  return Array.from({ length: slos }, (_, s) =>
    months.map((m) => {
      let good = 0;
      let total = 0;
      for (let t = Math.max(m.fromMs, dataFromMs); t < m.toMs; t += MIN) {
        const c = minute(s, (t - dataFromMs) / MIN);
        good += c.good;
        total += c.total;
      }
      // --perturb: one more failed request in the report's month of SLO 0, in the reference only.
      if (perturb && s === 0 && m.month === REPORT_MONTH) good -= 1;
      const allowed = (1 - targetOf(s)) * total;
      const consumed = total - good;
      return {
        attainment: total > 0 ? good / total : null,
        allowed,
        consumed,
        consumedShare: allowed > 0 ? consumed / allowed : null,
      };
    }),
  );
}

async function writeSpecs(dir: string, slos: number): Promise<void> {
  const docs: string[] = [];
  for (let s = 0; s < slos; s++)
    docs.push(`apiVersion: openslo/v1
kind: SLO
metadata:
  name: ${sloName(s)}
  annotations:
    shinrai.dev/owner: team-bench
    shinrai.dev/error-budget-policy: "- below: 50%\\n  action: Review the burn weekly\\n  gate: allow\\n- below: 0%\\n  action: Freeze feature releases\\n  gate: deny"
spec:
  service: ${serviceName(s)}
  indicator:
    metadata: {name: ${sliName(s)}}
    spec:
      ratioMetric:
        good: {metricSource: {type: shinrai, spec: {}}}
        total: {metricSource: {type: shinrai, spec: {}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: ${targetOf(s)}}]
`);
  await writeFile(join(dir, 'slos.yaml'), docs.join('---\n'));
}

/**
 * Bulk-inserts every minute: better-sqlite3 prepared statements in transactions, or PostgreSQL
 * unnest() batches. `interleaved` writes minute by minute across the SLIs, as live ingestion
 * leaves the table (the rows of one SLI spread over the whole table); `contiguous` writes one SLI
 * after the other (a backfill), which puts each SLI's rows together on disk.
 */
async function insertMinutes(
  database: TestDatabase,
  slos: number,
  fromMs: number,
  toMs: number,
  layout: Layout,
): Promise<number> {
  const perSlo = (toMs - fromMs) / MIN;
  const count = slos * perSlo;
  // Row n of the insertion order: its SLO and minute index.
  const at = (n: number): [number, number] =>
    layout === 'interleaved' ? [n % slos, Math.floor(n / slos)] : [Math.floor(n / perSlo), n % perSlo];
  const stamp = toMs;
  const t0 = performance.now();
  const chunk = 20_000;
  if (database.dialect === 'sqlite') {
    const sqlite = new SQLite(database.url);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = OFF');
    try {
      const insert = sqlite.prepare(
        'INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at) VALUES (?, ?, ?, ?, ?)',
      );
      const batch = sqlite.transaction((from: number, to: number) => {
        for (let n = from; n < to; n++) {
          const [s, i] = at(n);
          const c = minute(s, i);
          insert.run(sliName(s), fromMs + i * MIN, c.good, c.total, stamp);
        }
      });
      for (let from = 0; from < count; from += 5 * chunk) {
        batch(from, Math.min(count, from + 5 * chunk));
        progress(`  sli_minutes: ${fmt(Math.min(count, from + 5 * chunk))} / ${fmt(count)}`);
      }
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      sqlite.close();
    }
  } else {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const text =
        'INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at) SELECT s, t, g, n, $5::bigint FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[]) AS u(s, t, g, n)';
      for (let from = 0; from < count; from += chunk) {
        const to = Math.min(count, from + chunk);
        const sli: string[] = [];
        const ts: number[] = [];
        const good: number[] = [];
        const total: number[] = [];
        for (let n = from; n < to; n++) {
          const [s, i] = at(n);
          const c = minute(s, i);
          sli.push(sliName(s));
          ts.push(fromMs + i * MIN);
          good.push(c.good);
          total.push(c.total);
        }
        await client.query(text, [sli, ts, good, total, stamp]);
        if (to % 200_000 < chunk || to === count) progress(`  sli_minutes: ${fmt(to)} / ${fmt(count)}`);
      }
      // What autovacuum does to a table that was written, which a bench querying right after a bulk
      // load must do itself: statistics, and the visibility map that lets the month sums read the
      // covering index alone (index-only scans).
      await client.query('VACUUM ANALYZE sli_minutes');
    } finally {
      await client.end();
    }
  }
  progressDone(`  sli_minutes: ${fmt(count)} rows (${layout}) in ${sec(t0)} s`);
  return count;
}

function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${line}   `);
}
function progressDone(line: string): void {
  if (process.stderr.isTTY) process.stderr.write('\r');
  console.log(line);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface ApiVerdict {
  slo: string;
  attainment: number | null;
  budget: { allowed: number; consumed: number; consumedShare: number | null };
}
interface ApiReport {
  verdict: ApiVerdict[];
  trend: {
    month: string;
    slos: { slo: string; attainment: number | null; consumedShare: number | null }[];
  }[];
}

/** Compares the API's report with the reference; returns the differences (at most a few described). */
function differences(report: ApiReport, ref: Figures[][], months: readonly Month[]): string[] {
  const out: string[] = [];
  const same = (a: number | null | undefined, b: number | null) => agree(a, b, 1e-9);
  if (report.verdict.length !== ref.length)
    out.push(`${report.verdict.length} verdict lines, expected ${ref.length}`);
  ref.forEach((perMonth, s) => {
    const expected = perMonth[perMonth.length - 1]!;
    const v = report.verdict.find((x) => x.slo === sloName(s));
    if (!v) {
      out.push(`${sloName(s)}: no verdict`);
      return;
    }
    const pairs: [string, number | null | undefined, number | null][] = [
      ['attainment', v.attainment, expected.attainment],
      ['allowed', v.budget.allowed, expected.allowed],
      ['consumed', v.budget.consumed, expected.consumed],
      ['consumedShare', v.budget.consumedShare, expected.consumedShare],
    ];
    for (const [name, got, want] of pairs)
      if (!same(got, want)) out.push(`${sloName(s)} ${name}: ${got} ≠ reference ${want}`);
    months.forEach((m, k) => {
      const t = report.trend.find((x) => x.month === m.month)?.slos.find((x) => x.slo === sloName(s));
      const want = perMonth[k]!;
      if (!t) out.push(`${sloName(s)} ${m.month}: no trend point`);
      else if (!same(t.attainment, want.attainment) || !same(t.consumedShare, want.consumedShare))
        out.push(
          `${sloName(s)} ${m.month} trend: ${t.attainment}/${t.consumedShare} ≠ reference ${want.attainment}/${want.consumedShare}`,
        );
    });
  });
  return out;
}

async function timeGet(server: TestServer, token: string, path: string, runs: number) {
  const times: number[] = [];
  let body = '';
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    const response = await server.request('GET', path, { token });
    body = await response.text();
    const elapsed = performance.now() - t0;
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${body.slice(0, 300)}`);
    if (r > 0) times.push(elapsed); // the first is the warm-up
  }
  return { p50: median(times), max: Math.max(...times), body };
}

async function runDialect(
  dialect: Dialect,
  options: {
    slos: number;
    dataMonths: number;
    runs: number;
    timeZone: string;
    perturb: boolean;
    engineBaseline: boolean;
    layout: Layout;
  },
): Promise<string[]> {
  const months = monthsOf(options.timeZone);
  const dataFromMs = months[TREND - options.dataMonths]!.fromMs;
  const dataToMs = months[TREND - 1]!.toMs;
  const specs = await mkdtemp(join(tmpdir(), 'shinrai-bench-report-'));
  const database = await createTestDatabase(dialect);
  let server: TestServer | undefined;
  try {
    await writeSpecs(specs, options.slos);
    // The server starts on the empty database, then the minutes are inserted beside it: started on
    // 13 million rows, its first evaluation (synchronous reads on SQLite) outlasted Fastify's plugin
    // start timeout on a busy box. The report reads the minutes, not the evaluator's statuses.
    const clock = new ManualClock(dataToMs + 3 * DAY);
    server = await startTestServer(dialect, {
      specs,
      database,
      clock,
      config: { 'reports.timeZone': options.timeZone },
    });
    console.log(`\n${dialect}: seeding`);
    const rows = await insertMinutes(database, options.slos, dataFromMs, dataToMs, options.layout);
    // The bulk load left a mark per (SLI, hour); the first read would sum them all. Done (and
    // timed) here, as the leader's minute-by-minute refresh would have done while live ingestion
    // wrote them.
    let t0 = performance.now();
    const marks = await refreshHourSums(server.shinrai.ctx.db);
    const firstHoursMs = performance.now() - t0;
    console.log(`  hour sums: ${fmt(marks)} (SLI, hour) marks summed in ${sec(t0)} s`);
    const token = await server.token('viewer');
    const query = `/api/v1/reports/monthly?product=${encodeURIComponent(PRODUCT)}&month=${REPORT_MONTH}`;

    const json = await timeGet(server, token, `${query}&format=json`, options.runs);
    const html = await timeGet(server, token, `${query}&format=html`, options.runs);

    // Baselines, in the same process and run.
    t0 = performance.now();
    const ref = reference(options.slos, months, dataFromMs, options.perturb);
    const naiveMs = performance.now() - t0;

    const catalog = server.shinrai.ctx.specs.current.catalog;
    const targets = evaluationTargets(catalog);
    const keys = [...new Set(targets.flatMap((t) => t.parts.map((p) => p.storageKey)))];
    const kysely = server.shinrai.ctx.db.kysely;
    // The former floor: Σgood and Σtotal of every key and month from the minutes themselves, one
    // aggregate query a month (the report reads hour sums now, and its partial hours' minutes).
    t0 = performance.now();
    for (const m of months)
      await kysely
        .selectFrom('sli_minutes')
        .select(['sli', sql<number>`sum(good)`.as('good'), sql<number>`sum(total)`.as('total')])
        .where('sli', 'in', keys)
        .where('minute_ts', '>=', m.fromMs)
        .where('minute_ts', '<', m.toMs)
        .groupBy('sli')
        .execute();
    const sumsMs = performance.now() - t0;
    // The report's path before 2026-12-07: every minute read (readMinutes) and walked by the
    // engine (monthFigures), a month at a time (13 million row objects at once would crowd the box).
    let readMs = 0;
    let engineMs = 0;
    let readRows = 0;
    const engine: ReturnType<typeof monthFigures>[][] = [];
    if (options.engineBaseline)
      for (const m of months) {
        t0 = performance.now();
        const byKey = new Map<string, MinuteRow[]>();
        for (const key of keys)
          byKey.set(key, await readMinutes(server.shinrai.ctx.db, key, m.fromMs, m.toMs));
        readMs += performance.now() - t0;
        for (const rows of byKey.values()) readRows += rows.length;
        t0 = performance.now();
        engine.push(
          targets.map((target) =>
            monthFigures(
              target,
              (part) => byKey.get(part.storageKey) ?? [],
              { month: m.month, fromMs: m.fromMs, toMs: m.toMs, timeZone: options.timeZone },
              clock.ms,
            ),
          ),
        );
        engineMs += performance.now() - t0;
      }

    // Checks.
    const report = JSON.parse(json.body) as ApiReport;
    const diff = differences(report, ref, months);
    check(
      diff.length === 0,
      `${dialect}: the report's verdict and ${TREND}-month trend of all ${options.slos} SLOs equal the reference summed from the seeded minutes`,
      diff.length ? `${diff.length} differ, e.g. ${diff.slice(0, 3).join('; ')}` : undefined,
    );
    if (options.engineBaseline) {
      const engineDiff: string[] = [];
      for (const [k, perTarget] of engine.entries())
        for (const [s, f] of perTarget.entries()) {
          const want = ref[s]![k]!;
          if (!agree(f.attainment, want.attainment, 1e-9) || !agree(f.consumed, want.consumed, 1e-9))
            engineDiff.push(`${sloName(s)} ${months[k]!.month}`);
        }
      check(
        engineDiff.length === 0,
        `${dialect}: the engine baseline (every minute read and walked) gives the reference's figures`,
        engineDiff.length
          ? `${engineDiff.length} differ, e.g. ${engineDiff.slice(0, 3).join(', ')}`
          : undefined,
      );
    }
    const missing = Array.from({ length: options.slos }, (_, s) => sloName(s)).filter(
      (name) => !html.body.includes(name),
    );
    check(
      html.body.startsWith('<!doctype html>') && missing.length === 0 && html.body.includes('<svg'),
      `${dialect}: the HTML report names every SLO and carries its charts`,
      missing.length ? `missing ${missing.slice(0, 3).join(', ')}` : undefined,
    );
    // The goal is reported, not checked: a check fails the run, and a busy box is no wrong answer.
    const goal = json.p50 < 2000 && html.p50 < 2000 ? 'met' : 'MISSED';
    const engineText = options.engineBaseline
      ? `every minute read (readMinutes, ${fmt(readRows)} rows) ${ms(readMs)} ms + walked by the engine ${ms(engineMs)} ms`
      : 'engine baseline skipped (--no-engine)';
    console.log(
      `${dialect}: ${options.slos} SLOs × ${options.dataMonths} months (${fmt(rows)} minutes): GET report json p50 ${ms(json.p50)} ms (max ${ms(json.max)}), ` +
        `html p50 ${ms(html.p50)} ms (max ${ms(html.max)}); goal < 2 s ${goal}; baselines: the minutes' sums ${ms(sumsMs)} ms ` +
        `(ratio API json / sums ${(json.p50 / sumsMs).toFixed(2)}), naive reference in memory ${ms(naiveMs)} ms, ${engineText}` +
        (options.engineBaseline
          ? ` (ratio (read + engine) / API json ${((readMs + engineMs) / json.p50).toFixed(1)}×)`
          : ''),
    );
    const engineCells = options.engineBaseline
      ? `${ms(readMs)} ms | ${ms(engineMs)} ms | ${((readMs + engineMs) / json.p50).toFixed(1)}×`
      : '— | — | —';
    return [
      `| ${dialect} | ${options.slos} × ${options.dataMonths} months, ${options.layout} | ${fmt(rows)} | ${ms(firstHoursMs)} ms | ${ms(json.p50)} ms | ${ms(html.p50)} ms | ${goal} | ${ms(sumsMs)} ms | ${(json.p50 / sumsMs).toFixed(2)} | ${engineCells} | ${ms(naiveMs)} ms |`,
    ];
  } finally {
    await server?.close();
    await database.drop();
    await rm(specs, { recursive: true, force: true });
  }
}

export async function run(flags: BenchFlags): Promise<void> {
  const slos = intFlag(flags, 'slos', 50);
  const dataMonths = intFlag(flags, 'months', TREND);
  if (dataMonths > TREND) throw new Error(`--months is at most ${TREND} (the trend's length)`);
  const runs = intFlag(flags, 'runs', 5);
  const timeZone = typeof flags.tz === 'string' ? flags.tz : 'Asia/Tokyo';
  const dialectFlag = typeof flags.dialect === 'string' ? flags.dialect : 'both';
  if (!['sqlite', 'postgres', 'both'].includes(dialectFlag))
    throw new Error('--dialect is sqlite, postgres or both');
  const dialects: Dialect[] = dialectFlag === 'both' ? ['sqlite', 'postgres'] : [dialectFlag as Dialect];
  const layout = (typeof flags.layout === 'string' ? flags.layout : 'interleaved') as Layout;
  if (layout !== 'interleaved' && layout !== 'contiguous')
    throw new Error('--layout is interleaved or contiguous');
  console.log(
    `monthly report of ${PRODUCT} for ${REPORT_MONTH} in ${timeZone}: ${slos} SLOs with ${dataMonths} months of one-minute data; ` +
      `${runs} timed runs after 1 warm-up`,
  );
  const table: string[] = [];
  for (const dialect of dialects)
    table.push(
      ...(await runDialect(dialect, {
        slos,
        dataMonths,
        runs,
        timeZone,
        perturb: flags.perturb === true,
        engineBaseline: flags['no-engine'] !== true,
        layout,
      })),
    );
  console.log(
    `\n| dialect | SLOs × data | minutes stored | first hour sums | GET json p50 | GET html p50 | goal < 2 s | minute sums (former floor) | API json / sums | readMinutes | engine | (read + engine) / API json | naive reference |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n${table.join('\n')}`,
  );
}
