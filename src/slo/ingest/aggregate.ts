/**
 * Aggregating a parsed batch (pure): per stored stream and per minute, the sums of good and total.
 * A batch of 1,000 latencies in one minute becomes one row per threshold.
 */
import type { SliStream } from '../sli-routing.js';
import { meets } from '../threshold.js';
import type { BatchItem } from './parse.js';

export const MINUTE_MS = 60_000;

/** The counts a batch adds to one stored minute. */
export interface MinuteBucket {
  readonly storageKey: string;
  /** Start of the minute, epoch milliseconds. */
  readonly minuteMs: number;
  good: number;
  total: number;
  /** The line (array position + 1) of the batch's first item in this minute, for error messages. */
  firstLine?: number | undefined;
}

export interface AggregatedBatch {
  /** Sorted by storage key, then minute: writers lock rows in one order, so they can't deadlock. */
  readonly buckets: MinuteBucket[];
  /** Distinct minutes the batch touches. */
  readonly minutes: number;
}

/**
 * Sums items per (stream, minute). Counts feed every stream (the parser allows counts only where
 * that is meaningful: one stream); a raw value is classified against each stream's threshold.
 */
export function aggregateBatch(items: readonly BatchItem[], streams: readonly SliStream[]): AggregatedBatch {
  const perStream = streams.map(() => new Map<number, MinuteBucket>());
  const minutes = new Set<number>();
  const bucket = (s: number, minuteMs: number): MinuteBucket => {
    const map = perStream[s]!;
    let found = map.get(minuteMs);
    if (!found) {
      found = { storageKey: streams[s]!.storageKey, minuteMs, good: 0, total: 0 };
      map.set(minuteMs, found);
    }
    return found;
  };
  for (const item of items) {
    const minuteMs = Math.floor(item.tsMs / MINUTE_MS) * MINUTE_MS;
    minutes.add(minuteMs);
    for (let s = 0; s < streams.length; s++) {
      const b = bucket(s, minuteMs);
      b.firstLine ??= item.line;
      if (item.kind === 'counts') {
        b.good += item.good;
        b.total += item.total;
      } else {
        const threshold = streams[s]!.threshold;
        if (threshold && meets(item.value, threshold.op, threshold.value)) b.good += 1;
        b.total += 1;
      }
    }
  }
  const buckets = perStream.flatMap((map) => [...map.values()]);
  buckets.sort((a, b) =>
    a.storageKey === b.storageKey ? a.minuteMs - b.minuteMs : a.storageKey < b.storageKey ? -1 : 1,
  );
  return { buckets, minutes: minutes.size };
}
