/** `shinrai audit` against a fake API: the filters it sends, the table, NDJSON across pages, bad flags. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApi, startFakeApi } from '../fake-api.js';
import { runCli } from '../testing.js';
import { instantOf } from './audit.js';

const event = (id: string, action: string) => ({
  id,
  at: '2026-12-01T10:00:00.000Z',
  actor: 'alice',
  credential: 'token:abc',
  role: 'editor',
  action,
  target: { type: 'incident', id: 'INC-1' },
  changes: { before: { severity: 'SEV3' }, after: { severity: 'SEV2' } },
  clientAddress: '10.0.0.1',
  requestId: 'r',
  teams: ['team-payments'],
});

describe('shinrai audit', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await startFakeApi((request) => {
      const url = new URL(request.url, 'http://x');
      if (url.searchParams.get('action') === 'forbidden')
        return { status: 403, body: { code: 'Forbidden', detail: 'this needs the admin role' } };
      return url.searchParams.get('cursor') === 'c2'
        ? { body: { events: [event('e1', 'incident.create')], nextCursor: null } }
        : { body: { events: [event('e2', 'incident.update')], nextCursor: 'c2' } };
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.requests.length = 0;
  });
  const cli = (...args: string[]) => runCli(['audit', ...args, '--server', api.url, '--token', 'tok']);

  it('sends the filters and prints a table of the first page', async () => {
    const result = await cli(
      '--action',
      'incident',
      '--actor',
      'alice',
      '--since',
      '2026-12-01',
      '--limit',
      '10',
      '--team',
      'team-payments',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('incident.update');
    expect(result.stdout).toContain('severity');
    expect(result.stdout).toContain('team-payments');
    expect(result.stdout).not.toContain('incident.create');
    const url = new URL(api.requests[0]!.url, 'http://x');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      action: 'incident',
      actor: 'alice',
      since: '2026-12-01T00:00:00.000Z',
      team: 'team-payments',
      limit: '10',
    });
  });

  it('follows the pages to the end with --ndjson', async () => {
    const result = await cli('--ndjson');
    expect(result.code).toBe(0);
    expect(
      result.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['e2', 'e1']);
    expect(api.requests).toHaveLength(2);
  });

  it('says what is wrong in one line: a bad flag (exit 2) or a refusal', async () => {
    const bad = await cli('--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect((await cli('--limit', '900')).code).toBe(2);
    const refused = await cli('--action', 'forbidden');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('403 this needs the admin role');
  });

  it('reads days, date-times and durations ago', () => {
    const now = Date.UTC(2026, 11, 7, 12);
    expect(instantOf('2026-12-01', now, '--since')).toBe('2026-12-01T00:00:00.000Z');
    expect(instantOf('2026-12-01T08:30:00+09:00', now, '--since')).toBe('2026-11-30T23:30:00.000Z');
    expect(instantOf('24h', now, '--since')).toBe('2026-12-06T12:00:00.000Z');
    expect(() => instantOf('soon', now, '--since')).toThrow(/--since must be/);
  });
});
