/**
 * `shinrai backup` and `shinrai restore` on SQLite (docs/operations.md#backups): a backup taken
 * while a server ingests holds every batch acknowledged before it started, restores into a sound
 * database, and the commands refuse what they must (an existing file, a target with data, a file
 * that is not a Shinrai database, PostgreSQL).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { MIGRATION_NAMES } from '../src/platform/db/migrations.js';
import { PG_URL } from './support/databases.js';
import { editorToken, runShinrai, type ShinraiProcess, spawnShinrai } from './support/process.js';
import { ratioSloYaml } from './support/specs.js';

const SLI = 'backup-requests';
/** Each batch its own minute, so a stored minute says exactly which batch it came from. */
const BASE_MINUTE = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

describe('backup and restore (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shinrai-backup-'));
  const live = join(dir, 'live.db');
  let server: ShinraiProcess;
  let token: string;

  beforeAll(async () => {
    const specs = join(dir, 'specs');
    mkdirSync(specs);
    writeFileSync(
      join(specs, 'slo.yaml'),
      ratioSloYaml('backup-availability', { service: 'backup', sli: SLI }),
    );
    token = await editorToken(live);
    // 80 MiB of padding: the copy takes many steps of the backup API (and prints its progress)
    // while the server commits batches between them.
    const raw = new SQLite(live);
    raw.exec('CREATE TABLE test_padding (blob BLOB NOT NULL)');
    const insert = raw.prepare('INSERT INTO test_padding (blob) VALUES (randomblob(65536))');
    raw.transaction(() => {
      for (let i = 0; i < 1280; i++) insert.run();
    })();
    raw.close();
    server = await spawnShinrai(['--db', live, '--specs', specs]);
  });

  afterAll(async () => {
    await server?.kill('SIGKILL');
    // Three copies of an 80 MiB database: not left in /tmp.
    rmSync(dir, { recursive: true, force: true });
  });

  async function send(index: number): Promise<boolean> {
    try {
      const response = await fetch(`${server.url}/api/v1/sli/${SLI}/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': `batch-${index}`,
        },
        body: JSON.stringify([{ ts: BASE_MINUTE - index * 60_000, good: index, total: index + 1 }]),
      });
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  it('takes a backup during ingestion that holds every batch acknowledged before it started', async () => {
    const acknowledged: number[] = [];
    let sending = true;
    let next = 0;
    const loader = (async () => {
      while (sending) {
        const index = next++;
        if (await send(index)) acknowledged.push(index);
      }
    })();
    // Some batches in before the backup starts; the loader keeps going while it runs.
    while (acknowledged.length < 20) await new Promise((r) => setTimeout(r, 20));
    const before = [...acknowledged];
    const backup = await runShinrai(['backup', '--db', live, '-o', join(dir, 'backup.db')], { cwd: dir });
    const duringBackup = acknowledged.length - before.length;
    sending = false;
    await loader;
    expect(backup.stderr).toMatch(/backup: \d+% of [\d,]+ pages/);
    expect(backup.stderr).toMatch(/backed up .* to .*backup\.db/);
    expect(backup.code).toBe(0);

    const restored = join(dir, 'restored', 'shinrai.db');
    const restore = await runCli(['restore', join(dir, 'backup.db'), '--db', restored]);
    expect(restore.stderr).toMatch(/restored/);
    expect(restore.code).toBe(0);

    const db = new SQLite(restored, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const keys = new Set(
        db
          .prepare<[], { key: string }>('SELECT idempotency_key AS key FROM ingest_batches')
          .all()
          .map((row) => row.key),
      );
      for (const index of before) expect(keys, `batch-${index}`).toContain(`batch-${index}`);
      // Whatever the backup holds, it holds whole: each stored batch's minute counted once.
      const minutes = db
        .prepare<[string], { ts: number; total: number }>(
          'SELECT minute_ts AS ts, total FROM sli_minutes WHERE sli = ?',
        )
        .all(SLI);
      expect(minutes).toHaveLength(keys.size);
      for (const minute of minutes) {
        const index = (BASE_MINUTE - minute.ts) / 60_000;
        expect(keys).toContain(`batch-${index}`);
        expect(minute.total).toBe(index + 1);
      }
    } finally {
      db.close();
    }
    // The server kept answering while the backup ran (a backup that stopped writes would not).
    expect(duringBackup).toBeGreaterThan(0);
    // Nothing half-written is left beside the files.
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses an existing output, a target with data, a file that is not Shinrai, and PostgreSQL', async () => {
    const backupFile = join(dir, 'backup.db');
    const again = await runCli(['backup', '--db', live, '-o', backupFile]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(
      `shinrai: ${backupFile} exists: choose another file, or --force to replace it`,
    );

    const target = join(dir, 'restored', 'shinrai.db');
    const onto = await runCli(['restore', backupFile, '--db', target]);
    expect(onto.code).toBe(1);
    expect(onto.stderr).toMatch(/already holds a database: --force replaces it/);

    const plain = join(dir, 'plain.db');
    new SQLite(plain).exec('CREATE TABLE t (x)');
    const foreign = await runCli(['restore', plain, '--db', join(dir, 'other.db')]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/is not a Shinrai database/);
    expect(existsSync(join(dir, 'other.db'))).toBe(false);

    const pg = await runCli(['backup', '--db', PG_URL, '-o', join(dir, 'pg.dump')]);
    expect(pg.code).toBe(1);
    expect(pg.stderr.trim().split('\n')).toHaveLength(1);
    expect(pg.stderr).toMatch(/pg_dump/);
  });

  it('restores an older backup over a database with --force and applies the migrations it lacks', async () => {
    const older = join(dir, 'older.db');
    copyFileSync(join(dir, 'backup.db'), older);
    // As a backup taken before the newest migration existed (migrations are idempotent).
    const newest = MIGRATION_NAMES.at(-1)!;
    const raw = new SQLite(older);
    raw.prepare('DELETE FROM kysely_migration WHERE name = ?').run(newest);
    raw.close();
    const target = join(dir, 'restored', 'shinrai.db');
    const restore = await runCli(['restore', older, '--db', target, '--force']);
    expect(restore.stderr).toContain(`migrations applied: ${newest}`);
    expect(restore.code).toBe(0);
    const db = new SQLite(target, { readonly: true });
    const names = db
      .prepare<[], { name: string }>('SELECT name FROM kysely_migration ORDER BY name')
      .all()
      .map((r) => r.name);
    db.close();
    expect(names).toEqual(MIGRATION_NAMES);
  });
});
