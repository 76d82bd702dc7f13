import type { CliIo } from './io.js';
import { main } from './main.js';

/** Runs the CLI in-process with captured output and a fixed clock. */
export async function runCli(
  args: readonly string[],
  options: { now?: Date; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    cwd: options.cwd ?? process.cwd(),
    out: (text) => {
      stdout += text.endsWith('\n') ? text : `${text}\n`;
    },
    err: (text) => {
      stderr += text.endsWith('\n') ? text : `${text}\n`;
    },
    now: () => options.now ?? new Date('2026-11-23T00:00:00Z'),
  };
  const code = await main(['node', 'shinrai', ...args], io);
  return { code, stdout, stderr };
}
