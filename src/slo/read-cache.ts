/**
 * The read caches of the SLO list and of SLO history (docs/api.md#caching). The list's answers
 * change once per evaluator tick or spec reload, so each is built, serialised and compressed once
 * per change and then served as bytes. An entry is keyed by the spec catalog (object identity: a
 * reload makes a new one), the stored statuses' version read from the database (so every replica,
 * leader or not, sees a tick the moment it commits) and which statuses are stale now (that flips
 * with the clock alone). A history answer changes only when a point of its range is written or
 * thinned out; `AnswerCache` keeps such answers by key and version, least recently used out first.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import { EncodedBody, sendEncoded } from '../platform/http/index.js';
import type { StoredStatus } from './evaluator/read.js';
import type { Catalog } from './model.js';

/**
 * A fingerprint of `slo_status` that changes with every committed tick: row count, newest
 * evaluation, a checksum of every row's evaluation time (a tick that writes only some rows, or
 * rows at an instant already seen, still changes it) and the stored bytes (a status that starts
 * failing keeps its evaluation time but gains an error). One aggregate over the table.
 */
export async function statusesVersion(db: Db): Promise<string> {
  const row = await db.kysely
    .selectFrom('slo_status')
    .select((eb) => [
      eb.fn.countAll().as('n'),
      eb.fn.max('evaluated_at').as('newest'),
      // Modulo a day, so the sum stays an exact integer in JavaScript for millions of rows.
      eb.fn.sum(eb('evaluated_at', '%', 86_400_000)).as('times'),
      // Bytes, not characters: PostgreSQL and SQLite read the stored length without scanning.
      eb.fn.sum(eb.fn('octet_length', ['status'])).as('bytes'),
    ])
    .executeTakeFirst();
  return `${row?.n ?? 0}:${row?.newest ?? ''}:${row?.times ?? ''}:${row?.bytes ?? ''}`;
}

/**
 * A fingerprint of the stored history points of `id` with `fromMs ≤ ts ≤ toMs`: count, newest,
 * and the sum of every point's time (as whole days plus the remainder, each an exact integer).
 * History rows are only ever inserted (a point, once stored, is kept as it is) or deleted
 * (retention thinning old ones), so any change to the range changes it. One aggregate over the
 * primary key's range, which covers it. `historyFingerprint` computes the same text from times.
 */
export async function historyVersion(db: Db, id: string, fromMs: number, toMs: number): Promise<string> {
  const row = await db.kysely
    .selectFrom('slo_history')
    .select((eb) => [
      eb.fn.countAll().as('n'),
      eb.fn.max('ts').as('newest'),
      // Literals, so both databases divide integers (a bound parameter may be a float in SQLite).
      eb.fn.sum(sql<number>`ts / ${sql.lit(DAY_MS)}`).as('days'),
      eb.fn.sum(sql<number>`ts % ${sql.lit(DAY_MS)}`).as('rest'),
    ])
    .where('slo_id', '=', id)
    .where('ts', '>=', fromMs)
    .where('ts', '<=', toMs)
    .executeTakeFirst();
  // PostgreSQL answers the count and sums as text, SQLite as numbers: the same digits either way.
  const n = Number(row?.n ?? 0);
  return fingerprintText(n, Number(row?.newest), Number(row?.days), Number(row?.rest));
}

/** `historyVersion`'s fingerprint of the stored rows at these times (ascending). */
export function historyFingerprint(times: ArrayLike<number>): string {
  let days = 0;
  let rest = 0;
  for (let i = 0; i < times.length; i++) {
    const ts = times[i]!;
    days += Math.floor(ts / DAY_MS);
    rest += ts % DAY_MS;
  }
  return fingerprintText(times.length, times[times.length - 1] ?? Number.NaN, days, rest);
}

function fingerprintText(n: number, newest: number, days: number, rest: number): string {
  return n === 0 ? '0:::' : `${n}:${newest}:${days}:${rest}`;
}

const DAY_MS = 86_400_000;

/**
 * What `AnswerCache` holds at most by default: the 30-day charts (5-minute steps, ~3.4 MB each
 * with their br body) of about 55 SLOs. At 64 MiB (20 of them) 50 SLO pages read in turn
 * evicted each other and most reads built their answer (bench/README.md, soak.bench.ts).
 */
export const ANSWER_CACHE_BYTES = 192 * 2 ** 20;

interface CachedAnswer {
  readonly version: string;
  readonly body: Promise<EncodedBody>;
  /** Set once built: the body, for counting its bytes. */
  built?: EncodedBody;
}

/**
 * Built answers by key (e.g. SLO, range and step), each valid for one version of what it was built
 * from: a request with the same key and version gets the same bytes, a new version builds again.
 * Bounded by bytes (the JSON and the compressed forms made of it), least recently used out first;
 * an answer larger than the bound is served but not kept.
 */
