/**
 * Runs every `*.bench.ts` in this folder: `npm run bench -- [--only NAME] [--flag value]…`.
 * Each bench file exports `run(flags)`; flags are passed through untouched, so a bench reads its own.
 * Benches check their answers (check.ts): any failed check makes the run exit 1.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { failedChecks } from './check.js';

export type BenchFlags = Record<string, string | true>;

export interface BenchModule {
  run(flags: BenchFlags): Promise<void> | void;
}

function parseFlags(argv: readonly string[]): BenchFlags {
  const flags: BenchFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}": flags look like --slos 1000`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const next = argv[i + 1];
    if (inline !== undefined) flags[name] = inline;
    else if (next !== undefined && !next.startsWith('--')) {
      flags[name] = next;
      i++;
    } else flags[name] = true;
  }
  return flags;
}

const flags = parseFlags(process.argv.slice(2));
const dir = dirname(fileURLToPath(import.meta.url));
const only = typeof flags.only === 'string' ? flags.only : undefined;
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts') && (!only || file.startsWith(only)))
  .sort();
if (files.length === 0) throw new Error(`no bench file matches ${only ?? '*.bench.ts'}`);
for (const file of files) {
  const bench = (await import(pathToFileURL(join(dir, file)).href)) as BenchModule;
  console.log(`\n## ${file}\n`);
  await bench.run(flags);
}
const failed = failedChecks();
if (failed.length > 0) {
  console.error(`\n${failed.length} bench check(s) failed, so these figures are not to be trusted:`);
  for (const line of failed) console.error(`  - ${line}`);
  process.exitCode = 1;
}
