/** GitHub events as GitHub documents them (test/fixtures/webhooks/github) → delivery actions. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretGithub } from './github.js';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited by the tests
const fixture = (name: string): any =>
  JSON.parse(
    readFileSync(new URL(`../../../test/fixtures/webhooks/github/${name}.json`, import.meta.url), 'utf8'),
  );

describe('interpretGithub', () => {
  it('reads a successful deployment_status as a deployment with a stable id', () => {
    expect(interpretGithub('deployment_status', fixture('deployment_status'), {})).toEqual({
      ok: true,
      action: {
        kind: 'deployment',
        deployment: {
          id: 'github:Codertocat/Hello-World:145988746',
          service: 'Hello-World',
          environment: 'production',
          version: 'master',
          headSha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
          startedAtMs: Date.parse('2019-05-15T15:20:53Z'),
          finishedAtMs: Date.parse('2019-05-15T15:20:55Z'),
          status: 'success',
          kind: undefined,
          url: undefined,
          fixes: undefined,
        },
      },
    });
  });

  it('takes the service from the deployment payload, else the repositories mapping', () => {
    const body = fixture('deployment_status');
    expect(interpretGithub('deployment_status', body, { 'Codertocat/Hello-World': 'hello' })).toMatchObject({
      action: { deployment: { service: 'hello' } },
    });
    body.deployment.payload = { service: 'checkout', kind: 'Hotfix', fixes: ['INC-3', 7], version: 'v1.2.3' };
    expect(interpretGithub('deployment_status', body, { 'Codertocat/Hello-World': 'hello' })).toMatchObject({
      action: { deployment: { service: 'checkout', kind: 'hotfix', fixes: ['INC-3'], version: 'v1.2.3' } },
    });
    body.deployment.payload = JSON.stringify({ service: 'search' });
    expect(interpretGithub('deployment_status', body, {})).toMatchObject({
      action: { deployment: { service: 'search' } },
    });
  });

  it('maps failure and error to failure, ignores inactive and unfinished states', () => {
    const body = fixture('deployment_status');
    for (const [state, status] of [
      ['failure', 'failure'],
      ['error', 'failure'],
    ]) {
      body.deployment_status.state = state;
      expect(interpretGithub('deployment_status', body, {})).toMatchObject({
        action: { deployment: { status } },
      });
    }
    body.deployment_status.state = 'inactive';
    expect(interpretGithub('deployment_status', body, {})).toMatchObject({ action: { kind: 'ignore' } });
    expect(interpretGithub('deployment_status', fixture('deployment_status-in_progress'), {})).toEqual({
      ok: true,
      action: { kind: 'ignore', reason: 'in_progress: not finished yet' },
    });
  });

  it('reads a push to the default branch as changes with commit times', () => {
    expect(interpretGithub('push', fixture('push'), { 'Codertocat/Hello-World': 'hello' })).toEqual({
      ok: true,
      action: {
        kind: 'changes',
        service: 'hello',
        changes: [
          {
            sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
            committedAtMs: Date.parse('2019-05-15T15:19:25Z'),
            author: 'Codertocat',
            message: 'Initial commit',
          },
        ],
      },
    });
  });

  it('ignores a deleted tag, another branch, and a push without commits', () => {
    expect(interpretGithub('push', fixture('push-tag-deleted'), {})).toMatchObject({
      action: { kind: 'ignore' },
    });
    const other = { ...fixture('push'), ref: 'refs/heads/feature' };
    expect(interpretGithub('push', other, {})).toMatchObject({
      action: { kind: 'ignore', reason: 'a push to refs/heads/feature, not to the default branch master' },
    });
    expect(interpretGithub('push', { ...fixture('push'), commits: [] }, {})).toMatchObject({
      action: { kind: 'ignore' },
    });
  });

  it('reads a merged pull request as its merge commit at merged_at, and ignores one closed unmerged', () => {
    const closed = fixture('pull_request-closed');
    expect(interpretGithub('pull_request', closed, {})).toMatchObject({ action: { kind: 'ignore' } });
    closed.pull_request.merged = true;
    closed.pull_request.merged_at = '2019-05-15T15:20:56Z';
    closed.pull_request.merged_by = { login: 'Codertocat' };
    expect(interpretGithub('pull_request', closed, {})).toEqual({
      ok: true,
      action: {
        kind: 'changes',
        service: 'Hello-World',
        changes: [
          {
            sha: 'c4295bd74fb0f4fda03689c3df3f2803b658fd85',
            committedAtMs: Date.parse('2019-05-15T15:20:56Z'),
            author: 'Codertocat',
            message: 'Update the README with new information.',
          },
        ],
      },
    });
  });

  it('answers ping, ignores other events, and refuses a body that is not an object', () => {
    expect(interpretGithub('ping', fixture('ping'), {})).toEqual({ ok: true, action: { kind: 'ping' } });
    expect(interpretGithub('issues', {}, {})).toMatchObject({ ok: true, action: { kind: 'ignore' } });
    expect(interpretGithub('push', [1], {})).toEqual({ ok: false, error: 'the body is not a JSON object' });
    expect(interpretGithub('deployment_status', { deployment_status: { state: 'success' } }, {}).ok).toBe(
      false,
    );
  });

  it('never throws, whatever the JSON', () => {
    const events = fc.constantFrom('deployment_status', 'push', 'pull_request', 'ping', 'other');
    fc.assert(
      fc.property(events, fc.jsonValue(), (event, body) => {
        interpretGithub(event, body, {});
      }),
    );
    // Documented shapes with random values in their fields.
    const deployment = fixture('deployment_status');
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.jsonValue(), (state, created, payload) => {
        const body = structuredClone(deployment);
        body.deployment_status.state = state;
        body.deployment_status.created_at = created;
        body.deployment.payload = payload;
        const result = interpretGithub('deployment_status', body, {});
        if (result.ok && result.action.kind === 'deployment')
          expect(Number.isFinite(result.action.deployment.finishedAtMs)).toBe(true);
      }),
    );
  });
});
