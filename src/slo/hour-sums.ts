/**
 * Sums of an SLI's minutes over long ranges (a month's report, its six-month trend) read from
 * `sli_hours`, one row per SLI and UTC hour, instead of one row per minute: 50 SLOs × 6 months are
 * 216,000 rows instead of 13 million.
 *
 * The hours stay exact without the writers knowing: triggers on `sli_minutes` append the
 * (sli, hour) each write touches to `sli_dirty_hours` in the writer's transaction (migration
 * 0022), and `refreshHourSums` recomputes those hours from their minutes before anyone reads them.
 * A range's partial hours at either end (zones at :30 or :45, a month under way) are summed from
 * the minutes themselves, so the answer is the minutes' sum whatever the range.
 */
import { type Kysely, sql } from 'kysely';
import { type Database, type Db, HOUR_OF, HOUR_SUMS } from '../platform/db/index.js';
import { yieldToEventLoop } from '../platform/periodic.js';

export const HOUR_MS = 3_600_000;

/** Σ of one storage key's valid minutes (0 ≤ good ≤ total) over a range, as the engine sums them. */
export interface MinuteSums {
  readonly good: number;
  readonly bad: number;
  readonly total: number;
  /** Minutes with total > 0. */
  readonly dataMinutes: number;
}

/**
 * Marks taken per refresh transaction: bounds how long one holds the database. On SQLite every
 * query runs on the event loop, so its transactions are small and the loop runs between them
 * (after a bulk load, 20,000 marks held it for 8 s in the soak bench).
 */
const MARKS_PER_TRANSACTION = { sqlite: 1_000, postgres: 20_000 } as const;
/** Runs of hours recomputed per statement (one bound parameter each, the rest literals). */
const RUNS_PER_STATEMENT = 400;
/** Keys per `IN (…)` list: well under both databases' bound-parameter limits. */
const KEYS_PER_QUERY = 500;
/** Second key of the PostgreSQL advisory lock that serialises refreshes (the first: the schema). */
const REFRESH_LOCK = 0x5e11;

/**
 * Recomputes every hour the writes committed before the call made stale, in transactions of up to
 * MARKS_PER_TRANSACTION marks (the event loop runs between them); returns how many (sli, hour)
 * marks it took.
 *
 * Each transaction takes the marks (a DELETE … RETURNING sees only committed marks, so a writer
 * still under way keeps its mark for the next refresh) and then sums the minutes, which include
 * every write whose mark it took. On PostgreSQL an advisory lock serialises refreshes, so an
 * older sum never overwrites a newer one and a reader that refreshes waits for one under way;
 * SQLite runs one transaction at a time anyway.
 */
export async function refreshHourSums(db: Db): Promise<number> {
  // The marks there now, not those ingestion keeps adding meanwhile: a refresh ends.
  const newest = await db.kysely
    .selectFrom('sli_dirty_hours')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  if (newest?.id === null || newest?.id === undefined) return 0;
  const upToId = Number(newest.id);
  let taken = 0;
  for (;;) {
    const marks = await db.kysely.transaction().execute(async (trx) => {
      if (db.dialect === 'postgres') await lockHourSums(trx);
      const rows = await trx
        .deleteFrom('sli_dirty_hours')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('sli_dirty_hours')
            .select('id')
            .where('id', '<=', upToId)
            .orderBy('id')
            .limit(MARKS_PER_TRANSACTION[db.dialect]),
        )
        .returning(['sli', 'hour_ts'])
        .execute();
      await recomputeHours(trx, hourRuns(rows.map((r) => ({ sli: r.sli, hourMs: Number(r.hour_ts) }))));
      return rows.length;
    });
    taken += marks;
    if (!marks) return taken;
    // Timers and requests run between two transactions (the only pause SQLite's queries leave).
    await yieldToEventLoop();
  }
}

/**
 * PostgreSQL: waits for a refresh under way and keeps others out until the transaction ends (a
 * partition drop removes the hours of its minutes under it: src/slo/partitions.ts).
 */
