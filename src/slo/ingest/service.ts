/**
 * Ingestion use case: validate a batch, aggregate it per minute and add it to the stored
 * per-minute counts in one transaction, deduplicated by Idempotency-Key. Returns after commit.
 */
import { createHash } from 'node:crypto';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { isoOrRaw } from '../../platform/dates.js';
import type { Database, Db } from '../../platform/db/index.js';
import { AppError, type ProblemDetail } from '../../platform/errors.js';
import type { ShinraiMetrics } from '../../platform/metrics.js';
import { isStorableCount, MAX_COUNT_PER_MINUTE, MAX_COUNT_TEXT } from '../counts.js';
import type { Catalog } from '../model.js';
import { ensureMinuteWeeks } from '../partitions.js';
import { routeSli, type SliRoute } from '../sli-routing.js';
import { aggregateBatch, type MinuteBucket } from './aggregate.js';
import { type IngestTarget, parseBatch } from './parse.js';

export interface IngestContext {
  readonly db: Db;
  readonly clock: Clock;
  readonly metrics: ShinraiMetrics;
  /** The catalog currently loaded (read once per batch, so a reload never splits a batch). */
  readonly catalog: () => Catalog;
  /** SLIs Shinrai reads from Prometheus: pushes for them are refused, the pull would overwrite them. */
  readonly pulled?: (() => ReadonlySet<string>) | undefined;
  /** SLIs fed by the OTLP receiver: pushes for them are refused, they would count twice. */
  readonly otlpFed?: (() => ReadonlySet<string>) | undefined;
}

export interface IngestInput {
  /** SLI name (or SLO id) from the URL. */
  readonly name: string;
  readonly body: string;
  /** The Content-Type header, parameters included. */
  readonly contentType: string | undefined;
  readonly idempotencyKey?: string | undefined;
}

export interface IngestResult {
  /** `duplicate`: the key was seen before; this is the first answer again and nothing was counted. */
  readonly status: 'accepted' | 'duplicate';
  /** The SLI the data was stored for. */
  readonly sli: string;
  /** Items (lines) accepted: raw events or count items. */
  readonly accepted: number;
  /** Distinct minutes the batch added to. */
  readonly minutes: number;
  readonly idempotencyKey?: string | undefined;
}

/** Body media types ingestion reads; all are parsed the same way (a leading `[` means a JSON array). */
export const INGEST_MEDIA_TYPES = [
  'application/json',
  'application/x-ndjson',
  'application/ndjson',
  'text/plain',
] as const;

export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/**
 * Rows per upsert statement: 5 bound values a row, far below SQLite's 32,766 (and PostgreSQL's
 * 65,535) variables, and small enough that one statement never holds a large plan.
 */
export const UPSERT_CHUNK_ROWS = 1_000;

const TRANSIENT_RETRIES = 3;

/** Validates, aggregates and stores one batch; throws AppError for bad input. */
export async function ingestBatch({
  ctx,
  input,
}: {
  ctx: IngestContext;
  input: IngestInput;
}): Promise<IngestResult> {
  const startedMs = performance.now();
  try {
    const result = await ingest(ctx, input);
    ctx.metrics.ingestBatches.inc({ outcome: result.status });
    return result;
  } catch (error) {
    ctx.metrics.ingestBatches.inc({ outcome: error instanceof AppError ? 'rejected' : 'failed' });
    throw error;
  } finally {
    ctx.metrics.ingestBatchSeconds.observe((performance.now() - startedMs) / 1000);
  }
}

/** What ingest_batches.response holds: the first answer and a fingerprint of the request. */
interface StoredResponse extends IngestResult {
  readonly requestSha256: string;
}

