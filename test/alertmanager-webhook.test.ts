/**
 * Alertmanager's webhook payloads (test/fixtures/alertmanager: firing, grouped, resolved) make
 * the right incidents and timeline entries: one open incident per group key, a resend adds
 * nothing, a resolution is recorded and does not close the incident. Both databases.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const fixture = (name: string): JsonBody =>
  JSON.parse(readFileSync(new URL(`./fixtures/alertmanager/${name}.json`, import.meta.url), 'utf8'));

describe.each(DIALECTS)('Alertmanager webhook on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let editor: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-am-webhook-'));
    await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('checkout-availability', { service: 'checkout' }));
    server = await startTestServer(dialect, { specs: dir });
    editor = await server.token('editor');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, token = editor) =>
    server.request('POST', '/api/v1/integrations/alertmanager', { token, body });

  it('declares one incident per group, adds new alerts, ignores resends, records resolution without closing', async () => {
    expect(await json(post(fixture('firing')))).toEqual({ incident: 'INC-1', declared: true, added: 1 });
    expect(await json(post(fixture('firing')))).toEqual({ incident: 'INC-1', declared: false, added: 0 });
    expect(await json(post(fixture('grouped')))).toEqual({ incident: 'INC-1', declared: false, added: 1 });
    expect(await json(post(fixture('resolved')))).toEqual({ incident: 'INC-1', declared: false, added: 2 });

    const incident = await json(server.request('GET', '/api/v1/incidents/INC-1', { token: editor }));
    expect(incident).toMatchObject({
      title: 'Checkout is failing 5% of requests',
      severity: 'SEV2',
      status: 'investigating',
      services: ['checkout'],
      slos: ['checkout-availability'],
      summary: 'HTTP 5xx from the checkout API since 10:02',
      // The alert's `javascript:` runbook is no link and is left out.
      runbooks: ['https://runbooks.example.com/checkout-errors'],
    });
    expect(incident.timeline.map((e: JsonBody) => [e.kind, e.source])).toEqual([
      ['declared', 'alertmanager'],
      ['alert', 'alertmanager'],
      ['alert', 'alertmanager'],
      ['alert', 'alertmanager'],
      ['alert', 'alertmanager'],
    ]);
    expect(incident.timeline[1].text).toMatch(/^Alert firing: CheckoutErrors \{instance=checkout-1, /);
    expect(incident.timeline.at(-1).text).toMatch(/^Alert resolved: CheckoutErrors \{instance=checkout-2, /);
  });

  it('opens a new incident for another group, and records nothing for a resolution without one', async () => {
    const other = { ...fixture('firing'), groupKey: '{}:{alertname="SearchLatency"}' };
    other.commonLabels = { alertname: 'SearchLatency', severity: 'warning' };
    other.commonAnnotations = {};
    other.alerts = [
      {
        ...other.alerts[0],
        labels: { alertname: 'SearchLatency', severity: 'warning' },
        annotations: {},
        fingerprint: 'ff',
      },
    ];
    expect(await json(post(other))).toEqual({ incident: 'INC-2', declared: true, added: 1 });
    const incident = await json(server.request('GET', '/api/v1/incidents/INC-2', { token: editor }));
    expect(incident).toMatchObject({ title: 'SearchLatency', severity: 'SEV3' });
    const lone = { ...fixture('resolved'), groupKey: '{}:{alertname="Unknown"}' };
    expect(await json(post(lone))).toEqual({ incident: null, declared: false, added: 0 });
  });

  it('needs an editor token and a webhook payload', async () => {
    const viewer = await server.token('viewer');
    expect((await post(fixture('firing'), viewer)).status).toBe(403);
    const bad = await post({ status: 'firing' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });
});
