/**
 * Stored per-(service, UTC day) summaries of what the DORA metrics read, so a year of a hundred
 * services is ~40,000 rows of packed numbers instead of 3.5 million rows of deployments and
 * changes (bench/README.md "Delivery").
 *
 * A summary holds, for one service and one UTC day, the production deployments that reached
 * production (finish and flags, in finish-then-id order, their ids in a side column) and the
 * changes first shipped that day (grouped by first-deployment time, their lead times). It is
 * exact — the same numbers the rows give — and rebuilt from the rows: triggers on `deployments`
 * and `changes` append the (service, day) a write touches to `delivery_dirty_days` in the
 * writer's transaction, and a reader rebuilds those before reading (`refreshSummaries`). A UTC
 * day cuts nothing: every value carries its own time, so a period in any zone filters exactly.
 */
import { type Kysely, sql } from 'kysely';
import type { Database, Db } from '../platform/db/index.js';
import { FLAG_RESTORING, FLAG_SUCCESS } from './metrics.js';

export const DAY_MS = 86_400_000;
/** Dirty marks taken per rebuild transaction: bounds how long one holds the database. */
const DIRTY_BATCH = 20_000;
/** Rows per insert statement (3 values each): below both databases' bound-parameter limits. */
const UPSERT_CHUNK = 400;
/** Second key of the PostgreSQL advisory lock that serialises rebuilds (the first: the schema). */
const REBUILD_LOCK = 0x5d11;
const HEADER_BYTES = 16;

/** One (service, day) summary, unpacked. */
export interface DaySummary {
  /** Deployments that reached production (success or rolled_back), by finish then id. */
  readonly finishedAtMs: Float64Array;
  readonly flags: Uint8Array;
  /** Distinct first-deployment times of the changes first shipped this day, ascending. */
  readonly groupAtMs: Float64Array;
  /** Changes per group. */
  readonly groupSize: Uint32Array;
  /** Lead times (first deployment − commit, ms), group by group. */
  readonly leadTimeMs: Float64Array;
}

/** Counts in a packed summary's header, without unpacking it. */
export function summaryCounts(data: Uint8Array): { deployments: number; groups: number; leads: number } {
  const view = new DataView(data.buffer, data.byteOffset, HEADER_BYTES);
  return {
    deployments: view.getUint32(0, true),
    groups: view.getUint32(4, true),
    leads: view.getUint32(8, true),
  };
}

/**
 * Packs a summary: a 16-byte header (deployments, groups, leads: little-endian u32), then the
 * float64 sections (finishes, group times, lead times), the u32 group sizes and the u8 flags, so
 * every section is aligned for a typed-array view.
 */
export function packSummary(summary: DaySummary): Uint8Array {
  const d = summary.finishedAtMs.length;
  const g = summary.groupAtMs.length;
  const l = summary.leadTimeMs.length;
  const bytes = new Uint8Array(HEADER_BYTES + 8 * (d + g + l) + 4 * g + d);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, d, true);
  view.setUint32(4, g, true);
  view.setUint32(8, l, true);
  let at = HEADER_BYTES;
  for (const values of [summary.finishedAtMs, summary.groupAtMs, summary.leadTimeMs])
    for (const value of values) {
      view.setFloat64(at, value, true);
      at += 8;
    }
  for (const size of summary.groupSize) {
    view.setUint32(at, size, true);
    at += 4;
  }
  bytes.set(summary.flags, at);
  return bytes;
}

/** Unpacks a summary (copies: a database's buffer need not be aligned). */
export function unpackSummary(data: Uint8Array): DaySummary {
  const { deployments: d, groups: g, leads: l } = summaryCounts(data);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const floats = (count: number, offset: number) => {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, true);
    return out;
  };
  let at = HEADER_BYTES;
  const finishedAtMs = floats(d, at);
  at += 8 * d;
  const groupAtMs = floats(g, at);
  at += 8 * g;
  const leadTimeMs = floats(l, at);
  at += 8 * l;
  const groupSize = new Uint32Array(g);
  for (let i = 0; i < g; i++) groupSize[i] = view.getUint32(at + 4 * i, true);
  at += 4 * g;
  return { finishedAtMs, flags: data.slice(at, at + d), groupAtMs, groupSize, leadTimeMs };
}

/** A deployment row as a summary is built from. */
interface DeploymentRow {
  readonly id: string;
  readonly finishedAtMs: number;
  readonly status: string;
  readonly kind: string;
}

