/**
 * Log lines from the built server: JSON when stdout is a pipe or a file (log collectors), and
 * readable lines (pino-pretty) when stdout is a terminal (a pseudo-terminal made by `script`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/shinrai.js', import.meta.url));
const SPECS = fileURLToPath(new URL('../examples/shop', import.meta.url));

/** Runs `shinrai serve` until its evaluation targets are logged, then stops it; returns its stdout. */
function serveOutput(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "evaluation targets updated" line within 30 s:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('evaluation targets updated')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(stdout);
    });
  });
}

function serveArgs(): string[] {
  const db = join(mkdtempSync(join(tmpdir(), 'shinrai-log-')), 'shinrai.db');
  return [BIN, 'serve', '--specs', SPECS, '--db', db, '--port', '0', '--log-level', 'info'];
}

describe('server log lines', () => {
  it('are one JSON object a line when stdout is not a terminal', async () => {
    const stdout = await serveOutput(process.execPath, serveArgs());
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines)
      expect(JSON.parse(line)).toMatchObject({ level: expect.any(Number), msg: expect.any(String) });
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('evaluation targets updated');
  });

  it('are readable (time, level, message) when stdout is a terminal', async () => {
    // `script` runs the command on a pseudo-terminal, as a person's shell would.
    const command = [process.execPath, ...serveArgs()].map((a) => `'${a}'`).join(' ');
    const stdout = await serveOutput('script', ['-qfec', command, '/dev/null']);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour escapes are what a terminal gets
    const plain = stdout.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: evaluation targets updated\r?$/m);
    expect(plain).not.toMatch(/^\{"level"/m);
  });
});
