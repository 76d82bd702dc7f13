/**
 * OTLP series states on the database, with an in-memory copy (I/O): the table `otlp_series` stays
 * the durable copy, written in the export's transaction; the copy saves reading it back on every
 * export. The copy is trusted only while the database says nobody else wrote since: every
 * transaction that writes states also writes a generation (this process' id and a counter) in the
 * reserved row GENERATION_KEY and reads it first, under the writers' lock. Another replica's write,
 * a rolled-back transaction (its generation never committed) or rows deleted by hand all leave a
 * generation this process did not expect, and the copy is dropped before anything is read from it.
 */
import { randomUUID } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database, Db } from '../../../platform/db/index.js';
import type { SeriesState } from './core.js';

/** The reserved row of the generation: `~` never appears in a series key (base64url). */
export const GENERATION_KEY = '~generation';
const CHUNK = 500;
/** Most states kept in memory per database; past it the copy starts over (they are re-read). */
const CACHE_LIMIT = 250_000;

interface Cache {
  /** The generation this process last wrote, or read and trusted; undefined: trust nothing. */
  generation: string | undefined;
  readonly states: Map<string, SeriesState>;
  readonly writer: string;
  counter: number;
}

const caches = new WeakMap<Db, Cache>();

function cacheOf(db: Db): Cache {
  let cache = caches.get(db);
  if (!cache) {
    cache = { generation: undefined, states: new Map(), writer: randomUUID(), counter: 0 };
    caches.set(db, cache);
  }
  return cache;
}

/**
 * The states of the keys, inside the writers' transaction (after the lock): from memory when the
 * stored generation is the one this process expects; the rest (and all, when it is not) from the
 * table, kept in memory as rows of that generation.
 */
export async function loadStates(
  db: Db,
  trx: Kysely<Database>,
  keys: readonly string[],
): Promise<ReadonlyMap<string, SeriesState>> {
  const cache = cacheOf(db);
  const row = await trx
    .selectFrom('otlp_series')
    .select('state')
    .where('series_key', '=', GENERATION_KEY)
    .executeTakeFirst();
  const stored = row?.state ?? '';
  if (stored !== cache.generation) {
    cache.states.clear();
    cache.generation = stored;
  }
  const missing = keys.filter((k) => !cache.states.has(k));
  if (cache.states.size + missing.length > CACHE_LIMIT) cache.states.clear();
  for (let i = 0; i < missing.length; i += CHUNK) {
    const rows = await trx
      .selectFrom('otlp_series')
      .select(['series_key', 'state'])
      .where('series_key', 'in', missing.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) cache.states.set(r.series_key, decodeState(r.state));
  }
  return cache.states;
}

/**
 * Writes the changed states and a new generation in the transaction, and puts them in memory as
 * that generation: if the transaction does not commit, the stored generation stays the old one,
 * the next export sees the difference and drops the copy.
 */
export async function saveStates(
  db: Db,
  trx: Kysely<Database>,
  states: ReadonlyMap<string, SeriesState>,
  nowMs: number,
): Promise<void> {
  const cache = cacheOf(db);
  if (!states.size) return;
  const generation = `${cache.writer}:${++cache.counter}`;
  // All rows in one statement of constant text (prepared once by the database, whatever the
  // count): the keys and states travel as one JSON object (SQLite's json_each) or two arrays
  // (PostgreSQL's unnest) instead of three placeholders per row.
  if (db.dialect === 'postgres') {
    const keys: string[] = [GENERATION_KEY];
    const texts: string[] = [generation];
    for (const [key, state] of states) {
      keys.push(key);
      texts.push(encodeState(state));
    }
    await trx.executeQuery(CompiledQuery.raw(UPSERT_POSTGRES, [keys, texts, nowMs]));
  } else {
    // Keys are base64url: nothing to escape. The states go in as JSON objects, not quoted text:
    // json_each gives an object member's value as its text, which SQLite keeps as written (the
    // numbers' text included; the states hold no string escapes or white space to normalise).
    let json = `{${JSON.stringify(GENERATION_KEY)}:${JSON.stringify(generation)}`;
    for (const [key, state] of states) json += `,"${key}":${encodeState(state)}`;
    await trx.executeQuery(CompiledQuery.raw(UPSERT_SQLITE, [nowMs, `${json}}`]));
  }
  // Before the commit, but as the new generation: memory is trusted only once that one is stored.
  cache.generation = generation;
  for (const [key, state] of states) cache.states.set(key, state);
}

const ON_CONFLICT =
  'on conflict (series_key) do update set state = excluded.state, updated_at = excluded.updated_at';
// "where true": SQLite reads an upsert's select unambiguously only with a where clause.
const UPSERT_SQLITE = `insert into otlp_series (series_key, state, updated_at) select key, value, ? from json_each(?) where true ${ON_CONFLICT}`;
const UPSERT_POSTGRES = `insert into otlp_series (series_key, state, updated_at) select k, s, $3 from unnest($1::text[], $2::text[]) as t(k, s) ${ON_CONFLICT}`;

/** Text of shared bounds arrays (one per histogram layout in a protobuf export). */
const boundsTexts = new WeakMap<readonly number[], string>();

function boundsText(bounds: readonly number[]): string {
  let text = boundsTexts.get(bounds);
  if (text === undefined) {
    text = bounds.join(',');
    boundsTexts.set(bounds, text);
  }
  return text;
}

/**
 * A state as stored: the JSON text every version of the receiver writes and reads (so replicas of
 * different versions share the table during an upgrade), made without JSON.stringify: byte for
 * byte what JSON.stringify gives for the state with its times as decimal text (numbers are
 * finite, and String() and JSON write them alike), with a histogram's bounds text made once per
 * shared bounds array.
 */
export function encodeState(s: SeriesState): string {
  let text = `{"temporality":"${s.temporality}","startNs":"${s.startNs}","timeNs":"${s.timeNs}","value":${JSON.stringify(s.value)}`;
  if (s.buckets !== undefined) text += `,"buckets":[${s.buckets.join(',')}]`;
  if (s.bounds !== undefined) text += `,"bounds":[${boundsText(s.bounds)}]`;
  return `${text}}`;
}

export function decodeState(text: string): SeriesState {
  const json = JSON.parse(text) as Omit<SeriesState, 'startNs' | 'timeNs'> & {
    startNs: string;
    timeNs: string;
  };
  return { ...json, startNs: BigInt(json.startNs), timeNs: BigInt(json.timeNs) };
}
