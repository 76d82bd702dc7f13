/**
 * The DORA metrics read stored per-(service, UTC day) summaries and batches are written set-wise;
 * both must give exactly what the rows give. On both databases, a random history (shared commits
 * shipped again after failures, ties, finishes near UTC midnight, production and staging, hotfixes
 * and rollbacks, causes and fixes) is recorded once in batches and once one by one: the stored
 * rows must be identical, and the metrics of several periods and zones (one crossing a DST change)
 * must equal the pure core over the rows read straight from the tables — also after later status
 * changes move changes' first deployments to other days, and with summaries built by the
 * migration's marks for rows that were there before it.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CauseLink,
  computeDeliveryMetrics,
  type DeploymentFact,
  type DeploymentKind,
  type DeploymentStatus,
} from '../src/delivery/index.js';
import { seededRandom } from '../src/demo/index.js';
import { type Db, openDatabase } from '../src/platform/db/index.js';
import { DIALECTS } from './support/databases.js';
import { json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2026-10-26 00:00 UTC; New York leaves DST on 2026-11-01. */
const START = Date.UTC(2026, 9, 26);
const iso = (ms: number) => new Date(ms).toISOString();

interface Body {
  id: string;
  service: string;
  environment: string;
  commits: { sha: string; timestamp: string }[];
  finishedAt: string;
  status: DeploymentStatus;
  kind: DeploymentKind;
}

/** A history: per service, a pool of commits; each deployment ships the unshipped ones so far (again after a failure). */
function history(seed: number): Body[] {
  const random = seededRandom(seed);
  const bodies: Body[] = [];
  for (const service of ['api', 'web', 'jobs']) {
    let pending: { sha: string; timestamp: string }[] = [];
    // What the last successful production deployment shipped: listed again now and then (a CI that
    // sends `git log` from an older base), so a later status change moves those changes.
    let shipped: { sha: string; timestamp: string }[] = [];
    let at = START + Math.floor(random() * 6 * HOUR);
    for (let n = 0; n < 45; n++) {
      const commits = Array.from({ length: Math.floor(random() * 4) }, (_, c) => ({
        // The same sha in two services is two changes.
        sha: `${(n * 7 + c).toString(16).padStart(8, '0')}${'a'.repeat(32)}`,
        timestamp: iso(at - Math.floor(random() * 3 * DAY) + (random() < 0.05 ? 2 * HOUR : 0)),
      }));
      pending = [...pending, ...commits];
      const listed = random() < 0.4 ? [...shipped, ...pending] : pending;
      const r = random();
      const status: DeploymentStatus = r < 0.1 ? 'rolled_back' : r < 0.15 ? 'failure' : 'success';
      const k = random();
      const kind: DeploymentKind = k < 0.08 ? 'hotfix' : k < 0.13 ? 'rollback' : 'normal';
      const environment = random() < 0.15 ? 'staging' : 'production';
      // Near UTC midnight, or tied with the previous finish now and then.
      const finish = random() < 0.1 ? at : random() < 0.2 ? Math.ceil(at / DAY) * DAY - MIN : at + 1;
      bodies.push({
        id: `${service}-${String(n).padStart(3, '0')}`,
        service,
        environment,
        // A repeated sha within one deployment, now and then.
        commits: listed.length && random() < 0.05 ? [...listed, listed[0]!] : listed,
        finishedAt: iso(finish),
        status,
        kind,
      });
      if (status === 'success' && environment === 'production') {
        shipped = pending;
        pending = [];
      }
      at = finish + Math.floor(random() * 9 * HOUR) + 1;
    }
  }
  return bodies.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt) || a.id.localeCompare(b.id));
}

/** Every stored row that recording decides, in a stable order. */
async function storedRows(db: Db) {
  const deployments = await db.kysely
    .selectFrom('deployments')
    .select(['id', 'service', 'production', 'status', 'kind', 'finished_at', 'change_count', 'fixes'])
    .orderBy('id')
    .execute();
  const changes = await db.kysely
    .selectFrom('changes')
    .select(['service', 'sha', 'committed_at', 'first_deployment_id', 'first_deployed_at'])
    .orderBy('service')
    .orderBy('sha')
    .execute();
  const links = await db.kysely
    .selectFrom('deployment_changes')
    .selectAll()
    .orderBy('deployment_id')
    .orderBy('sha')
    .execute();
  const norm = <T extends Record<string, unknown>>(rows: T[]) =>
    rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v]),
      ),
    );
  return { deployments: norm(deployments), changes: norm(changes), links };
}

