/** Runs `shinrai serve` (and other commands) as a real child process, for crash, replica and drain tests. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createToken } from '../../src/platform/auth/tokens.js';
import { systemClock } from '../../src/platform/clock.js';
import { openDatabase } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrations.js';

const BIN = fileURLToPath(new URL('../../bin/shinrai.js', import.meta.url));

export interface ShinraiProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `shinrai serve` and resolves with its URL once it says it is running. A server that does
 * not start within `startTimeoutMs` (30 s) is killed, and the promise rejects with its stderr.
 */
export async function spawnShinrai(
  args: readonly string[],
  env: Record<string, string> = {},
  { startTimeoutMs = 30_000 }: { startTimeoutMs?: number } = {},
): Promise<ShinraiProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the failed test (it holds a database and a port).
      child.kill('SIGKILL');
      reject(new Error(`shinrai did not start within ${startTimeoutMs / 1000} s:\n${stderr}`));
    }, startTimeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /Shinrai is running at (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`shinrai exited with ${code} before starting:\n${stderr}`));
    });
  });
  return {
    url,
    child,
    stderr: () => stderr,
    kill: (signal) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** Runs one `shinrai` command of the built bin to its end: its exit code and output. */
export async function runShinrai(
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Migrates the database at `url` and creates an editor token on it (for a process to ingest with). */
export async function editorToken(url: string, name = 'loader'): Promise<string> {
  const db = openDatabase(url);
  try {
    await migrateToLatest(db.kysely);
    return (await createToken({ db, clock: systemClock }, { name, role: 'editor' })).token;
  } finally {
    await db.close();
  }
}
