/**
 * The shell commands written in README.md and docs/*.md: every fenced sh/shell/bash block, split
 * into commands (bash itself decides where a command ends: continuation lines, quotes spanning
 * lines, here-documents), each with its file:line and the exit codes a `# exit N` comment allows.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface DocCommand {
  /** Path relative to the repository, e.g. docs/gate.md. */
  readonly file: string;
  /** 1-based line of the command's first line. */
  readonly line: number;
  readonly text: string;
  /** Allowed exit codes: [0] unless a comment says `# exit 1` or `# exit 0 or 1`. */
  readonly exitCodes: readonly number[];
}

const SHELL_FENCE = /^```(sh|shell|bash)\s*$/;

/** True when bash parses the text as whole commands (no open quote, here-document or pipeline). */
function complete(text: string): boolean {
  const checked = spawnSync('bash', ['-n'], { input: `${text}\n`, encoding: 'utf8' });
  return checked.status === 0 && checked.stderr === '';
}

/** Exit codes a trailing comment allows: `# exit 1`, `# exit 0 or 1`, `# … (exit 1: …)`. */
export function expectedExitCodes(text: string): number[] {
  const match = /\s#[^\n]*?\bexit ((?:\d+)(?:\s*(?:or|,|\/)\s*\d+)*)/.exec(text);
  return match ? match[1]!.split(/\s*(?:or|,|\/)\s*/).map(Number) : [0];
}

/** Extracts the commands of one markdown file; a command still open at a block's end is an error. */
export function docCommands(repoRoot: string, file: string): DocCommand[] {
  const lines = readFileSync(`${repoRoot}/${file}`, 'utf8').split('\n');
  const commands: DocCommand[] = [];
  let inBlock = false;
  let pending: { line: number; lines: string[] } | undefined;
  for (const [index, line] of lines.entries()) {
    if (!inBlock) {
      inBlock = SHELL_FENCE.test(line);
      continue;
    }
    if (line.startsWith('```')) {
      if (pending) throw new Error(`${file}:${pending.line}: the command does not end before the block does`);
      inBlock = false;
      continue;
    }
    if (!pending) {
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      pending = { line: index + 1, lines: [] };
    }
    pending.lines.push(line);
    const text = pending.lines.join('\n');
    if (line.endsWith('\\') || !complete(text)) continue;
    commands.push({ file, line: pending.line, text, exitCodes: expectedExitCodes(text) });
    pending = undefined;
  }
  return commands;
}