describe.each(DIALECTS)('delivery summaries on %s', (dialect) => {
  let batched: TestServer;
  let single: TestServer;
  let batchedDb: Db;
  const clock = new ManualClock(START + 40 * DAY);
  const bodies = history(dialect === 'sqlite' ? 7 : 11);
  const causes: CauseLink[] = [];

  const editors = new Map<TestServer, Promise<string>>();
  const request = async (server: TestServer, method: string, path: string, body: unknown) => {
    if (!editors.has(server)) editors.set(server, server.token('editor'));
    const response = await server.request(method, path, { token: await editors.get(server)!, body });
    const answer = await json(response);
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };

  beforeAll(async () => {
    batched = await startTestServer(dialect, { clock });
    single = await startTestServer(dialect, { clock });
    batchedDb = openDatabase(batched.database.url);
    // Batches of 1–12 into one server, one by one into the other.
    const random = seededRandom(3);
    for (let i = 0; i < bodies.length; ) {
      const size = 1 + Math.floor(random() * 12);
      await request(batched, 'POST', '/api/v1/deployments/batch', { deployments: bodies.slice(i, i + size) });
      i += size;
    }
    for (const body of bodies) await request(single, 'POST', '/api/v1/deployments', body);
  }, 120_000);

  afterAll(async () => {
    await batchedDb?.close();
    await batched?.close();
    await single?.close();
  });

  it('stores the same rows for a history recorded in batches as one by one', async () => {
    const singleDb = openDatabase(single.database.url);
    try {
      const a = await storedRows(batchedDb);
      expect(a.changes.filter((c) => c.first_deployment_id !== null).length).toBeGreaterThan(100);
      expect(a).toEqual(await storedRows(singleDb));
    } finally {
      await singleDb.close();
    }
  });

  /** The metrics the pure core gives over the rows read straight from the tables. */
  const naive = async (from: string, to: string, tz: string) => {
    const answer = await json(
      batched.request('GET', `/api/v1/delivery/metrics?from=${from}&to=${to}&tz=${encodeURIComponent(tz)}`, {
        token: await batched.token('viewer'),
      }),
    );
    const deployments: DeploymentFact[] = (
      await batchedDb.kysely.selectFrom('deployments').selectAll().where('production', '=', 1).execute()
    )
      .filter((d) => Number(d.finished_at) < Date.parse(answer.period.toTime) + 30 * DAY)
      .map((d) => ({
        id: d.id,
        service: d.service,
        finishedAtMs: Number(d.finished_at),
        status: d.status as DeploymentStatus,
        kind: d.kind as DeploymentKind,
        fixes: JSON.parse(d.fixes) as string[],
      }));
    const changes = (
      await batchedDb.kysely
        .selectFrom('changes')
        .select(['committed_at', 'first_deployed_at'])
        .where('first_deployed_at', 'is not', null)
        .execute()
    ).map((c) => ({ committedAtMs: Number(c.committed_at), firstDeployedAtMs: Number(c.first_deployed_at) }));
    const expected = computeDeliveryMetrics({
      fromMs: Date.parse(answer.period.fromTime),
      toMs: Date.parse(answer.period.toTime),
      timeZone: tz,
      deployments,
      causes,
      changes,
    });
    // The API's view: the period as dates and instants, weeks without their epoch ms.
    const { scope: _scope, period, ...metrics } = answer;
    const { period: expectedPeriod, ...expectedMetrics } = expected;
    expect(period.days).toBe(expectedPeriod.days);
    return {
      answer: metrics,
      expected: JSON.parse(
        JSON.stringify({
          ...expectedMetrics,
          weeks: expected.weeks.map(({ startMs: _startMs, ...week }) => week),
        }),
      ),
    };
  };

  const periods: [string, string, string][] = [
    ['2026-10-26', '2026-11-30', 'UTC'],
    ['2026-10-27', '2026-11-12', 'Asia/Tokyo'],
    ['2026-10-25', '2026-11-08', 'America/New_York'],
    ['2026-11-03', '2026-11-03', 'Asia/Kolkata'],
  ];

  it('answers every period and zone exactly as the rows do, with causes and fixes', async () => {
    // Two incidents caused by production deployments (one by a commit), the first fixed by a later one.
    const production = bodies.filter((b) => b.environment === 'production' && b.status !== 'failure');
    for (const [n, target] of [production[10]!, production[40]!].entries()) {
      const impactMs = Date.parse(target.finishedAt) + 5 * MIN;
      const incident = await request(batched, 'POST', '/api/v1/incidents', {
        title: `Caused by ${target.id}`,
        severity: 'SEV2',
        services: [target.service],
        milestones: { impactStartedAt: iso(impactMs), detectedAt: iso(impactMs + MIN) },
      });
      await request(batched, 'PATCH', `/api/v1/incidents/${incident.reference}`, {
        causedBy: { deployment: target.id },
        ...(n === 0 ? { status: 'resolved', milestones: { resolvedAt: iso(impactMs + 3 * HOUR) } } : {}),
      });
      causes.push({
        incidentId: incident.id,
        deploymentId: target.id,
        impactStartedAtMs: impactMs,
        ...(n === 0 ? { resolvedAtMs: impactMs + 3 * HOUR } : {}),
      });
      if (n === 0) {
        const fixer = production.find(
          (b) => b.service === target.service && b.finishedAt > target.finishedAt,
        )!;
        await request(batched, 'POST', '/api/v1/deployments', { ...fixer, fixes: [incident.reference] });
      }
    }
    for (const [from, to, tz] of periods) {
      const { answer, expected } = await naive(from, to, tz);
      expect(answer, `${from}..${to} ${tz}`).toEqual(expected);
    }
    const dirty = await batchedDb.kysely.selectFrom('delivery_dirty_days').select('id').execute();
    expect(dirty).toEqual([]);
  });

  it('follows later status changes that move first deployments to other days', async () => {
    // Roll back successful deployments: their changes are first shipped by a later one, often on another day.
    const good = bodies.filter((b) => b.environment === 'production' && b.status === 'success');
    const dayOf = (b: Body) => Math.floor(Date.parse(b.finishedAt) / DAY);
    // Also those whose commits a later good deployment on another UTC day lists again.
    const movers = good.filter((v) =>
      good.some(
        (later) =>
          later.service === v.service &&
          later.finishedAt > v.finishedAt &&
          dayOf(later) !== dayOf(v) &&
          later.commits.some((c) => v.commits.some((own) => own.sha === c.sha)),
      ),
    );
    expect(movers.length).toBeGreaterThan(1);
    const victims = [...new Set([...good.filter((_, i) => i % 7 === 3), ...movers.slice(0, 3)])];
    expect(victims.length).toBeGreaterThan(5);
    for (const victim of victims)
      await request(batched, 'POST', '/api/v1/deployments', { ...victim, status: 'rolled_back' });
    const moved = await batchedDb.kysely
      .selectFrom('delivery_dirty_days')
      .select(['service', 'day'])
      .execute();
    // Marked: the victims' own days, and days their changes moved to (another day, now and then).
    const victimDays = new Set(
      victims.map((v) => `${v.service} ${Math.floor(Date.parse(v.finishedAt) / DAY)}`),
    );
    const markedDays = new Set(moved.map((m) => `${m.service} ${Number(m.day)}`));
    for (const day of victimDays) expect(markedDays).toContain(day);
    expect(markedDays.size).toBeGreaterThan(victimDays.size);
    for (const [from, to, tz] of periods) {
      const { answer, expected } = await naive(from, to, tz);
      expect(answer, `${from}..${to} ${tz}`).toEqual(expected);
    }
  });

  it('rebuilds every summary from the rows when all are marked stale (as the migration marks existing rows)', async () => {
    await batchedDb.kysely.deleteFrom('delivery_day_summaries').execute();
    await sql`INSERT INTO delivery_dirty_days (service, day)
      SELECT DISTINCT service, CAST(finished_at / 86400000 AS integer) FROM deployments`.execute(
      batchedDb.kysely,
    );
    for (const [from, to, tz] of periods) {
      const { answer, expected } = await naive(from, to, tz);
      expect(answer, `${from}..${to} ${tz}`).toEqual(expected);
    }
  });
});
