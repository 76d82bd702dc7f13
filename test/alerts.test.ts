/**
 * Live burn-rate alerts through the real evaluator and API, on both databases: a 100% outage
 * pages within the minute, the page resolves once the short window recovers, the history has
 * each transition once, and a gap in the data holds a firing alert instead of resolving it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0);

describe.each(DIALECTS)('burn-rate alerts on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  const clock = new ManualClock(T0);

  /** Stores `minutes` minutes of 1,000 events from `fromMs` with `errorRate` bad. */
  const traffic = (fromMs: number, minutes: number, errorRate: number) =>
    seedRequests(server.shinrai.ctx.db, { sli: 'api-requests', fromMs, minutes, errorRate, nowMs: clock.ms });
  const tick = async () => {
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
  };
  const alerts = async (state = 'active'): Promise<JsonBody[]> =>
    json(server.request('GET', `/api/v1/alerts?state=${state}`));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-alerts-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      ratioSloYaml('api', {
        target: 0.999,
        window: '30d',
        service: 'shop',
        annotations: { 'shinrai.dev/runbook': 'https://wiki.example.com/runbooks/api' },
      }),
    );
    server = await startTestServer(dialect, { specs: dir, clock, anonymousRead: true });
    // Four clean days.
    await traffic(T0 - 4 * 1440 * MIN, 4 * 1440, 0);
    await tick();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has no alert while the budget is not burning', async () => {
    expect(await alerts()).toEqual([]);
  });

  it('pages within a minute of a full outage, with the burn rates that triggered it', async () => {
    await traffic(T0, 1, 1);
    clock.advance(MIN);
    await tick();
    const [page, ...others] = await alerts();
    expect(others).toEqual([]);
    expect(page).toMatchObject({
      slo: 'api',
      service: 'shop',
      rule: 'page',
      tier: 'page',
      severity: 'critical',
      state: 'firing',
      firedAt: new Date(T0 + MIN).toISOString(),
      labels: {
        slo: 'api',
        service: 'shop',
        severity: 'critical',
        tier: 'page',
        exhaustion: 'fast',
        alertname: 'page',
      },
    });
    expect(page.burnRates['1h']).toBeCloseTo(1000 / 60_000 / 0.001, 6);
    expect(page.burnRates['5m']).toBeCloseTo(1000 / 5000 / 0.001, 6);
  });

  it('declares an incident from the firing page, once', async () => {
    const [page] = await alerts();
    const editor = await server.token('editor');
    const declare = () =>
      json(server.request('POST', `/api/v1/alerts/${page.id}/incident`, { token: editor }));
    expect(await declare()).toEqual({ incident: 'INC-1', declared: true });
    expect(await declare()).toEqual({ incident: 'INC-1', declared: false });
    const incident = await json(server.request('GET', '/api/v1/incidents/INC-1', { token: editor }));
    expect(incident).toMatchObject({
      title: 'api is burning its error budget (page)',
      severity: 'SEV2',
      services: ['shop'],
      slos: ['api'],
      runbooks: ['https://wiki.example.com/runbooks/api'],
      milestones: {
        impactStartedAt: new Date(T0 + MIN).toISOString(),
        detectedAt: new Date(T0 + MIN).toISOString(),
      },
    });
    expect(incident.timeline.map((e: JsonBody) => [e.kind, e.source])).toEqual([
      ['declared', 'alert'],
      ['alert', 'alert'],
    ]);
  });

  it('holds the page through a gap in the data instead of resolving it', async () => {
    // Six minutes without any data: the 5m window has no events, so no burn rate (the 1h one still burns).
    clock.advance(6 * MIN);
    await tick();
    const [page] = await alerts();
    expect(page).toMatchObject({ rule: 'page', state: 'firing', observation: 'no-data' });
  });

  it('resolves once the short window has recovered, and keeps the history', async () => {
    await traffic(T0 + MIN, 12, 0);
    clock.ms = T0 + 13 * MIN;
    await tick();
    expect(await alerts()).toEqual([]);
    const page = (await alerts('all')).find((a) => a.rule === 'page');
    expect(page).toMatchObject({ state: 'inactive', resolvedAt: new Date(T0 + 13 * MIN).toISOString() });
    const detail = await json(server.request('GET', `/api/v1/alerts/${page.id}`));
    expect(detail.events.map((e: JsonBody) => e.transition)).toEqual(['resolved', 'firing']);
    const missing = await server.request('GET', '/api/v1/alerts/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('takes feedback on a firing and reports alert quality and a backtest from the stored data', async () => {
    const page = (await alerts('all')).find((a) => a.rule === 'page');
    const editor = await server.token('editor');
    const feedback = await server.request('POST', `/api/v1/alerts/${page.id}/feedback`, {
      token: editor,
      body: { verdict: 'noise', note: 'synthetic outage' },
    });
    expect(feedback.status).toBe(200);
    expect(await feedback.json()).toEqual({
      id: page.id,
      firedAt: new Date(T0 + MIN).toISOString(),
      verdict: 'noise',
    });
    expect(
      (
        await server.request('POST', '/api/v1/alerts/nope/feedback', {
          token: editor,
          body: { verdict: 'noise' },
        })
      ).status,
    ).toBe(404);

    const quality = await json(server.request('GET', '/api/v1/alerts/quality?days=7'));
    expect(quality.rules).toEqual([
      {
        slo: 'api',
        rule: 'page',
        tier: 'page',
        firings: 1,
        perWeek: 1,
        withFeedback: 1,
        noiseShare: 1,
        shortLived: 0,
      },
    ]);
    // The outage minute used 1,000 of a 43,200-event budget (2.3%): one significant burn, caught in a minute.
    expect(quality.slos).toEqual([
      { slo: 'api', significantBurns: 1, detected: 1, medianMinutesToDetect: 1 },
    ]);

    const replay = await json(
      server.request('POST', '/api/v1/slos/api/backtest', {
        token: editor,
        body: { from: new Date(T0 - 24 * 60 * MIN).toISOString(), to: new Date(T0 + 20 * MIN).toISOString() },
      }),
    );
    // With every minute in place the replay resolves at 00:06 (the 5m window is clean), where the
    // live alert waited for the late minutes and resolved when they arrived.
    expect(replay.alerts).toEqual([
      {
        rule: 'page',
        tier: 'page',
        firedAt: new Date(T0 + MIN).toISOString(),
        resolvedAt: new Date(T0 + 6 * MIN).toISOString(),
        peakBurnRate: expect.any(Number),
      },
    ]);
    expect(replay.events).toMatchObject([
      { start: new Date(T0).toISOString(), detectedBy: { rule: 'page', afterMinutes: 1 } },
    ]);
    const missing = await server.request('POST', '/api/v1/slos/nope/backtest', { token: editor, body: {} });
    expect(missing.status).toBe(404);

    // The CLI reads the same report from the database (its clock is the real one: look back far enough).
    const cli = await runCli([
      'alerts',
      'quality',
      '--db',
      server.database.url,
      '--specs',
      dir,
      '--days',
      '400',
      '--json',
    ]);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout).rules).toEqual(
      quality.rules.map((r: JsonBody) => ({ ...r, perWeek: expect.any(Number) })),
    );
    const table = await runCli([
      'alerts',
      'quality',
      '--db',
      server.database.url,
      '--specs',
      dir,
      '--days',
      '400',
    ]);
    expect(table.stdout).toMatch(/api\s+page\s+1\s+[\d.]+\s+1\s+100%\s+0/);
  });
});
