/**
 * Stores what a pull cycle read: the minutes of many SLI chunks with their cursors, in one
 * transaction per batch of about WRITE_BATCH_ROWS minutes (a steady cycle of 1,000 SLIs is one
 * transaction instead of 1,000). Each chunk's minutes and cursor still commit together, so a crash
 * loses at most the batch in flight, which the next pull reads again. Batches are written while the
 * next answers are read, and at most one waits behind the one being written (bounded memory).
 */
import type { Db } from '../../platform/db/index.js';
import type { MinuteBucket } from '../ingest/aggregate.js';
import { replaceBuckets } from '../ingest/service.js';
import { type Cursor, saveCursors } from './cursors.js';

/** Minutes per transaction: about what one 10,000-minute chunk was; short enough not to hold others up. */
export const WRITE_BATCH_ROWS = 10_000;

export interface StoredChunk {
  readonly buckets: readonly MinuteBucket[];
  /** The SLI's cursor once these minutes are stored. */
  readonly cursor: Cursor;
}

export interface ChunkWriterEvents<T extends StoredChunk> {
  stored(chunk: T): void;
  failed(chunk: T, error: unknown): void;
}

export class ChunkWriter<T extends StoredChunk> {
  private pending: T[] = [];
  private pendingRows = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly nowMs: number,
    private readonly events: ChunkWriterEvents<T>,
  ) {}

  /** Queues a chunk; waits only when a full batch is already waiting behind the one being written. */
  async add(chunk: T): Promise<void> {
    this.pending.push(chunk);
    this.pendingRows += chunk.buckets.length;
    if (this.pendingRows >= WRITE_BATCH_ROWS) await this.flush();
  }

  /** Writes what is queued; resolves when everything added so far is stored (or reported failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.writing = this.write(batch).finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  private async write(batch: readonly T[]): Promise<void> {
    try {
      await this.transaction(batch);
      for (const chunk of batch) this.events.stored(chunk);
    } catch (error) {
      if (batch.length === 1) {
        this.events.failed(batch[0]!, error);
        return;
      }
      // One chunk that cannot be stored must not fail the others: each alone.
      for (const chunk of batch)
        try {
          await this.transaction([chunk]);
          this.events.stored(chunk);
        } catch (alone) {
          this.events.failed(chunk, alone);
        }
    }
  }

  private async transaction(batch: readonly T[]): Promise<void> {
    const buckets = batch.flatMap((c) => c.buckets);
    // Writers lock rows in one order (storage key, minute), as ingestion does, so they can't deadlock.
    buckets.sort((a, b) =>
      a.storageKey < b.storageKey ? -1 : a.storageKey > b.storageKey ? 1 : a.minuteMs - b.minuteMs,
    );
    await this.db.kysely.transaction().execute(async (trx) => {
      await replaceBuckets(this.db, trx, buckets, this.nowMs);
      await saveCursors(
        trx,
        batch.map((c) => c.cursor),
        this.nowMs,
      );
    });
  }
}
