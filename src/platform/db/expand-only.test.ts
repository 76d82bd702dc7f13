/**
 * Migrations only expand the schema (docs/operations.md#upgrades): a migration's `up` that drops,
 * renames or alters a table or column would break the previous version's replicas still serving
 * during a rolling upgrade. Contracting is a later release's migration, listed in CONTRACTIONS
 * with why no running version needs what it removes. test/upgrade-compat.test.ts checks the
 * previous version's reads against the migrated schema; this catches the obvious cases at once.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Migrations allowed to contract, each with why it is safe. */
const CONTRACTIONS: ReadonlyArray<{ migration: string; reason: string }> = [
  {
    migration: '0031_sli_minutes_without_rowid',
    reason:
      "SQLite rebuilds sli_minutes in one transaction under the same name, columns and key (its helper drops and renames); only 0021's covering index goes, which no query names",
  },
];

const CONTRACTING =
  /\b(dropTable|dropColumn|renameColumn|renameTo|alterColumn|modifyColumn|DROP\s+(TABLE|COLUMN)|RENAME\s+(TO|COLUMN)|ALTER\s+COLUMN)\b/g;

/** Each migration's name and the source of its `up` (up to its `down`). */
function ups(source: string): Array<{ name: string; up: string }> {
  const parts = source.split(/\n {2}'(\d{4}_[a-z0-9_]+)': \{/);
  const found: Array<{ name: string; up: string }> = [];
  for (let i = 1; i < parts.length; i += 2)
    found.push({ name: parts[i]!, up: (parts[i + 1] ?? '').split(/async down\(/)[0]! });
  return found;
}

describe('migrations', () => {
  const source = readFileSync(new URL('./migrations.ts', import.meta.url), 'utf8');
  const migrations = ups(source);

  it('are all found in the source', () => {
    expect(migrations.length).toBeGreaterThan(20);
    expect(migrations[0]?.name).toBe('0001_core');
  });

  it('only expand the schema in `up`, unless listed as a contraction', () => {
    const allowed = new Set(CONTRACTIONS.map((c) => c.migration));
    const contracting = migrations
      .filter((m) => !allowed.has(m.name))
      .flatMap((m) => [...m.up.matchAll(CONTRACTING)].map((match) => `${m.name}: ${match[0]}`));
    expect(
      contracting,
      'a migration drops, renames or alters what the previous version may still read: add instead (expand), and remove in a later release (contract, listed in CONTRACTIONS)',
    ).toEqual([]);
  });

  it('flags a contracting statement', () => {
    const sample =
      "\n  '0099_x': {\n    async up(db) {\n      await db.schema.alterTable('t').dropColumn('c').execute();\n    },\n    async down(db) {}\n  },";
    expect([...(ups(sample)[0]?.up ?? '').matchAll(CONTRACTING)].map((m) => m[0])).toEqual(['dropColumn']);
  });
});
