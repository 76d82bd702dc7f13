/** `shinrai incident cause` and `shinrai incident suspects` against a fake API. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApi, startFakeApi } from '../fake-api.js';
import { runCli } from '../testing.js';

describe('shinrai incident cause / suspects', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await startFakeApi((request) => {
      if (request.method === 'PATCH') {
        const causedBy = (request.body as { causedBy: Record<string, string> | null }).causedBy;
        return {
          body: {
            reference: 'INC-3',
            ...(causedBy ? { causedBy: { ...causedBy, confirmedBy: 'ed', confirmedAt: 'x' } } : {}),
          },
        };
      }
      if (request.url === '/api/v1/incidents/INC-3/suspects')
        return {
          body: {
            suspects: [
              {
                id: 'dep-9',
                service: 'checkout',
                environment: 'production',
                finishedAt: '2026-11-22T09:00:00.000Z',
                version: 'v9',
                headSha: 'abcdef0123456789abcdef0123456789abcdef01',
                status: 'success',
                reason: 'last production deployment of checkout, 40 min before impact',
              },
            ],
          },
        };
      return { body: { suspects: [] } };
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.requests.length = 0;
  });
  const cli = (...args: string[]) => runCli(['incident', ...args, '--server', api.url, '--token', 'tok']);

  it('confirms a deployment, a commit, or clears the cause', async () => {
    expect((await cli('cause', 'INC-3', '--deployment', 'dep-9')).stdout).toBe(
      'INC-3 caused by deployment dep-9\n',
    );
    expect((await cli('cause', 'INC-3', '--commit', 'ABCDEF1')).stdout).toBe(
      'INC-3 caused by commit abcdef1\n',
    );
    expect((await cli('cause', 'INC-3', '--clear')).stdout).toBe('INC-3: no confirmed cause\n');
    expect(api.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ['PATCH', '/api/v1/incidents/INC-3', { causedBy: { deployment: 'dep-9' } }],
      ['PATCH', '/api/v1/incidents/INC-3', { causedBy: { commit: 'abcdef1' } }],
      ['PATCH', '/api/v1/incidents/INC-3', { causedBy: null }],
    ]);
  });

  it('wants exactly one of --deployment, --commit, --clear, and a hash for --commit', async () => {
    for (const args of [
      ['cause', 'INC-3'],
      ['cause', 'INC-3', '--deployment', 'd', '--clear'],
      ['cause', 'INC-3', '--deployment', 'd', '--commit', 'abcd'],
      ['cause', 'INC-3', '--commit', 'HEAD~1'],
      ['cause', 'INC-3', '--deployment', ' '],
    ]) {
      const { code, stderr } = await cli(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(api.requests).toEqual([]);
  });

  it('lists suspects as a table, or says there are none', async () => {
    const { code, stdout } = await cli('suspects', 'INC-3');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^DEPLOYMENT\s+SERVICE\s+ENV\s+FINISHED/);
    expect(stdout).toMatch(
      /dep-9\s+checkout\s+production\s+2026-11-22T09:00:00\.000Z\s+v9\s+abcdef012345\s+success\s+last/,
    );
    expect((await cli('suspects', 'INC-4')).stdout).toBe('no suspect deployments for INC-4\n');
  });
});
