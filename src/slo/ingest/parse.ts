/**
 * Reading an ingestion batch (pure): a JSON array or NDJSON of count items
 * (`{ts, good, total}` / `{ts, bad, total}`) or raw values (`{ts, value}`, threshold SLIs only).
 * Every bad item becomes a problem naming its line; one bad item rejects the whole batch.
 */
import { DateTime } from 'luxon';
import { isoOrRaw } from '../../platform/dates.js';
import { AppError, type ProblemDetail } from '../../platform/errors.js';
import { MAX_COUNT_PER_MINUTE, MAX_COUNT_TEXT } from '../counts.js';
import type { SliRoute } from '../sli-routing.js';

/** More items than this in one batch answer 413: split the batch. */
export const MAX_ITEMS_PER_BATCH = 100_000;
/** Oldest accepted event, relative to now (longer than any SLO window Shinrai evaluates). */
export const MAX_PAST_MS = 400 * 86_400_000;
/** Newest accepted event, relative to now: allows for clock skew, not for scheduling the future. */
export const MAX_FUTURE_MS = 3_600_000;
/** A rejected batch names at most this many problems (the message still counts all of them). */
export const MAX_REPORTED_PROBLEMS = 100;

/** Counts for one time slice, already turned into good/total. */
export interface CountItem {
  readonly kind: 'counts';
  /** Where the item was in the batch (text line, or array position + 1), for later errors. */
  readonly line?: number | undefined;
  readonly tsMs: number;
  readonly good: number;
  readonly total: number;
}

/** One raw event (a latency, a size…) to classify against each threshold. */
export interface RawItem {
  readonly kind: 'raw';
  /** Where the item was in the batch (text line, or array position + 1), for later errors. */
  readonly line?: number | undefined;
  readonly tsMs: number;
  readonly value: number;
}

export type BatchItem = CountItem | RawItem;

/** What the batch is posted to: the parts of `SliRoute` the parser needs. */
export type IngestTarget = Pick<SliRoute, 'kind' | 'streams'> & { readonly name: string };

export interface ParseOptions {
  readonly nowMs: number;
  readonly maxItems?: number;
}

/** Bad input is data here; the service throws `error` (Invalid → 400, PayloadTooLarge → 413). */
export type ParseResult = { ok: true; items: BatchItem[] } | { ok: false; error: AppError };

const SHAPES =
  'an item is {"ts": …, "good": …, "total": …}, {"ts": …, "bad": …, "total": …} or {"ts": …, "value": …}';

/** Parses and validates a whole batch. Never throws for any body. */
export function parseBatch(body: string, target: IngestTarget, options: ParseOptions): ParseResult {
  const maxItems = options.maxItems ?? MAX_ITEMS_PER_BATCH;
  const validator = new ItemValidator(target, options.nowMs);
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  const items: BatchItem[] = [];
  const tooMany = (count: number) =>
    failure(
      new AppError(
        'PayloadTooLarge',
        `the batch has ${count} items; at most ${maxItems} are accepted per batch: split it`,
        [{ field: 'body', message: `more than ${maxItems} items` }],
      ),
    );

  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      const reason = jsonErrorText(error, text);
      return failure(
        new AppError('Invalid', `the body is not a valid JSON array: ${reason}`, [
          { field: 'body', message: `not valid JSON: ${reason}` },
        ]),
      );
    }
    const array = parsed as unknown[];
    if (array.length > maxItems) return tooMany(array.length);
    for (let i = 0; i < array.length; i++) validator.accept(array[i], i + 1, items);
  } else {
    let count = 0;
    forEachLine(text, (start, end) => {
      if (!isBlank(text, start, end)) count++;
    });
    if (count > maxItems) return tooMany(count);
    let line = 0;
    forEachLine(text, (start, end) => {
      line++;
      if (isBlank(text, start, end)) return;
      const lineText = text.slice(start, end);
      let value: unknown;
      try {
        value = JSON.parse(lineText);
      } catch (error) {
        validator.reject(line, `not JSON: ${jsonErrorText(error, lineText)}`);
        return;
      }
      validator.accept(value, line, items);
    });
  }

  if (validator.badItems === 0) return { ok: true, items };
  const total = validator.items;
  const first = validator.problems[0]!;
  return failure(
    new AppError(
      'Invalid',
      `${validator.badItems} of ${total} items ${validator.badItems === 1 ? 'is' : 'are'} invalid, so nothing was stored ` +
        `(first: line ${first.line}: ${first.message})` +
        (validator.badItems > validator.problems.length
          ? `; the first ${validator.problems.length} problems are listed`
          : ''),
      validator.problems,
    ),
  );
}

