/**
 * Use case behind GET /api/v1/slos/{id}/spec: the text of the file an SLO was loaded from, from
 * the spec directory (names relative to it) or, for uploads (`api:` prefix), from the database.
 */
import { readFile } from 'node:fs/promises';
import type { Db } from '../platform/db/index.js';
import type { AlertRule } from './burn/index.js';
import type { SloDefinition } from './model.js';
import { type SpecStore, UPLOAD_PREFIX } from './spec-store.js';

export interface SpecSourceDeps {
  readonly specs: SpecStore;
  readonly db: Db;
  /** The alert rules the live path uses for an SLO (their windows and thresholds go on the charts). */
  readonly rulesFor: (slo: SloDefinition) => readonly AlertRule[];
}

/** The whole text of `file`, or undefined when it can no longer be read. */
export async function readSpecSource(deps: SpecSourceDeps, file: string): Promise<string | undefined> {
  if (file.startsWith(UPLOAD_PREFIX)) {
    const row = await deps.db.kysely
      .selectFrom('spec_files')
      .select('content')
      .where('path', '=', file.slice(UPLOAD_PREFIX.length))
      .executeTakeFirst();
    return row?.content;
  }
  const path = deps.specs.diskFile(file);
  return path === undefined ? undefined : readFile(path, 'utf8').catch(() => undefined);
}
