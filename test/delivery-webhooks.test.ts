/**
 * Deployment webhooks end to end on both databases, with payloads as GitHub and GitLab document
 * them (test/fixtures/webhooks) signed as they sign them: a wrong signature is a 401 and stores
 * nothing, a redelivered event counts once, a later status updates the same deployment, pushed
 * commits become the changes of the deployment of their head, CloudEvents (structured and binary,
 * bearer or HMAC) record deployments, and fuzzed bodies never 5xx.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacSignature, pruneDeliveries, seenDeliveries } from '../src/delivery/index.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';

const GITHUB_SECRET = 'gh-webhook-secret';
const GITLAB_TOKEN = 'gl-webhook-token';
const WEBHOOK_TOKEN = 'generic-webhook-token';

const fixtureText = (name: string) =>
  readFileSync(new URL(`./fixtures/webhooks/${name}.json`, import.meta.url), 'utf8');
const fixture = (name: string): JsonBody => JSON.parse(fixtureText(name));

describe.each(DIALECTS)('deployment webhooks on %s', (dialect) => {
  let server: TestServer;
  let viewer: string;
  let deliveries = 0;

  beforeAll(async () => {
    server = await startTestServer(dialect, {
      config: {
        'delivery.githubSecret': GITHUB_SECRET,
        'delivery.gitlabToken': GITLAB_TOKEN,
        'delivery.webhookToken': WEBHOOK_TOKEN,
        'delivery.repositories': 'Codertocat/Hello-World=checkout',
      },
    });
    viewer = await server.token('viewer');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  /** Sends a GitHub event as GitHub does: the raw body, its HMAC, a delivery id. */
  const github = (event: string, body: string, options: { delivery?: string; secret?: string } = {}) =>
    server.request('POST', '/api/v1/integrations/github', {
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': options.delivery ?? `delivery-${++deliveries}`,
        'x-hub-signature-256': hmacSignature(options.secret ?? GITHUB_SECRET, body),
        'user-agent': 'GitHub-Hookshot/044aadd',
      },
    });
  const gitlab = (event: string, body: string, options: { uuid?: string; token?: string } = {}) =>
    server.request('POST', '/api/v1/integrations/gitlab', {
      body,
      headers: {
        'content-type': 'application/json',
        'x-gitlab-event': event,
        'x-gitlab-token': options.token ?? GITLAB_TOKEN,
        'x-gitlab-event-uuid': `event-${++deliveries}`,
        // The same across GitLab's retries of one delivery.
        'idempotency-key': options.uuid ?? `retry-key-${deliveries}`,
      },
    });
  const generic = (body: string, headers: Record<string, string>) =>
    server.request('POST', '/api/v1/integrations/deployments', { body, headers });
  const deployment = (id: string) =>
    server.request('GET', `/api/v1/deployments/${encodeURIComponent(id)}`, { token: viewer });
  const list = async (service: string): Promise<JsonBody[]> =>
    (await json(server.request('GET', `/api/v1/deployments?service=${service}`, { token: viewer })))
      .deployments;

  const GITHUB_ID = 'github:Codertocat/Hello-World:145988746';

  it('records a signed GitHub deployment_status; a wrong or missing signature is a 401 and stores nothing', async () => {
    const body = fixtureText('github/deployment_status');
    const forged = await github('deployment_status', body, { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('content-type')).toContain('application/problem+json');
    const unsigned = await server.request('POST', '/api/v1/integrations/github', {
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'deployment_status',
        'x-github-delivery': 'd-x',
      },
    });
    expect(unsigned.status).toBe(401);
    expect((await deployment(GITHUB_ID)).status).toBe(404);

    // The body changed after signing: the signature no longer matches.
    const tampered = await server.request('POST', '/api/v1/integrations/github', {
      body: body.replace('"production"', '"staging"'),
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'deployment_status',
        'x-hub-signature-256': hmacSignature(GITHUB_SECRET, body),
      },
    });
    expect(tampered.status).toBe(401);

    const answer = await github('deployment_status', body, { delivery: 'gh-1' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({
      result: 'recorded',
      event: 'deployment_status',
      deployment: GITHUB_ID,
      outcome: 'created',
    });
    expect(await json(deployment(GITHUB_ID))).toMatchObject({
      id: GITHUB_ID,
      service: 'checkout',
      environment: 'production',
      production: true,
      status: 'success',
      source: 'github',
      headSha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
      startedAt: '2019-05-15T15:20:53.000Z',
      finishedAt: '2019-05-15T15:20:55.000Z',
    });
  });

  it('counts a redelivered GitHub event once, and a later status updates the same deployment', async () => {
    const body = fixtureText('github/deployment_status');
    expect(await json(github('deployment_status', body, { delivery: 'gh-1' }))).toEqual({
      result: 'duplicate',
      event: 'deployment_status',
    });
    expect((await list('checkout')).filter((d) => d.id === GITHUB_ID)).toHaveLength(1);

    const failed = fixture('github/deployment_status');
    failed.deployment_status.state = 'failure';
    failed.deployment_status.created_at = '2019-05-15T15:25:00Z';
    expect(await json(github('deployment_status', JSON.stringify(failed)))).toMatchObject({
      result: 'recorded',
      deployment: GITHUB_ID,
      outcome: 'updated',
    });
    expect(await json(deployment(GITHUB_ID))).toMatchObject({
      status: 'failure',
      finishedAt: '2019-05-15T15:25:00.000Z',
    });
    expect((await list('checkout')).filter((d) => d.id === GITHUB_ID)).toHaveLength(1);
  });

  it('answers ping, accepts unfinished and unread events with 202, refuses bad JSON with 400', async () => {
    expect(await json(github('ping', fixtureText('github/ping')))).toEqual({ result: 'pong', event: 'ping' });
    const progress = await github('deployment_status', fixtureText('github/deployment_status-in_progress'));
    expect(progress.status).toBe(202);
    expect(await progress.json()).toEqual({
      result: 'ignored',
      event: 'deployment_status',
      reason: 'in_progress: not finished yet',
    });
    expect((await github('issues', '{"action":"opened"}')).status).toBe(202);
    const bad = await github('push', '{"ref": ');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  it('records pushed commits and merged pull requests as changes the deployment of their head ships', async () => {
    expect(await json(github('push', fixtureText('github/push')))).toEqual({
      result: 'recorded',
      event: 'push',
      service: 'checkout',
      changes: 1,
    });
    const merged = fixture('github/pull_request-closed');
    merged.pull_request.merged = true;
    merged.pull_request.merged_at = '2019-05-15T15:30:00Z';
    expect(await json(github('pull_request', JSON.stringify(merged)))).toMatchObject({
      result: 'recorded',
      changes: 1,
    });

    const head = fixture('github/deployment_status');
    head.deployment.id = 145988999;
    head.deployment.sha = 'c4295bd74fb0f4fda03689c3df3f2803b658fd85';
    head.deployment_status.created_at = '2019-05-15T15:40:00Z';
    expect(await json(github('deployment_status', JSON.stringify(head)))).toMatchObject({
      outcome: 'created',
    });
    const shipped = await json(deployment('github:Codertocat/Hello-World:145988999'));
    expect(shipped).toMatchObject({ headSha: 'c4295bd74fb0f4fda03689c3df3f2803b658fd85' });
    expect(shipped.changes).toBeGreaterThanOrEqual(1);
  });

  it('checks the GitLab token, dedupes retries by Idempotency-Key and updates a deployment by its id', async () => {
    const body = fixtureText('gitlab/deployment');
    const wrong = await gitlab('Deployment Hook', body, { token: 'nope' });
    expect(wrong.status).toBe(401);
    expect(await list('test-deployment-webhooks')).toEqual([]);

    expect(await json(gitlab('Deployment Hook', body, { uuid: 'gl-1' }))).toEqual({
      result: 'recorded',
      event: 'Deployment Hook',
      deployment: 'gitlab:root/test-deployment-webhooks:15',
      outcome: 'created',
    });
    expect(await json(gitlab('Deployment Hook', body, { uuid: 'gl-1' }))).toMatchObject({
      result: 'duplicate',
    });
    const failed = {
      ...fixture('gitlab/deployment'),
      status: 'failed',
      status_changed_at: '2021-04-28 22:05:00 +0200',
    };
    expect(await json(gitlab('Deployment Hook', JSON.stringify(failed)))).toMatchObject({
      outcome: 'updated',
    });
    const stored = await list('test-deployment-webhooks');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      environment: 'staging',
      production: false,
      status: 'failure',
      source: 'gitlab',
      finishedAt: '2021-04-28T20:05:00.000Z',
      headSha: '279484c09fbe69ededfced8c1bb6e6d24616b468',
    });

    expect(await json(gitlab('Push Hook', fixtureText('gitlab/push')))).toMatchObject({
      result: 'recorded',
      service: 'Diaspora',
      changes: 2,
    });
    expect((await gitlab('Merge Request Hook', fixtureText('gitlab/merge_request'))).status).toBe(202);
  });

  it('records CloudEvents (structured with a bearer token, binary with an HMAC) once each', async () => {
    const event = JSON.stringify({
      specversion: '1.0',
      id: 'argo-evt-1',
      source: 'argocd/notifications',
      type: 'io.argoproj.sync.succeeded',
      time: '2026-11-02T01:20:00Z',
      data: { service: 'search', environment: 'production', status: 'Succeeded', kind: 'hotfix' },
    });
    const structured = { 'content-type': 'application/cloudevents+json' };
    expect((await generic(event, { ...structured, authorization: 'Bearer wrong' })).status).toBe(401);
    expect(await list('search')).toEqual([]);
    const first = await json(generic(event, { ...structured, authorization: `Bearer ${WEBHOOK_TOKEN}` }));
    expect(first).toMatchObject({
      result: 'recorded',
      event: 'io.argoproj.sync.succeeded',
      outcome: 'created',
    });
    expect(
      await json(generic(event, { ...structured, authorization: `Bearer ${WEBHOOK_TOKEN}` })),
    ).toMatchObject({
      result: 'duplicate',
    });

    const data = JSON.stringify({
      service: 'search',
      environment: 'production',
      status: 'failed',
      finishedAt: '2026-11-02T02:00:00Z',
    });
    const binary = {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'ci-77',
      'ce-source': 'https://ci.example.com',
      'ce-type': 'com.example.deploy.finished',
      'x-shinrai-signature-256': hmacSignature(WEBHOOK_TOKEN, data),
    };
    expect(await json(generic(data, binary))).toMatchObject({ result: 'recorded', outcome: 'created' });
    const stored = await list('search');
    expect(stored.map((d: JsonBody) => [d.status, d.kind, d.source, d.finishedAt])).toEqual([
      ['failure', 'normal', 'webhook', '2026-11-02T02:00:00.000Z'],
      ['success', 'hotfix', 'webhook', '2026-11-02T01:20:00.000Z'],
    ]);
    expect(stored[1].id).toBe(first.deployment);

    const missing = await generic('{"status": "success"}', {
      'content-type': 'application/json',
      authorization: `Bearer ${WEBHOOK_TOKEN}`,
    });
    expect(missing.status).toBe(400);
    expect((await json(missing)).detail).toContain('service');
  });

  it('remembers deliveries until pruned, and gives back a claim', async () => {
    const db = server.shinrai.ctx.db;
    const seen = seenDeliveries(db);
    const nowMs = Date.UTC(2026, 10, 2);
    expect(await seen.claim('github', 'p-1', nowMs)).toBe(true);
    expect(await seen.claim('github', 'p-1', nowMs)).toBe(false);
    expect(await seen.claim('gitlab', 'p-1', nowMs)).toBe(true);
    await seen.release('github', 'p-1');
    expect(await seen.claim('github', 'p-1', nowMs)).toBe(true);
    // 31 days on, the claims made above are older than the 30 days kept: they go.
    expect(await pruneDeliveries(db, nowMs + 31 * 24 * 3_600_000)).toBeGreaterThanOrEqual(2);
    expect(await seen.claim('github', 'p-1', nowMs)).toBe(true);
  });

  it('never answers 5xx to fuzzed bodies, signed or not', async () => {
    const bodies = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
      fc.constantFrom('', '{', 'null', '[]', '{"__proto__": {"x": 1}}'),
      // Documented shapes with a field replaced by anything.
      fc
        .tuple(
          fc.constantFrom('github/deployment_status', 'github/push', 'gitlab/deployment', 'gitlab/push'),
          fc.jsonValue(),
        )
        .map(([name, value]) => {
          const body = fixture(name);
          const keys = Object.keys(body);
          body[keys[Math.abs(JSON.stringify(value).length) % keys.length]!] = value;
          return JSON.stringify(body);
        }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('github', 'gitlab', 'generic'),
        fc.constantFrom('deployment_status', 'push', 'pull_request', 'Deployment Hook', 'Push Hook', 'x'),
        fc.constantFrom('application/json', 'application/cloudevents+json', 'text/plain'),
        fc.boolean(),
        bodies,
        async (route, event, contentType, signed, body) => {
          const headers: Record<string, string> = { 'content-type': contentType };
          if (route === 'github') {
            headers['x-github-event'] = event;
            headers['x-hub-signature-256'] = hmacSignature(signed ? GITHUB_SECRET : 'x', body);
          } else if (route === 'gitlab') {
            headers['x-gitlab-event'] = event;
            headers['x-gitlab-token'] = signed ? GITLAB_TOKEN : 'x';
          } else headers.authorization = `Bearer ${signed ? WEBHOOK_TOKEN : 'x'}`;
          const path = route === 'generic' ? 'deployments' : route;
          const response = await server.request('POST', `/api/v1/integrations/${path}`, { body, headers });
          expect(response.status, `${route} ${event} ${body.slice(0, 200)}`).toBeLessThan(500);
          if (!signed) expect(response.status).toBe(401);
          await response.arrayBuffer();
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});

describe.each(DIALECTS)('deployment webhooks without secrets on %s', (dialect) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(dialect, {});
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('answers 404 on each webhook, signed or not: it is off', async () => {
    for (const path of ['github', 'gitlab', 'deployments']) {
      const body = '{"zen": "Design for failure."}';
      const response = await server.request('POST', `/api/v1/integrations/${path}`, {
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-hub-signature-256': hmacSignature('', body),
          authorization: 'Bearer ',
        },
      });
      expect([path, response.status]).toEqual([path, 404]);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});
