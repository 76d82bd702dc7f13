/**
 * OTLP receiver use case: decode one export, map its points to the SLI streams they feed and store
 * the minutes, the raw sums and the series states in one transaction; answer after commit with the
 * points that map to nothing or are invalid (OTLP partial success).
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Clock } from '../../../platform/clock.js';
import type { Database, Db } from '../../../platform/db/index.js';
import { isDatabaseUnreachable } from '../../../platform/db-unreachable.js';
import { AppError } from '../../../platform/errors.js';
import type { ShinraiMetrics } from '../../../platform/metrics.js';
import type { MinuteBucket } from '../../ingest/aggregate.js';
import { minuteStamp, upsertBuckets } from '../../ingest/service.js';
import type { Catalog } from '../../model.js';
import { servicesBySli } from '../../sli-routing.js';
import {
  type MapResult,
  type MinuteIncrement,
  mapExport,
  type PreparedExport,
  prepareExport,
} from './core.js';
import { type OtlpPlan, otlpPlan } from './plan.js';
import { decodeJson, type PartialSuccess } from './proto.js';
import { loadStates, saveStates } from './states.js';
import { prepareProtobuf } from './wire.js';

export interface OtlpContext {
  readonly db: Db;
  readonly clock: Clock;
  readonly metrics: ShinraiMetrics;
  readonly catalog: () => Catalog;
  readonly limits: OtlpLimits;
}

export interface OtlpLimits {
  /** Largest body after gzip is undone. */
  readonly maxBodyBytes: number;
  /** See MapOptions.newSeriesWindowMs. */
  readonly newSeriesWindowMs: number;
}

export type OtlpEncoding = 'protobuf' | 'json';

export interface OtlpInput {
  readonly body: Buffer;
  readonly encoding: OtlpEncoding;
  /** The Content-Encoding header. */
  readonly contentEncoding: string | undefined;
  /** Throws unless the sender may change these services (a team-scoped token: docs/api.md#teams). */
  readonly assertMayWrite?: ((services: readonly string[]) => void) | undefined;
}

export interface OtlpResult {
  readonly partial?: PartialSuccess | undefined;
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
}

/** Media types of OTLP/HTTP bodies. */
export const OTLP_MEDIA_TYPES: Record<string, OtlpEncoding> = {
  'application/x-protobuf': 'protobuf',
  'application/protobuf': 'protobuf',
  'application/json': 'json',
};

const TRANSIENT_RETRIES = 3;
/** The key of the transaction lock that serialises OTLP writers on PostgreSQL. */
const OTLP_LOCK_KEY = 0x6f746c70; // "otlp"
/** How long an export waits for another writer on PostgreSQL (SQLite's busy_timeout is the same). */
const LOCK_WAIT_MS = 5_000;

/** Decodes, maps and stores one export; throws AppError for a body that can't be read. */
export async function receiveMetrics({
  ctx,
  input,
}: {
  ctx: OtlpContext;
  input: OtlpInput;
}): Promise<OtlpResult> {
  const body = await inflate(input, ctx.limits.maxBodyBytes);
  const plan = otlpPlan(ctx.catalog());
  const nowMs = ctx.clock.now();
  const prepared = prepare(body, input.encoding, plan);
  // A team-scoped token's export is refused whole if any point feeds another team's SLI.
  if (input.assertMayWrite) input.assertMayWrite(servicesFed(prepared, ctx.catalog()));
  const mapped = await retryTransient(() =>
    ctx.db.kysely.transaction().execute(async (trx) => {
      if (ctx.db.dialect === 'postgres') {
        // Wait for another writer as long as SQLite's busy_timeout does, then answer 503.
        await sql.raw(`set local lock_timeout = '${LOCK_WAIT_MS}ms'`).execute(trx);
        await sql`select pg_advisory_xact_lock(${OTLP_LOCK_KEY})`.execute(trx);
      }
      const before = await loadStates(ctx.db, trx, prepared.keys);
      const result = mapExport(prepared, before, {
        nowMs,
        newSeriesWindowMs: ctx.limits.newSeriesWindowMs,
      });
      await saveStates(ctx.db, trx, result.states, nowMs);
      const buckets = await addMinutes(ctx.db, trx, result.increments, plan);
      await upsertBuckets(trx, buckets, minuteStamp(ctx.db, nowMs), 'replace');
      return result;
    }),
  );
  count(ctx.metrics, mapped);
  const partial: PartialSuccess | undefined = mapped.rejected
    ? {
        rejectedDataPoints: mapped.rejected,
        errorMessage: `${mapped.rejected} of ${mapped.received} data points were rejected: ${mapped.reasons.join('; ')}`,
      }
    : undefined;
  ctx.metrics.otlpExports.inc({ outcome: partial ? 'partial' : 'ok' });
  return { partial, accepted: mapped.accepted, duplicates: mapped.duplicates, rejected: mapped.rejected };
}

/** The services whose SLOs the export's points feed. */
function servicesFed(prepared: PreparedExport, catalog: Catalog): string[] {
  const slis = new Set<string>();
  for (const item of prepared.items)
    if ('series' in item) for (const selection of item.series.selections) slis.add(selection.sli);
  const bySli = servicesBySli(catalog);
  return [...slis].flatMap((sli) => bySli.get(sli) ?? []);
}

function count(metrics: ShinraiMetrics, result: MapResult): void {
  if (result.accepted) metrics.otlpPoints.inc({ outcome: 'accepted' }, result.accepted);
  if (result.duplicates) metrics.otlpPoints.inc({ outcome: 'duplicate' }, result.duplicates);
  if (result.rejected) metrics.otlpPoints.inc({ outcome: 'rejected' }, result.rejected);
}

