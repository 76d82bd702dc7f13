/**
 * Silences (pure parts and storage): label matchers and a time range. A silenced alert still moves
 * through its lifecycle and shows in the API, but sends no notification while silenced.
 * Matchers work as in Alertmanager: `value` equal, or with `regex: true` a fully anchored RE2-like
 * JavaScript regular expression.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../platform/db/schema.js';

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

/** Why a matcher's regular expression is unusable, or undefined. */
export function regexProblem(value: string): string | undefined {
  try {
    new RegExp(`^(?:${value})$`);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function matches(silence: Silence, labels: Readonly<Record<string, string>>, atMs: number): boolean {
  if (atMs < silence.startsAtMs || atMs >= silence.endsAtMs) return false;
  return silence.matchers.every((m) => {
    const actual = labels[m.label] ?? '';
    return m.regex ? new RegExp(`^(?:${m.value})$`).test(actual) : actual === m.value;
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