function failure(error: AppError): ParseResult {
  return { ok: false, error };
}

/** Calls `fn` with the bounds of each line, without the line break (`\n` or `\r\n`). */
function forEachLine(text: string, fn: (start: number, end: number) => void): void {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    fn(start, end);
    start = next;
  }
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

function jsonErrorText(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  // V8 reports a character position; a line and column are what an editor shows.
  const position = /at position (\d+)/.exec(message);
  if (!position) return message;
  const at = Number(position[1]);
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return `${message} (line ${line} column ${column})`;
}

/** Validates items one by one, collecting located problems. */
class ItemValidator {
  readonly problems: ProblemDetail[] = [];
  items = 0;
  badItems = 0;
  private readonly minTsMs: number;
  private readonly maxTsMs: number;
  /** Why raw values can't be used for this target, or undefined when they can. */
  private readonly rawRefusal: string | undefined;
  /** Why counts can't be used for this target, or undefined when they can. */
  private readonly countsRefusal: string | undefined;
  /** Sum of the count items' totals per minute so far. */
  private readonly minuteTotals = new Map<number, number>();

  constructor(target: IngestTarget, nowMs: number) {
    this.minTsMs = nowMs - MAX_PAST_MS;
    this.maxTsMs = nowMs + MAX_FUTURE_MS;
    const name = JSON.stringify(target.name);
    if (target.kind !== 'threshold')
      this.rawRefusal = `raw values are for threshold SLIs; ${name} is a ${target.kind} SLI: send {"ts": …, "good": …, "total": …} or {"ts": …, "bad": …, "total": …}`;
    else if (target.streams.some((s) => s.threshold === undefined))
      this.rawRefusal = `${name} has an objective without "op" and "value", so a raw value can't be classified: send counts`;
    if (target.kind === 'threshold' && target.streams.length !== 1)
      this.countsRefusal = `counts can't be split across the ${target.streams.length} thresholds of ${name} (${target.streams
        .map((s) => (s.threshold ? `${s.threshold.op} ${s.threshold.value}` : '?'))
        .join(', ')}): send raw values {"ts": …, "value": …}`;
  }

  reject(line: number, message: string, field?: string): void {
    this.items++;
    this.badItems++;
    if (this.problems.length < MAX_REPORTED_PROBLEMS)
      this.problems.push(field === undefined ? { line, message } : { line, field, message });
  }

  accept(value: unknown, line: number, out: BatchItem[]): void {
    const item = this.check(value, line);
    if (typeof item === 'string') {
      this.reject(line, item);
      return;
    }
    if ('problem' in item) {
      this.reject(line, item.problem, item.field);
      return;
    }
    this.items++;
    // Once the batch is rejected, later good items are only counted.
    if (this.badItems === 0) out.push(item);
  }

  /** The item, or what is wrong with it (with the field, when one field is). */
  private check(value: unknown, line: number): BatchItem | string | { field: string; problem: string } {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return `expected an object, got ${describe(value)}: ${SHAPES}`;
    const o = value as Record<string, unknown>;
    for (const key in o) {
      if (key !== 'ts' && key !== 'good' && key !== 'bad' && key !== 'total' && key !== 'value')
        return `unknown field ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}: ${SHAPES}`;
    }
    const tsMs = this.timestamp(o.ts);
    if (typeof tsMs === 'string') return tsMs;

    if (o.value !== undefined) {
      if (o.good !== undefined || o.bad !== undefined || o.total !== undefined)
        return 'give either "value" (one raw event) or counts ("good" or "bad" with "total"), not both';
      if (this.rawRefusal) return this.rawRefusal;
      if (typeof o.value !== 'number' || !Number.isFinite(o.value))
        return `"value" must be a finite number (e.g. a latency in the SLI's unit), got ${describe(o.value)}`;
      return { kind: 'raw', line, tsMs, value: o.value };
    }

    if (this.countsRefusal) return this.countsRefusal;
    const total = count(o.total, 'total');
    if (typeof total !== 'number') return total;
    if ((o.good === undefined) === (o.bad === undefined))
      return o.good === undefined
        ? `give "good" or "bad" with "total" (or "value" for a raw event): ${SHAPES}`
        : 'give "good" or "bad", not both';
    const field = o.good !== undefined ? 'good' : 'bad';
    const numerator = count(o[field], field);
    if (typeof numerator !== 'number') return numerator;
    if (numerator > total) return `"${field}" (${numerator}) is more than "total" (${total})`;
    // The batch's items of one minute are stored as one sum: it is bounded like one item.
    const minuteMs = Math.floor(tsMs / 60_000) * 60_000;
    const minuteTotal = (this.minuteTotals.get(minuteMs) ?? 0) + total;
    if (minuteTotal > MAX_COUNT_PER_MINUTE)
      return {
        field: 'total',
        problem: `"total": the items of minute ${iso(minuteMs)} add up to ${minuteTotal} events; at most ${MAX_COUNT_TEXT} are accepted per minute`,
      };
    this.minuteTotals.set(minuteMs, minuteTotal);
    return { kind: 'counts', line, tsMs, good: field === 'good' ? numerator : total - numerator, total };
  }

