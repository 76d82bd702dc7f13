/**
 * The installed command as a user runs it: the built bin in a child process, with real exit
 * codes and streams (unit tests run the same commands in-process).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedFixture } from './support/fixtures.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/shinrai.js', import.meta.url));

async function shinrai(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('shinrai bin', () => {
  beforeAll(() => {
    if (!existsSync(new URL('../dist/cli/main.js', import.meta.url)))
      throw new Error('run `npm run build` first');
  });

  it('lists its commands in --help', async () => {
    const { code, stdout } = await shinrai('--help');
    expect(code).toBe(0);
    for (const command of ['validate', 'budget', 'demo', 'serve', 'token', 'deploy', 'delivery'])
      expect(stdout).toContain(command);
  });

  it('exits 0 on valid specs and 1 on invalid ones', async () => {
    expect((await shinrai('validate', sharedFixture('openslo/v1'))).code).toBe(0);
    const bad = await shinrai('validate', sharedFixture('openslo/v1-upstream'));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('openslo/op-on-ratio');
  });

  it('exits 2 with one line on an unknown command', async () => {
    const { code, stderr } = await shinrai('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });

  it('runs the one-shot demo and prints the budget table', async () => {
    const { code, stdout, stderr } = await shinrai('demo', '--once', '--seed-days', '2');
    expect(code).toBe(0);
    expect(stdout).toMatch(/checkout-availability\s+checkout\s+99\.9%/);
    expect(stderr).toContain('generating 2 days of traffic');
  });
});
