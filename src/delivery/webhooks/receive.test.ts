/**
 * Receiving webhooks (no server, no database): authentication before anything is read, a delivery
 * acted on once, a failed one released for the retry, ignored events answered 202.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.js';
import type { WebhookDeployment } from './payload.js';
import {
  receiveGeneric,
  receiveGithub,
  receiveGitlab,
  type WebhookDeps,
  type WebhookRequest,
} from './receive.js';
import type { SeenDeliveries } from './store.js';
import { hmacSignature } from './verify.js';

const fixtureText = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/webhooks/${name}.json`, import.meta.url), 'utf8');

function harness(
  secrets: WebhookDeps['secrets'] = { github: 'gh-secret', gitlab: 'gl-token', webhook: 'wh-token' },
) {
  const deployments: WebhookDeployment[] = [];
  const changes: unknown[] = [];
  const claimed = new Set<string>();
  let failNext = false;
  const seen: SeenDeliveries = {
    claim: async (sender, id) => {
      const key = `${sender}:${id}`;
      if (claimed.has(key)) return false;
      claimed.add(key);
      return true;
    },
    release: async (sender, id) => {
      claimed.delete(`${sender}:${id}`);
    },
  };
  const deps: WebhookDeps = {
    secrets,
    repositories: {},
    seen,
    now: () => 0,
    recordDeployment: async (input) => {
      if (failNext) {
        failNext = false;
        throw new Error('database is down');
      }
      deployments.push(input);
      return { deployment: { id: input.id ?? 'generated' }, outcome: 'created' };
    },
    recordChanges: async (input) => {
      changes.push(input);
      return { recorded: input.changes.length };
    },
  };
  return { deps, deployments, changes, claimed, failOnce: () => (failNext = true) };
}

const request = (
  headers: Record<string, string>,
  body: string | Buffer,
  mediaType = 'application/json',
): WebhookRequest => ({
  header: (name) => headers[name],
  mediaType,
  rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body),
});

const github = (event: string, body: string, delivery = 'd-1', secret = 'gh-secret') =>
  request(
    {
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': hmacSignature(secret, body),
    },
    body,
  );

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('receiveGithub', () => {
  const body = fixtureText('github/deployment_status');

  it('records a signed deployment_status once; a redelivery is a duplicate', async () => {
    const h = harness();
    expect(await receiveGithub(h.deps, github('deployment_status', body))).toEqual({
      status: 200,
      body: {
        result: 'recorded',
        event: 'deployment_status',
        deployment: 'github:Codertocat/Hello-World:145988746',
        outcome: 'created',
      },
    });
    expect(await receiveGithub(h.deps, github('deployment_status', body))).toEqual({
      status: 200,
      body: { result: 'duplicate', event: 'deployment_status' },
    });
    expect(h.deployments).toHaveLength(1);
  });

  it('refuses a wrong or missing signature before reading anything, and is 404 when off', async () => {
    const h = harness();
    expect(
      await refusal(receiveGithub(h.deps, github('deployment_status', body, 'd-1', 'wrong'))),
    ).toMatchObject({ code: 'Unauthorized' });
    expect(await refusal(receiveGithub(h.deps, request({ 'x-github-event': 'push' }, body)))).toMatchObject({
      code: 'Unauthorized',
    });
    expect(h.deployments).toHaveLength(0);
    expect(h.claimed.size).toBe(0);
    expect(await refusal(receiveGithub(harness({}).deps, github('ping', '{}')))).toMatchObject({
      code: 'NotFound',
    });
  });

  it('releases the claim when recording fails, so the retry records', async () => {
    const h = harness();
    h.failOnce();
    await expect(receiveGithub(h.deps, github('deployment_status', body))).rejects.toThrow(
      'database is down',
    );
    expect(h.claimed.size).toBe(0);
    expect(await receiveGithub(h.deps, github('deployment_status', body))).toMatchObject({
      body: { result: 'recorded' },
    });
  });

  it('reads the form-encoded delivery GitHub can be set to send', async () => {
    const h = harness();
    const form = `payload=${encodeURIComponent(body)}`;
    const signed = request(
      {
        'x-github-event': 'deployment_status',
        'x-github-delivery': 'f-1',
        'x-hub-signature-256': hmacSignature('gh-secret', form),
      },
      form,
      'application/x-www-form-urlencoded',
    );
    expect(await receiveGithub(h.deps, signed)).toMatchObject({ status: 200, body: { result: 'recorded' } });
  });

  it('answers 202 for what it ignores, pong for ping, 400 for bad JSON or a missing event', async () => {
    const h = harness();
    expect(
      await receiveGithub(
        h.deps,
        github('deployment_status', fixtureText('github/deployment_status-in_progress')),
      ),
    ).toEqual({
      status: 202,
      body: { result: 'ignored', event: 'deployment_status', reason: 'in_progress: not finished yet' },
    });
    expect(await receiveGithub(h.deps, github('ping', fixtureText('github/ping')))).toEqual({
      status: 200,
      body: { result: 'pong', event: 'ping' },
    });
    expect(await refusal(receiveGithub(h.deps, github('push', '{"ref":')))).toMatchObject({
      code: 'Invalid',
    });
    expect(await refusal(receiveGithub(h.deps, github('push', '')))).toMatchObject({ code: 'Invalid' });
    const noEvent = request({ 'x-hub-signature-256': hmacSignature('gh-secret', '{}') }, '{}');
    expect(await refusal(receiveGithub(h.deps, noEvent))).toMatchObject({
      code: 'Invalid',
      message: 'X-GitHub-Event is missing',
    });
    const notUtf8 = Buffer.from([0x7b, 0xff, 0x7d]);
    const signed = request(
      { 'x-github-event': 'push', 'x-hub-signature-256': hmacSignature('gh-secret', notUtf8) },
      notUtf8,
    );
    expect(await refusal(receiveGithub(h.deps, signed))).toMatchObject({ code: 'Invalid' });
  });
});

describe('receiveGitlab', () => {
  it('checks X-Gitlab-Token and dedupes by Idempotency-Key, else X-Gitlab-Event-UUID', async () => {
    const h = harness();
    const body = fixtureText('gitlab/push');
    const push = (token: string) =>
      request({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': token, 'x-gitlab-event-uuid': 'u-1' }, body);
    expect(await refusal(receiveGitlab(h.deps, push('nope')))).toMatchObject({ code: 'Unauthorized' });
    expect(await receiveGitlab(h.deps, push('gl-token'))).toEqual({
      status: 200,
      body: { result: 'recorded', event: 'Push Hook', service: 'Diaspora', changes: 2 },
    });
    expect(await receiveGitlab(h.deps, push('gl-token'))).toMatchObject({ body: { result: 'duplicate' } });
    expect(h.changes).toHaveLength(1);
    // A retry: a new event UUID is possible, the Idempotency-Key is what stays.
    const retry = (uuid: string) =>
      request(
        {
          'x-gitlab-event': 'Push Hook',
          'x-gitlab-token': 'gl-token',
          'x-gitlab-event-uuid': uuid,
          'idempotency-key': 'k-1',
        },
        body,
      );
    expect(await receiveGitlab(h.deps, retry('u-2'))).toMatchObject({ body: { result: 'recorded' } });
    expect(await receiveGitlab(h.deps, retry('u-3'))).toMatchObject({ body: { result: 'duplicate' } });
  });
});

describe('receiveGeneric', () => {
  const event = JSON.stringify({
    specversion: '1.0',
    id: 'e-1',
    source: '/argocd',
    type: 'io.argoproj.app.deployed',
    time: '2026-11-02T01:20:00Z',
    data: { service: 'checkout', environment: 'production', status: 'Succeeded' },
  });

  it('takes a bearer token or an HMAC signature, nothing else', async () => {
    const h = harness();
    const ce = (headers: Record<string, string>) => request(headers, event, 'application/cloudevents+json');
    expect(await refusal(receiveGeneric(h.deps, ce({ authorization: 'Bearer wrong' })))).toMatchObject({
      code: 'Unauthorized',
    });
    expect(await refusal(receiveGeneric(h.deps, ce({})))).toMatchObject({ code: 'Unauthorized' });
    // A signature header that is wrong is refused even with a good bearer token beside it.
    expect(
      await refusal(
        receiveGeneric(
          h.deps,
          ce({ authorization: 'Bearer wh-token', 'x-shinrai-signature-256': 'sha256=00' }),
        ),
      ),
    ).toMatchObject({ code: 'Unauthorized' });
    expect(await receiveGeneric(h.deps, ce({ authorization: 'Bearer wh-token' }))).toMatchObject({
      status: 200,
      body: { result: 'recorded', event: 'io.argoproj.app.deployed' },
    });
    expect(
      await receiveGeneric(h.deps, ce({ 'x-shinrai-signature-256': hmacSignature('wh-token', event) })),
    ).toMatchObject({
      body: { result: 'duplicate' },
    });
    expect(h.deployments).toHaveLength(1);
  });
});
