/**
 * History answers built from the previous one (docs/api.md#caching). The SLO page asks for a
 * range that moves one step at a time (30 days ending at now rounded down to 5 minutes), so each
 * new answer shares all but its last points with the one before: the points before the previous
 * range's last bucket are copied as bytes, and only that bucket onwards is read and encoded. The
 * result is byte for byte what a build from scratch gives, because
 * - both ranges count their buckets from the same phase (`seriesKey`), so every copied bucket is
 *   whole in both ranges and its last stored row the same;
 * - the stored rows before the cut are checked unchanged: the fingerprint of the copied rows'
 *   times plus the rows read must equal `historyVersion` of the whole range (retention thinning
 *   or the backfill filling an old step makes it differ, and the answer is built from scratch).
 */
import { EncodedBody } from '../platform/http/index.js';
import { downsample, type HistoryRow } from './evaluator/read.js';
import { historyFingerprint } from './read-cache.js';

export interface HistoryRange {
  readonly fromMs: number;
  readonly toMs: number;
  readonly stepMs: number;
}

/** A built history answer, with what the next range's build needs to reuse it. */
export class HistoryBody extends EncodedBody {
  constructor(
    bytes: Buffer,
    readonly range: HistoryRange,
    /** Times of every stored row in the range, ascending (not only the points answered). */
    readonly rowTimes: Float64Array,
    /** Time of each answered point, and where its JSON starts and ends in `identity`. */
    readonly pointTimes: Float64Array,
    readonly pointStarts: Uint32Array,
    readonly pointEnds: Uint32Array,
  ) {
    super(bytes);
  }

  override get storedBytes(): number {
    return (
      super.storedBytes +
      this.rowTimes.byteLength +
      this.pointTimes.byteLength +
      this.pointStarts.byteLength +
      this.pointEnds.byteLength
    );
  }
}

/**
 * Answers whose ranges can reuse each other share a key: same SLO, step, range length and phase
 * of `fromMs` within the step. The cache holds one answer per key, the newest asked for.
 */
export function seriesKey(id: string, step: string, range: HistoryRange): string {
  const phase = ((range.fromMs % range.stepMs) + range.stepMs) % range.stepMs;
  return JSON.stringify([id, step, range.toMs - range.fromMs, phase]);
}

export interface HistoryBuild {
  readonly range: HistoryRange;
  /** The answer's JSON without its points: `{…,"points":[]}` (points is its last member). */
  readonly empty: string;
  readonly encodePoint: (row: HistoryRow) => string;
  /** Stored rows with `fromMs ≤ ts ≤ toMs`, ascending (`historyRows`). */
  readonly rows: (fromMs: number, toMs: number) => Promise<readonly HistoryRow[]>;
  /** `historyVersion` of the range, read before this build. */
  readonly version: string;
  readonly previous?: EncodedBody | undefined;
}

/** The answer for `build.range`: from the previous answer where it can be reused, else from scratch. */
export async function buildHistoryBody(build: HistoryBuild): Promise<HistoryBody> {
  const { range } = build;
  if (!build.empty.endsWith('[]}')) throw new Error('a history answer ends with its points');
  const head = Buffer.from(build.empty.slice(0, -2), 'utf8');
  const previous = build.previous instanceof HistoryBody ? build.previous : undefined;
  const cut = previous ? reusableUntil(previous.range, range) : undefined;
  if (previous && cut !== undefined) {
    const tail = await build.rows(cut, range.toMs);
    const kept = previous.rowTimes.subarray(
      firstAtOrAfter(previous.rowTimes, range.fromMs),
      firstAtOrAfter(previous.rowTimes, cut),
    );
    const rowTimes = new Float64Array(kept.length + tail.length);
    rowTimes.set(kept);
    tail.forEach((row, i) => {
      rowTimes[kept.length + i] = row.tsMs;
    });
    if (historyFingerprint(rowTimes) === build.version) {
      const from = firstAtOrAfter(previous.pointTimes, range.fromMs);
      const to = firstAtOrAfter(previous.pointTimes, cut);
      const copied: Part[] = [];
      for (let i = from; i < to; i++)
        copied.push({
          tsMs: previous.pointTimes[i]!,
          json: previous.identity.subarray(previous.pointStarts[i], previous.pointEnds[i]),
        });
      return assemble(head, range, rowTimes, copied.concat(encode(tail, range, build.encodePoint)));
    }
  }
  const rows = await build.rows(range.fromMs, range.toMs);
  return assemble(
    head,
    range,
    Float64Array.from(rows, (r) => r.tsMs),
    encode(rows, range, build.encodePoint),
  );
}

interface Part {
  readonly tsMs: number;
  readonly json: Buffer;
}

function encode(rows: readonly HistoryRow[], range: HistoryRange, encodePoint: (row: HistoryRow) => string) {
  return downsample(rows, range.fromMs, range.stepMs).map(
    (row): Part => ({ tsMs: row.tsMs, json: Buffer.from(encodePoint(row), 'utf8') }),
  );
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

function assemble(head: Buffer, range: HistoryRange, rowTimes: Float64Array, parts: readonly Part[]) {
  const chunks: Buffer[] = [head];
  const pointTimes = new Float64Array(parts.length);
  const pointStarts = new Uint32Array(parts.length);
  const pointEnds = new Uint32Array(parts.length);
  let at = head.length;
  parts.forEach((part, i) => {
    if (i > 0) {
      chunks.push(COMMA);
      at += 1;
    }
    chunks.push(part.json);
    pointTimes[i] = part.tsMs;
    pointStarts[i] = at;
    at += part.json.length;
    pointEnds[i] = at;
  });
  chunks.push(CLOSE);
  return new HistoryBody(Buffer.concat(chunks), range, rowTimes, pointTimes, pointStarts, pointEnds);
}

/**
 * Where the previous answer stops being reusable for `next`: the start of its last bucket (which
 * may gain rows as time goes on); undefined when nothing before it is shared. Both ranges must
 * have the same step and phase (`seriesKey`), and `next` must not start or end earlier.
 */
function reusableUntil(previous: HistoryRange, next: HistoryRange): number | undefined {
  const { stepMs } = next;
  if (previous.stepMs !== stepMs || (next.fromMs - previous.fromMs) % stepMs !== 0) return undefined;
  if (next.fromMs < previous.fromMs || next.toMs < previous.toMs) return undefined;
  const cut = previous.fromMs + Math.floor((previous.toMs - previous.fromMs) / stepMs) * stepMs;
  return cut > next.fromMs ? cut : undefined;
}

/** Index of the first element ≥ `ms` in an ascending array (its length when none). */
function firstAtOrAfter(times: Float64Array, ms: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
