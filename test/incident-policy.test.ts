/**
 * The incident policy a team configures, on both databases: its own severities (validated, in
 * the OpenAPI document, used for incidents from alerts and Alertmanager), incidents declared by
 * themselves from firing pages (once per firing, never from a silenced alert), and the catch-up
 * reworded by an OpenAI-compatible endpoint — a local fake here — with the deterministic summary
 * served when that endpoint fails or hangs.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0);

/** A chat-completions endpoint that records requests and answers as told. */
class FakeLlm {
  readonly requests: Array<{ headers: IncomingMessage['headers']; body: JsonBody }> = [];
  mode: 'answer' | 'fail' | 'hang' = 'answer';
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        this.requests.push({ headers: req.headers, body: JSON.parse(text) });
        if (req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
        if (this.mode === 'hang') return; // never answers
        if (this.mode === 'fail') return void res.writeHead(500).end('{"error":"overloaded"}');
        const facts = JSON.parse(text).messages[1].content.split('\n')[1];
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            choices: [{ message: { role: 'assistant', content: ` Reworded: ${facts} ` } }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe.each(DIALECTS)('incident policy on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let editor: string;
  const llm = new FakeLlm();
  const clock = new ManualClock(T0);

  const traffic = (fromMs: number, minutes: number, errorRate: number) =>
    seedRequests(server.shinrai.ctx.db, { sli: 'api-requests', fromMs, minutes, errorRate, nowMs: clock.ms });
  const tick = async () => {
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
  };
  const incidents = async (): Promise<JsonBody[]> =>
    json(server.request('GET', '/api/v1/incidents?state=all', { token: editor }));

  beforeAll(async () => {
    await llm.start();
    dir = await mkdtemp(join(tmpdir(), 'shinrai-incident-policy-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' }),
    );
    server = await startTestServer(dialect, {
      specs: dir,
      clock,
      config: {
        'incidents.severities': 'P1,P2,P3',
        'incidents.pageSeverity': 'P1',
        'incidents.ticketSeverity': 'P2',
        'incidents.autoDeclare': 'page',
        'incidents.llmUrl': llm.url,
        'incidents.llmModel': 'fake-model',
        'incidents.llmApiKey': 'sk-test',
        'incidents.llmTimeoutSeconds': 1,
      },
    });
    editor = await server.token('editor');
    await traffic(T0 - 4 * 1440 * MIN, 4 * 1440, 0);
    await tick();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await llm.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes only the configured severities and says which, in the API and its document', async () => {
    const bad = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: { title: 'x', severity: 'SEV2' },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).detail).toContain('"P1"|"P2"|"P3"');
    const openapi = await json(server.request('GET', '/api/openapi.json'));
    const body = openapi.paths['/api/v1/incidents'].post.requestBody.content['application/json'].schema;
    expect(body.properties.severity.enum).toEqual(['P1', 'P2', 'P3']);
  });

