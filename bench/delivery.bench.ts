/**
 * Delivery (DORA) metrics and deployment ingestion at scale, on SQLite and PostgreSQL: seeds a fresh
 * database with services × days × per-day production deployments (bulk inserts straight into the
 * tables, as recordDeployment would have left them) and a few incidents with confirmed causes (through
 * the API), then times GET /api/v1/delivery/metrics on a real server for four scopes and checks every
 * answer against a naive reference computed here from the seeded rows; the pure core over the same
 * rows in memory is the baseline. Then POST /api/v1/deployments with C requests in flight for S
 * seconds, checked (stored = acknowledged, a replay counts once), against recordDeployment() called
 * directly. Flags: --services N (100), --days D (365), --per-day K (20), --changes C (4, mean commits
 * per deployment), --runs R (5 timed after 1 warm-up), --duration S (10), --concurrency C (8), --batch B deployments per batch request (100),
 * --tz ZONE (Asia/Tokyo), --dialect sqlite|postgres|both (both), --perturb (one change left out of the
 * reference's lead times: the checks must fail).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import pg from 'pg';
import {
  type CauseLink,
  computeDeliveryMetrics,
  type DeliveryDeps,
  type DeployedChange,
  type DeploymentFact,
  recordDeployment,
  refreshSummaries,
} from '../src/delivery/index.js';
import { seededRandom } from '../src/demo/index.js';
import type { IncidentDeps } from '../src/incidents/index.js';
import { type Dialect, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
import { startTestServer, type TestServer } from '../test/support/server.js';
import { agree, check } from './check.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const STATUS = ['success', 'rolled_back', 'failure'] as const;
const KIND = ['normal', 'hotfix', 'rollback'] as const;
/** Same as the service's look-ahead for a restoring deployment after the period (metrics-service.ts). */
const LOOKAHEAD_MS = 30 * DAY;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const sec = (startMs: number) => ((performance.now() - startMs) / 1000).toFixed(1);

/** Deterministic pseudo-random numbers in [0, 1). */

const serviceName = (s: number) => `svc-${String(s).padStart(3, '0')}`;
const deploymentId = (i: number) => `dep-${String(i).padStart(8, '0')}`;
const changeSha = (c: number) => c.toString(16).padStart(40, '0');

/** The seeded rows, columnar (millions of objects would crowd the box's memory). */
interface Seed {
  readonly services: number;
  readonly firstDayMs: number;
  readonly lastDay: string;
  readonly deployments: number;
  readonly depService: Int32Array;
  readonly depFinish: Float64Array;
  readonly depStatus: Uint8Array;
  readonly depKind: Uint8Array;
  readonly depChanges: Int32Array;
  /** Deployments of service s are [serviceStart[s], serviceStart[s + 1]), in finish order. */
  readonly serviceStart: Int32Array;
  readonly changes: number;
  readonly chService: Int32Array;
  readonly chCommitted: Float64Array;
  /** First successful production deployment's finish, NaN when none shipped it yet. */
  readonly chFirst: Float64Array;
  readonly chFirstDep: Int32Array;
  /** deployment_changes rows: (deployment index, change index). */
  readonly links: number;
  readonly linkDep: Int32Array;
  readonly linkChange: Int32Array;
  /** Deployment index → incident ids it fixes (filled once the incidents exist). */
  readonly fixes: Map<number, string[]>;
  readonly causes: { incidentId: string; dep: number; impactMs: number; resolvedMs?: number }[];
}

