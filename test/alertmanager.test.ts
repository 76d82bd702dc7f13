/**
 * Alerts reach a real Alertmanager (Debian's prometheus-alertmanager) through its v2 API, so
 * existing routes and on-call keep working: a page shows up with Shinrai's labels while it fires,
 * is refreshed so Alertmanager does not time it out, and ends when Shinrai resolves it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertmanagerServer, alertmanagerAvailable, startAlertmanager } from './support/alertmanager.js';
import { ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const MIN = 60_000;
// Alertmanager judges startsAt/endsAt by its own (real) clock, so Shinrai's starts at the real now.
const T0 = Math.floor(Date.now() / MIN) * MIN;

describe.skipIf(!alertmanagerAvailable())('notifications to a real Alertmanager', () => {
  let alertmanager: AlertmanagerServer;
  let dir: string;
  let server: TestServer;
  const clock = new ManualClock(T0);

  const traffic = (fromMs: number, minutes: number, errorRate: number) =>
    seedRequests(server.shinrai.ctx.db, { sli: 'api-requests', fromMs, minutes, errorRate, nowMs: clock.ms });
  const tickAt = async (ms: number) => {
    clock.ms = ms;
    for (let i = 0; i < 2; i++) await server.shinrai.evaluator.tick();
    // Twice: the first call may join a background pass that began before the transition.
    for (let i = 0; i < 2; i++) await server.shinrai.deliverer.cycle();
  };
  const ours = async () => (await alertmanager.alerts()).filter((a) => a.labels.slo === 'api');

  beforeAll(async () => {
    alertmanager = await startAlertmanager();
    dir = await mkdtemp(join(tmpdir(), 'shinrai-am-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      `${ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' })}---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: { name: team-alertmanager, annotations: { shinrai.dev/url: '${alertmanager.url}' } }
spec: { target: alertmanager }
`,
    );
    server = await startTestServer('sqlite', {
      specs: dir,
      clock,
      anonymousRead: true,
      config: { 'alerting.notify': 'team-alertmanager', 'alerting.deliveryIntervalSeconds': 300 },
    });
    await traffic(T0 - 2 * 1440 * MIN, 2 * 1440, 0);
    await tickAt(T0);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await alertmanager?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the page in Alertmanager with its labels while it fires, and ends it on resolution', async () => {
    await traffic(T0, 1, 1);
    await tickAt(T0 + MIN);
    const [firing, ...others] = await ours();
    expect(others).toEqual([]);
    expect(firing!.labels).toMatchObject({
      alertname: 'page',
      slo: 'api',
      service: 'shop',
      severity: 'critical',
      tier: 'page',
      shinrai_rule: 'page',
    });
    expect(firing!.annotations.summary).toMatch(/api \(shop\) is burning its error budget/);
    expect(firing!.status.state).toBe('active');
    expect(Date.parse(firing!.endsAt)).toBeGreaterThan(Date.now());

    // Still firing two minutes later: the refresh pushes endsAt on, so Alertmanager keeps it active.
    clock.ms = T0 + 3 * MIN;
    for (let i = 0; i < 2; i++) await server.shinrai.deliverer.cycle();
    const [refreshed] = await ours();
    expect(Date.parse(refreshed!.endsAt)).toBe(T0 + 3 * MIN + 5 * MIN);
    expect(refreshed!.startsAt).toBe(firing!.startsAt);

    // The page resolves: Alertmanager gets the alert again, ended.
    await traffic(T0 + MIN, 39, 0);
    await tickAt(T0 + 35 * MIN);
    // Alertmanager ends an alert at its endsAt; Shinrai's resolution sets it to the resolution time.
    const [ended] = await ours();
    expect(Date.parse(ended!.endsAt)).toBe(T0 + 35 * MIN);
    expect(ended!.startsAt).toBe(firing!.startsAt);
  }, 60_000);
});
