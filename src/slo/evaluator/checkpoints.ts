/**
 * Database adapter for the evaluator's checkpoints (`engine_checkpoints`): the saved state of each
 * tiered engine, a few KB each, written a slice of the parts per tick so that every part is saved
 * every `CHECKPOINT_EVERY_TICKS` ticks. A new leader (a restart, a failover) restores them and moves
 * them on from their clock, reading the change feed from the oldest restored cursor, instead of
 * rebuilding every window from 30 days of minutes. See docs/evaluation.md#checkpoints.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import type { Db } from '../../platform/db/index.js';
import { yieldToEventLoop } from '../../platform/periodic.js';
import { upsertRows } from './store.js';

/** Each part is saved once every this many ticks (a tenth of the parts per tick). */
export const CHECKPOINT_EVERY_TICKS = 10;

/** Rows per insert statement and per transaction. */
const ROWS_PER_WRITE = 200;

/** Keys per `IN (…)` read. */
const KEYS_PER_READ = 500;

export interface SavedEngine {
  readonly key: string;
  readonly storageKey: string;
  readonly clockMs: number;
  readonly state: Float64Array;
  readonly reflectedBeforeMs: number | null;
}

export interface RestoredEngine {
  readonly key: string;
  readonly clockMs: number;
  readonly cursorMs: number | null;
  readonly reflectedBeforeMs: number | null;
  readonly state: Float64Array;
}

/** The stored id of a part key (storage key + objective JSON can be long). */
export function partDigest(key: string): string {
  let digest = digests.get(key);
  if (digest === undefined) {
    digest = createHash('sha256').update(key).digest('base64url');
    if (digests.size >= MAX_CACHED_DIGESTS) digests.clear();
    digests.set(key, digest);
  }
  return digest;
}

/** Digests of part keys seen (saved every few ticks): bounded, cleared when full. */
const digests = new Map<string, string>();
const MAX_CACHED_DIGESTS = 100_000;

const CHECKPOINT_COLUMNS = [
  'part',
  'storage_key',
  'clock_ms',
  'cursor_ms',
  'reflected_before_ms',
  'state',
  'saved_at',
] as const;

/** Saves the engines (upsert by part), with the change feed's cursor they have seen. Returns bytes written. */
export async function saveCheckpoints(
  db: Db,
  engines: readonly SavedEngine[],
  cursorMs: number | null,
  nowMs: number,
): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < engines.length; i += ROWS_PER_WRITE) {
    const rows = engines.slice(i, i + ROWS_PER_WRITE).map((e) => {
      const state = toBytes(e.state);
      bytes += state.byteLength;
      return {
        part: partDigest(e.key),
        storage_key: e.storageKey,
        clock_ms: e.clockMs,
        cursor_ms: cursorMs,
        reflected_before_ms: e.reflectedBeforeMs,
        state,
        saved_at: nowMs,
      };
    });
    await upsertRows(db.kysely, db.dialect, 'engine_checkpoints', ['part'], CHECKPOINT_COLUMNS, rows);
    await yieldToEventLoop();
  }
  return bytes;
}

/** The saved engines of these part keys (those that have one). */
export async function loadCheckpoints(db: Db, keys: readonly string[]): Promise<RestoredEngine[]> {
  const byDigest = new Map(keys.map((key) => [partDigest(key), key]));
  const digests = [...byDigest.keys()];
  const out: RestoredEngine[] = [];
  for (let i = 0; i < digests.length; i += KEYS_PER_READ) {
    const rows = await db.kysely
      .selectFrom('engine_checkpoints')
      .select(['part', 'clock_ms', 'cursor_ms', 'reflected_before_ms', 'state'])
      .where('part', 'in', digests.slice(i, i + KEYS_PER_READ))
      .execute();
    for (const row of rows) {
      const state = fromBytes(row.state);
      if (!state) continue;
      out.push({
        key: byDigest.get(row.part)!,
        clockMs: Number(row.clock_ms),
        cursorMs: row.cursor_ms === null ? null : Number(row.cursor_ms),
        reflectedBeforeMs: row.reflected_before_ms === null ? null : Number(row.reflected_before_ms),
        state,
      });
    }
  }
  return out;
}

/** Deletes the checkpoints of parts not in `keys` (SLOs that left the specs). Returns how many. */
export async function pruneCheckpoints(db: Db, keys: readonly string[]): Promise<number> {
  const keep = new Set(keys.map(partDigest));
  const stored = await db.kysely.selectFrom('engine_checkpoints').select('part').execute();
  const gone = stored.map((r) => r.part).filter((part) => !keep.has(part));
  for (let i = 0; i < gone.length; i += KEYS_PER_READ)
    await db.kysely
      .deleteFrom('engine_checkpoints')
      .where('part', 'in', gone.slice(i, i + KEYS_PER_READ))
      .execute();
  return gone.length;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Float64s as little-endian bytes, whatever the machine. */
function toBytes(values: Float64Array): Uint8Array {
  if (LITTLE_ENDIAN)
    return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return bytes;
}

/** The float64s of `toBytes`; null when the length is not a whole number of them. */
function fromBytes(bytes: Uint8Array): Float64Array | null {
  if (bytes.byteLength % 8 !== 0) return null;
  if (LITTLE_ENDIAN)
    return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float64Array(bytes.byteLength / 8);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * 8, true);
  return values;
}
