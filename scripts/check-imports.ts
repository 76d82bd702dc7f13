/**
 * `npm run lint` (after Biome): the import rule of docs/architecture — floors and public faces.
 *
 *   routes-no-db    a route module (`*routes.ts`, `src/platform/http/**`) or a CLI module (`src/cli/**`)
 *                   imports the database layer (`src/platform/db/**`, kysely or a driver): it calls a
 *                   service instead.
 *   floor           a floor imports a folder above it: `src/slo/**` none of alerting, incidents, risks,
 *                   gate, rules, notifications, slack, cli, demo or app.ts; `src/platform/**` no capability.
 *   public-face     a folder imports another capability's file instead of its `index.ts` (a test may
 *                   also import the other folder's `testing.ts`). Platform's sub-areas (`db/`, `http/`,
 *                   `auth/`) are capabilities of their own; the loose modules in `src/platform/` are each
 *                   public.
 *
 * Biome's `noRestrictedImports` matches the import's text, not the file it resolves to (`../x` means a
 * different folder from each depth), and cannot say "except the folder itself"; so this reads each
 * file's import declarations with the TypeScript compiler API (TypeScript 7's `unstable/sync` API,
 * parsing only: no resolution, no type check) and resolves relative paths itself.
 *
 * Known exceptions are in ALLOWLIST below, one per file and rule, each with its reason; an entry that
 * no longer excuses anything fails the check, so an exception goes away with the code that needed it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isStringLiteral } from 'typescript/unstable/ast/is';
import { createVirtualFileSystem } from 'typescript/unstable/fs';
import { API } from 'typescript/unstable/sync';

export type ImportRule = 'routes-no-db' | 'floor' | 'public-face';

/** One import that breaks a rule. `file` is relative to the repository, with `/`. */
export interface ImportViolation {
  file: string;
  line: number;
  rule: ImportRule;
  /** The import as written. */
  specifier: string;
  message: string;
}

/** A file allowed to break one rule until it is fixed, and why. */
export interface AllowlistEntry {
  file: string;
  rule: ImportRule;
  reason: string;
}

/** Exceptions, each with why it is here (none today: keep it that way). */
export const ALLOWLIST: readonly AllowlistEntry[] = [];

/** The folders `src/slo/**` must not import (the floors above it). */
const ABOVE_SLO = new Set([
  'alerting',
  'incidents',
  'risks',
  'gate',
  'rules',
  'notifications',
  'slack',
  'cli',
  'demo',
  'app',
]);
/** Bare modules that are the database layer. */
const DATABASE_PACKAGES = new Set(['kysely', 'pg', 'better-sqlite3']);

/**
 * The capability a source file belongs to: `alerting`, `slo`, `platform/db`, `app` (src/app.ts), or
 * `platform` for the loose modules of `src/platform/`. Undefined outside src/.
 */
export function unitOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  if (parts.length === 2) return parts[1] === 'app.ts' ? 'app' : `file:${parts[1]}`;
  if (parts[1] === 'platform' && parts.length > 3) return `platform/${parts[2]}`;
  return parts[1];
}

/** Whether `file` is what another folder may import of its unit. */
function isPublicFace(file: string, unit: string, importerIsTest: boolean): boolean {
  if (unit === 'app' || unit === 'platform' || unit.startsWith('file:')) return true;
  const dir = `src/${unit}`;
  if (file === `${dir}/index.ts`) return true;
  return importerIsTest && file === `${dir}/testing.ts`;
}

function isTestFile(file: string): boolean {
  return file.endsWith('.test.ts') || path.posix.basename(file) === 'testing.ts';
}

function isRouteOrCli(file: string): boolean {
  if (isTestFile(file)) return false;
  return file.endsWith('routes.ts') || file.startsWith('src/platform/http/') || file.startsWith('src/cli/');
}

/** The source file a relative specifier names (`./x.js` → `x.ts`, `./dir` → `dir/index.ts`). */
function resolveRelative(importer: string, specifier: string, exists: (file: string) => boolean): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier));
  const candidates = [
    joined.replace(/\.js$/, '.ts'),
    joined.replace(/\.js$/, '.tsx'),
    joined,
    `${joined}.ts`,
    `${joined}/index.ts`,
  ];
  return candidates.find(exists) ?? joined.replace(/\.js$/, '.ts');
}

