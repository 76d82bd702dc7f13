/**
 * The evaluator's database adapter: the per-tick write of `slo_status` and `slo_history`, and the
 * history backfill's reads and writes (its reads of `sli_minutes` go through `../minutes.ts`). The
 * same SQL runs on SQLite and PostgreSQL.
 */
import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Database, Db, SloHistoryTable, SloStatusTable } from '../../platform/db/index.js';
import type { BudgetStatus } from '../budget/index.js';

/** Rows per statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK_ROWS = 1_000;

/** How many history points of `sloId` are stored on a multiple of `stepMs` with `fromMs ≤ ts ≤ toMs`. */
export async function countHistory(
  db: Db,
  sloId: string,
  fromMs: number,
  toMs: number,
  stepMs: number,
): Promise<number> {
  const row = await db.kysely
    .selectFrom('slo_history')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('slo_id', '=', sloId)
    .where('ts', '>=', fromMs)
    .where('ts', '<=', toMs)
    // Points of an earlier, finer step setting do not stand in for missing steps.
    .where(sql<number>`ts % ${sql.lit(stepMs)}`, '=', 0)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The instants of the history points of `sloId` stored with `fromMs ≤ ts ≤ toMs`. */
export async function storedHistorySteps(
  db: Db,
  sloId: string,
  fromMs: number,
  toMs: number,
): Promise<number[]> {
  const rows = await db.kysely
    .selectFrom('slo_history')
    .select('ts')
    .where('slo_id', '=', sloId)
    .where('ts', '>=', fromMs)
    .where('ts', '<=', toMs)
    .execute();
  return rows.map((r) => Number(r.ts));
}

/** One `slo_history` row: the status of `sloId` at step `stepMs`. */
export function historyRow(sloId: string, stepMs: number, status: BudgetStatus): SloHistoryTable {
  return {
    slo_id: sloId,
    ts: stepMs,
    sli: status.sli,
    remaining: status.budget.remaining,
    burn_rates: JSON.stringify(status.burnRates),
  };
}

export interface TickWrite {
  readonly statuses: readonly SloStatusTable[];
  /** Points of one history step; a point already stored for (SLO, ts) is kept (the earliest wins). */
  readonly history: readonly SloHistoryTable[];
  /** When set, stored statuses of other SLOs (removed from the specs) are deleted — those `fence` lets through. */
  readonly keepOnly?: ReadonlySet<string> | undefined;
  /**
   * Sharded evaluation: runs first in the transaction and answers which SLOs this replica may
   * still write (its shard leases, locked until the commit); the rows of the others are left out.
   */
  readonly fence?: ((trx: Kysely<Database>) => Promise<(sloId: string) => boolean>) | undefined;
  /** More writes that must commit with the statuses (the alert transitions they cause), for the SLOs let through. */
  readonly also?:
    | ((trx: Kysely<Database>, writable: (sloId: string) => boolean) => Promise<void>)
    | undefined;
}

/** Writes one tick in one transaction: statuses upserted, history appended, removed SLOs pruned. */
export async function writeTick(db: Db, write: TickWrite): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    const writable = write.fence ? await write.fence(trx) : () => true;
    const statuses = write.fence ? write.statuses.filter((r) => writable(r.slo_id)) : write.statuses;
    const history = write.fence ? write.history.filter((r) => writable(r.slo_id)) : write.history;
    for (const chunk of chunks(statuses))
      await upsertRows(trx, db.dialect, 'slo_status', ['slo_id'], STATUS_COLUMNS, chunk);
    for (const chunk of chunks(history)) {
      await trx
        .insertInto('slo_history')
        .values(chunk)
        .onConflict((oc) => oc.columns(['slo_id', 'ts']).doNothing())
        .execute();
    }
    if (write.keepOnly) await pruneStatuses(trx, write.keepOnly, writable);
    if (write.also) await write.also(trx, writable);
  });
}

async function pruneStatuses(
  trx: Kysely<Database>,
  keep: ReadonlySet<string>,
  writable: (sloId: string) => boolean,
): Promise<void> {
  const stored = await trx.selectFrom('slo_status').select('slo_id').execute();
  // Only SLOs of this replica's shards: another replica's SLO is not "removed" for not being ours.
  const removed = stored.map((r) => r.slo_id).filter((id) => !keep.has(id) && writable(id));
  for (const chunk of chunks(removed))
    await trx.deleteFrom('slo_status').where('slo_id', 'in', chunk).execute();
}

/** Every column of a status row; those a row leaves out are written as null. */
const STATUS_COLUMNS = ['slo_id', 'evaluated_at', 'status', 'evaluated_by', 'shard_epoch'] as const;

/**
 * Upserts `rows` into `table` in one multi-row statement whose text is built by hand, once per
 * (table, row count): the query builder's per-value work (parsing, compiling and freezing a node
 * per value) cost more than the database's own for the 10,000 statuses of a tick. Columns not in
 * `key` are updated on a conflict; a value a row leaves out is null. Keep `rows` to a chunk.
 */
export async function upsertRows<C extends string>(
  trx: Kysely<Database>,
  dialect: Db['dialect'],
  table: keyof Database,
  key: readonly C[],
  columns: readonly C[],
  rows: ReadonlyArray<Partial<Record<C, unknown>>>,
): Promise<void> {
  if (!rows.length) return;
  const id = `${dialect} ${table} ${columns.join(',')} ${rows.length}`;
  let text = upsertTexts.get(id);
  if (text === undefined) {
    const quoted = columns.map((c) => `"${c}"`);
    let n = 0;
    const tuples = rows.map(
      () => `(${columns.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`,
    );
    const updates = columns.filter((c) => !key.includes(c)).map((c) => `"${c}" = excluded."${c}"`);
    text = `insert into "${table}" (${quoted.join(', ')}) values ${tuples.join(', ')} on conflict (${key
      .map((c) => `"${c}"`)
      .join(', ')}) do update set ${updates.join(', ')}`;
    if (upsertTexts.size >= 64) upsertTexts.clear();
    upsertTexts.set(id, text);
  }
  const parameters: unknown[] = [];
  for (const row of rows) for (const c of columns) parameters.push(row[c] ?? null);
  await trx.executeQuery(CompiledQuery.raw(text, parameters));
}

/** Statement texts of `upsertRows` by dialect, table, columns and row count (a few per table). */
const upsertTexts = new Map<string, string>();

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK_ROWS) out.push(items.slice(i, i + CHUNK_ROWS));
  return out;
}