async function ingest(ctx: IngestContext, input: IngestInput): Promise<IngestResult> {
  checkMediaType(input.contentType);
  const key = checkIdempotencyKey(input.idempotencyKey);
  const fingerprint = key === undefined ? '' : requestFingerprint(input);
  const nowMs = ctx.clock.now();

  let route: SliRoute;
  let batch: ReturnType<typeof prepare>;
  try {
    route = findRoute(ctx.catalog(), input.name);
    if (ctx.pulled?.().has(route.sli.name))
      throw new AppError(
        'Conflict',
        `SLI ${JSON.stringify(route.sli.name)} is read from Prometheus, so pushed data for it is refused (the next pull would replace it); push to an SLI whose metric source is not Prometheus`,
      );
    if (ctx.otlpFed?.().has(route.sli.name))
      throw new AppError(
        'Conflict',
        `SLI ${JSON.stringify(route.sli.name)} is fed by OpenTelemetry (OTLP exports to the receiver), so pushed events for it are refused; send its metrics through OTLP, or push to an SLI whose metric source is not OpenTelemetry`,
      );
    batch = prepare(route, input.body, nowMs);
  } catch (error) {
    // A retry of a batch that was accepted is acknowledged even if it no longer passes
    // (its events aged out, the SLI was renamed): the client must not resend it forever.
    if (key !== undefined && error instanceof AppError) {
      const stored = await findStored(ctx.db.kysely, key);
      if (stored) return replay(stored, key, fingerprint);
    }
    throw error;
  }

  const result: IngestResult = {
    status: 'accepted',
    sli: route.sli.name,
    accepted: batch.items,
    minutes: batch.minutes,
    ...(key === undefined ? {} : { idempotencyKey: key }),
  };
  // PostgreSQL: a backfill's older weeks get their partitions first (outside the transaction).
  await ensureBatchWeeks(ctx.db, batch.buckets);
  const stored = await retryTransient(() =>
    ctx.db.kysely.transaction().execute(async (trx) => {
      if (key !== undefined) {
        const response: StoredResponse = { ...result, requestSha256: fingerprint };
        const inserted = await trx
          .insertInto('ingest_batches')
          .values({
            idempotency_key: key,
            sli: route.sli.name,
            received_at: nowMs,
            response: JSON.stringify(response),
          })
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .executeTakeFirst();
        // Another request holds (or held) the key. On PostgreSQL the insert waited for it to
        // commit or roll back, so the row read below is its final answer.
        if (!inserted.numInsertedOrUpdatedRows) {
          const row = await findStored(trx, key);
          if (!row) throw new TransientError('idempotency row vanished while reading it');
          return row;
        }
      }
      await upsertBuckets(trx, batch.buckets, minuteStamp(ctx.db, nowMs));
      return undefined;
    }),
  );
  if (stored) return replay(stored, key!, fingerprint);
  ctx.metrics.ingestedEvents.inc({ sli: route.sli.name }, batch.items);
  return result;
}

/** The partitions of the weeks `buckets` fall in (src/slo/partitions.ts): free once they are known. */
async function ensureBatchWeeks(db: Db, buckets: readonly MinuteBucket[]): Promise<void> {
  if (db.dialect !== 'postgres' || buckets.length === 0) return;
  let fromMs = Number.POSITIVE_INFINITY;
  let toMs = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    fromMs = Math.min(fromMs, b.minuteMs);
    toMs = Math.max(toMs, b.minuteMs + 60_000);
  }
  await ensureMinuteWeeks(db, fromMs, toMs);
}

/** Route → validated, aggregated batch; throws AppError for bad input. */
function prepare(route: SliRoute, body: string, nowMs: number) {
  const target: IngestTarget = { name: route.sli.name, kind: route.kind, streams: route.streams };
  const parsed = parseBatch(body, target, { nowMs });
  if (!parsed.ok) throw parsed.error;
  const { buckets, minutes } = aggregateBatch(parsed.items, route.streams);
  return { items: parsed.items.length, buckets, minutes };
}

// Routes are cached per catalog object (a reload makes a new one); unknown names are not cached,
// so callers can't grow the cache with made-up names.
const routeCache = new WeakMap<Catalog, Map<string, SliRoute>>();