  it('maps Alertmanager severities onto the scale: critical to the page severity, info to the least', async () => {
    const payload = (groupKey: string, severity: string) => ({
      version: '4',
      groupKey,
      status: 'firing',
      receiver: 'shinrai',
      groupLabels: {},
      commonLabels: { alertname: 'X', severity },
      commonAnnotations: {},
      externalURL: 'http://am',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'X', severity },
          annotations: {},
          startsAt: new Date(T0).toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          fingerprint: groupKey,
        },
      ],
    });
    for (const [key, severity, expected] of [
      ['g-critical', 'critical', 'P1'],
      ['g-warning', 'warning', 'P2'],
      ['g-info', 'info', 'P3'],
    ] as const) {
      const answer = await json(
        server.request('POST', '/api/v1/integrations/alertmanager', {
          token: editor,
          body: payload(key, severity),
        }),
      );
      const incident = await json(
        server.request('GET', `/api/v1/incidents/${answer.incident}`, { token: editor }),
      );
      expect([severity, incident.severity]).toEqual([severity, expected]);
      await server.request('PATCH', `/api/v1/incidents/${answer.incident}`, {
        token: editor,
        body: { status: 'cancelled' },
      });
    }
  });

  it('declares an incident by itself when a page fires, once per firing, even after people close it', async () => {
    const before = (await incidents()).length;
    await traffic(T0, 1, 1);
    clock.advance(MIN);
    await tick();
    const declared = await server.shinrai.autoDeclarer.runNow();
    expect(declared).toHaveLength(1);
    const ref = declared![0]!;
    const incident = await json(server.request('GET', `/api/v1/incidents/${ref}`, { token: editor }));
    expect(incident).toMatchObject({
      severity: 'P1',
      services: ['shop'],
      slos: ['api'],
      labels: { shinrai_alert_fired_at: new Date(T0 + MIN).toISOString() },
    });
    expect(incident.timeline[0]).toMatchObject({ kind: 'declared', source: 'auto', actor: 'shinrai' });
    // Nothing new while the same page fires, also after the incident is resolved and closed.
    expect(await server.shinrai.autoDeclarer.runNow()).toEqual([]);
    for (const status of ['resolved', 'closed'])
      await server.request('PATCH', `/api/v1/incidents/${ref}`, { token: editor, body: { status } });
    expect(await server.shinrai.autoDeclarer.runNow()).toEqual([]);
    expect(await incidents()).toHaveLength(before + 1);
  });

  it('declares nothing from a silenced page', async () => {
    // The page resolves, then a new burn under a silence fires it again.
    await traffic(T0 + MIN, 12, 0);
    clock.ms = T0 + 13 * MIN;
    await tick();
    const silence = await server.request('POST', '/api/v1/silences', {
      token: editor,
      body: {
        matchers: [{ label: 'slo', value: 'api' }],
        endsAt: new Date(T0 + 120 * MIN).toISOString(),
        comment: 'planned failover',
      },
    });
    expect(silence.status).toBe(201);
    await traffic(T0 + 13 * MIN, 1, 1);
    clock.advance(MIN);
    await tick();
    const firing = await json(server.request('GET', '/api/v1/alerts?state=firing', { token: editor }));
    expect(firing.map((a: JsonBody) => a.rule)).toContain('page');
    expect(await server.shinrai.autoDeclarer.runNow()).toEqual([]);
  });

  it('rewords the catch-up with the LLM, from the facts, and serves the facts when it fails or hangs', async () => {
    const [latest] = await incidents();
    const path = `/api/v1/incidents/${latest.reference}/catch-up`;
    const first = await json(server.request('GET', `${path}?lang=ja`, { token: editor }));
    expect(first).toMatchObject({ source: 'llm', model: 'fake-model' });
    expect(first.text).toBe(`Reworded: ${first.facts.split('\n')[0]}`);
    const sent = llm.requests.at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer sk-test');
    expect(sent.body.model).toBe('fake-model');
    expect(sent.body.messages[0].content).toContain('Write in Japanese');
    // The facts the model rewords are Japanese already (the deterministic summary in that language).
    expect(first.facts).toMatch(/^ステータス: /m);
    expect(sent.body.messages[1].content).toContain(first.facts);
    // The same facts are asked once.
    const calls = llm.requests.length;
    await json(server.request('GET', `${path}?lang=ja`, { token: editor }));
    expect(llm.requests.length).toBe(calls);

    llm.mode = 'fail';
    const failed = await json(server.request('GET', path, { token: editor }));
    expect(failed).toMatchObject({
      source: 'timeline',
      llmError: 'the LLM endpoint answered HTTP 500 Internal Server Error',
    });
    expect(failed.text).toBe(failed.facts);
    llm.mode = 'hang';
    await server.request('POST', `/api/v1/incidents/${latest.reference}/notes`, {
      token: editor,
      body: { text: 'new facts, new question' },
    });
    const hung = await json(server.request('GET', path, { token: editor }));
    expect(hung).toMatchObject({
      source: 'timeline',
      llmError: 'the LLM endpoint did not answer within 1 s',
    });
    llm.mode = 'answer';
  });
});