/** Builds one day's summary and its id list from its rows (any order). */
export function buildSummary(
  deployments: readonly DeploymentRow[],
  changes: readonly { readonly committedAtMs: number; readonly firstDeployedAtMs: number }[],
): { data: Uint8Array; ids: string[] } {
  const reached = deployments
    .filter((d) => d.status === 'success' || d.status === 'rolled_back')
    .sort((a, b) => a.finishedAtMs - b.finishedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const sorted = [...changes].sort((a, b) => a.firstDeployedAtMs - b.firstDeployedAtMs);
  const groupAt: number[] = [];
  const groupSize: number[] = [];
  for (const change of sorted) {
    if (groupAt.length && groupAt[groupAt.length - 1] === change.firstDeployedAtMs)
      groupSize[groupSize.length - 1]!++;
    else {
      groupAt.push(change.firstDeployedAtMs);
      groupSize.push(1);
    }
  }
  const data = packSummary({
    finishedAtMs: Float64Array.from(reached, (d) => d.finishedAtMs),
    flags: Uint8Array.from(
      reached,
      (d) =>
        (d.status === 'success' ? FLAG_SUCCESS : 0) |
        (d.kind === 'hotfix' || d.kind === 'rollback' ? FLAG_RESTORING : 0),
    ),
    groupAtMs: Float64Array.from(groupAt),
    groupSize: Uint32Array.from(groupSize),
    leadTimeMs: Float64Array.from(sorted, (c) => c.firstDeployedAtMs - c.committedAtMs),
  });
  return { data, ids: reached.map((d) => d.id) };
}

/**
 * Rebuilds the summaries writes made stale (of `services`, or of every service), in transactions
 * of up to DIRTY_BATCH marks; returns how many (service, day) summaries were rebuilt.
 *
 * Each transaction takes the marks (a DELETE … RETURNING sees only committed marks, so a writer
 * still under way keeps its mark for the next rebuild) and then reads the rows, which include
 * every write whose mark it took. On PostgreSQL an advisory lock serialises rebuilders, so an
 * older rebuild never overwrites a newer one; SQLite runs one transaction at a time anyway.
 */
export async function refreshSummaries(db: Db, services?: readonly string[]): Promise<number> {
  if (services && !services.length) return 0;
  let rebuilt = 0;
  for (;;) {
    const pending = await db.kysely
      .selectFrom('delivery_dirty_days')
      .select('id')
      .$if(services !== undefined, (q) => q.where('service', 'in', [...services!]))
      .limit(1)
      .executeTakeFirst();
    if (!pending) return rebuilt;
    const taken = await db.kysely.transaction().execute(async (trx) => {
      if (db.dialect === 'postgres')
        await sql`SELECT pg_advisory_xact_lock(${REBUILD_LOCK}, hashtext(current_schema()))`.execute(trx);
      const marks = await trx
        .deleteFrom('delivery_dirty_days')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('delivery_dirty_days')
            .select('id')
            .$if(services !== undefined, (q) => q.where('service', 'in', [...services!]))
            .orderBy('id')
            .limit(DIRTY_BATCH),
        )
        .returning(['service', 'day'])
        .execute();
      const days = new Map<string, Set<number>>();
      for (const mark of marks) {
        const set = days.get(mark.service) ?? new Set<number>();
        set.add(Number(mark.day));
        days.set(mark.service, set);
      }
      let count = 0;
      for (const [service, set] of days)
        count += await rebuildDays(
          trx,
          service,
          [...set].sort((a, b) => a - b),
        );
      return { marks: marks.length, count };
    });
    rebuilt += taken.count;
    if (!taken.marks) return rebuilt;
  }
}

/** Rebuilds the given days (ascending) of a service: one read per run of consecutive days. */
async function rebuildDays(trx: Kysely<Database>, service: string, days: readonly number[]): Promise<number> {
  const built: { service: string; day: number; data: Uint8Array; ids: string }[] = [];
  const empty: number[] = [];
  for (let start = 0; start < days.length; ) {
    let end = start + 1;
    while (end < days.length && days[end] === days[end - 1]! + 1) end++;
    const fromMs = days[start]! * DAY_MS;
    const toMs = (days[end - 1]! + 1) * DAY_MS;
    const deploymentRows = await trx
      .selectFrom('deployments')
      .select(['id', 'finished_at', 'status', 'kind'])
      .where('service', '=', service)
      .where('production', '=', 1)
      .where('finished_at', '>=', fromMs)
      .where('finished_at', '<', toMs)
      .execute();
    const changeRows = await trx
      .selectFrom('changes')
      .select(['committed_at', 'first_deployed_at'])
      .where('service', '=', service)
      .where('first_deployed_at', '>=', fromMs)
      .where('first_deployed_at', '<', toMs)
      .execute();
    const byDay = new Map<
      number,
      { deployments: DeploymentRow[]; changes: { committedAtMs: number; firstDeployedAtMs: number }[] }
    >();
    const of = (ms: number) => {
      const day = Math.floor(ms / DAY_MS);
      let entry = byDay.get(day);
      if (!entry) {
        entry = { deployments: [], changes: [] };
        byDay.set(day, entry);
      }
      return entry;
    };
    for (const row of deploymentRows) {
      const finishedAtMs = Number(row.finished_at);
      of(finishedAtMs).deployments.push({ id: row.id, finishedAtMs, status: row.status, kind: row.kind });
    }
    for (const row of changeRows) {
      const firstDeployedAtMs = Number(row.first_deployed_at);
      of(firstDeployedAtMs).changes.push({ committedAtMs: Number(row.committed_at), firstDeployedAtMs });
    }
    for (let i = start; i < end; i++) {
      const day = days[i]!;
      const entry = byDay.get(day);
      const summary = entry ? buildSummary(entry.deployments, entry.changes) : undefined;
      if (!summary || (!summary.ids.length && !entry!.changes.length)) empty.push(day);
      else built.push({ service, day, data: summary.data, ids: JSON.stringify(summary.ids) });
    }
    start = end;
  }
  for (let i = 0; i < empty.length; i += UPSERT_CHUNK)
    await trx
      .deleteFrom('delivery_day_summaries')
      .where('service', '=', service)
      .where('day', 'in', empty.slice(i, i + UPSERT_CHUNK))
      .execute();
  for (let i = 0; i < built.length; i += UPSERT_CHUNK)
    await trx
      .insertInto('delivery_day_summaries')
      .values(built.slice(i, i + UPSERT_CHUNK))
      .onConflict((oc) =>
        oc
          .columns(['service', 'day'])
          .doUpdateSet((eb) => ({ data: eb.ref('excluded.data'), ids: eb.ref('excluded.ids') })),
      )
      .execute();
  return days.length;
}
