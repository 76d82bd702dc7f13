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
import { type ChangeColumns, type DeploymentColumns, FLAG_RESTORING, FLAG_SUCCESS } from './metrics.js';

export const DAY_MS = 86_400_000;
/** UTC days per block row (what the metrics read). */
export const BLOCK_DAYS = 8;
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

/** The header of a packed summary: its counts and UTC day. */
export function summaryHeader(data: Uint8Array): {
  deployments: number;
  groups: number;
  leads: number;
  day: number;
} {
  const view = new DataView(data.buffer, data.byteOffset, HEADER_BYTES);
  return {
    deployments: view.getUint32(0, true),
    groups: view.getUint32(4, true),
    leads: view.getUint32(8, true),
    day: view.getUint32(12, true),
  };
}

/** Bytes of a packed summary with these counts. */
export function packedBytes(deployments: number, groups: number, leads: number): number {
  return HEADER_BYTES + 8 * (deployments + groups + leads) + 4 * groups + deployments;
}

/**
 * Packs a summary: a 16-byte header (deployments, groups, leads, UTC day: little-endian u32), then
 * the float64 sections (finishes, group times, lead times), the u32 group sizes and the u8 flags.
 * Packed summaries concatenate (a block is its days' summaries one after another).
 */
export function packSummary(summary: DaySummary, day: number): Uint8Array {
  const d = summary.finishedAtMs.length;
  const g = summary.groupAtMs.length;
  const l = summary.leadTimeMs.length;
  const bytes = new Uint8Array(packedBytes(d, g, l));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, d, true);
  view.setUint32(4, g, true);
  view.setUint32(8, l, true);
  view.setUint32(12, day, true);
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
  const { deployments: d, groups: g, leads: l } = summaryHeader(data);
  const view = new DataView(data.buffer, data.byteOffset, packedBytes(d, g, l));
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
  day: number,
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
  const data = packSummary(
    {
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
    },
    day,
  );
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
      const summary = entry ? buildSummary(day, entry.deployments, entry.changes) : undefined;
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
  await rebuildBlocks(trx, service, [...new Set(days.map((day) => Math.floor(day / BLOCK_DAYS)))]);
  return days.length;
}

/** Rebuilds blocks of a service from its day summaries (no deployment or change is read). */
async function rebuildBlocks(
  trx: Kysely<Database>,
  service: string,
  blocks: readonly number[],
): Promise<void> {
  for (let i = 0; i < blocks.length; i += UPSERT_CHUNK) {
    const chunk = blocks.slice(i, i + UPSERT_CHUNK);
    const rows = await trx
      .selectFrom('delivery_day_summaries')
      .select(['day', 'data'])
      .where('service', '=', service)
      .where('day', '>=', Math.min(...chunk) * BLOCK_DAYS)
      .where('day', '<', (Math.max(...chunk) + 1) * BLOCK_DAYS)
      .orderBy('day')
      .execute();
    const parts = new Map<number, Uint8Array[]>(chunk.map((block) => [block, []]));
    for (const row of rows) parts.get(Math.floor(Number(row.day) / BLOCK_DAYS))?.push(row.data);
    const empty = [...parts].filter(([, days]) => !days.length).map(([block]) => block);
    const built = [...parts]
      .filter(([, days]) => days.length)
      .map(([block, days]) => ({ service, block, data: concatBytes(days) }));
    if (empty.length)
      await trx
        .deleteFrom('delivery_block_summaries')
        .where('service', '=', service)
        .where('block', 'in', empty)
        .execute();
    if (built.length)
      await trx
        .insertInto('delivery_block_summaries')
        .values(built)
        .onConflict((oc) =>
          oc.columns(['service', 'block']).doUpdateSet((eb) => ({ data: eb.ref('excluded.data') })),
        )
        .execute();
  }
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** Whether typed arrays on this machine are little-endian, as summaries are packed. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Services per IN list: below both databases' bound-parameter limits. */
const IN_CHUNK = 500;

/** A block's bytes with the sections' values in a big-endian host's order (a copy; the headers stay little-endian). */
function inHostOrder(data: Uint8Array): Uint8Array {
  const bytes = data.slice();
  const swap = (from: number, count: number, width: number) => {
    for (let i = from; i < from + count * width; i += width) bytes.subarray(i, i + width).reverse();
  };
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.byteLength; ) {
    const d = view.getUint32(at, true);
    const g = view.getUint32(at + 4, true);
    const l = view.getUint32(at + 8, true);
    swap(at + HEADER_BYTES, d + g + l, 8);
    swap(at + HEADER_BYTES + 8 * (d + g + l), g, 4);
    at += packedBytes(d, g, l);
  }
  return bytes;
}