  private timestamp(ts: unknown): number | string {
    let ms: number | undefined;
    if (ts === undefined)
      return '"ts" is missing: give an ISO 8601 time (e.g. "2026-11-23T09:30:00Z") or epoch milliseconds';
    if (typeof ts === 'number') {
      if (!Number.isFinite(ts))
        return `"ts" must be a finite number of epoch milliseconds, got ${describe(ts)}`;
      ms = Math.floor(ts);
    } else if (typeof ts === 'string') {
      ms = parseIsoMs(ts);
      if (ms === undefined)
        return /^\d{9,}$/.test(ts)
          ? `"ts" ${describe(ts)}: send epoch milliseconds as a JSON number, not a string`
          : `"ts" ${describe(ts)} is not an ISO 8601 time (e.g. "2026-11-23T09:30:00Z"; no offset means UTC)`;
    } else {
      return `"ts" must be an ISO 8601 string or epoch milliseconds, got ${describe(ts)}`;
    }
    if (ms < this.minTsMs) {
      const hint =
        typeof ts === 'number' && ts * 1000 >= this.minTsMs && ts * 1000 <= this.maxTsMs
          ? ' (it looks like epoch seconds: send milliseconds)'
          : '';
      return `"ts" ${isoOrRaw(ms)} is more than 400 days in the past (the oldest accepted is ${iso(this.minTsMs)})${hint}`;
    }
    if (ms > this.maxTsMs)
      return `"ts" ${isoOrRaw(ms)} is more than 1 hour in the future (the newest accepted is ${iso(this.maxTsMs)}; is the sender's clock right?)`;
    return ms;
  }
}

function count(value: unknown, field: string): number | { field: string; problem: string } {
  const problem = (text: string) => ({ field, problem: `"${field}" ${text}` });
  if (value === undefined) return problem('is missing');
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    return problem(`must be a finite number ≥ 0, got ${describe(value)}`);
  // Bounded so that sums stay finite: two 1.7e308 items would store Infinity.
  if (value > MAX_COUNT_PER_MINUTE)
    return problem(`is ${value}; at most ${MAX_COUNT_TEXT} events are accepted per item (and per minute)`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'a number too large';
  return String(value);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * ISO 8601 to epoch milliseconds; a time without an offset is UTC. The common RFC 3339 shape is
 * parsed by hand (Luxon costs microseconds per call, which matters at 10⁵ events a second); other
 * ISO forms (basic, week or ordinal dates) go to Luxon. Returns undefined when not ISO 8601.
 */
export function parseIsoMs(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    const hour = m[4] === undefined ? 0 : Number(m[4]);
    const minute = m[5] === undefined ? 0 : Number(m[5]);
    const second = m[6] === undefined ? 0 : Number(m[6]);
    const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
    const offsetMin = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
    if (
      year >= 100 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= daysInMonth(year, month) &&
      hour <= 23 &&
      minute <= 59 &&
      second <= 59 &&
      (m[9] === undefined || (Number(m[10]) <= 23 && Number(m[11]) <= 59))
    )
      return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
  }
  // A leading year keeps Luxon from reading "10:00" as today (the result would depend on the clock).
  if (!/^(\d{4}|[+-]\d{6})/.test(text) || text.length > 64) return undefined;
  const parsed = DateTime.fromISO(text, { zone: 'utc', setZone: true });
  return parsed.isValid ? parsed.toMillis() : undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