export async function lockHourSums(trx: Kysely<Database>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${REFRESH_LOCK}, hashtext(current_schema()))`.execute(trx);
}

/** A run of consecutive hours of one SLI: `[fromMs, toMs)`. */
interface HourRun {
  readonly sli: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** The marks as runs of consecutive hours per SLI (duplicates merged), so a backfill is one range. */
export function hourRuns(marks: ReadonlyArray<{ readonly sli: string; readonly hourMs: number }>): HourRun[] {
  const bySli = new Map<string, Set<number>>();
  for (const { sli, hourMs } of marks) {
    const set = bySli.get(sli) ?? new Set<number>();
    set.add(hourMs);
    bySli.set(sli, set);
  }
  const runs: HourRun[] = [];
  for (const [sli, set] of bySli) {
    const hours = [...set].sort((a, b) => a - b);
    let start = 0;
    for (let i = 1; i <= hours.length; i++) {
      if (i < hours.length && hours[i] === hours[i - 1]! + HOUR_MS) continue;
      runs.push({ sli, fromMs: hours[start]!, toMs: hours[i - 1]! + HOUR_MS });
      start = i;
    }
  }
  return runs;
}

/** Replaces the hours of the runs with the sums of their minutes (an hour left without minutes goes). */
async function recomputeHours(trx: Kysely<Database>, runs: readonly HourRun[]): Promise<void> {
  for (let i = 0; i < runs.length; i += RUNS_PER_STATEMENT) {
    const chunk = runs.slice(i, i + RUNS_PER_STATEMENT);
    // The bounds are whole hours computed here (checked, then inlined: PostgreSQL types a bound
    // VALUES parameter as text); the SLI names are bound.
    for (const run of chunk)
      if (!Number.isSafeInteger(run.fromMs) || !Number.isSafeInteger(run.toMs))
        throw new RangeError(`hour run of ${JSON.stringify(run.sli)} is not whole milliseconds`);
    const values = sql.join(chunk.map((r) => sql`(${r.sli}, ${sql.lit(r.fromMs)}, ${sql.lit(r.toMs)})`));
    // The hours to drop found through the key, then deleted by key: SQLite ran the correlated
    // EXISTS this replaced as a scan of every stored hour per statement (~4 s a refresh once 1,000
    // pulled SLIs each marked their current hour, with 97,000 hours stored).
    await sql`WITH r(sli, from_ms, to_ms) AS (VALUES ${values})
      DELETE FROM sli_hours WHERE (sli, hour_ts) IN (
        SELECT h.sli, h.hour_ts FROM r JOIN sli_hours h
          ON h.sli = r.sli AND h.hour_ts >= r.from_ms AND h.hour_ts < r.to_ms)`.execute(trx);
    await sql`WITH r(sli, from_ms, to_ms) AS (VALUES ${values})
      INSERT INTO sli_hours (sli, hour_ts, good, bad, total, data_minutes)
      SELECT m.sli, ${sql.raw(HOUR_OF('m.minute_ts'))}, ${sql.raw(HOUR_SUMS)}
      FROM r JOIN sli_minutes m ON m.sli = r.sli AND m.minute_ts >= r.from_ms AND m.minute_ts < r.to_ms
      GROUP BY m.sli, ${sql.raw(HOUR_OF('m.minute_ts'))}`.execute(trx);
  }
}

/**
 * Σgood, Σ(total − good), Σtotal and the minutes with data per storage key over `[fromMs, toMs)`
 * (minute-aligned), exactly the sums of the stored minutes: whole hours from `sli_hours` (refreshed
 * first), the partial hours at either end from `sli_minutes`. Keys without minutes are absent.
 */
export async function sumMinutes(
  db: Db,
  keys: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<Map<string, MinuteSums>> {
  const out = new Map<string, MinuteSums>();
  if (!keys.length || toMs <= fromMs) return out;
  const firstHourMs = Math.ceil(fromMs / HOUR_MS) * HOUR_MS;
  const endHourMs = Math.floor(toMs / HOUR_MS) * HOUR_MS;
  if (firstHourMs >= endHourMs) {
    await addMinuteSums(db, keys, fromMs, toMs, out);
    return out;
  }
  await refreshHourSums(db);
  await addMinuteSums(db, keys, fromMs, firstHourMs, out);
  for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
    const rows = await db.kysely
      .selectFrom('sli_hours')
      .select([
        'sli',
        sql<number>`sum(good)`.as('good'),
        sql<number>`sum(bad)`.as('bad'),
        sql<number>`sum(total)`.as('total'),
        sql<number>`sum(data_minutes)`.as('data_minutes'),
      ])
      .where('sli', 'in', keys.slice(i, i + KEYS_PER_QUERY))
      .where('hour_ts', '>=', firstHourMs)
      .where('hour_ts', '<', endHourMs)
      .groupBy('sli')
      .execute();
    for (const r of rows) add(out, r.sli, r);
  }
  await addMinuteSums(db, keys, endHourMs, toMs, out);
  return out;
}

/** Adds the sums of the stored minutes in `[fromMs, toMs)` to `out`, summed by the database. */
async function addMinuteSums(
  db: Db,
  keys: readonly string[],
  fromMs: number,
  toMs: number,
  out: Map<string, MinuteSums>,
): Promise<void> {
  if (toMs <= fromMs) return;
  for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
    const rows = await db.kysely
      .selectFrom('sli_minutes')
      .select([
        'sli',
        sql<number>`sum(good)`.as('good'),
        sql<number>`sum(total - good)`.as('bad'),
        sql<number>`sum(total)`.as('total'),
        sql<number>`sum(case when total > 0 then 1 else 0 end)`.as('data_minutes'),
      ])
      .where('sli', 'in', keys.slice(i, i + KEYS_PER_QUERY))
      .where('minute_ts', '>=', fromMs)
      .where('minute_ts', '<', toMs)
      .where('good', '>=', 0)
      .whereRef('good', '<=', 'total')
      .groupBy('sli')
      .execute();
    for (const r of rows) add(out, r.sli, r);
  }
}

function add(
  out: Map<string, MinuteSums>,
  sli: string,
  row: {
    readonly good: unknown;
    readonly bad: unknown;
    readonly total: unknown;
    readonly data_minutes: unknown;
  },
): void {
  const before = out.get(sli);
  out.set(sli, {
    good: (before?.good ?? 0) + Number(row.good),
    bad: (before?.bad ?? 0) + Number(row.bad),
    total: (before?.total ?? 0) + Number(row.total),
    dataMinutes: (before?.dataMinutes ?? 0) + Number(row.data_minutes),
  });
}
