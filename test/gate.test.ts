/**
 * The error-budget deploy gate end to end on both databases: the stored budget against the SLO's
 * policy gives allow, warn and deny at each step (API and the CLI's exit codes for CI), an
 * unevaluated budget warns instead of allowing, and an override — admin only, with a reason and
 * an expiry — lets a change through and stays on the audit trail after it is revoked.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0);
const POLICY = `- below: 50%
  action: Review the burn at the weekly reliability meeting
  gate: allow
- below: 25%
  action: Reliability work comes before feature work
- below: 0%
  action: Freeze feature releases; only P0 and security fixes ship
`;
/** Four days of 1,000 requests a minute: a 99.9% budget of 5,760 bad requests. */
const MINUTES = 4 * 1440;
const BUDGET = MINUTES * 1000 * 0.001;

describe.each(DIALECTS)('deploy gate on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let viewer: string;
  let admin: string;
  const clock = new ManualClock(T0);

  /** Stores the four days with `bad` bad requests in all (spread over the first minutes) and evaluates. */
  const budgetWith = async (bad: number) => {
    // Each case replaces the same minutes (as a Prometheus pull does), a minute later.
    clock.advance(MIN);
    const rows = Array.from({ length: MINUTES }, (_, i) => {
      const inMinute = Math.max(0, Math.min(1000, bad - i * 1000));
      return {
        storageKey: 'api-requests',
        minuteMs: T0 - MINUTES * MIN + i * MIN,
        good: 1000 - inMinute,
        total: 1000,
      };
    });
    const db = server.shinrai.ctx.db;
    await upsertBuckets(db.kysely, rows, minuteStamp(db, clock.ms), 'replace');
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
  };
  const gate = (token = viewer) => json(server.request('GET', '/api/v1/gate?service=shop', { token }));
  const cli = (...args: string[]) =>
    runCli(['gate', ...args, '--server', server.shinrai.url, '--token', viewer]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-gate-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      ratioSloYaml('api', {
        target: 0.999,
        window: '30d',
        service: 'shop',
        annotations: { 'shinrai.dev/error-budget-policy': POLICY },
      }),
    );
    server = await startTestServer(dialect, { specs: dir, clock });
    viewer = await server.token('viewer');
    admin = await server.token('admin');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('warns while the budget has not been evaluated: it never allows on a figure it does not have', async () => {
    expect(await gate()).toMatchObject({
      decision: 'warn',
      summary: expect.stringMatching(/^warn shop: api: no data, the remaining budget is unknown/),
    });
    expect((await cli('--service', 'shop')).code).toBe(0);
  });

  it.each([
    [0, 'allow', 0, undefined],
    [0.6, 'allow', 0, 0.5],
    [0.8, 'warn', 0, 0.25],
    [1.1, 'deny', 1, 0],
  ] as const)(
    'with %s of the budget spent answers %s (CLI exit %s, step %s)',
    async (spent, decision, exit, below) => {
      await budgetWith(Math.round(spent * BUDGET));
      const answer = await gate();
      expect(answer.decision).toBe(decision);
      expect(answer.reasons[0].remaining).toBeCloseTo(1 - spent, 9);
      expect(answer.reasons[0].step?.below).toBe(below);
      const run = await cli('--service', 'shop');
      expect([run.code, run.stdout.split('\n')[0]]).toEqual([exit, answer.summary]);
    },
  );

  it('lets a change through an override (admin only, reason, expiry), and keeps it on record when revoked', async () => {
    expect((await gate()).decision).toBe('deny');
    const create = (body: unknown, token = admin) =>
      server.request('POST', '/api/v1/gate/overrides', { token, body });
    const editor = await server.token('editor');
    expect(
      (await create({ service: 'shop', reason: 'hotfix for INC-42', expiresIn: '2h' }, editor)).status,
    ).toBe(403);
    for (const [body, status] of [
      [{ service: 'shop', reason: 'hotfix', expiresIn: '8d' }, 400],
      [{ service: 'shop', reason: 'hotfix', expiresIn: 'soon' }, 400],
      [{ service: 'shop', reason: 'hotfix' }, 400],
      [{ service: 'shop', reason: 'hotfix', expiresAt: new Date(T0 - MIN).toISOString() }, 400],
      [{ service: 'nope', reason: 'hotfix', expiresIn: '2h' }, 404],
    ] as const)
      expect([body, (await create(body)).status]).toEqual([body, status]);

    const now = clock.ms;
    const created = await create({ service: 'shop', reason: 'hotfix for INC-42', expiresIn: '2h' });
    expect(created.status).toBe(201);
    const override: JsonBody = await created.json();
    expect(override).toMatchObject({ active: true, expiresAt: new Date(now + 120 * MIN).toISOString() });
    expect(await gate()).toMatchObject({
      decision: 'allow',
      policyDecision: 'deny',
      override: { id: override.id, reason: 'hotfix for INC-42' },
    });
    expect((await cli('--service', 'shop')).code).toBe(0);

    // Expired: the gate closes again by itself.
    clock.advance(121 * MIN);
    expect((await gate()).decision).toBe('deny');
    clock.ms = now;
    expect((await gate()).decision).toBe('allow');
    const revoked = await json(
      server.request('DELETE', `/api/v1/gate/overrides/${override.id}`, { token: admin }),
    );
    expect(revoked).toMatchObject({ active: false, revokedBy: expect.stringMatching(/^admin-/) });
    expect((await gate()).decision).toBe('deny');
    const audit = await json(server.request('GET', '/api/v1/gate/overrides?service=shop', { token: viewer }));
    expect(audit.map((o: JsonBody) => [o.reason, o.active, o.createdBy.startsWith('admin-')])).toEqual([
      ['hotfix for INC-42', false, true],
    ]);
    expect(
      await json(server.request('GET', '/api/v1/gate/overrides?active=true', { token: viewer })),
    ).toEqual([]);
  });

  it('answers bad CLI use and an unreachable server with one line, failing closed unless --fail-open', async () => {
    const noService = await cli();
    expect([noService.code, noService.stderr.trim().split('\n').length]).toEqual([2, 1]);
    const unknown = await cli('--service', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('404');
    const down = await runCli([
      'gate',
      '--service',
      'shop',
      '--server',
      'http://127.0.0.1:9',
      '--token',
      viewer,
    ]);
    expect([down.code, down.stderr.trim().split('\n').length]).toEqual([1, 1]);
    const open = await runCli(['gate', '--service', 'shop', '--fail-open', '--server', 'http://127.0.0.1:9']);
    expect(open.code).toBe(0);
    expect(open.stderr).toMatch(/^warning: gate unknown, letting the change through \(--fail-open\)/);
  });
});