/**
 * Reads the summaries of the UTC days [fromMs, lookaheadToMs) touches, of `services` or of every
 * service, into columns: one copy of each section (memcpy), no object per deployment or change.
 * Deployments are read up to `lookaheadToMs` (a restoring deployment after the period), changes up
 * to `toMs`. `place` finds the column index of given deployments (ids are read only for their days).
 */
export async function readSummaries(
  db: Db,
  services: readonly string[] | undefined,
  bounds: { readonly fromMs: number; readonly toMs: number; readonly lookaheadToMs: number },
): Promise<{
  deployments: Pick<DeploymentColumns, 'groupStart' | 'finishedAtMs' | 'flags'>;
  changes: ChangeColumns;
  place: (
    rows: readonly { id: string; service: string; finished_at: number }[],
  ) => Promise<Map<string, number>>;
}> {
  const firstDay = Math.floor(bounds.fromMs / DAY_MS);
  const lastDay = Math.floor((bounds.lookaheadToMs - 1) / DAY_MS);
  const lastChangeDay = Math.floor((bounds.toMs - 1) / DAY_MS);
  const blocks: { service: string; data: Uint8Array }[] = [];
  const chunks = services
    ? Array.from({ length: Math.ceil(services.length / IN_CHUNK) }, (_, i) =>
        services.slice(i * IN_CHUNK, (i + 1) * IN_CHUNK),
      )
    : [undefined];
  for (const chunk of chunks)
    blocks.push(
      ...(await db.kysely
        .selectFrom('delivery_block_summaries')
        .select(['service', 'data'])
        .where('block', '>=', Math.floor(firstDay / BLOCK_DAYS))
        .where('block', '<=', Math.floor(lastDay / BLOCK_DAYS))
        .$if(chunk !== undefined, (q) => q.where('service', 'in', chunk!))
        .orderBy('service')
        .orderBy('block')
        .execute()),
    );

  // Pass 1: where each wanted day is (block, byte offset) and its sizes, so every column is
  // allocated once. Plain number arrays and one DataView per block: this loop runs ~40,000 times.
  const partBlock: number[] = [];
  const partAt: number[] = [];
  const partDay: number[] = [];
  let deploymentTotal = 0;
  let groupTotal = 0;
  let leadTotal = 0;
  const views = blocks.map((block) => {
    const bytes = LITTLE_ENDIAN ? block.data : inHostOrder(block.data);
    return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  });
  for (let b = 0; b < views.length; b++) {
    const { view } = views[b]!;
    for (let at = 0; at < view.byteLength; ) {
      const d = view.getUint32(at, true);
      const g = view.getUint32(at + 4, true);
      const l = view.getUint32(at + 8, true);
      const day = view.getUint32(at + 12, true);
      if (day >= firstDay && day <= lastDay) {
        partBlock.push(b);
        partAt.push(at);
        partDay.push(day);
        deploymentTotal += d;
        if (day <= lastChangeDay) {
          groupTotal += g;
          leadTotal += l;
        }
      }
      at += packedBytes(d, g, l);
    }
  }
  const finishedAtMs = new Float64Array(deploymentTotal);
  const flags = new Uint8Array(deploymentTotal);
  const groupAtMs = new Float64Array(groupTotal);
  const groupEnd = new Int32Array(groupTotal);
  const leadTimeMs = new Float64Array(leadTotal);
  const finishBytes = new Uint8Array(finishedAtMs.buffer);
  const groupAtBytes = new Uint8Array(groupAtMs.buffer);
  const leadBytes = new Uint8Array(leadTimeMs.buffer);
  const groupStarts: number[] = [];
  /** Per wanted day: its first index in the columns and how many of its deployments were copied. */
  const partStart: number[] = [];
  const partCount: number[] = [];
  let deploymentAt = 0;
  let groupAt = 0;
  let leadAt = 0;
  let service: string | undefined;
  // Pass 2: byte copies of each section into place (sections are in this host's order: packed
  // little-endian, or swapped by inHostOrder).
  for (let p = 0; p < partBlock.length; p++) {
    const block = blocks[partBlock[p]!]!;
    const { bytes, view } = views[partBlock[p]!]!;
    if (block.service !== service) {
      service = block.service;
      groupStarts.push(deploymentAt);
    }
    const at = partAt[p]!;
    const d = view.getUint32(at, true);
    const g = view.getUint32(at + 4, true);
    const l = view.getUint32(at + 8, true);
    const finishes = at + HEADER_BYTES;
    // Deployments past the look-ahead are cut (they are sorted), as a read of the rows would be.
    let count = d;
    while (count > 0 && view.getFloat64(finishes + 8 * (count - 1), LITTLE_ENDIAN) >= bounds.lookaheadToMs)
      count--;
    finishBytes.set(bytes.subarray(finishes, finishes + 8 * count), 8 * deploymentAt);
    const flagsAt = finishes + 8 * (d + g + l) + 4 * g;
    flags.set(bytes.subarray(flagsAt, flagsAt + count), deploymentAt);
    partStart.push(deploymentAt);
    partCount.push(count);
    deploymentAt += count;
    if (partDay[p]! > lastChangeDay) continue;
    const groupTimes = finishes + 8 * d;
    groupAtBytes.set(bytes.subarray(groupTimes, groupTimes + 8 * g), 8 * groupAt);
    leadBytes.set(bytes.subarray(groupTimes + 8 * g, groupTimes + 8 * (g + l)), 8 * leadAt);
    const sizes = groupTimes + 8 * (g + l);
    for (let i = 0; i < g; i++) {
      leadAt += view.getUint32(sizes + 4 * i, LITTLE_ENDIAN);
      groupEnd[groupAt++] = leadAt;
    }
  }
  groupStarts.push(deploymentAt);
  /** `service\nday` → [first index, deployments copied], built when a deployment is to be placed. */
  let dayStart: Map<string, [number, number]> | undefined;
  const startOf = (name: string, day: number) => {
    if (!dayStart) {
      dayStart = new Map();
      for (let p = 0; p < partBlock.length; p++)
        dayStart.set(`${blocks[partBlock[p]!]!.service}\n${partDay[p]}`, [partStart[p]!, partCount[p]!]);
    }
    return dayStart.get(`${name}\n${day}`);
  };

  const place = async (rows: readonly { id: string; service: string; finished_at: number }[]) => {
    const daysOf = new Map<string, Set<number>>();
    for (const row of rows) {
      const day = Math.floor(Number(row.finished_at) / DAY_MS);
      if (!startOf(row.service, day)) continue;
      const days = daysOf.get(row.service) ?? new Set<number>();
      days.add(day);
      daysOf.set(row.service, days);
    }
    const indexOf = new Map<string, number>();
    for (const [name, days] of daysOf) {
      const list = [...days];
      for (let i = 0; i < list.length; i += IN_CHUNK)
        for (const idRow of await db.kysely
          .selectFrom('delivery_day_summaries')
          .select(['day', 'ids'])
          .where('service', '=', name)
          .where('day', 'in', list.slice(i, i + IN_CHUNK))
          .execute()) {
          const read = startOf(name, Number(idRow.day));
          if (read === undefined) continue;
          // Only ids within what was copied (the look-ahead cut drops a day's tail).
          const ids = (JSON.parse(idRow.ids) as string[]).slice(0, read[1]);
          for (const [position, id] of ids.entries()) indexOf.set(id, read[0] + position);
        }
    }
    return indexOf;
  };
  return {
    deployments: {
      groupStart: Int32Array.from(groupStarts),
      finishedAtMs: finishedAtMs.subarray(0, deploymentAt),
      flags: flags.subarray(0, deploymentAt),
    },
    changes: { groupAtMs, groupEnd, leadTimeMs },
    place,
  };
}