/** Generates the deployments and changes as recordDeployment would have stored them. */
export function generate(services: number, days: number, perDay: number, meanChanges: number): Seed {
  const random = seededRandom(17);
  const lastDayMs = Date.UTC(...(utcToday() as [number, number, number])) - DAY;
  const firstDayMs = lastDayMs - (days - 1) * DAY;
  const deployments = services * days * perDay;
  const depService = new Int32Array(deployments);
  const depFinish = new Float64Array(deployments);
  const depStatus = new Uint8Array(deployments);
  const depKind = new Uint8Array(deployments);
  const depChanges = new Int32Array(deployments);
  const serviceStart = new Int32Array(services + 1);
  let capacity = Math.ceil(deployments * (meanChanges + 1) * 1.1) + 16;
  let chService = new Int32Array(capacity);
  let chCommitted = new Float64Array(capacity);
  let chFirst = new Float64Array(capacity);
  let chFirstDep = new Int32Array(capacity);
  let linkCap = capacity * 2;
  let linkDep = new Int32Array(linkCap);
  let linkChange = new Int32Array(linkCap);
  let changes = 0;
  let links = 0;
  const grow = () => {
    capacity *= 2;
    const g = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    chService = g(chService, (n) => new Int32Array(n));
    chCommitted = g(chCommitted, (n) => new Float64Array(n));
    chFirst = g(chFirst, (n) => new Float64Array(n));
    chFirstDep = g(chFirstDep, (n) => new Int32Array(n));
  };
  const link = (dep: number, change: number) => {
    if (links === linkCap) {
      linkCap *= 2;
      const a = new Int32Array(linkCap);
      a.set(linkDep);
      linkDep = a;
      const b = new Int32Array(linkCap);
      b.set(linkChange);
      linkChange = b;
    }
    linkDep[links] = dep;
    linkChange[links++] = change;
  };
  const slotMs = DAY / perDay;
  let i = 0;
  for (let s = 0; s < services; s++) {
    serviceStart[s] = i;
    // Changes a rolled-back or failed deployment carried: the next one ships them again.
    let pending: number[] = [];
    for (let d = 0; d < days; d++) {
      for (let k = 0; k < perDay; k++, i++) {
        depService[i] = s;
        // Strictly increasing within a service: a slot each, jittered inside its middle 80 %.
        depFinish[i] = Math.floor(firstDayMs + d * DAY + (k + 0.1 + 0.8 * random()) * slotMs);
        const r = random();
        depStatus[i] = r < 0.05 ? 1 : r < 0.06 ? 2 : 0;
        const q = random();
        depKind[i] = q < 0.03 ? 1 : q < 0.05 ? 2 : 0;
        // Commits: normal 1..(2C-1) (mean C), hotfix 1, rollback none (it ships an older version).
        const fresh =
          depKind[i] === 2 ? 0 : depKind[i] === 1 ? 1 : 1 + Math.floor(random() * (2 * meanChanges - 1));
        const shipped = depKind[i] === 2 ? [] : pending;
        for (let c = 0; c < fresh; c++) {
          if (changes === capacity) grow();
          chService[changes] = s;
          const z = random();
          // Lead times log-uniform from 5 minutes to 5 days; a few of 0 (clock skew, rebases).
          const leadMs = z < 0.005 ? 0 : Math.round(Math.exp(Math.log(5 * MIN) + random() * Math.log(1440)));
          chCommitted[changes] = depFinish[i]! - (depKind[i] === 1 ? Math.min(leadMs, 2 * HOUR) : leadMs);
          chFirst[changes] = Number.NaN;
          chFirstDep[changes] = -1;
          shipped.push(changes++);
        }
        depChanges[i] = shipped.length;
        for (const change of shipped) link(i, change);
        if (depKind[i] === 2) continue;
        if (depStatus[i] === 0) {
          for (const change of shipped) {
            chFirst[change] = depFinish[i]!;
            chFirstDep[change] = i;
          }
          pending = [];
        } else pending = shipped;
      }
    }
  }
  serviceStart[services] = i;
  return {
    services,
    firstDayMs,
    lastDay: new Date(lastDayMs).toISOString().slice(0, 10),
    deployments,
    depService,
    depFinish,
    depStatus,
    depKind,
    depChanges,
    serviceStart,
    changes,
    chService: chService.subarray(0, changes),
    chCommitted: chCommitted.subarray(0, changes),
    chFirst: chFirst.subarray(0, changes),
    chFirstDep: chFirstDep.subarray(0, changes),
    links,
    linkDep: linkDep.subarray(0, links),
    linkChange: linkChange.subarray(0, links),
    fixes: new Map(),
    causes: [],
  };
}

function utcToday(): number[] {
  const now = new Date();
  return [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()];
}

const deploymentColumns = [
  'id',
  'service',
  'environment',
  'production',
  'status',
  'kind',
  'version',
  'head_sha',
  'url',
  'source',
  'started_at',
  'finished_at',
  'fixes',
  'gate',
  'change_count',
  'created_at',
  'updated_at',
] as const;

function deploymentRow(seed: Seed, i: number): unknown[] {
  const finish = seed.depFinish[i]!;
  return [
    deploymentId(i),
    serviceName(seed.depService[i]!),
    'production',
    1,
    STATUS[seed.depStatus[i]!],
    KIND[seed.depKind[i]!],
    `v${i}`,
    null,
    null,
    'api',
    finish - 5 * MIN,
    finish,
    '[]',
    null,
    seed.depChanges[i]!,
    finish,
    finish,
  ];
}

function changeRow(seed: Seed, c: number): unknown[] {
  const first = seed.chFirst[c]!;
  return [
    serviceName(seed.chService[c]!),
    changeSha(c),
    seed.chCommitted[c]!,
    'dev@example.com',
    null,
    seed.chCommitted[c]! + MIN,
    Number.isNaN(first) ? null : deploymentId(seed.chFirstDep[c]!),
    Number.isNaN(first) ? null : first,
  ];
}
const changeColumns = [
  'service',
  'sha',
  'committed_at',
  'author',
  'message',
  'recorded_at',
  'first_deployment_id',
  'first_deployed_at',
] as const;

