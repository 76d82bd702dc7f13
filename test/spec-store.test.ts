import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/platform/clock.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics } from '../src/platform/metrics.js';
import { SpecStore } from '../src/slo/spec-store.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { ratioSloYaml } from './support/specs.js';

const slo = (name: string, target = '0.99') => ratioSloYaml(name, { target });

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(DIALECTS)('spec store on %s', (dialect) => {
  let database: TestDatabase;
  let db: Db;
  let stopWatching: (() => void) | undefined;
  afterEach(async () => {
    stopWatching?.();
    await db?.close();
    await database?.drop();
  });

  async function store(path: string): Promise<SpecStore> {
    database = await createTestDatabase(dialect);
    db = openDatabase(database.url);
    await migrateToLatest(db.kysely);
    return new SpecStore({
      db,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
      path,
    });
  }

  it('reloads when a file in the spec directory changes, and skips an invalid file without hiding the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-specs-'));
    writeFileSync(join(dir, 'a.yaml'), slo('alpha'));
    const specs = await store(dir);
    await specs.reload();
    expect(specs.current.catalog.slos.map((s) => s.id)).toEqual(['alpha']);
    const version = specs.current.version;
    const seen: number[] = [];
    specs.subscribe((loaded) => seen.push(loaded.version));
    stopWatching = specs.watch({ debounceMs: 50 });

    writeFileSync(join(dir, 'b.yaml'), slo('beta'));
    writeFileSync(join(dir, 'broken.yaml'), slo('gamma', '7'));
    await eventually(() => specs.current.catalog.slos.length === 2);
    expect(specs.current.catalog.slos.map((s) => s.id).sort()).toEqual(['alpha', 'beta']);
    expect(specs.current.diagnostics).toContainEqual(
      expect.objectContaining({ rule: 'openslo/target-range' }),
    );
    expect(specs.current.version).toBeGreaterThan(version);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('keeps uploads in the database so a second store (another replica) loads them too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-specs-'));
    const first = await store(dir);
    await first.putFiles([{ path: 'team/x.yaml', content: slo('uploaded') }]);
    expect(first.current.catalog.slos.map((s) => s.id)).toEqual(['uploaded']);
    const second = new SpecStore({
      db,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
      path: dir,
    });
    await second.reload();
    expect(second.current.catalog.slos.map((s) => s.id)).toEqual(['uploaded']);
    await expect(first.putFiles([{ path: '../etc/passwd', content: '' }])).rejects.toThrow(/spec path/);
  });

  it('counts a reload that changes nothing as the same version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-specs-'));
    writeFileSync(join(dir, 'a.yaml'), slo('alpha'));
    const specs = await store(dir);
    const first = await specs.reload();
    const second = await specs.reload();
    expect(second.version).toBe(first.version);
  });
});
