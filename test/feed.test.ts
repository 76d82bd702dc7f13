/**
 * The change feed pages through rows that share one updated_at (a first load from Prometheus
 * stamps millions alike) exactly once each, in order, and on SQLite each page starts at the last
 * row read through the (updated_at, sli, minute_ts) index instead of rescanning the stamp.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { upsertBuckets } from '../src/slo/ingest/service.js';
import { readChanges } from '../src/slo/minutes.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';

describe.each(DIALECTS)('change feed on %s', (dialect) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
  });

  it('reads 5,000 rows sharing one updated_at in pages, each once, in order', async () => {
    database = await createTestDatabase(dialect);
    const db = openDatabase(database.url);
    try {
      await migrateToLatest(db.kysely);
      const buckets = Array.from({ length: 5000 }, (_, i) => ({
        storageKey: `sli-${i % 7}`,
        minuteMs: Math.floor(i / 7) * 60_000,
        good: 1,
        total: 1,
      }));
      await upsertBuckets(db.kysely, buckets, 1_000);
      const seen: string[] = [];
      let after: [number, string, number] | null = null;
      for (;;) {
        const page = await readChanges(db, 0, after, 700);
        seen.push(...page.map((r) => `${r.storageKey}@${r.minuteMs}`));
        const last = page.at(-1);
        if (!last || page.length < 700) break;
        after = [last.updatedAtMs, last.storageKey, last.minuteMs];
      }
      expect(seen).toHaveLength(5000);
      expect(new Set(seen).size).toBe(5000);
      const sorted = [...seen].sort((a, b) => {
        const [ka, ma] = a.split('@') as [string, string];
        const [kb, mb] = b.split('@') as [string, string];
        return ka < kb ? -1 : ka > kb ? 1 : Number(ma) - Number(mb);
      });
      expect(seen).toEqual(sorted);

      if (dialect === 'sqlite') {
        const plan = await sql<{
          detail: string;
        }>`explain query plan select sli, minute_ts, good, total, updated_at from sli_minutes
          where (updated_at, sli, minute_ts) > (${1000}, ${'sli-3'}, ${0})
          order by updated_at, sli, minute_ts limit 700`.execute(db.kysely);
        expect(plan.rows.map((r) => r.detail).join(' | ')).toContain(
          'sli_minutes_feed ((updated_at,sli,minute_ts)>(?,?,?))',
        );
      }
    } finally {
      await db.close();
    }
  });
});
