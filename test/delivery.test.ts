/**
 * Deployments end to end on both databases: recorded through POST /api/v1/deployments (idempotent
 * by id or Idempotency-Key; a later status updates the same deployment), changes from pushes
 * picked up by a deployment of their head, the first production deployment of each change,
 * incidents naming their cause (a deployment or a commit) after suspects are suggested, the budget
 * each SLO burned after a deployment versus before it (exact figures), and bodies that never 5xx.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordChanges } from '../src/delivery/index.js';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { DIALECTS } from './support/databases.js';
import { json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 2, 12, 0);
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DIALECTS)('deployments on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let viewer: string;
  let editor: string;
  const clock = new ManualClock(T0 + 6 * HOUR);

  const post = (body: unknown, options: { token?: string; headers?: Record<string, string> } = {}) =>
    server.request('POST', '/api/v1/deployments', {
      token: options.token ?? editor,
      body,
      headers: options.headers,
    });
  const get = (path: string) => json(server.request('GET', path, { token: viewer }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-delivery-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      ratioSloYaml('checkout-availability', { target: 0.999, window: '30d', service: 'checkout' }),
    );
    server = await startTestServer(dialect, {
      specs: dir,
      clock,
      config: { 'delivery.production': 'legacy=prod' },
    });
    viewer = await server.token('viewer');
    editor = await server.token('editor');
    // 1,000 requests a minute: none bad in the 4 hours before T0, 2 bad a minute in the 4 hours after.
    const rows = Array.from({ length: 8 * 60 }, (_, i) => {
      const minuteMs = T0 - 4 * HOUR + i * MIN;
      return {
        storageKey: 'checkout-availability-requests',
        minuteMs,
        good: minuteMs < T0 ? 1000 : 998,
        total: 1000,
      };
    });
    const db = server.shinrai.ctx.db;
    await upsertBuckets(db.kysely, rows, minuteStamp(db, clock.ms), 'replace');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records a deployment once however often CI retries it, and a later status updates the same one', async () => {
    const body = {
      id: 'ci-1001',
      service: 'checkout',
      environment: 'production',
      version: 'v1.4.0',
      startedAt: iso(T0 - 5 * MIN),
      finishedAt: iso(T0),
      status: 'success',
      commits: [
        { sha: 'a1'.repeat(20), timestamp: iso(T0 - 3 * HOUR), author: 'hana', message: 'Add coupons' },
        { sha: 'b2'.repeat(20), timestamp: iso(T0 - HOUR) },
      ],
    };
    const created = await post(body);
    expect(created.status).toBe(201);
    const first = await json(created);
    expect(first).toMatchObject({
      id: 'ci-1001',
      production: true,
      changes: 2,
      kind: 'normal',
      source: 'api',
    });
    expect(first.gate).toMatchObject({ decision: expect.stringMatching(/allow|warn|deny/) });

    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(first);

    clock.advance(MIN);
    const rolledBack = await json(post({ ...body, status: 'rolled_back' }));
    expect(rolledBack).toMatchObject({ id: 'ci-1001', status: 'rolled_back', changes: 2, gate: first.gate });
    const listed = await get('/api/v1/deployments?service=checkout');
    expect(listed.deployments.filter((d: { id: string }) => d.id === 'ci-1001')).toHaveLength(1);

    // An id names one deployment: reusing it for another service is a conflict, not an overwrite.
    const clash = await post({ ...body, service: 'payments' });
    expect(clash.status).toBe(409);
    expect(clash.headers.get('content-type')).toContain('application/problem+json');
    // Back to success for the rest of the suite.
    await post(body);
  });

  it('ends ten concurrent retries of one deployment as one deployment, every answer a success', async () => {
    const body = {
      id: 'ci-race',
      service: 'race',
      environment: 'production',
      finishedAt: iso(T0 - 2 * HOUR),
      status: 'success',
      commits: [{ sha: 'd4'.repeat(20), timestamp: iso(T0 - 3 * HOUR) }],
    };
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const listed = await get('/api/v1/deployments?service=race');
    expect(listed.deployments).toHaveLength(1);
    expect(listed.deployments[0]).toMatchObject({ id: 'ci-race', changes: 1 });
  });

  it('records a batch in one transaction: all or none, idempotent by id', async () => {
    const batch = (deployments: unknown[], token = editor) =>
      server.request('POST', '/api/v1/deployments/batch', { token, body: { deployments } });
    const item = (n: number, extra: Record<string, unknown> = {}) => ({
      id: `backfill-${n}`,
      service: 'batch',
      environment: 'production',
      finishedAt: iso(T0 - (10 - n) * HOUR),
      status: 'success',
      commits: [{ sha: `${n}`.repeat(40).slice(0, 40), timestamp: iso(T0 - (11 - n) * HOUR) }],
      ...extra,
    });
    const first = await json(batch([item(1), item(2), item(3)]));
    expect(first).toMatchObject({ created: 3, updated: 0, unchanged: 0 });
    expect(first.results.map((r: { id: string }) => r.id)).toEqual([
      'backfill-1',
      'backfill-2',
      'backfill-3',
    ]);
    expect(await json(batch([item(1), item(2), item(3)]))).toMatchObject({ created: 0, unchanged: 3 });
    expect(await json(batch([item(3, { status: 'rolled_back' })]))).toMatchObject({ updated: 1 });

    // A bad item rejects the whole batch, saying which, and writes nothing.
    const bad = await batch([item(4), item(5, { startedAt: iso(T0), finishedAt: iso(T0 - HOUR) })]);
    expect(bad.status).toBe(400);
    expect((await json(bad)).detail).toContain('deployments[1]');
    const withoutId = await batch([{ ...item(6), id: undefined }]);
    expect(withoutId.status).toBe(400);
    expect((await batch([item(7)], viewer)).status).toBe(403);
    const listed = await get('/api/v1/deployments?service=batch&impact=false');
    expect(listed.deployments.map((d: { id: string }) => d.id)).toEqual([
      'backfill-3',
      'backfill-2',
      'backfill-1',
    ]);
  });

  it('uses the Idempotency-Key as the id when the body names none', async () => {
    const body = {
      service: 'checkout',
      environment: 'staging',
      finishedAt: iso(T0 - HOUR),
      status: 'success',
    };
    const headers = { 'idempotency-key': 'gha-run-77-attempt-1' };
    const first = await json(post(body, { headers }));
    expect(first.id).toBe('gha-run-77-attempt-1');
    expect(first.production).toBe(false);
    const second = await post(body, { headers });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });

  it('decides production per service from delivery.production', async () => {
    const prod = await json(
      post({ service: 'legacy', environment: 'prod', finishedAt: iso(T0), status: 'success' }),
    );
    const notProd = await json(
      post({ service: 'legacy', environment: 'production', finishedAt: iso(T0), status: 'success' }),
    );
    expect([prod.production, notProd.production]).toEqual([true, false]);
  });

  it('gives a deployment of a pushed head the changes pushed before it, and each change its first production deployment', async () => {
    const sha = (n: number) => n.toString(16).padStart(40, 'c');
    await recordChanges(server.shinrai.ctx, {
      service: 'search',
      changes: [1, 2, 3].map((n) => ({ sha: sha(n), committedAtMs: T0 - (10 - n) * HOUR })),
    });
    const staging = await json(
      post({
        service: 'search',
        environment: 'staging',
        headSha: sha(2),
        finishedAt: iso(T0 - 2 * HOUR),
        status: 'success',
      }),
    );
    expect(staging.changes).toBe(2);
    const prod = await json(
      post({
        service: 'search',
        environment: 'production',
        headSha: sha(3),
        finishedAt: iso(T0 - HOUR),
        status: 'success',
      }),
    );
    expect(prod.changes).toBe(3);
    // Nothing is left to ship: the next deployment of the same head has no new changes.
    const again = await json(
      post({
        service: 'search',
        environment: 'production',
        headSha: sha(3),
        finishedAt: iso(T0),
        status: 'success',
      }),
    );
    expect(again.changes).toBe(1);
    const firsts = await server.shinrai.ctx.db.kysely
      .selectFrom('changes')
      .select(['sha', 'first_deployment_id', 'first_deployed_at'])
      .where('service', '=', 'search')
      .orderBy('sha')
      .execute();
    expect(firsts.map((r) => [r.first_deployment_id, Number(r.first_deployed_at)])).toEqual(
      [1, 2, 3].map(() => [prod.id, T0 - HOUR]),
    );
  });

  it('reports the budget each SLO burned in the hours after a deployment against as long before it', async () => {
    const item = await get('/api/v1/deployments/ci-1001');
    // 4 h after at 2 bad per 1,000: burn rate 0.002 / 0.001 = 2; 240 min × 2 = 480 bad requests;
    // share of the 30-day budget = 2 × 4 h / 720 h = 1/90.
    expect(item.budget).toHaveLength(1);
    const [b] = item.budget;
    expect(b).toMatchObject({ slo: 'checkout-availability', unit: 'events' });
    expect(b.before).toEqual({ consumed: 0, burnRate: 0, shareOfBudget: 0 });
    expect(b.after.consumed).toBe(480);
    expect(b.after.burnRate).toBeCloseTo(2, 9);
    expect(b.after.shareOfBudget).toBeCloseTo(1 / 90, 9);
    expect(b.burnRateChange).toBeCloseTo(2, 9);

    const over = await get('/api/v1/deployments?service=checkout&burnedOver=0.01');
    expect(over.deployments.map((d: { id: string }) => d.id)).toContain('ci-1001');
    const bare = await get('/api/v1/deployments?service=checkout&impact=false');
    expect(bare.deployments.find((d: { id: string }) => d.id === 'ci-1001').budget).toEqual([]);
    const notOver = await get('/api/v1/deployments?service=checkout&burnedOver=0.02');
    expect(notOver.deployments.map((d: { id: string }) => d.id)).not.toContain('ci-1001');
  });

  it('suggests the last production deployment before the impact as a suspect; only a confirmed cause fails it', async () => {
    const incident = await json(
      server.request('POST', '/api/v1/incidents', {
        token: editor,
        body: {
          title: 'Checkout errors',
          severity: 'SEV2',
          services: ['checkout'],
          milestones: { impactStartedAt: iso(T0 + 10 * MIN) },
        },
      }),
    );
    const { suspects } = await get(`/api/v1/incidents/${incident.reference}/suspects`);
    expect(suspects.map((s: { id: string }) => s.id)).toEqual(['ci-1001']);
    let item = await get('/api/v1/deployments/ci-1001');
    expect(item).toMatchObject({ failed: false, causedIncidents: [] });

    const unknown = await server.request('PATCH', `/api/v1/incidents/${incident.reference}`, {
      token: editor,
      body: { causedBy: { deployment: 'no-such-deployment' } },
    });
    expect(unknown.status).toBe(400);
    const confirmed = await json(
      server.request('PATCH', `/api/v1/incidents/${incident.reference}`, {
        token: editor,
        body: { causedBy: { deployment: 'ci-1001' } },
      }),
    );
    expect(confirmed.causedBy).toMatchObject({ deployment: 'ci-1001', confirmedBy: expect.any(String) });
    item = await get('/api/v1/deployments/ci-1001');
    expect(item).toMatchObject({ failed: true, causedIncidents: [incident.reference] });

    // A commit names the deployment that first shipped it; an abbreviated sha is completed.
    const viaCommit = await json(
      server.request('PATCH', `/api/v1/incidents/${incident.reference}`, {
        token: editor,
        body: { causedBy: { commit: 'a1a1a1a1' } },
      }),
    );
    expect(viaCommit.causedBy).toMatchObject({ commit: 'a1'.repeat(20) });
    item = await get('/api/v1/deployments/ci-1001');
    expect(item.causedIncidents).toEqual([incident.reference]);
    const detail = await get(`/api/v1/incidents/${incident.reference}`);
    expect(detail.timeline.map((e: { text: string }) => e.text)).toContain(
      `cause confirmed: commit ${'a1'.repeat(20)}`,
    );
  });

  it('needs an editor to record, and answers bad bodies with problem+json, never a 5xx', async () => {
    expect(
      (
        await post(
          { service: 'x', environment: 'production', finishedAt: iso(T0), status: 'success' },
          { token: viewer },
        )
      ).status,
    ).toBe(403);
    const bad = await post({
      service: 'x',
      environment: 'production',
      finishedAt: 'yesterday',
      status: 'shipped',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const backwards = await post({
      service: 'x',
      environment: 'production',
      startedAt: iso(T0),
      finishedAt: iso(T0 - MIN),
      status: 'success',
    });
    expect(backwards.status).toBe(400);
    const unknownIncident = await post({
      service: 'x',
      environment: 'production',
      finishedAt: iso(T0),
      status: 'success',
      fixes: ['INC-999'],
    });
    expect(unknownIncident.status).toBe(400);

    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            id: fc.oneof(fc.string(), fc.constant('ci-1001')),
            service: fc.oneof(fc.string(), fc.constant('checkout')),
            environment: fc.string(),
            finishedAt: fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              fc.string(),
            ),
            status: fc.constantFrom('success', 'failure', 'rolled_back', 'nope'),
            kind: fc.constantFrom('normal', 'hotfix', 'rollback', 'other'),
            commits: fc.array(
              fc.record({
                sha: fc.oneof(fc.stringMatching(/^[0-9a-f]{4,40}$/), fc.string()),
                timestamp: fc.string(),
              }),
              { maxLength: 3 },
            ),
            fixes: fc.array(fc.string(), { maxLength: 2 }),
            url: fc.oneof(fc.webUrl(), fc.string()),
          },
          { requiredKeys: [] },
        ),
        async (body) => {
          const response = await post(body);
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('computes the DORA metrics of a month exactly as docs/delivery.md defines them', async () => {
    const at = (day: number, h: number, m = 0, sec = 0) => iso(Date.UTC(2026, 9, day, h, m, sec));
    const sha = (n: number) => `${n}`.repeat(40).slice(0, 40);
    const deploy = (id: string, finishedAt: string, extra: Record<string, unknown> = {}) =>
      post({ id, service: 'pay', environment: 'production', finishedAt, status: 'success', ...extra });
    await deploy('pay-1', at(5, 10), {
      commits: [
        { sha: sha(1), timestamp: at(5, 8) }, // lead 2 h
        { sha: sha(2), timestamp: at(4, 10) }, // lead 24 h
      ],
    });
    await deploy('pay-2', at(12, 10), { commits: [{ sha: sha(3), timestamp: at(12, 9) }] }); // lead 1 h
    await deploy('pay-3', at(12, 12), { kind: 'hotfix' }); // restores pay-2 at 12:00
    await deploy('pay-4', at(20, 10), {
      commits: [
        { sha: sha(4), timestamp: at(20, 10) }, // lead 0: left out
        { sha: sha(5), timestamp: at(20, 9, 59, 30) }, // lead 30 s
      ],
    });
    await deploy('pay-5', at(20, 11), { kind: 'rollback' }); // restores pay-4 at 11:00
    await deploy('pay-6', at(25, 10), { status: 'failure' }); // nothing shipped: in no metric
    const incident = await json(
      server.request('POST', '/api/v1/incidents', {
        token: editor,
        body: {
          title: 'Payments down',
          severity: 'SEV2',
          services: ['pay'],
          milestones: { impactStartedAt: at(12, 10, 30) },
        },
      }),
    );
    await server.request('PATCH', `/api/v1/incidents/${incident.reference}`, {
      token: editor,
      body: {
        status: 'resolved',
        milestones: { resolvedAt: at(12, 14, 30) },
        causedBy: { deployment: 'pay-2' },
      },
    });

    const m = await get('/api/v1/delivery/metrics?service=pay&from=2026-10-01&to=2026-10-31&tz=UTC');
    expect(m.period).toMatchObject({ from: '2026-10-01', to: '2026-10-31', days: 31, timeZone: 'UTC' });
    expect(m.benchmark.year).toBe(2024);
    expect(m.deploymentFrequency).toMatchObject({ count: 5 });
    expect(m.deploymentFrequency.perDay).toBeCloseTo(5 / 31, 12);
    // Lead times 30 s, 1 h, 2 h, 24 h: median at position 1.5 → 1.5 h; p90 at 2.7 → 2 h + 0.7 × 22 h = 17.4 h.
    expect(m.leadTime).toMatchObject({ changes: 4, excluded: 1, medianMs: 1.5 * HOUR });
    expect(m.leadTime.p90Ms).toBeCloseTo(17.4 * HOUR, 3);
    // pay-2 (confirmed cause, and followed by a hotfix) and pay-4 (followed by a rollback) of 5.
    expect(m.changeFailRate).toMatchObject({ deployments: 5, failed: 2, rate: 0.4 });
    // pay-2: 10:00 → hotfix 12:00 (before the resolution at 14:30) = 2 h; pay-4: 10:00 → 11:00 = 1 h.
    expect(m.recoveryTime).toMatchObject({
      failed: 2,
      recovered: 2,
      medianMs: 1.5 * HOUR,
      p90Ms: 1.9 * HOUR,
    });
    expect(m.reworkRate).toMatchObject({ deployments: 5, unplanned: 2, rate: 0.4 });
    // 1 October 2026 is a Thursday: five Monday weeks, the first without a deployment.
    expect(m.weeks.map((w: { start: string }) => w.start)).toEqual([
      '2026-09-28',
      '2026-10-05',
      '2026-10-12',
      '2026-10-19',
      '2026-10-26',
    ]);
    expect(m.weeks[0]).toEqual({
      start: '2026-09-28',
      deployments: 0,
      leadTimeMedianMs: null,
      changeFailRate: null,
      recoveryMedianMs: null,
      reworkRate: null,
    });

    // The day DST ends in New York is 25 hours long.
    const dst = await get(
      '/api/v1/delivery/metrics?service=pay&from=2026-11-01&to=2026-11-01&tz=America/New_York',
    );
    expect(dst.period).toMatchObject({
      days: 1,
      fromTime: '2026-11-01T04:00:00.000Z',
      toTime: '2026-11-02T05:00:00.000Z',
    });
    const older = await get(
      '/api/v1/delivery/metrics?service=pay&from=2026-10-01&to=2026-10-31&tz=UTC&benchmark=2022',
    );
    expect(older.benchmark.year).toBe(2022);

    for (const bad of [
      'tz=Mars/Olympus',
      'benchmark=1999',
      'from=2026-13-01',
      'from=2026-10-31&to=2026-10-01',
    ]) {
      const response = await server.request('GET', `/api/v1/delivery/metrics?service=pay&${bad}`, {
        token: viewer,
      });
      expect(response.status, bad).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('counts deployments on /metrics', async () => {
    const text = await (await server.request('GET', '/metrics', { token: viewer })).text();
    expect(text).toMatch(
      /shinrai_deployments_total\{service="checkout",environment="production",status="success"\} [1-9]/,
    );
    expect(text).toMatch(/shinrai_deployment_failures_total\{service="checkout",reason="rolled_back"\} 1/);
    // ci-1001 confirmed as a cause, then through one of its commits.
    expect(text).toMatch(/shinrai_deployment_failures_total\{service="checkout",reason="incident"\} 2/);
  });
});
