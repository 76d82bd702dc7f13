import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkImports, findImportViolations, readSourceTree, unitOf } from './check-imports.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The rule and line of each violation in a small tree of in-memory files. */
function found(files: Record<string, string>) {
  return findImportViolations(files).map((v) => `${v.file}:${v.line} ${v.rule}`);
}

const FACES = {
  'src/platform/db/index.ts': "export { openDatabase } from './database.js';\n",
  'src/platform/db/database.ts': 'export function openDatabase() {}\n',
  'src/incidents/index.ts': "export { listIncidents } from './service.js';\n",
  'src/incidents/service.ts': 'export function listIncidents() {}\n',
  'src/incidents/testing.ts': 'export const fixture = 1;\n',
  'src/alerting/index.ts': "export { alertRoutes } from './routes.js';\n",
  'src/slo/index.ts': 'export const x = 1;\n',
};

describe('check-imports', () => {
  it('passes on the real tree (with its commented allowlist)', () => {
    const { ok, lines } = checkImports(readSourceTree(REPO));
    expect(lines).toEqual([]);
    expect(ok).toBe(true);
  });

  it('routes-no-db: a route module, a platform/http module or a CLI module importing the database layer fails', () => {
    expect(
      found({
        ...FACES,
        'src/incidents/routes.ts':
          "import { listIncidents } from './index.js';\nimport type { Db } from '../platform/db/index.js';\n",
        'src/platform/http/server.ts': "import { openDatabase } from '../db/database.js';\n",
        'src/cli/commands/token.ts': "\n\nimport { sql } from 'kysely';\n",
        'src/cli/common.ts': "export const db = await import('../platform/db/index.js');\n",
      }),
    ).toEqual([
      'src/cli/commands/token.ts:3 routes-no-db',
      'src/cli/common.ts:1 routes-no-db',
      'src/incidents/routes.ts:2 routes-no-db',
      'src/platform/http/server.ts:1 routes-no-db',
      'src/platform/http/server.ts:1 public-face',
    ]);
  });

  it('routes-no-db: services and tests may use the database', () => {
    expect(
      found({
        ...FACES,
        'src/incidents/store.ts':
          "import { sql } from 'kysely';\nimport { openDatabase } from '../platform/db/index.js';\n",
        'src/incidents/routes.test.ts': "import { openDatabase } from '../platform/db/index.js';\n",
      }),
    ).toEqual([]);
  });

  it('floor: slo/ importing a folder above it, or platform/ importing a capability, fails', () => {
    expect(
      found({
        ...FACES,
        'src/slo/burn/windows.ts': "import { alertRoutes } from '../../alerting/index.js';\n",
        'src/slo/model.ts': "export type { X } from '../app.js';\n",
        'src/app.ts': 'export type X = 1;\n',
        'src/platform/config.ts': "import { x } from '../slo/index.js';\n",
        'src/slo/evaluation.ts': "import { openDatabase } from '../platform/db/index.js';\n",
      }).sort(),
    ).toEqual([
      'src/platform/config.ts:1 floor',
      'src/slo/burn/windows.ts:1 floor',
      'src/slo/model.ts:1 floor',
    ]);
  });

  it("public-face: importing another folder's file fails; its index.ts, the own folder and platform's loose modules pass", () => {
    expect(
      found({
        ...FACES,
        'src/platform/clock.ts': 'export const now = 1;\n',
        'src/risks/backlog.ts': [
          "import { listIncidents } from '../incidents/index.js';",
          "import { fixture } from '../incidents/testing.js';",
          "import { listIncidents as again } from '../incidents/service.js';",
          "import { now } from '../platform/clock.js';",
          "import { local } from './analysis.js';",
          "import { y } from '../incidents';",
        ].join('\n'),
        'src/risks/analysis.ts': 'export const local = 1;\n',
        'src/risks/backlog.test.ts': "import { fixture } from '../incidents/testing.js';\n",
      }),
    ).toEqual(['src/risks/backlog.ts:2 public-face', 'src/risks/backlog.ts:3 public-face']);
  });

  it('reports file:line, the rule and a readable reason; the allowlist excuses a file and a stale entry fails', () => {
    const files = {
      ...FACES,
      'src/gate/service.ts': "// one line before\nexport { listIncidents } from '../incidents/service.js';\n",
    };
    expect(checkImports(files, []).lines).toEqual([
      'src/gate/service.ts:2  [public-face] imports incidents/service.ts, inside incidents/; import incidents/index.ts (../incidents/service.js)',
    ]);
    const allow = { file: 'src/gate/service.ts', rule: 'public-face', reason: 'test' } as const;
    expect(checkImports(files, [allow])).toEqual({ ok: true, lines: [] });
    const stale = { file: 'src/gate/routes.ts', rule: 'floor', reason: 'test' } as const;
    const result = checkImports(files, [allow, stale]);
    expect(result.ok).toBe(false);
    expect(result.lines).toEqual([
      'src/gate/routes.ts  [allowlist] its floor exception excuses nothing any more; remove it from ALLOWLIST in scripts/check-imports.ts',
    ]);
  });

  it('names units: platform sub-areas are their own, app.ts is the composition root', () => {
    expect(unitOf('src/platform/db/schema.ts')).toBe('platform/db');
    expect(unitOf('src/platform/clock.ts')).toBe('platform');
    expect(unitOf('src/slo/sources/prometheus/plan.ts')).toBe('slo');
    expect(unitOf('src/app.ts')).toBe('app');
    expect(unitOf('test/support/specs.ts')).toBeUndefined();
  });
});
