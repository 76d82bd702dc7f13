/**
 * Silences (pure parts and storage): label matchers and a time range. A silenced alert still moves
 * through its lifecycle and shows in the API, but sends no notification while silenced.
 * Matchers work as in Alertmanager: `value` equal, or with `regex: true` an RE2 regular expression
 * anchored as `^(?:value)$`. RE2 (the re2js port) matches in time linear in the label's length,
 * whatever the pattern: a silence written by any editor is evaluated on every alert transition
 * and every GET /api/v1/alerts, so a backtracking engine would let one pattern stall the server.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { RE2JS } from 're2js';
import type { Database } from '../platform/db/index.js';

export interface Matcher {
  readonly label: string;
  readonly value: string;
  readonly regex?: boolean | undefined;
}

export interface Silence {
  readonly id: string;
  readonly matchers: readonly Matcher[];
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly comment: string;
  readonly createdBy: string;
  readonly createdAtMs: number;
}

/** Longest regular expression a matcher may carry (Alertmanager has no limit; a bound keeps compiling cheap). */
export const MAX_MATCHER_REGEX_CHARS = 1024;

type Compiled = { readonly ok: true; readonly regex: RE2JS } | { readonly ok: false; readonly error: string };

// Compiled patterns by source: alerts are matched against the same few silences on every tick.
const compiledCache = new Map<string, Compiled>();
const COMPILED_CACHE_ENTRIES = 1000;

/** Compiles a matcher's pattern with RE2 semantics, anchored like Alertmanager; never throws. */
export function compileMatcherRegex(value: string): Compiled {
  const cached = compiledCache.get(value);
  if (cached) return cached;
  let compiled: Compiled;
  if (value.length > MAX_MATCHER_REGEX_CHARS)
    compiled = { ok: false, error: `is longer than ${MAX_MATCHER_REGEX_CHARS} characters` };
  else
    try {
      // The pattern alone must be valid, so `a)|(b` cannot escape the anchors added below.
      RE2JS.compile(value);
      compiled = { ok: true, regex: RE2JS.compile(`^(?:${value})$`) };
    } catch (error) {
      compiled = { ok: false, error: (error as Error).message };
    }
  if (compiledCache.size >= COMPILED_CACHE_ENTRIES) compiledCache.clear();
  compiledCache.set(value, compiled);
  return compiled;
}

/** Why a matcher's regular expression is unusable, or undefined. */
export function regexProblem(value: string): string | undefined {
  const compiled = compileMatcherRegex(value);
  return compiled.ok ? undefined : compiled.error;
}

export function matches(silence: Silence, labels: Readonly<Record<string, string>>, atMs: number): boolean {
  if (atMs < silence.startsAtMs || atMs >= silence.endsAtMs) return false;
  return silence.matchers.every((m) => {
    const actual = labels[m.label] ?? '';
    if (!m.regex) return actual === m.value;
    // A pattern stored before RE2 (a JavaScript-only construct) silences nothing rather than throw.
    const compiled = compileMatcherRegex(m.value);
    return compiled.ok && compiled.regex.matches(actual);
  });
}

/** The ids of the silences that silence these labels now. */
export function silencedBy(
  silences: readonly Silence[],
  labels: Readonly<Record<string, string>>,
  atMs: number,
): string[] {
  return silences.filter((s) => matches(s, labels, atMs)).map((s) => s.id);
}

export async function createSilence(
  db: Kysely<Database>,
  input: Omit<Silence, 'id' | 'createdAtMs'>,
  nowMs: number,
): Promise<Silence> {
  const silence: Silence = { ...input, id: randomUUID(), createdAtMs: nowMs };
  await db
    .insertInto('silences')
    .values({
      id: silence.id,
      matchers: JSON.stringify(silence.matchers),
      starts_at: silence.startsAtMs,
      ends_at: silence.endsAtMs,
      comment: silence.comment,
      created_by: silence.createdBy,
      created_at: nowMs,
    })
    .execute();
  return silence;
}

/** Silences that have not ended by `nowMs` (current and future ones). */
export async function readSilences(db: Kysely<Database>, nowMs: number): Promise<Silence[]> {
  const rows = await db
    .selectFrom('silences')
    .selectAll()
    .where('ends_at', '>', nowMs)
    .orderBy('starts_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    matchers: JSON.parse(r.matchers) as Matcher[],
    startsAtMs: Number(r.starts_at),
    endsAtMs: Number(r.ends_at),
    comment: r.comment,
    createdBy: r.created_by,
    createdAtMs: Number(r.created_at),
  }));
}

/** Ends a silence now; false when there is no current silence with that id. */
export async function expireSilence(db: Kysely<Database>, id: string, nowMs: number): Promise<boolean> {
  const result = await db
    .updateTable('silences')
    .set({ ends_at: nowMs })
    .where('id', '=', id)
    .where('ends_at', '>', nowMs)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