function findRoute(catalog: Catalog, name: string): SliRoute {
  let routes = routeCache.get(catalog);
  if (!routes) {
    routes = new Map();
    routeCache.set(catalog, routes);
  }
  const cached = routes.get(name);
  if (cached) return cached;
  const route = routeSli(catalog, name);
  if (!route)
    throw new AppError('NotFound', `no SLI or SLO named ${JSON.stringify(name)} in the loaded specs`);
  routes.set(name, route);
  return route;
}

/**
 * updated_at on PostgreSQL: the database's clock at the statement, so rows written by every
 * replica are stamped by one clock for the evaluator's change feed.
 */
const DATABASE_NOW_MS: RawBuilder<number> = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The `updated_at` stamp writers to `sli_minutes` use: the database clock on PostgreSQL, `nowMs` on SQLite. */
export function minuteStamp(db: Db, nowMs: number): number | RawBuilder<number> {
  return db.dialect === 'postgres' ? DATABASE_NOW_MS : nowMs;
}

/**
 * Writes per-minute buckets. `add` (ingestion) adds to the stored counts, so rows only ever
 * grow; `replace` (pulls from Prometheus, which re-read the same minutes) sets them, and leaves a
 * row that already holds the same counts untouched so the change feed does not see it again.
 * Exported so tests that seed `sli_minutes` write exactly as ingestion does.
 *
 * No stored minute ever holds more than MAX_COUNT_PER_MINUTE events (so no sum becomes ∞): a
 * bucket beyond it, or an `add` that would take a stored minute beyond it, throws AppError
 * Invalid naming the minute (and the bucket's first item line, when known). The check is part of
 * the upsert itself (a conditional update, then the rows it wrote are counted), so concurrent
 * batches cannot pass it together; the caller's transaction then rolls the whole batch back.
 */