export class AnswerCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private builds = 0;

  constructor(private readonly maxBytes: number = ANSWER_CACHE_BYTES) {}

  /** How many answers were built (cache misses): for tests and the bench. */
  get misses(): number {
    return this.builds;
  }

  /** Bytes held by the answers built so far. */
  get bytes(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.built?.storedBytes ?? 0;
    return total;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The answer for `key` at `version`, built by `build` (JSON-ready, or already an `EncodedBody`)
   * unless already held; `build` gets the answer held for `key` at another version, if any.
   */
  get(
    key: string,
    version: string,
    build: (previous: EncodedBody | undefined) => Promise<unknown>,
  ): Promise<EncodedBody> {
    const held = this.entries.get(key);
    if (held && held.version === version) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, held);
      return held.body;
    }
    this.builds++;
    const body = build(held?.built).then((answer) =>
      answer instanceof EncodedBody ? answer : new EncodedBody(JSON.stringify(answer)),
    );
    const entry: CachedAnswer = { version, body };
    this.entries.delete(key);
    this.entries.set(key, entry);
    body.then(
      (built) => {
        entry.built = built;
        this.trim();
      },
      // A failure is not kept: the next request builds again.
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return body;
  }

  /** Answers the request from the cache (see `get`), then keeps the held bytes within the bound. */
  async send(
    request: FastifyRequest,
    reply: FastifyReply,
    key: string,
    version: string,
    build: (previous: EncodedBody | undefined) => Promise<unknown>,
  ): Promise<FastifyReply> {
    const sent = await sendEncoded(request, reply, await this.get(key, version, build));
    // The compressed form just made counts now.
    this.trim();
    return sent;
  }

  private trim(): void {
    let total = this.bytes;
    for (const [key, entry] of this.entries) {
      if (total <= this.maxBytes) break;
      // Answers still being built hold nothing yet, and their requests wait on them.
      if (!entry.built) continue;
      total -= entry.built.storedBytes;
      this.entries.delete(key);
    }
  }
}

/** Most answer variants (filters, sort) kept per version; beyond it, the oldest is dropped. */
const MAX_VARIANTS = 32;

interface Entry {
  readonly catalog: Catalog;
  readonly version: string;
  readonly statuses: ReadonlyMap<string, StoredStatus>;
  /** Distinct `evaluatedAt` of the statuses, and whether each was stale when built. */
  readonly staleness: ReadonlyMap<string, boolean>;
  readonly variants: Map<string, Promise<EncodedBody>>;
}

export interface ReadCacheDeps {
  readonly catalog: () => Catalog;
  readonly version: () => Promise<string>;
  readonly statuses: () => Promise<ReadonlyMap<string, StoredStatus>>;
  readonly isStale: (evaluatedAt: string) => boolean;
}

/** Built answers for the current (catalog, statuses version, staleness); older ones are dropped. */
export class SloReadCache {
  private entry: Promise<Entry> | undefined;
  private builds = 0;

  constructor(private readonly deps: ReadCacheDeps) {}

  /** How many answers were built (cache misses): for tests and the bench. */
  get misses(): number {
    return this.builds;
  }

  /**
   * The answer `variant` names, built by `build` from the catalog and statuses of the current
   * version unless already built for it. The version is read before the statuses, so a tick that
   * commits in between only makes the next request build again — never serves an old answer.
   */
  async get(
    variant: string,
    build: (catalog: Catalog, statuses: ReadonlyMap<string, StoredStatus>) => unknown,
    version?: Promise<string>,
  ): Promise<EncodedBody> {
    const entry = await this.current(version);
    let body = entry.variants.get(variant);
    if (!body) {
      this.builds++;
      body = Promise.resolve().then(
        () => new EncodedBody(JSON.stringify(build(entry.catalog, entry.statuses))),
      );
      body.catch(() => entry.variants.delete(variant));
      if (entry.variants.size >= MAX_VARIANTS) {
        const oldest = entry.variants.keys().next();
        if (!oldest.done) entry.variants.delete(oldest.value);
      }
      entry.variants.set(variant, body);
    }
    return body;
  }

  /** The statuses of the current version (shared with the answers built from them). */
  async statuses(): Promise<ReadonlyMap<string, StoredStatus>> {
    return (await this.current()).statuses;
  }

  /**
   * Starts reading the version now (e.g. while the request's token is checked) for a later `get`;
   * a failure surfaces there, not as an unhandled rejection.
   */
  readVersion(): Promise<string> {
    const version = this.deps.version();
    version.catch(() => {});
    return version;
  }

  private async current(started?: Promise<string>): Promise<Entry> {
    const catalog = this.deps.catalog();
    const version = await (started ?? this.deps.version());
    const pending = this.entry;
    if (pending) {
      const entry = await pending.catch(() => undefined);
      if (entry && entry.catalog === catalog && entry.version === version && this.sameStaleness(entry))
        return entry;
      // Another request may have started the next entry meanwhile.
      if (this.entry !== pending) return this.current();
    }
    const next = this.load(catalog, version);
    this.entry = next;
    next.catch(() => {
      if (this.entry === next) this.entry = undefined;
    });
    return next;
  }

  private async load(catalog: Catalog, version: string): Promise<Entry> {
    const statuses = await this.deps.statuses();
    const staleness = new Map<string, boolean>();
    for (const status of statuses.values())
      if (!staleness.has(status.evaluatedAt))
        staleness.set(status.evaluatedAt, this.deps.isStale(status.evaluatedAt));
    return { catalog, version, statuses, staleness, variants: new Map() };
  }

  private sameStaleness(entry: Entry): boolean {
    for (const [evaluatedAt, stale] of entry.staleness)
      if (this.deps.isStale(evaluatedAt) !== stale) return false;
    return true;
  }
}
