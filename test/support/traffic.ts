/** Seeding `sli_minutes` as ingestion writes it: steady requests with an error rate, for alert tests. */
import type { Db } from '../../src/platform/db/database.js';
import { minuteStamp, upsertBuckets } from '../../src/slo/ingest/service.js';

const MIN = 60_000;

/**
 * `minutes` minutes from `fromMs` of 1,000 requests each, `errorRate` of them bad, stamped at `nowMs`
 * as ingestion stamps them (on PostgreSQL the database's own time, whatever `nowMs` says), or with
 * `stamp: 'clock'` at `nowMs` on both databases.
 */
export async function seedRequests(
  db: Db,
  opts: {
    sli: string;
    fromMs: number;
    minutes: number;
    errorRate: number;
    nowMs: number;
    stamp?: 'ingestion' | 'clock';
  },
): Promise<void> {
  const buckets = Array.from({ length: opts.minutes }, (_, i) => ({
    storageKey: opts.sli,
    minuteMs: opts.fromMs + i * MIN,
    good: 1000 * (1 - opts.errorRate),
    total: 1000,
  }));
  await upsertBuckets(db.kysely, buckets, opts.stamp === 'clock' ? opts.nowMs : minuteStamp(db, opts.nowMs));
}
