import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { verifyToken } from '../src/platform/auth/tokens.js';
import { systemClock } from '../src/platform/clock.js';
import { openDatabase } from '../src/platform/db/database.js';

describe('shinrai token', () => {
  it('creates a token shown once, stores only its hash, lists and revokes it', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'shinrai-token-')), 'shinrai.db');
    const created = await runCli(['token', 'create', '--name', 'ci', '--role', 'editor', '--db', db]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^shr_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('not shown again');

    const database = openDatabase(db);
    try {
      const rows = await database.kysely.selectFrom('api_tokens').selectAll().execute();
      expect(rows).toHaveLength(1);
      // The secret is base64url and may itself contain '_': take everything after `shr_<id>_`.
      const secret = token.slice('shr_'.length + 12 + 1);
      expect(secret).toHaveLength(43);
      expect(JSON.stringify(rows)).not.toContain(secret);
      expect(await verifyToken({ db: database, clock: systemClock }, token)).toMatchObject({
        name: 'ci',
        role: 'editor',
      });

      const listed = await runCli(['token', 'list', '--db', db]);
      expect(listed.stdout).toMatch(/ci\s+editor/);
      expect(listed.stdout).not.toContain(token);

      expect((await runCli(['token', 'create', '--name', 'ci', '--db', db])).code).toBe(2);
      expect((await runCli(['token', 'create', '--name', 'x', '--role', 'root', '--db', db])).code).toBe(2);

      // A team-scoped token: its teams are stored, verified and listed; a bad team name creates nothing.
      const scoped = await runCli([
        'token',
        'create',
        '--name',
        'payments-ci',
        '--role',
        'editor',
        '--team',
        'payments',
        '--team',
        'checkout-sre',
        '--db',
        db,
      ]);
      expect(scoped.code).toBe(0);
      expect(scoped.stderr).toContain('for team checkout-sre, payments');
      expect(await verifyToken({ db: database, clock: systemClock }, scoped.stdout.trim())).toMatchObject({
        name: 'payments-ci',
        teams: ['checkout-sre', 'payments'],
      });
      expect((await runCli(['token', 'list', '--db', db])).stdout).toMatch(
        /payments-ci\s+editor.*checkout-sre,payments/,
      );
      const bad = await runCli([
        'token',
        'create',
        '--name',
        'bad',
        '--role',
        'editor',
        '--team',
        'no way',
        '--db',
        db,
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('team "no way"');
      expect((await runCli(['token', 'list', '--json', '--db', db])).stdout).not.toContain('"bad"');

      expect((await runCli(['token', 'revoke', 'ci', '--db', db])).code).toBe(0);
      expect(await verifyToken({ db: database, clock: systemClock }, token)).toBeUndefined();
      expect((await runCli(['token', 'revoke', 'ci', '--db', db])).code).toBe(1);
    } finally {
      await database.close();
    }
  });
});
