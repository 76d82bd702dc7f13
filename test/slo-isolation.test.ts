/**
 * One bad SLO never stops the others (issue 14, finding 7): the huge-healthy-minute
 * payload evaluates, an SLO whose evaluation throws is marked `error` on its own (API, metrics)
 * while the others keep evaluating and alerting, and /readyz reports evaluation health.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../src/alerting/service.js';
import { evaluateTarget, evaluationTargets } from '../src/slo/evaluation.js';
import type { DatedStatus } from '../src/slo/evaluator/evaluator.js';
import { minuteStamp } from '../src/slo/ingest/service.js';
import type { SloDefinition } from '../src/slo/model.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0);
/** The test server's tick interval (the timer is effectively off; tests call tick()). */
const TICK_MS = 3600 * 1000;

describe.each(DIALECTS)('one bad SLO on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  const clock = new ManualClock(T0);
  const tick = () => server.shinrai.evaluator.tick();
  const statusOf = async (id: string): Promise<JsonBody> =>
    (await json(server.request('GET', `/api/v1/slos/${id}`))).status[0];
  const metric = async (line: RegExp): Promise<number | undefined> => {
    const text = await (await server.request('GET', '/metrics')).text();
    const found = text.split('\n').find((l) => line.test(l));
    return found === undefined ? undefined : Number(found.split(' ').at(-1));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-isolation-'));
    await writeFile(
      join(dir, 'slos.yaml'),
      ['api', 'web', 'big']
        .map((name) => ratioSloYaml(name, { target: 0.999, window: '30d', service: 'shop' }))
        .join('---\n'),
    );
    server = await startTestServer(dialect, { specs: dir, clock, anonymousRead: true });
    for (const sli of ['api-requests', 'web-requests', 'big-requests'])
      await seedRequests(server.shinrai.ctx.db, {
        sli,
        fromMs: T0 - 2 * 1440 * MIN,
        minutes: 2 * 1440,
        errorRate: 0,
        nowMs: T0,
      });
    await tick();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("evaluates every SLO after the issue's minute of 1e13 good events followed by errors", async () => {
    // Stored before counts were bounded (ingestion now refuses 1e13): written as it was then.
    const { db } = server.shinrai.ctx;
    const stamp = minuteStamp(db, clock.ms);
    await db.kysely
      .insertInto('sli_minutes')
      .values({ sli: 'big-requests', minute_ts: T0 - 30 * MIN, good: 1e13, total: 1e13, updated_at: stamp })
      .onConflict((oc) =>
        oc.columns(['sli', 'minute_ts']).doUpdateSet({ good: 1e13, total: 1e13, updated_at: stamp }),
      )
      .execute();
    clock.advance(MIN);
    const ingest = await server.request('POST', '/api/v1/sli/big-requests/events', {
      body: [{ ts: clock.ms - 5 * MIN, good: 90, total: 100 }],
      headers: { authorization: `Bearer ${await server.token('editor')}` },
    });
    expect(ingest.status).toBe(200);
    await tick();
    for (const id of ['api', 'web', 'big']) {
      const status = await statusOf(id);
      expect(status.evaluatedAt, id).toBe(new Date(clock.ms).toISOString());
      expect(status.error, id).toBeUndefined();
    }
    const big = await statusOf('big');
    // Exhaustion ~10^17 ms ahead: no Date holds it, so "never".
    expect(big.exhaustionAt).toBeNull();
    expect(big.burnRates['5m']).toBeGreaterThan(0);
    expect((await server.request('GET', '/readyz')).status).toBe(200);
  });

  it('marks only the failing SLO error, keeps the others evaluating and alerting, and clears it on recovery', async () => {
    const catalog = server.shinrai.ctx.specs.current.catalog;
    const web = catalog.slos.find((s) => s.id === 'web')! as {
      -readonly [K in keyof SloDefinition]: SloDefinition[K];
    };
    const original = web.shinrai;
    const before = await statusOf('web');
    // Any exception in one SLO's evaluation (here: reading its budget policy while shaping its status).
    const broken = { ...original };
    Object.defineProperty(broken, 'errorBudgetPolicy', {
      get() {
        throw new TypeError('cannot read the policy of web');
      },
    });
    web.shinrai = broken;
    const failedBefore = (await metric(/^shinrai_slo_evaluation_errors_total\{slo="web"\}/)) ?? 0;
    try {
      // A full outage of api: its page alert must still fire while web fails.
      await seedRequests(server.shinrai.ctx.db, {
        sli: 'api-requests',
        fromMs: clock.ms,
        minutes: 1,
        errorRate: 1,
        nowMs: clock.ms,
      });
      clock.advance(MIN);
      const failedAt = clock.ms;
      await tick();
      const failing = await statusOf('web');
      expect(failing.error).toEqual({
        reason: 'TypeError: cannot read the policy of web',
        since: new Date(failedAt).toISOString(),
      });
      // The last good figures stay, dated when they were computed.
      expect(failing.evaluatedAt).toBe(before.evaluatedAt);
      expect(failing.budget).toEqual(before.budget);
      const api = await statusOf('api');
      expect(api.evaluatedAt).toBe(new Date(failedAt).toISOString());
      expect(api.error).toBeUndefined();
      const alerts: JsonBody[] = await json(server.request('GET', '/api/v1/alerts?state=active'));
      expect(alerts.find((a) => a.slo === 'api' && a.rule === 'page')).toMatchObject({ state: 'firing' });

      clock.advance(MIN);
      await tick();
      // The first failure is kept as `since`; every failed evaluation is counted.
      expect((await statusOf('web')).error.since).toBe(new Date(failedAt).toISOString());
      expect(await metric(/^shinrai_slo_evaluation_errors_total\{slo="web"\}/)).toBe(failedBefore + 2);
      expect(await metric(/^shinrai_slos_failing /)).toBe(1);
      const list: JsonBody[] = await json(server.request('GET', '/api/v1/slos'));
      expect(list.find((s) => s.id === 'web').status[0].error.reason).toMatch(/cannot read the policy/);
      // Failing SLOs are reported, but a tick that writes the others keeps the replica ready.
      const ready = await server.request('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect((await json(ready)).evaluation).toMatchObject({ ready: true, role: 'leader', failingSlos: 1 });
    } finally {
      web.shinrai = original;
    }
    clock.advance(MIN);
    await tick();
    const recovered = await statusOf('web');
    expect(recovered.error).toBeUndefined();
    expect(recovered.evaluatedAt).toBe(new Date(clock.ms).toISOString());
    expect(await metric(/^shinrai_slos_failing /)).toBe(0);
  });

  it('gives an SLO that fails from its first evaluation an entry without figures, with the error', async () => {
    await writeFile(
      join(dir, 'late.yaml'),
      ratioSloYaml('late', { target: 0.999, window: '30d', service: 'shop' }),
    );
    await seedRequests(server.shinrai.ctx.db, {
      sli: 'late-requests',
      fromMs: clock.ms - 60 * MIN,
      minutes: 60,
      errorRate: 0.01,
      nowMs: clock.ms,
    });
    await server.shinrai.ctx.specs.reload();
    const late = server.shinrai.ctx.specs.current.catalog.slos.find((s) => s.id === 'late')! as {
      -readonly [K in keyof SloDefinition]: SloDefinition[K];
    };
    const original = late.shinrai;
    const broken = { ...original };
    Object.defineProperty(broken, 'errorBudgetPolicy', {
      get() {
        throw new TypeError('no policy for late');
      },
    });
    late.shinrai = broken;
    try {
      clock.advance(MIN);
      await tick();
      const status = await statusOf('late');
      expect(status).toMatchObject({
        id: 'late',
        sli: null,
        evaluatedAt: new Date(clock.ms).toISOString(),
        error: { reason: 'TypeError: no policy for late', since: new Date(clock.ms).toISOString() },
      });
      expect((await statusOf('api')).error).toBeUndefined();
    } finally {
      late.shinrai = original;
    }
    clock.advance(MIN);
    await tick();
    const recovered = await statusOf('late');
    expect(recovered.error).toBeUndefined();
    expect(recovered.sli).toBeCloseTo(0.99, 9);
  });

  it("keeps evaluating the other SLOs' alerts when one SLO's alerts cannot be evaluated", async () => {
    const { db, specs } = server.shinrai.ctx;
    const alerts = new AlertService({ log: pino({ level: 'silent' }), specs: () => specs.current });
    const nowMs = clock.ms;
    const statuses: DatedStatus[] = evaluationTargets(specs.current.catalog).map((target) => {
      // A full outage of api in the last minute; nothing for the others.
      const minutes = target.id === 'api' ? [{ ts: nowMs - MIN, good: 0, total: 1000 }] : [];
      const status = evaluateTarget(target, () => minutes, nowMs);
      if (target.id !== 'web') return { target, status };
      // web's windows cannot be read: any exception in its alert evaluation.
      const [part] = target.parts;
      const spec = { ...part!.spec };
      Object.defineProperty(spec, 'burnWindows', {
        get() {
          throw new TypeError('windows unreadable');
        },
      });
      return { target: { ...target, parts: [{ ...part!, spec }] }, status };
    });
    const before = await db.kysely.selectFrom('alerts').select(['slo_id', 'rule', 'alert']).execute();
    const failed = await db.kysely.transaction().execute((trx) => alerts.step(trx, statuses, nowMs));
    expect(failed).toEqual([{ id: 'web', error: 'alerts not evaluated: windows unreadable' }]);
    const after = await db.kysely.selectFrom('alerts').select(['slo_id', 'rule', 'alert']).execute();
    expect(after.filter((a) => a.slo_id === 'web')).toEqual(before.filter((a) => a.slo_id === 'web'));
    expect(after.some((a) => a.slo_id === 'api' && a.rule === 'page')).toBe(true);
  });

  it('answers /readyz 503 with the reason when no tick has succeeded for 3 intervals, and ready again after one', async () => {
    const db = server.shinrai.ctx.db.kysely;
    // Every tick fails while its status table is away; the database itself still answers.
    await sql`ALTER TABLE slo_status RENAME TO slo_status_away`.execute(db);
    try {
      clock.advance(MIN);
      await tick();
      expect((await server.request('GET', '/readyz')).status).toBe(200);
      clock.advance(3 * TICK_MS);
      await tick();
      const ready = await server.request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = await json(ready);
      expect(problem.detail).toMatch(
        /^not ready: evaluation: no evaluation tick has succeeded for \d+s \(more than 3 intervals of 3600s\); last error: /,
      );
    } finally {
      await sql`ALTER TABLE slo_status_away RENAME TO slo_status`.execute(db);
    }
    await tick();
    const ready = await server.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(await json(ready)).toMatchObject({
      status: 'ready',
      leader: true,
      evaluation: { ready: true, role: 'leader', consecutiveFailures: 0 },
    });
  });
});