/** Bulk-inserts the seed: better-sqlite3 prepared statements in transactions, or PostgreSQL unnest(). */
export async function insertSeed(database: TestDatabase, seed: Seed): Promise<void> {
  const tables: [string, readonly string[], number, (i: number) => unknown[], string[]][] = [
    ['deployments', deploymentColumns, seed.deployments, (i) => deploymentRow(seed, i), []],
    ['changes', changeColumns, seed.changes, (c) => changeRow(seed, c), []],
    [
      'deployment_changes',
      ['deployment_id', 'sha'],
      seed.links,
      (l) => [deploymentId(seed.linkDep[l]!), changeSha(seed.linkChange[l]!)],
      [],
    ],
  ];
  if (database.dialect === 'sqlite') {
    const sqlite = new SQLite(database.url);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = OFF');
    try {
      for (const [table, columns, count, row] of tables) {
        const t0 = performance.now();
        const insert = sqlite.prepare(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
        );
        const batch = sqlite.transaction((from: number, to: number) => {
          for (let i = from; i < to; i++) insert.run(...row(i));
        });
        for (let from = 0; from < count; from += 100_000) {
          batch(from, Math.min(count, from + 100_000));
          progress(`  ${table}: ${fmt(Math.min(count, from + 100_000))} / ${fmt(count)}`);
        }
        progressDone(`  ${table}: ${fmt(count)} rows in ${sec(t0)} s`);
      }
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      sqlite.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const types: Record<string, string> = {
      production: 'int',
      change_count: 'int',
      started_at: 'bigint',
      finished_at: 'bigint',
      created_at: 'bigint',
      updated_at: 'bigint',
      committed_at: 'bigint',
      recorded_at: 'bigint',
      first_deployed_at: 'bigint',
    };
    for (const [table, columns, count, row] of tables) {
      const t0 = performance.now();
      const text = `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${columns
        .map((c, i) => `$${i + 1}::${types[c] ?? 'text'}[]`)
        .join(', ')})`;
      const chunk = 20_000;
      for (let from = 0; from < count; from += chunk) {
        const to = Math.min(count, from + chunk);
        const arrays: unknown[][] = columns.map(() => []);
        for (let i = from; i < to; i++) {
          const values = row(i);
          for (let c = 0; c < columns.length; c++) arrays[c]!.push(values[c]);
        }
        await client.query(text, arrays);
        if (to % 100_000 < chunk || to === count) progress(`  ${table}: ${fmt(to)} / ${fmt(count)}`);
      }
      progressDone(`  ${table}: ${fmt(count)} rows in ${sec(t0)} s`);
    }
    // Production tables are analysed by autovacuum; a bench that queries right after a bulk load must do it itself.
    await client.query('ANALYZE deployments; ANALYZE changes; ANALYZE deployment_changes');
  } finally {
    await client.end();
  }
}

function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${line}   `);
}
function progressDone(line: string): void {
  if (process.stderr.isTTY) process.stderr.write('\r');
  console.log(line);
}

/** Incidents with confirmed causes, through the API; half are fixed by the next deployment (`fixes`). */
async function seedIncidents(server: TestServer, seed: Seed, count: number): Promise<void> {
  const random = seededRandom(99);
  const editor = await server.token('editor');
  const request = async (method: string, path: string, body: unknown) => {
    const response = await server.request(method, path, { token: editor, body });
    const text = await response.text();
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as { id: string; reference: string };
  };
  const plans: { dep: number; impactMs: number; resolvedMs?: number; fix: boolean }[] = [];
  for (let n = 0; n < count; n++) {
    const s = Math.floor(random() * seed.services);
    const from = seed.serviceStart[s]!;
    const to = seed.serviceStart[s + 1]! - 1; // never the last: its fix is the next one
    let dep = from + Math.floor(random() * (to - from));
    // The second incident names the same deployment as the first (it must still count once).
    if (n === 1 && plans[0]) dep = plans[0].dep;
    while (seed.depStatus[dep] === 2 && dep < to) dep++;
    const finish = seed.depFinish[dep]!;
    const impactMs = finish + Math.round((random() - 0.15) * HOUR);
    const resolved = random() < 0.85;
    plans.push({
      dep,
      impactMs,
      ...(resolved ? { resolvedMs: impactMs + Math.round(5 * MIN + random() * 8 * HOUR) } : {}),
      fix: random() < 0.5,
    });
  }
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const plan = plans[next++]!;
      const service = serviceName(seed.depService[plan.dep]!);
      const incident = await request('POST', '/api/v1/incidents', {
        title: `Bench incident on ${service}`,
        severity: 'SEV3',
        services: [service],
        milestones: {
          impactStartedAt: new Date(plan.impactMs).toISOString(),
          detectedAt: new Date(plan.impactMs + 2 * MIN).toISOString(),
        },
      });
      await request('PATCH', `/api/v1/incidents/${incident.reference}`, {
        causedBy: { deployment: deploymentId(plan.dep) },
        ...(plan.resolvedMs === undefined
          ? {}
          : { status: 'resolved', milestones: { resolvedAt: new Date(plan.resolvedMs).toISOString() } }),
      });
      seed.causes.push({
        incidentId: incident.id,
        dep: plan.dep,
        impactMs: plan.impactMs,
        ...(plan.resolvedMs === undefined ? {} : { resolvedMs: plan.resolvedMs }),
      });
      if (plan.fix) {
        const fixer = plan.dep + 1;
        const list = seed.fixes.get(fixer) ?? [];
        list.push(incident.id);
        seed.fixes.set(fixer, list);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  // The fixing deployments name their incidents (seeded rows, so straight into the table).
  const db = openDatabase(server.database.url);
  try {
    for (const [dep, ids] of seed.fixes)
      await db.kysely
        .updateTable('deployments')
        .set({ fixes: JSON.stringify(ids) })
        .where('id', '=', deploymentId(dep))
        .execute();
  } finally {
    await db.close();
  }
  console.log(
    `  incidents: ${count} with confirmed causes (${seed.fixes.size} fixed by a later deployment) in ${sec(t0)} s`,
  );
}

/** A metrics question: services in scope and calendar days in the zone. */
interface Scope {
  readonly label: string;
  readonly query: string;
  readonly services: readonly number[];
  readonly from: string;
  readonly to: string;
}

interface Period {
  readonly fromMs: number;
  readonly toMs: number;
  readonly days: number;
  readonly weekStarts: number[];
  readonly weekLabels: string[];
}

function periodOf(from: string, to: string, timeZone: string): Period {
  const first = DateTime.fromISO(from, { zone: timeZone }).startOf('day');
  const last = DateTime.fromISO(to, { zone: timeZone }).startOf('day');
  const toMs = last.plus({ days: 1 }).toMillis();
  const weekStarts: number[] = [];
  const weekLabels: string[] = [];
  for (let w = first.startOf('week'); w.toMillis() < toMs; w = w.plus({ weeks: 1 })) {
    weekStarts.push(w.toMillis());
    weekLabels.push(w.toISODate()!);
  }
  let days = 0;
  for (let d = first; d <= last; d = d.plus({ days: 1 })) days++;
  return { fromMs: first.toMillis(), toMs, days, weekStarts, weekLabels };
}

/** Percentile with linear interpolation (PERCENTILE_CONT) after a full sort. */
function percentile(values: number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * p;
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

interface Reference {
  count: number;
  perDay: number;
  lead: { changes: number; excluded: number; medianMs: number | null; p90Ms: number | null };
  fail: { deployments: number; failed: number; rate: number | null };
  recovery: { failed: number; recovered: number; medianMs: number | null; p90Ms: number | null };
  rework: { deployments: number; unplanned: number; rate: number | null };
  weeks: {
    start: string;
    deployments: number;
    leadTimeMedianMs: number | null;
    changeFailRate: number | null;
    recoveryMedianMs: number | null;
    reworkRate: number | null;
  }[];
}

/** The metrics computed the plain way: loops over every seeded row, full sorts. */
function reference(seed: Seed, scope: Scope, period: Period, perturbed = -1): Reference {
  const { fromMs, toMs } = period;
  const inPeriod = (t: number) => t >= fromMs && t < toMs;
  const weekOf = (t: number) => {
    let w = 0;
    while (w + 1 < period.weekStarts.length && period.weekStarts[w + 1]! <= t) w++;
    return w;
  };
  const inScope = new Set(scope.services);
  const causesOf = new Map<number, Seed['causes']>();
  for (const cause of seed.causes) causesOf.set(cause.dep, [...(causesOf.get(cause.dep) ?? []), cause]);
  const weeks = period.weekStarts.map(() => ({
    successes: 0,
    reached: 0,
    failed: 0,
    unplanned: 0,
    lead: [] as number[],
    recovery: [] as number[],
  }));
  let count = 0;
  let reached = 0;
  let failed = 0;
  let unplanned = 0;
  const recoveries: number[] = [];
  for (const s of inScope) {
    const list: number[] = [];
    for (let i = seed.serviceStart[s]!; i < seed.serviceStart[s + 1]!; i++) {
      const t = seed.depFinish[i]!;
      if (seed.depStatus[i] !== 2 && t >= fromMs && t < toMs + LOOKAHEAD_MS) list.push(i);
    }
    for (let n = 0; n < list.length; n++) {
      const i = list[n]!;
      const finish = seed.depFinish[i]!;
      if (!inPeriod(finish)) continue;
      const week = weeks[weekOf(finish)]!;
      reached++;
      week.reached++;
      if (seed.depStatus[i] === 0) {
        count++;
        week.successes++;
      }
      if (seed.depKind[i] !== 0 || seed.fixes.has(i)) {
        unplanned++;
        week.unplanned++;
      }
      const next = list[n + 1];
      const followedByFix = next !== undefined && seed.depKind[next] !== 0;
      const causes = causesOf.get(i) ?? [];
      if (!(causes.length > 0 || seed.depStatus[i] === 1 || followedByFix)) continue;
      failed++;
      week.failed++;
      let start = finish;
      let end = followedByFix ? seed.depFinish[next]! : Number.POSITIVE_INFINITY;
      for (const cause of causes) {
        start = Math.min(start, cause.impactMs);
        for (const j of list)
          if (seed.depFinish[j]! > finish && seed.fixes.get(j)?.includes(cause.incidentId))
            end = Math.min(end, seed.depFinish[j]!);
      }
      if (causes.length > 0 && causes.every((c) => c.resolvedMs !== undefined))
        end = Math.min(end, Math.max(...causes.map((c) => c.resolvedMs!)));
      if (Number.isFinite(end)) {
        recoveries.push(Math.max(0, end - start));
        week.recovery.push(Math.max(0, end - start));
      }
    }
  }
  const leads: number[] = [];
  let excluded = 0;
  for (let c = 0; c < seed.changes; c++) {
    const first = seed.chFirst[c]!;
    if (Number.isNaN(first) || !inPeriod(first) || !inScope.has(seed.chService[c]!)) continue;
    // --perturb: one change counted as of lead time 0 (left out) in the reference only; the checks must fail.
    const lead = c === perturbed ? 0 : first - seed.chCommitted[c]!;
    if (lead <= 0) {
      excluded++;
      continue;
    }
    leads.push(lead);
    weeks[weekOf(first)]!.lead.push(lead);
  }
  const rate = (a: number, b: number) => (b > 0 ? a / b : null);
  return {
    count,
    perDay: count / period.days,
    lead: {
      changes: leads.length,
      excluded,
      medianMs: percentile(leads, 0.5),
      p90Ms: percentile(leads, 0.9),
    },
    fail: { deployments: reached, failed, rate: rate(failed, reached) },
    recovery: {
      failed,
      recovered: recoveries.length,
      medianMs: percentile(recoveries, 0.5),
      p90Ms: percentile(recoveries, 0.9),
    },
    rework: { deployments: reached, unplanned, rate: rate(unplanned, reached) },
    weeks: weeks.map((w, index) => ({
      start: period.weekLabels[index]!,
      deployments: w.successes,
      leadTimeMedianMs: percentile(w.lead, 0.5),
      changeFailRate: rate(w.failed, w.reached),
      recoveryMedianMs: percentile(w.recovery, 0.5),
      reworkRate: rate(w.unplanned, w.reached),
    })),
  };
}

/** The pure core's input for the scope, as the service would read it (built outside any timing). */
function coreInput(seed: Seed, scope: Scope, period: Period) {
  const inScope = new Set(scope.services);
  const deployments: DeploymentFact[] = [];
  for (const s of inScope)
    for (let i = seed.serviceStart[s]!; i < seed.serviceStart[s + 1]!; i++) {
      const t = seed.depFinish[i]!;
      if (seed.depStatus[i] === 2 || t < period.fromMs || t >= period.toMs + LOOKAHEAD_MS) continue;
      deployments.push({
        id: deploymentId(i),
        service: serviceName(s),
        finishedAtMs: t,
        status: STATUS[seed.depStatus[i]!] as 'success' | 'rolled_back',
        kind: KIND[seed.depKind[i]!]!,
        fixes: seed.fixes.get(i) ?? [],
      });
    }
  const causes: CauseLink[] = seed.causes
    .filter((c) => {
      const t = seed.depFinish[c.dep]!;
      return inScope.has(seed.depService[c.dep]!) && t >= period.fromMs && t < period.toMs + LOOKAHEAD_MS;
    })
    .map((c) => ({
      incidentId: c.incidentId,
      deploymentId: deploymentId(c.dep),
      impactStartedAtMs: c.impactMs,
      ...(c.resolvedMs === undefined ? {} : { resolvedAtMs: c.resolvedMs }),
    }));
  const changes: DeployedChange[] = [];
  for (let c = 0; c < seed.changes; c++) {
    const first = seed.chFirst[c]!;
    if (Number.isNaN(first) || first < period.fromMs || first >= period.toMs) continue;
    if (!inScope.has(seed.chService[c]!)) continue;
    changes.push({
      service: serviceName(seed.chService[c]!),
      sha: changeSha(c),
      committedAtMs: seed.chCommitted[c]!,
      firstDeployedAtMs: first,
    });
  }
  return { deployments, causes, changes };
}

// biome-ignore lint/suspicious/noExplicitAny: the API answer is compared field by field below
type Answer = any;

/** Differences between an answer (API JSON or the core's) and the reference; empty when they agree. */
function differences(answer: Answer, ref: Reference): string[] {
  const out: string[] = [];
  const same = (what: string, a: number | null | undefined, b: number | null) => {
    if (!agree(a, b, 1e-9)) out.push(`${what}: ${a} vs reference ${b}`);
  };
  const exact = (what: string, a: unknown, b: unknown) => {
    if (a !== b) out.push(`${what}: ${a} vs reference ${b}`);
  };
  exact('deploymentFrequency.count', answer.deploymentFrequency.count, ref.count);
  same('deploymentFrequency.perDay', answer.deploymentFrequency.perDay, ref.perDay);
  exact('leadTime.changes', answer.leadTime.changes, ref.lead.changes);
  exact('leadTime.excluded', answer.leadTime.excluded, ref.lead.excluded);
  same('leadTime.medianMs', answer.leadTime.medianMs, ref.lead.medianMs);
  same('leadTime.p90Ms', answer.leadTime.p90Ms, ref.lead.p90Ms);
  exact('changeFailRate.deployments', answer.changeFailRate.deployments, ref.fail.deployments);
  exact('changeFailRate.failed', answer.changeFailRate.failed, ref.fail.failed);
  same('changeFailRate.rate', answer.changeFailRate.rate, ref.fail.rate);
  exact('recoveryTime.failed', answer.recoveryTime.failed, ref.recovery.failed);
  exact('recoveryTime.recovered', answer.recoveryTime.recovered, ref.recovery.recovered);
  same('recoveryTime.medianMs', answer.recoveryTime.medianMs, ref.recovery.medianMs);
  same('recoveryTime.p90Ms', answer.recoveryTime.p90Ms, ref.recovery.p90Ms);
  exact('reworkRate.unplanned', answer.reworkRate.unplanned, ref.rework.unplanned);
  same('reworkRate.rate', answer.reworkRate.rate, ref.rework.rate);
  exact('weeks', answer.weeks.length, ref.weeks.length);
  ref.weeks.forEach((w, i) => {
    const a = answer.weeks[i];
    if (!a) return;
    exact(`weeks[${i}].start`, a.start, w.start);
    exact(`weeks[${i}].deployments`, a.deployments, w.deployments);
    same(`weeks[${i}].leadTimeMedianMs`, a.leadTimeMedianMs, w.leadTimeMedianMs);
    same(`weeks[${i}].changeFailRate`, a.changeFailRate, w.changeFailRate);
    same(`weeks[${i}].recoveryMedianMs`, a.recoveryMedianMs, w.recoveryMedianMs);
    same(`weeks[${i}].reworkRate`, a.reworkRate, w.reworkRate);
  });
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN;
}

/** Times `fn` R times after one warm-up; sorted times in ms. */
async function timed(runs: number, fn: () => unknown): Promise<number[]> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

function scopes(seed: Seed, days: number, timeZone: string): Scope[] {
  const last = DateTime.fromISO(seed.lastDay, { zone: timeZone });
  const back = (n: number) => last.minus({ days: Math.min(days, n) - 1 }).toISODate()!;
  const all = Array.from({ length: seed.services }, (_, s) => s);
  const team = all.slice(0, Math.min(10, seed.services));
  const year = Math.min(days, 365);
  return [
    {
      label: `one service × ${year} days`,
      query: `service=${serviceName(0)}`,
      services: [0],
      from: back(365),
      to: seed.lastDay,
    },
    {
      label: `a team of ${team.length} services × ${Math.min(days, 91)} days`,
      query: 'team=team-bench',
      services: team,
      from: back(91),
      to: seed.lastDay,
    },
    {
      label: `every service (${seed.services}) × ${Math.min(days, 30)} days`,
      query: '',
      services: all,
      from: back(30),
      to: seed.lastDay,
    },
    {
      label: `every service (${seed.services}) × ${year} days`,
      query: '',
      services: all,
      from: back(365),
      to: seed.lastDay,
    },
  ];
}

/** Service documents: the first ten services owned by team-bench (the team scope). */
async function writeSpecs(dir: string, services: number): Promise<void> {
  const docs = Array.from(
    { length: services },
    (_, s) =>
      `apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: ${serviceName(s)}\n  annotations:\n    shinrai.dev/owner: ${s < 10 ? 'team-bench' : 'team-other'}\nspec: {}\n`,
  );
  await writeFile(join(dir, 'services.yaml'), docs.join('---\n'));
}

async function runMetrics(
  dialect: Dialect,
  server: TestServer,
  seed: Seed,
  options: { days: number; runs: number; timeZone: string; perturbed: number },
): Promise<string[]> {
  const viewer = await server.token('viewer');
  const rows: string[] = [];
  for (const scope of scopes(seed, options.days, options.timeZone)) {
    const url = `/api/v1/delivery/metrics?${scope.query ? `${scope.query}&` : ''}from=${scope.from}&to=${scope.to}&tz=${encodeURIComponent(options.timeZone)}`;
    let answer: Answer;
    const api = await timed(options.runs, async () => {
      const response = await server.request('GET', url, { token: viewer });
      answer = await response.json();
      if (response.status !== 200)
        throw new Error(`GET ${url}: ${response.status} ${JSON.stringify(answer)}`);
    });
    const period = periodOf(scope.from, scope.to, options.timeZone);
    const t0 = performance.now();
    const ref = reference(seed, scope, period, options.perturbed);
    const naiveMs = performance.now() - t0;
    const input = coreInput(seed, scope, period);
    let core: Answer;
    const coreTimes = await timed(options.runs, () => {
      core = computeDeliveryMetrics({ ...period, timeZone: options.timeZone, ...input });
    });
    const apiDiff = differences(answer, ref);
    check(
      apiDiff.length === 0,
      `${dialect}: ${scope.label}: the API answer equals the reference`,
      apiDiff.length
        ? `${apiDiff.length} differ, e.g. ${apiDiff.slice(0, 3).join('; ')}`
        : `${fmt(ref.fail.deployments)} deployments, ${fmt(ref.lead.changes)} changes, ${ref.fail.failed} failed, ${ref.weeks.length} weeks`,
    );
    const coreDiff = differences(core, ref);
    check(
      coreDiff.length === 0,
      `${dialect}: ${scope.label}: the pure core over the rows in memory equals the reference`,
      coreDiff.length ? coreDiff.slice(0, 3).join('; ') : undefined,
    );
    const p50 = quantile(api, 0.5);
    const p95 = quantile(api, 0.95);
    const coreP50 = quantile(coreTimes, 0.5);
    console.log(
      `${dialect}: ${scope.label}: API p50 ${ms(p50)} ms, p95 ${ms(p95)} ms; pure core ${ms(coreP50)} ms; naive reference ${ms(naiveMs)} ms; ` +
        `ratio API / core ${(p50 / coreP50).toFixed(1)}×`,
    );
    rows.push(
      `| ${dialect} | ${scope.label} | ${fmt(ref.fail.deployments)} | ${fmt(ref.lead.changes + ref.lead.excluded)} | ${ms(p50)} ms | ${ms(p95)} ms | ${ms(coreP50)} ms | ${(p50 / coreP50).toFixed(1)}× | ${ms(naiveMs)} ms |`,
    );
  }
  return rows;
}

interface IngestResult {
  perSecond: number;
  created: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  firstFailure?: string;
}

/** One deployment to ingest: `commits` new commits, on an existing service; the same (prefix, n) gives the same body. */
function ingestBody(prefix: string, baseMs: number, n: number, services: number, commits: number) {
  const finishMs = baseMs + n;
  return {
    id: `${prefix}-${n}`,
    service: serviceName(n % services),
    environment: 'production',
    version: `v-${prefix}-${n}`,
    finishedAt: new Date(finishMs).toISOString(),
    status: 'success' as const,
    commits: Array.from({ length: commits }, (_, c) => ({
      // Fixed-width hex: prefix, n, c; unique over the run.
      sha: `${prefix}${n.toString(16).padStart(8, '0')}${c.toString(16).padStart(2, '0')}`.padEnd(40, '0'),
      timestamp: new Date(finishMs - (c + 1) * 17 * MIN).toISOString(),
      author: 'dev@example.com',
      message: `change ${c} of ${n}`,
    })),
  };
}

async function ingestLoad(
  concurrency: number,
  durationS: number,
  send: (n: number) => Promise<'created' | string>,
): Promise<IngestResult> {
  const endMs = performance.now() + durationS * 1000;
  const latencies: number[] = [];
  let next = 0;
  let created = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const startMs = performance.now();
  const worker = async () => {
    while (performance.now() < endMs) {
      const n = next++;
      const t0 = performance.now();
      // A socket the server closed as idle (keep-alive) can reset the first request after a pause:
      // sent again once — every body has its id, so a repeat is the same deployment, never a second.
      const outcome = await send(n).catch(() =>
        send(n).catch((error: unknown) => `network: ${(error as Error).cause ?? (error as Error).message}`),
      );
      latencies.push(performance.now() - t0);
      if (outcome === 'created') created++;
      else {
        failures++;
        firstFailure ??= outcome;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - startMs) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: created / seconds,
    created,
    failures,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    ...(firstFailure ? { firstFailure } : {}),
  };
}

async function countWithPrefix(server: TestServer, prefix: string) {
  const db = server.shinrai.ctx.db.kysely;
  const deployments = await db
    .selectFrom('deployments')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('id', 'like', `${prefix}-%`)
    .executeTakeFirstOrThrow();
  const links = await db
    .selectFrom('deployment_changes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('deployment_id', 'like', `${prefix}-%`)
    .executeTakeFirstOrThrow();
  const shipped = await db
    .selectFrom('changes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('first_deployment_id', 'like', `${prefix}-%`)
    .executeTakeFirstOrThrow();
  return { deployments: Number(deployments.n), links: Number(links.n), shipped: Number(shipped.n) };
}

async function runIngest(
  dialect: Dialect,
  server: TestServer,
  seed: Seed,
  options: { concurrency: number; durationS: number; batch: number },
): Promise<string> {
  const commits = 4;
  const editor = await server.token('editor');
  const runId = Date.now().toString(16);
  const baseMs = Date.now() - HOUR;
  const httpPrefix = `${runId}0`;
  const directPrefix = `${runId}1`;
  const post = (body: unknown) => server.request('POST', '/api/v1/deployments', { token: editor, body });
  const http = await ingestLoad(options.concurrency, options.durationS, async (n) => {
    const response = await post(ingestBody(httpPrefix, baseMs, n, seed.services, commits));
    const text = await response.text();
    return response.status === 201 ? 'created' : `${response.status} ${text.slice(0, 300)}`;
  });
  if (http.firstFailure) console.log(`  first failure: ${http.firstFailure}`);
  const stored = await countWithPrefix(server, httpPrefix);
  check(
    http.failures === 0,
    `${dialect}: every POST /api/v1/deployments was created (201)`,
    `${http.failures} not`,
  );
  check(
    stored.deployments === http.created &&
      stored.links === http.created * commits &&
      stored.shipped === http.created * commits,
    `${dialect}: stored deployments equal the acknowledged ones, each with its ${commits} changes first shipped by it`,
    `${fmt(stored.deployments)} stored / ${fmt(http.created)} acknowledged; ${fmt(stored.links)} links, ${fmt(stored.shipped)} first shipped`,
  );
  // A replay of an acknowledged deployment: 200, Idempotent-Replayed, nothing new stored.
  const replay = await post(ingestBody(httpPrefix, baseMs, 0, seed.services, commits));
  await replay.text();
  const after = await countWithPrefix(server, httpPrefix);
  check(
    replay.status === 200 &&
      replay.headers.get('idempotent-replayed') === 'true' &&
      after.deployments === stored.deployments &&
      after.links === stored.links,
    `${dialect}: a replayed deployment counts once (200, Idempotent-Replayed: true, nothing new stored)`,
    `${replay.status}, replayed ${replay.headers.get('idempotent-replayed')}, ${fmt(after.deployments)} stored`,
  );

  // The storage floor: a transaction of one row insert and its commit, same concurrency.
  const db = server.shinrai.ctx.db.kysely;
  await sql`create table bench_floor (id text primary key, at bigint not null)`.execute(db);
  let floorN = 0;
  const floor = await ingestLoad(
    options.concurrency,
    Math.max(1, Math.round(options.durationS / 2)),
    async () => {
      const n = floorN++;
      await db
        .transaction()
        .execute((trx) => sql`insert into bench_floor (id, at) values (${`f${n}`}, ${n})`.execute(trx));
      return 'created';
    },
  );
  await sql`drop table bench_floor`.execute(db);

  // Baseline: the same records through recordDeployment() directly, same concurrency, no HTTP.
  const ctx = server.shinrai.ctx;
  const deps: DeliveryDeps = {
    db: ctx.db,
    clock: ctx.clock,
    catalog: () => ctx.specs.current.catalog,
    settings: ctx.config.delivery,
    defaultTimeZone: ctx.config.incidents.timeZone,
    // Only read for `fixes`, which these records do not have.
    incidents: undefined as unknown as IncidentDeps,
  };
  const direct = await ingestLoad(options.concurrency, options.durationS, async (n) => {
    const body = ingestBody(directPrefix, baseMs, n, seed.services, commits);
    const { outcome } = await recordDeployment(
      deps,
      {
        id: body.id,
        service: body.service,
        environment: body.environment,
        version: body.version,
        commits: body.commits.map((c) => ({
          sha: c.sha,
          committedAtMs: Date.parse(c.timestamp),
          author: c.author,
          message: c.message,
        })),
        finishedAtMs: Date.parse(body.finishedAt),
        status: body.status,
      },
      { name: 'bench', source: 'api' },
    ).catch((error: unknown) => ({ outcome: String(error) }));
    return outcome === 'created' ? 'created' : outcome;
  });
  const storedDirect = await countWithPrefix(server, directPrefix);
  check(
    direct.failures === 0 && storedDirect.deployments === direct.created,
    `${dialect}: recordDeployment() directly stored every record`,
    `${fmt(storedDirect.deployments)} stored / ${fmt(direct.created)} created, ${direct.failures} failed`,
  );
  // Batches: `batch` deployments in one transaction through POST /api/v1/deployments/batch.
  const batchPrefix = `${runId}2`;
  let batchCreated = 0;
  const batched = await ingestLoad(options.concurrency, options.durationS, async (n) => {
    const deployments = Array.from({ length: options.batch }, (_, k) =>
      ingestBody(batchPrefix, baseMs, n * options.batch + k, seed.services, commits),
    );
    const response = await server.request('POST', '/api/v1/deployments/batch', {
      token: editor,
      body: { deployments },
    });
    const text = await response.text();
    if (response.status !== 200) return `${response.status} ${text.slice(0, 300)}`;
    const { created } = JSON.parse(text) as { created: number };
    batchCreated += created;
    return created === options.batch ? 'created' : `created ${created} of ${options.batch}`;
  });
  const storedBatch = await countWithPrefix(server, batchPrefix);
  check(
    batched.failures === 0 &&
      storedBatch.deployments === batchCreated &&
      storedBatch.links === batchCreated * commits &&
      storedBatch.shipped === batchCreated * commits,
    `${dialect}: batches of ${options.batch} stored every acknowledged deployment with its ${commits} changes`,
    `${fmt(storedBatch.deployments)} stored / ${fmt(batchCreated)} acknowledged, ${batched.failures} batches failed`,
  );
  const batchPerSecond = batched.perSecond * options.batch;
  console.log(
    `${dialect}: batches of ${options.batch} over HTTP ${fmt(batchPerSecond)} deployments/s (p50 ${ms(batched.p50Ms)} ms a batch)`,
  );
  console.log(
    `${dialect}: ingestion over HTTP ${fmt(http.perSecond)} deployments/s (${fmt(http.created)} in ${options.durationS} s, ${options.concurrency} in flight), ` +
      `p50 ${ms(http.p50Ms)} ms, p99 ${ms(http.p99Ms)} ms; recordDeployment() directly ${fmt(direct.perSecond)}/s ` +
      `(p50 ${ms(direct.p50Ms)} ms, p99 ${ms(direct.p99Ms)} ms); ratio HTTP / direct ${(http.perSecond / direct.perSecond).toFixed(2)}; ` +
      `storage floor (one-row transactions) ${fmt(floor.perSecond)}/s`,
  );
  return `| ${dialect} | ${fmt(http.perSecond)} | ${ms(http.p50Ms)} ms | ${ms(http.p99Ms)} ms | ${fmt(batchPerSecond)} | ${fmt(direct.perSecond)} | ${ms(direct.p50Ms)} ms | ${(http.perSecond / direct.perSecond).toFixed(2)} | ${fmt(floor.perSecond)} |`;
}

/** The change of service s first deployed nearest noon (UTC) before the last day: inside every scope's period. */
function perturbedChange(seed: Seed, s: number): number {
  const targetMs = Date.parse(`${seed.lastDay}T00:00:00Z`) - 12 * HOUR;
  let best = -1;
  for (let c = 0; c < seed.changes; c++) {
    if (seed.chService[c] !== s || Number.isNaN(seed.chFirst[c]!)) continue;
    if (best < 0 || Math.abs(seed.chFirst[c]! - targetMs) < Math.abs(seed.chFirst[best]! - targetMs))
      best = c;
  }
  return best;
}

export async function run(flags: BenchFlags): Promise<void> {
  const services = intFlag(flags, 'services', 100);
  const days = intFlag(flags, 'days', 365);
  const perDay = intFlag(flags, 'per-day', 20);
  const meanChanges = intFlag(flags, 'changes', 4);
  const runs = intFlag(flags, 'runs', 5);
  const durationS = intFlag(flags, 'duration', 10);
  const concurrency = intFlag(flags, 'concurrency', 8);
  const batch = intFlag(flags, 'batch', 100);
  const timeZone = typeof flags.tz === 'string' ? flags.tz : 'Asia/Tokyo';
  const dialectFlag = typeof flags.dialect === 'string' ? flags.dialect : 'both';
  if (!['sqlite', 'postgres', 'both'].includes(dialectFlag))
    throw new Error('--dialect is sqlite, postgres or both');
  const dialects: Dialect[] = dialectFlag === 'both' ? ['sqlite', 'postgres'] : [dialectFlag as Dialect];

  let t0 = performance.now();
  const seed = generate(services, days, perDay, meanChanges);
  const incidents = Math.max(2, Math.round((services * days) / 30));
  console.log(
    `${services} services × ${days} days × ${perDay} production deployments a day = ${fmt(seed.deployments)} deployments, ` +
      `${fmt(seed.changes)} changes, ${fmt(seed.links)} deployment→change links, ${incidents} incidents with confirmed causes ` +
      `(generated in ${sec(t0)} s); metrics in ${timeZone}, ${runs} timed runs after 1 warm-up`,
  );
  const metricRows: string[] = [];
  const ingestRows: string[] = [];
  const summaryRows: string[] = [];
  for (const dialect of dialects) {
    seed.causes.length = 0;
    seed.fixes.clear();
    const specs = await mkdtemp(join(tmpdir(), 'shinrai-bench-delivery-'));
    await mkdir(specs, { recursive: true });
    await writeSpecs(specs, services);
    const database = await createTestDatabase(dialect);
    let server: TestServer | undefined;
    try {
      console.log(`\n${dialect}: seeding`);
      t0 = performance.now();
      const db = openDatabase(database.url);
      await migrateToLatest(db.kysely);
      await db.close();
      await insertSeed(database, seed);
      server = await startTestServer(dialect, { specs, database });
      await seedIncidents(server, seed, incidents);
      console.log(`${dialect}: seeded in ${sec(t0)} s`);
      // The bulk load marked every (service, day) stale: the first metrics request would rebuild
      // them all. Timed here on its own, so the timed requests below are the steady state.
      t0 = performance.now();
      const summaryDb = openDatabase(database.url);
      try {
        const rebuilt = await refreshSummaries(summaryDb);
        console.log(
          `${dialect}: summaries of ${fmt(rebuilt)} (service, day)s built from the bulk load in ${sec(t0)} s`,
        );
        summaryRows.push(`| ${dialect} | ${fmt(rebuilt)} | ${sec(t0)} s |`);
      } finally {
        await summaryDb.close();
      }
      metricRows.push(
        ...(await runMetrics(dialect, server, seed, {
          days,
          runs,
          timeZone,
          perturbed: flags.perturb ? perturbedChange(seed, 0) : -1,
        })),
      );
      ingestRows.push(await runIngest(dialect, server, seed, { concurrency, durationS, batch }));
    } finally {
      await server?.close();
      await database.drop();
      await rm(specs, { recursive: true, force: true });
    }
  }
  console.log(`\n| dialect | summaries built | from scratch in |\n|---|---|---|\n${summaryRows.join('\n')}`);
  console.log(
    `\n| dialect | scope | deployments | changes | API p50 | API p95 | pure core | API / core | naive reference |\n|---|---|---|---|---|---|---|---|---|\n${metricRows.join('\n')}`,
  );
  console.log(
    `\n| dialect | deployments/s over HTTP | p50 | p99 | in batches of ${batch}, /s | recordDeployment() directly, /s | p50 | HTTP / direct | one-row transactions/s |\n|---|---|---|---|---|---|---|---|---|\n${ingestRows.join('\n')}`,
  );
}