export async function upsertBuckets(
  trx: Kysely<Database>,
  buckets: readonly MinuteBucket[],
  updatedAt: number | RawBuilder<number>,
  mode: 'add' | 'replace' = 'add',
): Promise<void> {
  assertStorable(buckets);
  for (let i = 0; i < buckets.length; i += UPSERT_CHUNK_ROWS) {
    const chunk = buckets.slice(i, i + UPSERT_CHUNK_ROWS);
    const rows = chunk.map((b) => ({
      sli: b.storageKey,
      minute_ts: b.minuteMs,
      good: b.good,
      total: b.total,
      updated_at: updatedAt,
    }));
    if (mode === 'add') {
      const written = await trx
        .insertInto('sli_minutes')
        .values(rows)
        .onConflict((oc) =>
          oc
            .columns(['sli', 'minute_ts'])
            .doUpdateSet((eb) => ({
              good: eb('sli_minutes.good', '+', eb.ref('excluded.good')),
              total: eb('sli_minutes.total', '+', eb.ref('excluded.total')),
              updated_at: eb.ref('excluded.updated_at'),
            }))
            // A sum beyond the bound is not written, and so not returned below.
            .where(sql<boolean>`sli_minutes.total + excluded.total <= ${sql.lit(MAX_COUNT_PER_MINUTE)}`),
        )
        .returning(['sli', 'minute_ts'])
        .execute();
      if (written.length < rows.length) await refuseOverflow(trx, chunk, written);
      continue;
    }
    await trx
      .insertInto('sli_minutes')
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(['sli', 'minute_ts'])
          .doUpdateSet((eb) => ({
            good: eb.ref('excluded.good'),
            total: eb.ref('excluded.total'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where((eb) =>
            eb.or([
              eb('sli_minutes.good', '<>', eb.ref('excluded.good')),
              eb('sli_minutes.total', '<>', eb.ref('excluded.total')),
            ]),
          ),
      )
      .execute();
  }
}

/** Throws AppError Invalid for the first bucket whose counts no minute may hold. */
function assertStorable(buckets: readonly MinuteBucket[]): void {
  const outOfRange = buckets.find(
    (b) => !isStorableCount(b.total) || !isStorableCount(b.good) || b.good > b.total,
  );
  if (outOfRange)
    throw new AppError(
      'Invalid',
      `minute ${isoOrRaw(outOfRange.minuteMs)} of ${JSON.stringify(outOfRange.storageKey)} would hold good ${outOfRange.good} of total ${outOfRange.total}; counts are finite, 0 ≤ good ≤ total ≤ ${MAX_COUNT_TEXT}: nothing was stored`,
      [bucketProblem(outOfRange, `good ${outOfRange.good} of total ${outOfRange.total} is out of range`)],
    );
}

/** Rows per reused statement on SQLite's bulk path (500 bound values). */
const BULK_ROWS = 100;
/** The SQL of `upsertBuckets(…, 'replace')` for `rows` rows, written once for prepared reuse. */
const replaceSql = (rows: number) =>
  `INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?)').join(', ')}
  ON CONFLICT (sli, minute_ts) DO UPDATE SET good = excluded.good, total = excluded.total, updated_at = excluded.updated_at
  WHERE sli_minutes.good <> excluded.good OR sli_minutes.total <> excluded.total`;
const prepareReplace = (native: NonNullable<Db['sqlite']>, rows: number) =>
  native.prepare<unknown[]>(replaceSql(rows));
type BulkStatement = ReturnType<typeof prepareReplace>;
const bulkStatements = new WeakMap<NonNullable<Db['sqlite']>, { many: BulkStatement; one: BulkStatement }>();

/**
 * `upsertBuckets(trx, buckets, minuteStamp(db, nowMs), 'replace')`, the same rows written, for
 * bulk writers (the Prometheus puller's first load stores 43 M minutes for 1,000 SLOs × 30 days).
 * On SQLite it runs two prepared statements, reused, on the connection under `trx` (so inside its
 * transaction): Kysely building and preparing a 1,000-row statement per chunk cost ~35 % of each
 * row (bench/README.md, prometheus.bench.ts 2026-12-08). PostgreSQL takes `upsertBuckets`.
 */
export async function replaceBuckets(
  db: Db,
  trx: Kysely<Database>,
  buckets: readonly MinuteBucket[],
  nowMs: number,
): Promise<void> {
  const native = db.sqlite;
  if (!native) return upsertBuckets(trx, buckets, minuteStamp(db, nowMs), 'replace');
  assertStorable(buckets);
  let statements = bulkStatements.get(native);
  if (!statements) {
    statements = { many: prepareReplace(native, BULK_ROWS), one: prepareReplace(native, 1) };
    bulkStatements.set(native, statements);
  }
  const args: Array<string | number> = new Array(BULK_ROWS * 5);
  let i = 0;
  for (; i + BULK_ROWS <= buckets.length; i += BULK_ROWS) {
    for (let j = 0; j < BULK_ROWS; j++) {
      const b = buckets[i + j]!;
      args[j * 5] = b.storageKey;
      args[j * 5 + 1] = b.minuteMs;
      args[j * 5 + 2] = b.good;
      args[j * 5 + 3] = b.total;
      args[j * 5 + 4] = nowMs;
    }
    statements.many.run(args);
  }
  for (; i < buckets.length; i++) {
    const b = buckets[i]!;
    statements.one.run(b.storageKey, b.minuteMs, b.good, b.total, nowMs);
  }
}

/** Throws the 400 for the first bucket of `chunk` the conditional upsert did not write. */
async function refuseOverflow(
  trx: Kysely<Database>,
  chunk: readonly MinuteBucket[],
  written: ReadonlyArray<{ sli: string; minute_ts: number | string | bigint }>,
): Promise<never> {
  const done = new Set(written.map((r) => `${r.sli}\u0000${Number(r.minute_ts)}`));
  const refused = chunk.find((b) => !done.has(`${b.storageKey}\u0000${b.minuteMs}`))!;
  const stored = await trx
    .selectFrom('sli_minutes')
    .select('total')
    .where('sli', '=', refused.storageKey)
    .where('minute_ts', '=', refused.minuteMs)
    .executeTakeFirst();
  const storedTotal = stored ? Number(stored.total) : 0;
  const message = `minute ${isoOrRaw(refused.minuteMs)} of ${JSON.stringify(refused.storageKey)} already holds ${storedTotal} events; adding ${refused.total} would exceed ${MAX_COUNT_TEXT} per minute`;
  throw new AppError('Invalid', `${message}: nothing of this batch was stored`, [
    bucketProblem(refused, message),
  ]);
}

function bucketProblem(bucket: MinuteBucket, message: string): ProblemDetail {
  return bucket.firstLine === undefined
    ? { field: 'total', message }
    : { line: bucket.firstLine, field: 'total', message };
}

async function findStored(db: Kysely<Database>, key: string): Promise<StoredResponse | undefined> {
  const row = await db
    .selectFrom('ingest_batches')
    .select('response')
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row ? (JSON.parse(row.response) as StoredResponse) : undefined;
}

function replay(stored: StoredResponse, key: string, fingerprint: string): IngestResult {
  if (stored.requestSha256 !== fingerprint)
    throw new AppError(
      'Conflict',
      `Idempotency-Key ${JSON.stringify(key)} was already used for a different batch (another SLI or another body); use a new key for new data`,
      [{ field: 'Idempotency-Key', message: 'already used for a different batch' }],
    );
  const { requestSha256: _, ...first } = stored;
  return { ...first, status: 'duplicate' };
}

/** The same key must come with the same request: name and body bytes. */
function requestFingerprint(input: IngestInput): string {
  return createHash('sha256').update(input.name).update('\n').update(input.body).digest('hex');
}

/** Throws 415 unless the media type is one ingestion reads (charset, if given, must be UTF-8). */
export function checkMediaType(contentType: string | undefined): void {
  const [type = '', ...params] = (contentType ?? '').split(';');
  const media = type.trim().toLowerCase();
  const charset = params
    .map((p) => /^\s*charset\s*=\s*"?([^";\s]*)"?\s*$/i.exec(p)?.[1]?.toLowerCase())
    .find((c) => c !== undefined);
  const accepted = (INGEST_MEDIA_TYPES as readonly string[]).includes(media);
  if (!accepted || (charset !== undefined && !['utf-8', 'utf8', 'us-ascii'].includes(charset)))
    throw new AppError(
      'UnsupportedMediaType',
      `${contentType ? `Content-Type ${JSON.stringify(contentType)} is not accepted` : 'Content-Type is missing'}: send a JSON array as application/json or NDJSON as application/x-ndjson (UTF-8)`,
      [{ field: 'Content-Type', message: `one of ${INGEST_MEDIA_TYPES.join(', ')}` }],
    );
}

/** The key, or undefined when none was sent; throws 400 for a key that is empty, too long or not printable. */
export function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  const problem: ProblemDetail | undefined =
    key.length === 0
      ? { field: 'Idempotency-Key', message: 'is empty' }
      : key.length > MAX_IDEMPOTENCY_KEY_LENGTH
        ? {
            field: 'Idempotency-Key',
            message: `is ${key.length} characters; at most ${MAX_IDEMPOTENCY_KEY_LENGTH}`,
          }
        : /^[\x20-\x7e]+$/.test(key)
          ? undefined
          : { field: 'Idempotency-Key', message: 'may hold only printable ASCII characters' };
  if (problem)
    throw new AppError(
      'Invalid',
      `Idempotency-Key ${problem.message}: use a printable key of 1–${MAX_IDEMPOTENCY_KEY_LENGTH} characters, e.g. a UUID`,
      [problem],
    );
  return key;
}

class TransientError extends Error {}

/** PostgreSQL deadlock / serialization failures and SQLite busy errors: the transaction rolled back, so run it again. */
function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY';
}

async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= TRANSIENT_RETRIES || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}
