/** Runs `shinrai serve` as a real child process, for crash and replica tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