/** The violations of one import; `target` is the repo-relative file for relative imports. */
function judge(
  file: string,
  specifier: string,
  target: string | undefined,
): { rule: ImportRule; message: string }[] {
  const found: { rule: ImportRule; message: string }[] = [];
  const from = unitOf(file);
  const packageName = specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : specifier.split('/')[0];
  if (isRouteOrCli(file)) {
    const isDb = target ? target.startsWith('src/platform/db/') : DATABASE_PACKAGES.has(packageName ?? '');
    if (isDb) {
      const what = file.startsWith('src/cli/') ? 'CLI module' : 'route module';
      found.push({
        rule: 'routes-no-db',
        message: `${what} imports the database layer (${specifier}); call a service`,
      });
    }
  }
  if (target === undefined || from === undefined) return found;
  const to = unitOf(target);
  if (to === undefined || to === from) return found;
  if (from === 'slo' && ABOVE_SLO.has(to)) {
    found.push({
      rule: 'floor',
      message: `slo/ imports ${to === 'app' ? 'app.ts' : `${to}/`}, a floor above it (${specifier})`,
    });
  } else if (from.startsWith('platform') && !to.startsWith('platform') && !to.startsWith('file:')) {
    found.push({ rule: 'floor', message: `platform/ imports ${to}/, a floor above it (${specifier})` });
  }
  if (!isPublicFace(target, to, isTestFile(file))) {
    found.push({
      rule: 'public-face',
      message: `imports ${target.slice('src/'.length)}, inside ${to}/; import ${to}/index.ts (${specifier})`,
    });
  }
  return found;
}

/**
 * The violations in a set of source files, keyed by repo-relative path (`src/…/x.ts`), before the
 * allowlist. Parses with the TypeScript compiler (`import`, `export … from`, `import()`, `require`).
 */
export function findImportViolations(files: Readonly<Record<string, string>>): ImportViolation[] {
  const root = '/repo';
  const names = Object.keys(files).sort();
  const virtual: Record<string, string> = {
    [`${root}/tsconfig.json`]: JSON.stringify({
      compilerOptions: { noResolve: true, noLib: true, types: [], jsx: 'react-jsx' },
      files: names,
    }),
  };
  for (const name of names) virtual[`${root}/${name}`] = files[name] ?? '';
  const api = new API({ cwd: root, fs: createVirtualFileSystem(virtual) });
  const violations: ImportViolation[] = [];
  try {
    const project = api.updateSnapshot({ openProjects: [`${root}/tsconfig.json`] }).getProjects()[0];
    if (!project) throw new Error('check-imports: the TypeScript API opened no project');
    const exists = (file: string) => Object.hasOwn(files, file);
    for (const file of names) {
      const source = project.program.getSourceFile(`${root}/${file}`);
      if (!source) throw new Error(`check-imports: TypeScript did not read ${file}`);
      for (const node of source.imports) {
        if (!isStringLiteral(node)) continue;
        const specifier = node.text;
        const target = specifier.startsWith('.') ? resolveRelative(file, specifier, exists) : undefined;
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        for (const { rule, message } of judge(file, specifier, target)) {
          violations.push({ file, line, rule, specifier, message });
        }
      }
    }
  } finally {
    api.close();
  }
  return violations;
}

/** Splits violations into those the allowlist excuses and the rest; `stale` entries excuse nothing. */
export function applyAllowlist(
  violations: readonly ImportViolation[],
  allowlist: readonly AllowlistEntry[],
): { failing: ImportViolation[]; stale: AllowlistEntry[] } {
  const key = (v: { file: string; rule: ImportRule }) => `${v.file}\0${v.rule}`;
  const allowed = new Map(allowlist.map((entry) => [key(entry), entry]));
  const used = new Set<string>();
  const failing: ImportViolation[] = [];
  for (const violation of violations) {
    if (allowed.has(key(violation))) used.add(key(violation));
    else failing.push(violation);
  }
  return { failing, stale: allowlist.filter((entry) => !used.has(key(entry))) };
}

/** The repository's `src/**` TypeScript files, keyed by repo-relative path. */
export function readSourceTree(repoRoot: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files[rel] = readFileSync(path.join(repoRoot, rel), 'utf8');
      }
    }
  };
  walk('src');
  return files;
}

/** The report lines (`file:line  [rule] message`) and whether the check passed. */
export function checkImports(
  files: Readonly<Record<string, string>>,
  allowlist: readonly AllowlistEntry[] = ALLOWLIST,
): { ok: boolean; lines: string[] } {
  const { failing, stale } = applyAllowlist(findImportViolations(files), allowlist);
  const lines = failing.map((v) => `${v.file}:${v.line}  [${v.rule}] ${v.message}`);
  for (const entry of stale) {
    lines.push(
      `${entry.file}  [allowlist] its ${entry.rule} exception excuses nothing any more; remove it from ALLOWLIST in scripts/check-imports.ts`,
    );
  }
  return { ok: lines.length === 0, lines };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const { ok, lines } = checkImports(readSourceTree(repoRoot));
  for (const line of lines) console.error(line);
  if (!ok) {
    console.error(
      `check-imports: ${lines.length} problem(s); the rules are at the top of scripts/check-imports.ts`,
    );
    process.exit(1);
  }
}
