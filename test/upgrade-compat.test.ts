/**
 * Rolling upgrades (docs/operations.md#upgrades): the previous version — the commit before the
 * newest migration was added, taken from git history — keeps serving while this version migrates
 * the database under it and writes to it. Its read paths (SLO list, one SLO, incidents) must
 * still answer 200 with their shapes, reading rows the new version wrote.
 *
 * The old server runs from `git archive` of that commit, its sources transpiled file by file with
 * esbuild (what tsx does on the fly, in a second instead of eight), with this checkout's node_modules.
 * It migrates the database itself first (to its own latest), as an old replica did before the
 * rollout began; then this version migrates it, as the first new replica does.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/platform/auth/tokens.js';
import { systemClock } from '../src/platform/clock.js';
import { openDatabase } from '../src/platform/db/database.js';
import { MIGRATION_NAMES, migrateToLatest } from '../src/platform/db/migrations.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NEWEST = MIGRATION_NAMES.at(-1)!;

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

/**
 * The previous version's commit: the (first) parent of the commit that added the newest migration. A
 * newest migration not committed yet (work in progress) makes HEAD the previous version.
 */
function previousVersion(): string {
  const added = git(
    'log',
    '-1',
    // Along main, merges included (-m): a migration renumbered while merging a branch is added by
    // the merge commit, and its first parent is the version that ran before it.
    '--first-parent',
    '-m',
    '--format=%H',
    `-S'${NEWEST.slice(0, 5)}`,
    '--',
    'src/platform/db/migrations.ts',
  );
  return added ? git('rev-parse', `${added}^`) : git('rev-parse', 'HEAD');
}

/** The previous version's sources in a temporary directory, transpiled to `dist/` as `npm run build` lays it out. */
function checkOut(commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'shinrai-previous-'));
  const archive = execFileSync(
    'git',
    ['archive', commit, 'src', 'examples', 'package.json', 'tsconfig.json'],
    {
      cwd: ROOT,
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const sources = execFileSync('git', ['ls-tree', '-r', '--name-only', commit, 'src'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
  execFileSync(
    join(ROOT, 'node_modules/.bin/esbuild'),
    [...sources, '--outdir=dist', '--outbase=src', '--platform=node', '--format=esm', '--log-level=warning'],
    { cwd: dir },
  );
  writeFileSync(
    join(dir, 'shinrai.mjs'),
    "import { main } from './dist/cli/main.js';\nprocess.exitCode = await main(process.argv);\n",
  );
  return dir;
}

/** Starts the previous version's server; resolves with its URL once it says it runs. */
function startPrevious(dir: string, dbUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['shinrai.mjs', 'serve', '--port', '0', '--db', dbUrl, '--specs', 'examples/shop', '--anonymous-read'],
    {
      cwd: dir,
      env: { ...process.env, SHINRAI_LOG_LEVEL: 'warn', SHINRAI_EVALUATOR_TICK_SECONDS: '3600' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /Shinrai is running at (http:\/\/\S+)/.exec(stderr);
      if (match) resolve({ url: match[1]!, child });
    });
    child.on('exit', (code) => reject(new Error(`the previous version exited ${code}:\n${stderr}`)));
  });
}

describe('the previous version reads a schema this version migrated', () => {
  const commit = previousVersion();
  let dir: string;
  beforeAll(() => {
    dir = checkOut(commit);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const dialect of DIALECTS) {
    describe(dialect, () => {
      let database: TestDatabase;
      let previous: { url: string; child: ChildProcess } | undefined;
      let current: TestServer | undefined;
      afterAll(async () => {
        previous?.child.kill('SIGKILL');
        await current?.close();
        await database?.drop();
      });

      it(`answers its reads after ${NEWEST} and writes of this version`, async () => {
        database = await createTestDatabase(dialect);
        previous = await startPrevious(dir, database.url);

        // The rollout's first new replica migrates the live database…
        const db = openDatabase(database.url);
        try {
          const migrated = await migrateToLatest(db.kysely);
          expect(migrated.applied).toContain(NEWEST);
          await createToken({ db, clock: systemClock }, { name: 'rollout', role: 'editor' });
        } finally {
          await db.close();
        }
        // …and serves and writes beside the old one.
        current = await startTestServer(dialect, {
          database,
          specs: fileURLToPath(new URL('../examples/shop', import.meta.url)),
        });
        const editor = await current.token('editor');
        const declared = await current.request('POST', '/api/v1/incidents', {
          token: editor,
          body: { title: 'Rolling upgrade', severity: 'SEV3', slos: ['checkout-availability'] },
        });
        expect(declared.status).toBe(201);
        const { reference: ref } = (await declared.json()) as { reference: string };

        const read = async (path: string) => {
          const response = await fetch(`${previous!.url}${path}`);
          const body = await response.text();
          expect(response.status, `${path}: ${body}`).toBe(200);
          return JSON.parse(body);
        };
        const slos = await read('/api/v1/slos');
        const list = Array.isArray(slos) ? slos : slos.slos;
        expect(list.map((s: { id: string }) => s.id)).toContain('checkout-availability');
        expect(await read('/api/v1/slos/checkout-availability')).toMatchObject({
          id: 'checkout-availability',
        });
        const incidents = await read('/api/v1/incidents?state=all');
        const incidentList = Array.isArray(incidents) ? incidents : incidents.incidents;
        expect(incidentList.map((i: { reference: string }) => i.reference)).toContain(ref);
        expect(await read(`/api/v1/incidents/${ref}`)).toMatchObject({
          reference: ref,
          title: 'Rolling upgrade',
        });
      });
    });
  }
});
