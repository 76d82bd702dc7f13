/**
 * The delivery CLI end to end on both databases: the built bin (a child process, as CI runs it)
 * in a real git checkout records deployments with their commits against a real server, a retry
 * counts once, `gate --record` records what the gate allowed, `incident suspects` / `incident
 * cause` confirm the deployment that caused an incident, and `shinrai delivery` reports it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const BIN = fileURLToPath(new URL('../bin/shinrai.js', import.meta.url));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The environment without SHINRAI_* settings, which would change what the commands do. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SHINRAI_')));

function shinrai(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: ENV, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** A checkout with `count` commits made `count`..1 hours before `endMs` (committer dates). */
function makeRepo(dir: string, count: number, endMs: number): string[] {
  const git = (args: string[], env: Record<string, string> = {}) =>
    execFileSync('git', args, { cwd: dir, env: { ...ENV, ...env }, encoding: 'utf8' }).trim();
  git(['init', '-q']);
  const shas: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(endMs - (count - i) * HOUR).toISOString();
    execFileSync('sh', ['-c', `echo ${i} > file.txt`], { cwd: dir });
    git(['add', 'file.txt']);
    git(['commit', '-q', '-m', `change ${i + 1}`], {
      GIT_AUTHOR_NAME: 'Dev',
      GIT_AUTHOR_EMAIL: 'dev@example.com',
      GIT_COMMITTER_NAME: 'Dev',
      GIT_COMMITTER_EMAIL: 'dev@example.com',
      GIT_AUTHOR_DATE: at,
      GIT_COMMITTER_DATE: at,
    });
    shas.push(git(['rev-parse', 'HEAD']));
  }
  return shas;
}

