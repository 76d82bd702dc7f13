/**
 * Offline SLI data for `shinrai budget`: NDJSON or CSV lines of counts per time slice,
 * `{"sli": "<SLO or SLI name>", "ts": "<ISO time>", "good": n, "total": n}` (or `bad`).
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { isoOrRaw, isRepresentableMs } from '../platform/dates.js';
import { MAX_COUNT_PER_MINUTE, MAX_COUNT_TEXT } from './counts.js';

export interface CountRow {
  readonly sli: string;
  /** Start of the slice, epoch milliseconds. */
  readonly tsMs: number;
  readonly good: number;
  readonly total: number;
}

export interface DataProblem {
  readonly line: number;
  readonly message: string;
}

export type DataParse = { ok: true; rows: CountRow[] } | { ok: false; problems: DataProblem[] };

// Bounded like ingestion, so sums stay finite (two 1.7e308 rows would make ∞ and NaN figures).
const count = z
  .number()
  .finite()
  .nonnegative()
  .max(MAX_COUNT_PER_MINUTE, `at most ${MAX_COUNT_TEXT} events are accepted per row (and per minute)`);

const rowSchema = z
  .object({
    sli: z.string().min(1),
    ts: z.union([z.string(), z.number()]),
    good: count.optional(),
    bad: count.optional(),
    total: count,
  })
  .superRefine((row, ctx) => {
    if ((row.good === undefined) === (row.bad === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of "good" or "bad"' });
    const numerator = row.good ?? row.bad;
    if (numerator !== undefined && numerator > row.total)
      ctx.addIssue({
        code: 'custom',
        message: `"${row.good !== undefined ? 'good' : 'bad'}" (${numerator}) is more than "total" (${row.total})`,
      });
  });

/** Parses a data file; `format` defaults from the text (a leading `{` means NDJSON). */
export function parseDataFile(text: string, format?: 'ndjson' | 'csv'): DataParse {
  const kind = format ?? (text.trimStart().startsWith('{') ? 'ndjson' : 'csv');
  const problems: DataProblem[] = [];
  const rows: CountRow[] = [];
  /** Sum of `total` per SLI name and minute: rows of one minute are added up, so they are bounded together. */
  const minuteTotals = new Map<string, number>();
  const accept = (raw: unknown, line: number) => {
    const parsed = rowSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length ? `"${issue.path.join('.')}": ` : '';
      problems.push({ line, message: `${field}${issue.message}` });
      return;
    }
    const tsMs = parseTimestamp(parsed.data.ts);
    if (tsMs === undefined) {
      problems.push({
        line,
        message: `"ts": ${JSON.stringify(parsed.data.ts)} is not an ISO 8601 time or epoch milliseconds`,
      });
      return;
    }
    const { sli, good, bad, total } = parsed.data;
    const minuteMs = Math.floor(tsMs / 60_000) * 60_000;
    const key = `${sli}\u0000${minuteMs}`;
    const minuteTotal = (minuteTotals.get(key) ?? 0) + total;
    if (minuteTotal > MAX_COUNT_PER_MINUTE) {
      problems.push({
        line,
        message: `"total": the rows of ${JSON.stringify(sli)} for minute ${isoOrRaw(minuteMs)} add up to ${minuteTotal} events; at most ${MAX_COUNT_TEXT} per minute`,
      });
      return;
    }
    minuteTotals.set(key, minuteTotal);
    rows.push({ sli, tsMs, total, good: good ?? total - (bad ?? 0) });
  };

  if (kind === 'ndjson') {
    text.split('\n').forEach((lineText, index) => {
      if (!lineText.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(lineText);
      } catch (error) {
        problems.push({ line: index + 1, message: `not JSON: ${(error as Error).message}` });
        return;
      }
      accept(value, index + 1);
    });
  } else {
    let records: Array<{ record: Record<string, string>; line: number }>;
    try {
      records = (
        parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, info: true }) as Array<{
          record: Record<string, string>;
          info: { lines: number };
        }>
      ).map((r) => ({ record: r.record, line: r.info.lines }));
    } catch (error) {
      return { ok: false, problems: [{ line: 1, message: `not CSV: ${(error as Error).message}` }] };
    }
    for (const { record, line } of records) {
      const numeric = (key: string) =>
        record[key] === undefined || record[key] === '' ? undefined : Number(record[key]);
      accept(
        {
          sli: record.sli,
          ts: record.ts,
          good: numeric('good'),
          bad: numeric('bad'),
          total: numeric('total'),
        },
        line,
      );
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, rows };
}

function parseTimestamp(ts: string | number): number | undefined {
  if (typeof ts === 'number') return isRepresentableMs(ts) ? ts : undefined;
  // A time without an offset is read as UTC, so files mean the same on every machine.
  const parsed = DateTime.fromISO(ts, { zone: 'utc', setZone: true });
  return parsed.isValid ? parsed.toMillis() : undefined;
}
