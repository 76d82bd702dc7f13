/**
 * Stored per-minute counts that a tiered `IncrementalObjective` no longer holds in memory: the
 * minutes leaving its long windows and the ranges it rebuilds from. The caller loads them from
 * storage before advancing the engine (`IncrementalObjective.coldReads` says which), so the engine
 * stays pure and synchronous. Minutes are epoch minutes (ms / 60,000); a loaded minute without a
 * row holds zeros (no data).
 */

/** The half-open range of epoch minutes `[from, to)`. */
export interface MinuteRange {
  readonly from: number;
  readonly to: number;
}

interface LoadedRange {
  readonly from: number;
  readonly to: number;
  /** Interleaved good/total per minute, as in the engine's ring. */
  readonly data: Float64Array;
}

/** One minute's stored counts. */
export interface ColdRow {
  readonly minute: number;
  readonly good: number;
  readonly total: number;
}

export class ColdMinutes {
  /** Sorted by `from`, never overlapping. */
  private ranges: LoadedRange[] = [];
  /** The range the last lookup hit: reads walk minutes in order, so it usually hits again. */
  private last: LoadedRange | undefined;
  /** Bytes of `ranges`' data, kept as they change (read for every key on every tick). */
  private held = 0;

  /**
   * Loads `[from, to)` from `rows` (rows outside it are ignored; minutes without a row hold
   * zeros). Minutes already loaded keep their values: only the gaps are filled.
   */
  put(range: MinuteRange, rows: Iterable<ColdRow>): void {
    const gaps = this.missing([range]);
    if (!gaps.length) return;
    const added = gaps.map((gap) => ({ ...gap, data: new Float64Array(2 * (gap.to - gap.from)) }));
    for (const row of rows) {
      for (const gap of added) {
        if (row.minute >= gap.from && row.minute < gap.to) {
          const i = 2 * (row.minute - gap.from);
          gap.data[i] = row.good;
          gap.data[i + 1] = row.total;
          break;
        }
      }
    }
    this.ranges = [...this.ranges, ...added].sort((a, b) => a.from - b.from);
    for (const gap of added) this.held += gap.data.byteLength;
  }

  /** The parts of `wanted` that are not loaded, merged and sorted. */
  missing(wanted: readonly MinuteRange[]): MinuteRange[] {
    const out: MinuteRange[] = [];
    for (const want of mergeRanges(wanted)) {
      let at = want.from;
      for (const loaded of this.ranges) {
        if (loaded.to <= at) continue;
        if (loaded.from >= want.to) break;
        if (loaded.from > at) out.push({ from: at, to: loaded.from });
        at = Math.max(at, loaded.to);
        if (at >= want.to) break;
      }
      if (at < want.to) out.push({ from: at, to: want.to });
    }
    return mergeRanges(out);
  }

  /**
   * True when each range of `wanted` lies inside one loaded range: the common case on a steady
   * tick (read-ahead blocks), checked without allocating. False does not mean something is
   * missing (a range may span two loaded ones): ask `missing` then.
   */
  holds(wanted: readonly MinuteRange[]): boolean {
    for (const want of wanted) {
      if (want.to <= want.from) continue;
      let inside = false;
      for (const loaded of this.ranges)
        if (loaded.from <= want.from && want.to <= loaded.to) {
          inside = true;
          break;
        }
      if (!inside) return false;
    }
    return true;
  }

  /** True when every minute of `wanted` is loaded. */
  covers(wanted: readonly MinuteRange[]): boolean {
    return this.missing(wanted).length === 0;
  }

  /** Writes minute `minute`'s good and total into `out[0]`, `out[1]`; false when it is not loaded. */
  read(minute: number, out: Float64Array): boolean {
    let range = this.last;
    if (!range || minute < range.from || minute >= range.to) {
      range = this.ranges.find((r) => minute >= r.from && minute < r.to);
      if (!range) return false;
      this.last = range;
    }
    const i = 2 * (minute - range.from);
    out[0] = range.data[i]!;
    out[1] = range.data[i + 1]!;
    return true;
  }

  /**
   * Forgets loaded minutes outside `keep`. A range up to `wholeUpTo` minutes long that meets
   * `keep` is kept whole (no copy each tick for a read-ahead block the clock walks through); a
   * longer one (a rebuild's) is cut to what `keep` needs, copied, so the rest is let go.
   */
  retain(keep: readonly MinuteRange[], wholeUpTo = 0): void {
    const merged = mergeRanges(keep);
    const next: LoadedRange[] = [];
    for (const loaded of this.ranges) {
      const meets = merged.filter((k) => k.from < loaded.to && k.to > loaded.from);
      if (!meets.length) continue;
      if (loaded.to - loaded.from <= wholeUpTo) {
        next.push(loaded);
        continue;
      }
      for (const k of meets) {
        const from = Math.max(loaded.from, k.from);
        const to = Math.min(loaded.to, k.to);
        if (from === loaded.from && to === loaded.to) next.push(loaded);
        else
          next.push({ from, to, data: loaded.data.slice(2 * (from - loaded.from), 2 * (to - loaded.from)) });
      }
    }
    if (next.length !== this.ranges.length || next.some((r, i) => r !== this.ranges[i])) {
      this.ranges = next;
      this.last = undefined;
      this.held = 0;
      for (const r of next) this.held += r.data.byteLength;
    }
  }

  /** Forgets everything (the stored minutes may have changed). */
  clear(): void {
    this.ranges = [];
    this.last = undefined;
    this.held = 0;
  }

  /** Bytes held in typed arrays. */
  get bytes(): number {
    return this.held;
  }
}

/** Sorted, merged (touching ranges joined), empty ones dropped. */
export function mergeRanges(ranges: readonly MinuteRange[]): MinuteRange[] {
  const sorted = ranges.filter((r) => r.to > r.from).sort((a, b) => a.from - b.from);
  const out: Array<{ from: number; to: number }> = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.from <= last.to) last.to = Math.max(last.to, r.to);
    else out.push({ from: r.from, to: r.to });
  }
  return out;
}