// The two databases at once (each its own server, checkout and data): nearly all the time is CLI
// processes loading, and CI's vitest runs one file at a time on two cores. Within a database the
// steps run in order, each building on the one before (it.sequential). A step runs up to six CLI
// processes, and two databases at once on a loaded box take longer than the default 60 s.
describe.concurrent.each(DIALECTS)('delivery CLI on %s', { timeout: 240_000 }, (dialect) => {
  let dir: string;
  let repo: string;
  let server: TestServer;
  let editor: string;
  let viewer: string;
  let shas: string[];
  const nowMs = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const cli = (args: string[], token = editor, cwd = repo) =>
    shinrai(cwd, [...args, '--server', server.shinrai.url, '--token', token]);
  const deployments = async (): Promise<JsonBody[]> =>
    (await json(server.request('GET', '/api/v1/deployments?service=checkout', { token: viewer })))
      .deployments;

  beforeAll(async () => {
    if (!existsSync(new URL('../dist/cli/main.js', import.meta.url)))
      throw new Error('run `npm run build` first');
    dir = await mkdtemp(join(tmpdir(), 'shinrai-delivery-cli-'));
    await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('checkout-availability', { service: 'checkout' }));
    repo = await mkdtemp(join(tmpdir(), 'shinrai-delivery-repo-'));
    shas = makeRepo(repo, 5, nowMs - 10 * HOUR);
    server = await startTestServer(dialect, { specs: dir });
    editor = await server.token('editor');
    viewer = await server.token('viewer');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  });

  it.sequential('records the first deployment with the deployed commit alone, and a retry counts once', async () => {
    const args = [
      'deploy',
      'record',
      '--service',
      'checkout',
      '--sha',
      shas[1]!,
      '--finished-at',
      iso(nowMs - 8 * HOUR),
    ];
    const first = await cli(args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^recorded deployment \S+ of checkout to production: 1 change\n$/);
    const retry = await cli(args);
    expect(retry.code).toBe(0);
    // The same flags again (the same finish): the same deployment, unchanged.
    expect(retry.stdout).toBe(first.stdout.replace(/^recorded/, 'already recorded'));
    const listed = await deployments();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ headSha: shas[1], status: 'success', production: true, changes: 1 });
  });

  it.sequential('sends the commits since the last successful deployment (a failed one in between is not the base)', async () => {
    const failed = await cli([
      'deploy',
      'record',
      '--service',
      'checkout',
      '--sha',
      shas[2]!,
      '--status',
      'failure',
      '--finished-at',
      iso(nowMs - 7 * HOUR),
    ]);
    expect(failed.code).toBe(0);
    const shipped = await cli([
      'deploy',
      'record',
      '--service',
      'checkout',
      '--sha',
      shas[3]!,
      '--version',
      'v1.4.0',
      '--finished-at',
      iso(nowMs - 6 * HOUR),
      '--json',
    ]);
    expect(shipped.code).toBe(0);
    // shas[1] was the last success: shas[2] and shas[3] ship now.
    expect(JSON.parse(shipped.stdout)).toMatchObject({ headSha: shas[3], version: 'v1.4.0', changes: 2 });
    expect(await deployments()).toHaveLength(3);
  });

  it.sequential('gate --record records the deployment the gate let through, as success', async () => {
    const { code, stdout } = await cli([
      'gate',
      '--service',
      'checkout',
      '--record',
      '--sha',
      shas[4]!,
      '--url',
      'https://ci.example.com/run/9',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^recorded deployment \S+ of checkout to production: 1 change$/m);
    expect((await deployments())[0]).toMatchObject({ headSha: shas[4], status: 'success', kind: 'normal' });
  });

  it.sequential('records without commits outside a checkout, saying so', async () => {
    const { code, stderr } = await cli(
      ['deploy', 'record', '--service', 'checkout', '--env', 'staging', '--sha', shas[4]!],
      editor,
      dir,
    );
    expect(code).toBe(0);
    expect(stderr).toContain('recording without commits');
    const staging = (await deployments()).find((d: JsonBody) => d.environment === 'staging');
    expect(staging).toMatchObject({ production: false, headSha: shas[4] });
  });

  it.sequential('answers a viewer token and bad flags with one line and a non-zero exit', async () => {
    const forbidden = await cli(
      ['deploy', 'record', '--service', 'checkout', '--sha', shas[4]!, '--no-git'],
      viewer,
    );
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^shinrai: POST \/api\/v1\/deployments: 403 /);
    expect(forbidden.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await cli(['deploy', 'record', '--service', 'checkout', '--sha', 'main']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  let incidentRef = '';
  let suspectId = '';

  it.sequential('suggests the deployment before an incident, confirms it as the cause, and clears it', async () => {
    const created = await json(
      server.request('POST', '/api/v1/incidents', {
        token: editor,
        body: {
          title: 'Checkout errors',
          severity: 'SEV2',
          services: ['checkout'],
          milestones: { impactStartedAt: iso(nowMs - 2 * HOUR) },
        },
      }),
    );
    const ref: string = created.reference;
    const suspects = await cli(['incident', 'suspects', ref, '--json'], viewer);
    expect(suspects.code).toBe(0);
    const [suspect] = JSON.parse(suspects.stdout).suspects;
    // The last production deployment finished before the impact started (gate --record's is later).
    expect(suspect).toMatchObject({ headSha: shas[3], environment: 'production' });
    expect((await cli(['incident', 'suspects', ref], viewer)).stdout).toContain(suspect.id);

    const cause = await cli(['incident', 'cause', ref, '--deployment', suspect.id]);
    expect(cause).toMatchObject({ code: 0, stdout: `${ref} caused by deployment ${suspect.id}\n` });
    const incident = await json(server.request('GET', `/api/v1/incidents/${ref}`, { token: viewer }));
    expect(incident.causedBy).toMatchObject({ deployment: suspect.id });

    expect((await cli(['incident', 'cause', ref, '--clear'])).stdout).toBe(`${ref}: no confirmed cause\n`);
    expect((await cli(['incident', 'cause', ref])).code).toBe(2);
    incidentRef = ref;
    suspectId = suspect.id;
  });

  it.sequential('shinrai delivery prints the five metrics with levels, in English and Japanese', async () => {
    const args = [
      'delivery',
      '--service',
      'checkout',
      '--from',
      day(nowMs - 2 * DAY),
      '--to',
      day(nowMs + DAY),
      '--tz',
      'UTC',
    ];
    const en = await cli(args, viewer);
    expect(en.stderr).toBe('');
    expect(en.code).toBe(0);
    for (const metric of [
      'Deployment frequency',
      'Change lead time',
      'Change fail rate',
      'Failed deployment recovery time',
      'Deployment rework rate',
    ])
      expect(en.stdout).toContain(metric);
    expect(en.stdout).toMatch(/DORA benchmarks of 20\d\d/);
    // Three successful production deployments: shas[1], shas[3] and the gate's shas[4].
    const parsed = JSON.parse((await cli([...args, '--json'], viewer)).stdout);
    expect(parsed.deploymentFrequency.count).toBe(3);
    expect((await cli([...args, '--lang', 'ja'], viewer)).stdout).toContain('デプロイ頻度');
    const bad = await cli(['delivery', '--from', '2026-13-01'], viewer);
    expect(bad.code).toBe(2);
  });

  it.sequential('shinrai delivery counts the deployment an incident was confirmed to be caused by as failed', async () => {
    const failed = async (): Promise<number> =>
      JSON.parse(
        (
          await cli(
            [
              'delivery',
              '--service',
              'checkout',
              '--from',
              day(nowMs - 2 * DAY),
              '--to',
              day(nowMs + DAY),
              '--tz',
              'UTC',
              '--json',
            ],
            viewer,
          )
        ).stdout,
      ).changeFailRate.failed;
    const before = await failed();
    expect((await cli(['incident', 'cause', incidentRef, '--deployment', suspectId])).code).toBe(0);
    expect(await failed()).toBe(before + 1);
  });
});
