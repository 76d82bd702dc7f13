/**
 * CLI commands about a running server ask the server, and no CLI read creates a database as a
 * side effect: `alerts quality` against a real server, and reads of a missing SQLite file.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

/** A loopback port nothing listens on (taken free, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('CLI reads of a missing database', () => {
  it.each([
    ['token', 'list'],
    ['token', 'revoke', 'ci'],
    ['alerts', 'quality'],
  ])('shinrai %s %s --db <missing file> stops with one line and creates nothing', async (...command) => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-nodb-'));
    const file = join(dir, 'data', 'shinrai.db');
    const { code, stdout, stderr } = await runCli([...command, '--db', file], { cwd: dir });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      `shinrai: no database at ${file}: run this where the server keeps its data, or give --db <file or postgres:// URL> (nothing was created)`,
    ]);
    expect(existsSync(join(dir, 'data'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('token create still sets up a new database (the first token of an installation)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-nodb-'));
    const file = join(dir, 'shinrai.db');
    expect((await runCli(['token', 'create', '--name', 'ci', '--db', file])).code).toBe(0);
    const listed = await runCli(['token', 'list', '--db', file]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/ci\s+viewer/);
  });
});

for (const dialect of DIALECTS) {
  describe(`shinrai alerts quality (${dialect})`, () => {
    let server: TestServer;
    let token: string;
    beforeAll(async () => {
      const specs = mkdtempSync(join(tmpdir(), 'shinrai-quality-specs-'));
      writeFileSync(join(specs, 'slo.yaml'), ratioSloYaml('api', { service: 'api' }));
      server = await startTestServer(dialect, { specs });
      token = await server.token('viewer');
    });
    afterAll(() => server?.close());

    it('asks the server at --server with --token and prints its report; no database file appears', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'shinrai-quality-'));
      const { code, stdout, stderr } = await runCli(
        ['alerts', 'quality', '--server', server.shinrai.url, '--token', token, '--days', '7', '--json'],
        { cwd },
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const report = JSON.parse(stdout);
      const direct: JsonBody = await json(server.request('GET', '/api/v1/alerts/quality?days=7', { token }));
      expect(report).toEqual({ ...direct, from: expect.any(String), to: expect.any(String) });
      expect(readdirSync(cwd)).toEqual([]);
    });

    it('names the server in one line when it cannot be reached, and a missing token as the server says', async () => {
      const closed = `http://127.0.0.1:${await closedPort()}`;
      const unreachable = await runCli(['alerts', 'quality', '--server', closed]);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toBe(`shinrai: cannot reach ${closed}: ECONNREFUSED\n`);
      const anonymous = await runCli(['alerts', 'quality', '--server', server.shinrai.url]);
      expect(anonymous.code).toBe(1);
      expect(anonymous.stderr).toMatch(/^shinrai: GET \/api\/v1\/alerts\/quality\?days=28: 401 /);
    });

    it('refuses --specs without --db (the server uses its own specs)', async () => {
      const { code, stderr } = await runCli(['alerts', 'quality', '--specs', 'specs/']);
      expect(code).toBe(2);
      expect(stderr).toContain('--specs is for offline reads');
    });
  });
}
