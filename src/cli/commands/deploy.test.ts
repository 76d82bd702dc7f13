/** `shinrai deploy record` and `shinrai gate --record` against a fake API, in a real git checkout made per run. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeAnswer, type FakeApi, type RecordedRequest, startFakeApi } from '../fake-api.js';
import { runCli } from '../testing.js';
import { idempotencyKey } from './deploy.js';

const NOW = new Date('2026-11-23T00:00:00Z');

/** A repository with three commits whose committer dates differ from their author dates. */
function makeRepo(dir: string): string[] {
  const git = (args: string[], env: Record<string, string> = {}) =>
    execFileSync('git', args, { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
  git(['init', '-q']);
  const shas: string[] = [];
  for (const [i, day] of ['01', '02', '03'].entries()) {
    writeFileSync(join(dir, 'file.txt'), `version ${i}\n`);
    git(['add', 'file.txt']);
    git(['commit', '-q', '-m', `Change ${i + 1}\n\nBody text`], {
      GIT_AUTHOR_NAME: `Author ${i + 1}`,
      GIT_AUTHOR_EMAIL: 'a@example.com',
      GIT_COMMITTER_NAME: 'Committer',
      GIT_COMMITTER_EMAIL: 'c@example.com',
      GIT_AUTHOR_DATE: `2026-11-${day}T08:00:00+09:00`,
      GIT_COMMITTER_DATE: `2026-11-${day}T10:00:00+09:00`,
    });
    shas.push(git(['rev-parse', 'HEAD']));
  }
  return shas;
}

const view = (body: Record<string, unknown>, changes: number) => ({
  id: body.id ?? 'dep-1',
  service: body.service,
  environment: body.environment,
  production: true,
  headSha: body.headSha,
  finishedAt: body.finishedAt,
  status: body.status,
  kind: body.kind,
  fixes: body.fixes ?? [],
  source: 'api',
  changes,
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
});

describe('shinrai deploy record', () => {
  let repo: string;
  let notRepo: string;
  let shas: string[];
  let api: FakeApi;
  /** What GET /api/v1/deployments answers, and how POST answers. */
  let listed: Array<Record<string, unknown>> = [];
  let postAnswer: (request: RecordedRequest) => FakeAnswer;

  beforeAll(async () => {
    repo = mkdtempSync(join(tmpdir(), 'shinrai-deploy-repo-'));
    notRepo = mkdtempSync(join(tmpdir(), 'shinrai-deploy-plain-'));
    shas = makeRepo(repo);
    api = await startFakeApi((request) => {
      if (request.method === 'GET' && request.url.startsWith('/api/v1/deployments?'))
        return { body: { deployments: listed } };
      if (request.method === 'POST' && request.url === '/api/v1/deployments') return postAnswer(request);
      if (request.url.startsWith('/api/v1/gate?service=denied'))
        return { body: { decision: 'deny', summary: 'denied: budget exhausted', reasons: [] } };
      if (request.url.startsWith('/api/v1/gate?'))
        return { body: { decision: 'warn', summary: 'warn: 30% of the budget left', reasons: [] } };
      return { status: 404, body: { detail: 'no such route' } };
    });
  });
  afterAll(async () => {
    await api.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(notRepo, { recursive: true, force: true });
  });
  beforeEach(() => {
    api.requests.length = 0;
    listed = [];
    postAnswer = (request) => {
      const body = request.body as Record<string, unknown>;
      return { status: 201, body: view(body, (body.commits as unknown[] | undefined)?.length ?? 0) };
    };
  });

  const deploy = (args: string[], cwd = repo) =>
    runCli(['deploy', 'record', ...args, '--server', api.url, '--token', 'tok-1'], { cwd, now: NOW });
  const posted = () => api.requests.find((r) => r.method === 'POST');

  it('sends the deployed commit alone, with its committer date, when the service has no earlier deployment', async () => {
    const { code, stdout, stderr } = await deploy(['--service', 'checkout', '--sha', shas[2]!]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const key = idempotencyKey('checkout', 'production', shas[2]!, 'success');
    expect(stdout).toBe(`recorded deployment dep-1 of checkout to production: 1 change\n`);
    expect(api.requests[0]).toMatchObject({
      method: 'GET',
      url: '/api/v1/deployments?service=checkout&environment=production&limit=20&impact=false',
    });
    expect(posted()).toMatchObject({
      headers: { 'idempotency-key': key, authorization: 'Bearer tok-1', 'x-shinrai-source': 'cli' },
      body: {
        service: 'checkout',
        environment: 'production',
        headSha: shas[2],
        commits: [
          { sha: shas[2], timestamp: '2026-11-03T10:00:00+09:00', author: 'Author 3', message: 'Change 3' },
        ],
        finishedAt: NOW.toISOString(),
        status: 'success',
        kind: 'normal',
      },
    });
    expect(posted()!.body).not.toHaveProperty('id');
  });

  it('sends the commits since the last successful deployment, skipping failed ones and its own earlier record', async () => {
    listed = [
      // A retry of this very job: its own record comes first and must not become the base.
      { id: 'x', status: 'success', headSha: shas[2] },
      { id: 'y', status: 'failure', headSha: shas[1] },
      { id: 'z', status: 'success', headSha: shas[0] },
    ];
    const { code, stdout } = await deploy(['--service', 'checkout', '--sha', shas[2]!.slice(0, 10)]);
    expect(code).toBe(0);
    expect(stdout).toContain(': 2 changes');
    const body = posted()!.body as { headSha: string; commits: Array<{ sha: string }> };
    // The abbreviated --sha is sent as the full hash the checkout resolves it to.
    expect(body.headSha).toBe(shas[2]);
    expect(body.commits.map((c) => c.sha)).toEqual([shas[2], shas[1]]);
  });

  it('takes --prev over asking the server, and defaults --sha to HEAD of the checkout', async () => {
    const { code } = await deploy(['--service', 'checkout', '--prev', shas[0]!]);
    expect(code).toBe(0);
    expect(api.requests.map((r) => r.method)).toEqual(['POST']);
    const body = posted()!.body as { headSha: string; commits: Array<{ sha: string }> };
    expect(body.headSha).toBe(shas[2]);
    expect(body.commits).toHaveLength(2);
  });

  it('says so and sends the deployed commit alone when the previous one is not in the checkout (shallow clone)', async () => {
    const { code, stderr } = await deploy([
      '--service',
      'checkout',
      '--sha',
      shas[2]!,
      '--prev',
      'abcdef1234',
    ]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^note: commit abcdef1234 \(the previous deployment\) is not in this checkout/);
    expect((posted()!.body as { commits: unknown[] }).commits).toHaveLength(1);
  });

  it('records without commits, saying so on stderr, outside a git checkout and with --no-git', async () => {
    const outside = await deploy(['--service', 'checkout', '--sha', shas[2]!], notRepo);
    expect(outside.code).toBe(0);
    expect(outside.stderr).toContain('note: recording without commits:');
    expect(outside.stderr).toContain('is not a git checkout');
    expect(posted()!.body).toMatchObject({ headSha: shas[2] });
    expect(posted()!.body).not.toHaveProperty('commits');

    api.requests.length = 0;
    const noGit = await deploy(['--service', 'checkout', '--sha', shas[2]!, '--no-git']);
    expect(noGit).toMatchObject({ code: 0, stderr: '' });
    expect(api.requests.map((r) => r.method)).toEqual(['POST']);
    expect(posted()!.body).not.toHaveProperty('commits');
  });

  it('sends every deployment flag, and the --id as the key', async () => {
    const { code } = await deploy([
      '--service',
      'checkout',
      '--env',
      'staging',
      '--sha',
      shas[1]!,
      '--no-git',
      '--version',
      'v1.2.3',
      '--status',
      'rolled_back',
      '--kind',
      'rollback',
      '--started-at',
      '2026-11-22T23:50:00+09:00',
      '--finished-at',
      '2026-11-22T23:59:00Z',
      '--url',
      'https://ci.example.com/run/1',
      '--id',
      'gh-run-1',
      '--fixes',
      'INC-12, INC-13',
    ]);
    expect(code).toBe(0);
    expect(posted()).toMatchObject({
      headers: { 'idempotency-key': 'gh-run-1' },
      body: {
        id: 'gh-run-1',
        service: 'checkout',
        environment: 'staging',
        version: 'v1.2.3',
        headSha: shas[1],
        startedAt: '2026-11-22T14:50:00.000Z',
        finishedAt: '2026-11-22T23:59:00.000Z',
        status: 'rolled_back',
        kind: 'rollback',
        url: 'https://ci.example.com/run/1',
        fixes: ['INC-12', 'INC-13'],
      },
    });
  });

  it('says "already recorded" for a replayed key and "updated" for a changed record; --json prints the deployment', async () => {
    postAnswer = (r) => ({
      status: 200,
      headers: { 'idempotent-replayed': 'true' },
      body: view(r.body as Record<string, unknown>, 3),
    });
    expect((await deploy(['--service', 'checkout', '--sha', shas[2]!, '--no-git'])).stdout).toMatch(
      /^already recorded deployment dep-1 of checkout to production: 3 changes$/m,
    );
    postAnswer = (r) => ({ status: 200, body: view(r.body as Record<string, unknown>, 3) });
    expect((await deploy(['--service', 'checkout', '--sha', shas[2]!, '--no-git'])).stdout).toMatch(
      /^updated /,
    );
    const json = await deploy(['--service', 'checkout', '--sha', shas[2]!, '--no-git', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'dep-1', changes: 3 });
  });

  it('derives one key from service, env, sha and status: a retry counts once, another status is another deployment', () => {
    const key = idempotencyKey('checkout', 'production', 'ABCDEF1', 'success');
    expect(key).toMatch(/^cli-[0-9a-f]{32}$/);
    expect(idempotencyKey('checkout', 'production', 'abcdef1', 'success')).toBe(key);
    expect(idempotencyKey('checkout', 'production', 'abcdef1', 'failure')).not.toBe(key);
    expect(idempotencyKey('checkout', 'staging', 'abcdef1', 'success')).not.toBe(key);
    // The separator keeps "a"+"bc" apart from "ab"+"c".
    expect(idempotencyKey('a', 'bc', 'abcd', 'success')).not.toBe(
      idempotencyKey('ab', 'c', 'abcd', 'success'),
    );
  });

  it('answers bad flags with exit 2, one line, and no request', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--sha', shas[2]!], /give --service/],
      [['--service', 'checkout', '--sha', 'not-a-sha'], /--sha "not-a-sha" is not a commit hash/],
      [['--service', 'checkout', '--status', 'ok', '--no-git', '--sha', 'abcd'], /--status must be success/],
      [['--service', 'checkout', '--kind', 'x', '--no-git', '--sha', 'abcd'], /--kind must be normal/],
      [['--service', 'checkout', '--finished-at', 'yesterday', '--sha', 'abcd'], /--finished-at "yesterday"/],
      [
        [
          '--service',
          'checkout',
          '--started-at',
          '2026-11-23T01:00:00Z',
          '--finished-at',
          '2026-11-23T00:00:00Z',
        ],
        /--started-at .* is after the finish/,
      ],
      [['--service', 'checkout', '--fixes', ' , ', '--sha', 'abcd'], /--fixes/],
      [['--service', 'checkout', '--url', 'ftp://x', '--sha', 'abcd'], /--url "ftp:\/\/x"/],
      [['--service', 'checkout', '--no-git'], /give --sha/],
      [['--service', 'checkout', '--no-git', '--sha', 'abcd', '--id', 'has space'], /--id "has space"/],
      [['--service', 'checkout', '--no-git', '--sha', 'abcd', '--version', ''], /--version must be/],
      [
        [
          '--service',
          'checkout',
          '--no-git',
          '--sha',
          'abcd',
          '--fixes',
          Array.from({ length: 51 }, (_, i) => `INC-${i}`).join(','),
        ],
        /at most 50 incidents/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await deploy(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr).toMatch(message);
    }
    const outside = await deploy(['--service', 'checkout'], notRepo);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(
      /^shinrai: give --sha <commit> \(the commit deployed\): .* is not a git checkout\n$/,
    );
    expect(api.requests).toEqual([]);
  });

  it('says in one line what the server refused', async () => {
    postAnswer = () => ({ status: 403, body: { detail: 'this needs the editor role' } });
    const { code, stderr } = await deploy(['--service', 'checkout', '--sha', shas[2]!, '--no-git']);
    expect(code).toBe(1);
    expect(stderr).toBe('shinrai: POST /api/v1/deployments: 403 this needs the editor role\n');
  });

  it('never crashes on any flag value: exit 0 or 2, and a bad value is one line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '--status',
          '--kind',
          '--sha',
          '--finished-at',
          '--started-at',
          '--fixes',
          '--url',
          '--env',
        ),
        fc.string({ maxLength: 30 }).filter((s) => !s.startsWith('-')),
        async (flag, value) => {
          const { code, stderr } = await deploy([
            '--service',
            'checkout',
            '--no-git',
            '--sha',
            'abcd',
            flag,
            value,
          ]);
          expect([0, 2]).toContain(code);
          if (code === 2) expect(stderr.trim().split('\n')).toHaveLength(1);
        },
      ),
      { numRuns: 60 },
    );
  });

  describe('gate --record', () => {
    const gate = (args: string[]) =>
      runCli(['gate', ...args, '--server', api.url, '--token', 'tok-1'], { cwd: repo, now: NOW });

    it('records the deployment the gate let through (warn too), as success finished now', async () => {
      const { code, stdout } = await gate([
        '--service',
        'checkout',
        '--record',
        '--sha',
        shas[2]!,
        '--prev',
        shas[1]!,
      ]);
      expect(code).toBe(0);
      expect(stdout).toBe(
        'warn: 30% of the budget left\nrecorded deployment dep-1 of checkout to production: 1 change\n',
      );
      expect(posted()).toMatchObject({
        headers: {
          'idempotency-key': idempotencyKey('checkout', 'production', shas[2]!, 'success'),
          'x-shinrai-source': 'gate',
        },
        body: {
          status: 'success',
          kind: 'normal',
          finishedAt: NOW.toISOString(),
          commits: [{ sha: shas[2] }],
        },
      });
    });

    it('records nothing when the gate denies, and exits 1', async () => {
      const { code, stdout } = await gate(['--service', 'denied', '--record', '--sha', shas[2]!]);
      expect(code).toBe(1);
      expect(stdout).toContain('no deployment recorded');
      expect(api.requests.map((r) => r.method)).toEqual(['GET']);
    });

    it('records nothing without --record, and stops on a bad deployment flag before asking the gate', async () => {
      expect((await gate(['--service', 'checkout', '--sha', shas[2]!])).code).toBe(0);
      expect(api.requests.map((r) => r.method)).toEqual(['GET']);
      api.requests.length = 0;
      const bad = await gate(['--service', 'checkout', '--record', '--sha', 'zzz']);
      expect(bad.code).toBe(2);
      expect(api.requests).toEqual([]);
    });

    it('--json carries the recorded deployment beside the gate answer', async () => {
      const { stdout } = await gate([
        '--service',
        'checkout',
        '--record',
        '--no-git',
        '--sha',
        shas[2]!,
        '--json',
      ]);
      expect(JSON.parse(stdout)).toMatchObject({ decision: 'warn', deployment: { id: 'dep-1' } });
    });
  });
});
