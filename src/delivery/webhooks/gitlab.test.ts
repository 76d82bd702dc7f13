/** GitLab events as GitLab documents them (test/fixtures/webhooks/gitlab) → delivery actions. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretGitlab } from './gitlab.js';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited by the tests
const fixture = (name: string): any =>
  JSON.parse(
    readFileSync(new URL(`../../../test/fixtures/webhooks/gitlab/${name}.json`, import.meta.url), 'utf8'),
  );

describe('interpretGitlab', () => {
  it('reads a successful Deployment Hook with the full sha from commit_url and GitLab time format', () => {
    expect(interpretGitlab('Deployment Hook', fixture('deployment'), {})).toEqual({
      ok: true,
      action: {
        kind: 'deployment',
        deployment: {
          id: 'gitlab:root/test-deployment-webhooks:15',
          service: 'test-deployment-webhooks',
          environment: 'staging',
          headSha: '279484c09fbe69ededfced8c1bb6e6d24616b468',
          finishedAtMs: Date.parse('2021-04-28T19:50:00Z'),
          status: 'success',
          url: 'http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796',
        },
      },
    });
  });

  it('maps failed to failure, ignores canceled and running, uses the repositories mapping', () => {
    const body = fixture('deployment');
    body.status = 'failed';
    expect(
      interpretGitlab('Deployment Hook', body, { 'root/test-deployment-webhooks': 'web' }),
    ).toMatchObject({
      action: { deployment: { status: 'failure', service: 'web' } },
    });
    for (const status of ['canceled', 'running', 'created']) {
      body.status = status;
      expect(interpretGitlab('Deployment Hook', body, {})).toMatchObject({ action: { kind: 'ignore' } });
    }
  });

  it('reads a Push Hook to the default branch as changes', () => {
    expect(interpretGitlab('Push Hook', fixture('push'), {})).toEqual({
      ok: true,
      action: {
        kind: 'changes',
        service: 'Diaspora',
        changes: [
          {
            sha: 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327',
            committedAtMs: Date.parse('2011-12-12T12:27:31Z'),
            author: 'Jordi Mallach',
            message: 'Update Catalan translation to e38cb41.',
          },
          {
            sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
            committedAtMs: Date.parse('2012-01-03T21:36:29Z'),
            author: 'GitLab dev user',
            message: 'fixed readme',
          },
        ],
      },
    });
    expect(interpretGitlab('Push Hook', { ...fixture('push'), ref: 'refs/heads/x' }, {})).toMatchObject({
      action: { kind: 'ignore' },
    });
  });

  it('reads only a merged Merge Request Hook, as its merge commit', () => {
    const body = fixture('merge_request');
    expect(interpretGitlab('Merge Request Hook', body, {})).toMatchObject({ action: { kind: 'ignore' } });
    body.object_attributes.action = 'merge';
    body.object_attributes.state = 'merged';
    body.object_attributes.merge_commit_sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
    body.object_attributes.updated_at = '2013-12-03 17:40:00 UTC';
    expect(interpretGitlab('Merge Request Hook', body, {})).toEqual({
      ok: true,
      action: {
        kind: 'changes',
        service: 'Gitlab Test',
        changes: [
          {
            sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
            committedAtMs: Date.parse('2013-12-03T17:40:00Z'),
            author: 'root',
            message: 'MS-Viewport',
          },
        ],
      },
    });
  });

  it('never throws, whatever the JSON', () => {
    const events = fc.constantFrom('Deployment Hook', 'Push Hook', 'Merge Request Hook', 'System Hook');
    fc.assert(
      fc.property(events, fc.jsonValue(), (event, body) => {
        interpretGitlab(event, body, {});
      }),
    );
  });
});