// On the thread pool: a large export must not hold the event loop while it inflates.
const gunzipAsync = promisify(gunzip);

/** The body with its Content-Encoding undone; throws 400 (or 413, 415) naming what is wrong. */
export async function inflate(input: OtlpInput, maxBodyBytes: number): Promise<Buffer> {
  const encoding = (input.contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      return await gunzipAsync(input.body, { maxOutputLength: maxBodyBytes });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
        throw new AppError(
          'PayloadTooLarge',
          `the body is larger than ${maxBodyBytes} bytes once decompressed (otlp.maxBodyBytes)`,
        );
      throw new AppError('Invalid', 'the body is not valid gzip (Content-Encoding: gzip)');
    }
  }
  if (encoding !== 'identity')
    throw new AppError(
      'UnsupportedMediaType',
      `Content-Encoding ${JSON.stringify(input.contentEncoding)} is not accepted: send gzip or no encoding`,
    );
  return input.body;
}

/**
 * The body read and matched against the plan: protobuf through the receiver's own walk of the
 * wire format (wire.ts), JSON through protobufjs's object conversion; throws 400 naming what is
 * wrong, never echoing the body.
 */
export function prepare(body: Buffer, encoding: OtlpEncoding, plan: OtlpPlan): PreparedExport {
  if (encoding === 'protobuf') {
    try {
      return prepareProtobuf(body, plan);
    } catch (error) {
      throw new AppError(
        'Invalid',
        `the body is not an OTLP ExportMetricsServiceRequest in protobuf (${oneLine(error)})`,
      );
    }
  }
  const decoded = decodeJsonBody(body);
  if (!decoded.ok) throw new AppError('Invalid', decoded.error);
  return prepareExport(decoded.request, plan);
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

function decodeJsonBody(body: Buffer) {
  return decodeJson(new TextDecoder('utf-8', { fatal: false }).decode(body));
}

/**
 * Adds the increments to the raw sums and returns the minutes to store: total, and good bounded by
 * total (good and total may come from different metrics, whose points arrive apart).
 */
async function addMinutes(
  db: Db,
  trx: Kysely<Database>,
  increments: readonly MinuteIncrement[],
  plan: OtlpPlan,
): Promise<MinuteBucket[]> {
  if (!increments.length) return [];
  // One statement of constant text, as for the states (see states.ts).
  const query =
    db.dialect === 'postgres'
      ? CompiledQuery.raw(ADD_MINUTES_POSTGRES, [
          increments.map((i) => i.storageKey),
          increments.map((i) => i.minuteMs),
          increments.map((i) => i.good),
          increments.map((i) => i.bad),
          increments.map((i) => i.total),
        ])
      : CompiledQuery.raw(ADD_MINUTES_SQLITE, [
          JSON.stringify(increments.map((i) => [i.storageKey, i.minuteMs, i.good, i.bad, i.total])),
        ]);
  const sums = (await trx.executeQuery(query)).rows as Array<{
    sli: string;
    minute_ts: number | string;
    good: number | string;
    bad: number | string;
    total: number | string;
  }>;
  const buckets: MinuteBucket[] = [];
  for (const row of sums) {
    const total = Number(row.total);
    const good = plan.badStreams.has(row.sli)
      ? Math.max(0, total - Math.min(Number(row.bad), total))
      : Math.min(Number(row.good), total);
    buckets.push({ storageKey: row.sli, minuteMs: Number(row.minute_ts), good, total });
  }
  return buckets.sort((a, b) =>
    a.storageKey < b.storageKey ? -1 : a.storageKey > b.storageKey ? 1 : a.minuteMs - b.minuteMs,
  );
}

const ADD_MINUTES_TAIL =
  'on conflict (sli, minute_ts) do update set good = otlp_minutes.good + excluded.good, ' +
  'bad = otlp_minutes.bad + excluded.bad, total = otlp_minutes.total + excluded.total ' +
  'returning sli, minute_ts, good, bad, total';
const ADD_MINUTES_SQLITE =
  'insert into otlp_minutes (sli, minute_ts, good, bad, total) ' +
  'select value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 from json_each(?) where true ' +
  ADD_MINUTES_TAIL;
const ADD_MINUTES_POSTGRES =
  'insert into otlp_minutes (sli, minute_ts, good, bad, total) ' +
  'select * from unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[]) ' +
  ADD_MINUTES_TAIL;

/** A deadlock or a serialization failure: gone at once, so retried here. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Another writer held the database past the wait (SQLite's busy_timeout, PostgreSQL's
 * lock_timeout): retrying here would hold the exporter past its own timeout, so the sender retries.
 */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '55P03' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY'));
}

/** The database unreachable: 503 for the sender to retry (platform/db/errors.ts). */
export const isUnreachable = isDatabaseUnreachable;

/**
 * Deadlocks are retried; a busy database, or a deadlock that persists, is 503 with Retry-After
 * (retryable in OTLP: the Collector sends the export again). Nothing of the export was committed.
 */
async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (isBusy(error))
        throw new AppError('Unavailable', 'the database is busy (another writer); retry the export later');
      // The driver's own message may name the host: it stays out of the answer.
      if (isUnreachable(error))
        throw new AppError('Unavailable', 'the database is unreachable; retry the export later');
      if (!isTransient(error)) throw error;
      if (attempt >= TRANSIENT_RETRIES)
        throw new AppError('Unavailable', 'the database is busy; retry the export later');
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}
