/**
 * The pull loop, the same for every source (port.ts): on the evaluator's leader, every interval,
 * reads each pulled SLI's per-minute counts from its source and stores them in `sli_minutes`
 * (replacing, so re-reads are idempotent), where the evaluator picks them up like ingested data.
 * The first pull of an SLI loads the whole SLO period; later pulls read from the cursor (minus an
 * overlap for late samples) to the head. A cycle runs in waves of chunks that end at the same
 * minute, so SLIs with the same query — or queries a source answers together — share one range
 * query (fetches.ts), and chunks are stored in batches (store.ts). Failures are retried with
 * backoff, per query and per data source, and recorded so statuses say "no data since T" instead
 * of computing from a gap. docs/sources.md.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { ConnectionDetails, SecretSources } from '../../platform/connections.js';
import type { Db } from '../../platform/db/index.js';
import type { Egress } from '../../platform/egress.js';
import type { ShinraiMetrics } from '../../platform/metrics.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { DataState } from '../data-state.js';
import { replayStartMs } from '../evaluator/state.js';
import type { MinuteBucket } from '../ingest/aggregate.js';
import type { Catalog } from '../model.js';
import { ensureMinuteWeeks } from '../partitions.js';
import { type QueryResults, toBuckets } from './buckets.js';
import { connectSource } from './connect.js';
import { type Cursor, pruneCursors, readCursors, recordFailure } from './cursors.js';
import { type FetchNeed, SharedFetches } from './fetches.js';
import { type PulledSli, type PullPlan, planPulls, type QueryRole, queriesByRole } from './plan.js';
import { MINUTE_MS, type MinuteSeries, type SliSource, type SourceClient, SourceQueryError } from './port.js';
import { ChunkWriter } from './store.js';

export interface PullerConfig {
  /** Prometheus for metric sources without a `metricSourceRef` (Sloth specs): `prometheus.url`. */
  readonly defaultUrl?: string | undefined;
  readonly intervalSeconds: number;
  /** A minute is read once it is this old, so scrapes and rule evaluations have landed. */
  readonly delaySeconds: number;
  /** Minutes before the cursor that every pull reads again, for samples that arrive late. */
  readonly overlapMinutes: number;
  readonly timeoutSeconds: number;
  /** Range queries in flight at once, over all data sources. */
  readonly concurrency: number;
  /** Retries of one query after a transient failure (unreachable, timeout, 5xx). */
  readonly retries: number;
  /** First retry delay; doubles per retry (default 1). */
  readonly retryMinSeconds?: number | undefined;
  /** Longest wait before a data source that keeps failing is tried again (default 300). */
  readonly maxBackoffSeconds?: number | undefined;
  /** Minutes per query at most (default: each source's own limit, port.ts maxChunkMinutes). */
  readonly chunkMinutes?: number | undefined;
}

export interface PullerDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
  readonly specs: () => { readonly catalog: Catalog; readonly version: number };
  readonly config: PullerConfig;
  /** The sources that may be pulled (registry.ts SOURCES). */
  readonly sources: readonly SliSource[];
  /** Pull only where the evaluator leads, so replicas don't all query the sources. */
  readonly isLeader: () => boolean;
  readonly secrets?: SecretSources | undefined;
  /** `connections.<name>` of the configuration, which DataSources name with `connection: <name>`. */
  readonly connections?: Readonly<Record<string, ConnectionDetails>> | undefined;
  /** Every query goes through it (egress.allow). */
  readonly egress: Egress;
}

export interface PullSummary {
  readonly slis: number;
  readonly pulled: number;
  readonly failed: number;
  /** SLIs not tried this cycle because their data source is failing (backing off). */
  readonly skipped: number;
  readonly minutes: number;
  /** Queries sent: one shared by several SLIs, or answering a group of them, counts once; retries don't. */
  readonly queries: number;
}

/** A range of minutes one SLI reads in a cycle, in order; `older` extends its stored minutes back. */
export interface PullChunk {
  readonly fromMs: number;
  readonly toMs: number;
  readonly older: boolean;
}

/** A chunk read: the buckets to write (new or changed), all it read, and the cursor after it. */
interface PulledChunk {
  readonly pull: SliPull;
  readonly buckets: MinuteBucket[];
  readonly read: readonly MinuteBucket[];
  readonly cursor: Cursor;
}

/** One SLI's pull in the current cycle. */
interface SliPull {
  readonly item: PulledSli;
  readonly hash: string;
  readonly reader: SliSource;
  readonly client: SourceClient;
  readonly fresh: boolean;
  readonly chunks: readonly PullChunk[];
  /** The next chunk to read. */
  next: number;
  /** The cursor as stored after the last chunk written. */
  state: Cursor;
  failed: boolean;
  /** What this process last stored of the minutes this pull re-reads (see SliPuller.recent). */
  known: Map<string, readonly [good: number, total: number]> | undefined;
}

/** The stored values of re-read minutes, by storage key and minute. */
const minuteKey = (storageKey: string, minuteMs: number) => `${storageKey}\u0000${minuteMs}`;

interface SourceHealth {
  failedCycles: number;
  /** Don't query this source before this time (ms, clock). */
  retryAtMs: number;
}

export class SliPuller {
  private plan: {
    version: number;
    plan: PullPlan;
    slis: ReadonlySet<string>;
    /** planHash of each SLI, computed once per spec version. */
    hashes: ReadonlyMap<string, string>;
  } | null = null;
  private readonly clients = new Map<string, { key: string; client: Promise<SourceClient | Error> }>();
  private readonly health = new Map<string, SourceHealth>();
  /**
   * SLIs whose last pull failed in a way that does not fix itself (a refused query, credentials),
   * by SLI: asked again after a growing wait, not every cycle. A changed plan (hash) asks at once.
   */
  private readonly sliBackoff = new Map<string, SourceHealth & { readonly planHash: string }>();
  private readonly loop: PeriodicTask<PullSummary>;
  private stopping = false;
  private readonly byKind: ReadonlyMap<string, SliSource>;
  /**
   * Per SLI, the cursor this process last stored and the minutes it stored that the next pull
   * reads again (the overlap): re-read minutes whose counts did not change are not written again,
   * so a steady cycle writes each SLI's new minute, not six. Trusted only while the stored cursor
   * is still this one (another leader, or a reload, stores its own).
   */
  private readonly recent = new Map<
    string,
    { readonly cursor: Cursor; readonly minutes: Map<string, readonly [number, number]> }
  >();

  constructor(private readonly deps: PullerDeps) {
    const c = deps.config;
    if (!(c.intervalSeconds > 0)) throw new RangeError('intervalSeconds must be > 0');
    if (!(c.concurrency >= 1)) throw new RangeError('concurrency must be ≥ 1');
    this.byKind = new Map(deps.sources.map((s) => [s.kind, s]));
    this.loop = new PeriodicTask(() => this.runCycle(), {
      intervalMs: c.intervalSeconds * 1000,
      log: deps.log,
      failure: 'pull cycle failed',
    });
  }

  /** The SLIs pulled with the loaded specs (ingestion refuses pushes for them). */
  pulledSlis(): ReadonlySet<string> {
    this.currentPlan();
    return this.plan!.slis;
  }

  start(): void {
    this.stopping = false;
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
    for (const entry of this.clients.values()) {
      const client = await entry.client;
      if (!(client instanceof Error)) await client.close();
    }
    this.clients.clear();
  }

  /** One pull cycle (when leader). Never rejects; a call during a cycle returns that cycle. */
  cycle(): Promise<PullSummary | null> {
    return this.loop.runNow();
  }

  /**
   * Data state of every stored stream that is pulled, for the evaluator: current, still loading,
   * or without data since the cursor. `staleAfterMs` of lag past the delay is tolerated.
   */
  async dataStates(): Promise<Map<string, DataState>> {
    const plan = this.currentPlan();
    if (!plan.slis.length) return new Map();
    const cursors = await readCursors(this.deps.db.kysely);
    const nowMs = this.deps.clock.now();
    const c = this.deps.config;
    // Current = the cursor is within two intervals (plus a minute) of the head it would reach now.
    const toleranceMs = 2 * c.intervalSeconds * 1000 + MINUTE_MS;
    const headMs = floorMinute(nowMs - c.delaySeconds * 1000);
    const states = new Map<string, DataState>();
    for (const item of plan.slis) {
      const cursor = cursors.get(item.sli);
      const loaded =
        cursor !== undefined &&
        cursor.planHash === this.plan!.hashes.get(item.sli) &&
        cursor.syncedUntilMs > cursor.fromMs;
      const failing = (cursor?.failures ?? 0) > 0;
      const base = {
        source: `${item.kind}:${item.source}`,
        retrying: failing,
        failures: cursor?.failures ?? 0,
        lastError: failing ? (cursor?.lastError ?? undefined) : undefined,
      };
      const state: DataState = !loaded
        ? { ...base, state: failing ? 'no-data' : 'waiting' }
        : headMs - cursor.syncedUntilMs <= toleranceMs
          ? { ...base, state: 'ok' }
          : {
              ...base,
              state: failing ? 'no-data' : 'waiting',
              since: new Date(cursor.syncedUntilMs).toISOString(),
            };
      for (const stream of item.streams) states.set(stream.storageKey, state);
    }
    return states;
  }

  private currentPlan(): PullPlan {
    const { catalog, version } = this.deps.specs();
    if (this.plan?.version !== version) {
      const plan = planPulls(catalog, this.deps.sources, {
        defaultUrl: this.deps.config.defaultUrl !== undefined,
      });
      for (const { sli, message } of plan.problems) this.deps.log.warn({ sli }, `not pulled: ${message}`);
      this.plan = {
        version,
        plan,
        slis: new Set(plan.slis.map((s) => s.sli)),
        hashes: new Map(plan.slis.map((s) => [s.sli, planHash(s)])),
      };
    }
    return this.plan.plan;
  }

  private async runCycle(): Promise<PullSummary | null> {
    const { db, clock, log, config } = this.deps;
    if (!this.deps.isLeader()) return null;
    const plan = this.currentPlan();
    if (!plan.slis.length) return { slis: 0, pulled: 0, failed: 0, skipped: 0, minutes: 0, queries: 0 };
    const hashes = this.plan!.hashes;
    const planned = new Set(plan.slis.map((s) => s.sli));
    const cursors = await readCursors(db.kysely);
    for (const sli of await pruneCursors(db, cursors.keys(), planned)) cursors.delete(sli);
    for (const sli of this.sliBackoff.keys()) if (!planned.has(sli)) this.sliBackoff.delete(sli);
    for (const sli of this.recent.keys()) if (!planned.has(sli)) this.recent.delete(sli);
    const nowMs = clock.now();
    const headMs = floorMinute(nowMs - config.delaySeconds * 1000);

    const downThisCycle = new Map<string, string>();
    const failures: Array<{ sli: string; source: string; error: string }> = [];
    const okSources = new Set<string>();
    let skipped = 0;
    let minutes = 0;
    let queries = 0;
    const startedMs = performance.now();

    // Who is read this cycle, and which chunks each needs.
    const pulls: SliPull[] = [];
    for (const item of plan.slis) {
      const hash = hashes.get(item.sli)!;
      const health = this.health.get(item.source);
      const down = downThisCycle.get(item.source);
      if (down !== undefined || (health && health.retryAtMs > nowMs)) {
        skipped++;
        if (down !== undefined) failures.push({ sli: item.sli, source: item.source, error: down });
        continue;
      }
      const waiting = this.sliBackoff.get(item.sli);
      if (waiting && waiting.planHash === hash && waiting.retryAtMs > nowMs) {
        skipped++;
        continue;
      }
      const client = await this.clientFor(item.source, plan);
      if (client instanceof Error) {
        failures.push({ sli: item.sli, source: item.source, error: client.message });
        downThisCycle.set(item.source, client.message);
        continue;
      }
      const reader = this.byKind.get(item.kind)!;
      const cursor = cursors.get(item.sli);
      const recent = this.recent.get(item.sli);
      const known = recent && cursor && sameCursor(recent.cursor, cursor) ? recent.minutes : undefined;
      if (!known) this.recent.delete(item.sli);
      const { fresh, state, chunks } = pullChunks({
        item,
        hash,
        cursor,
        nowMs,
        headMs,
        chunkMinutes: Math.min(config.chunkMinutes ?? Number.POSITIVE_INFINITY, reader.maxChunkMinutes),
        overlapMinutes: config.overlapMinutes,
      });
      pulls.push({ item, hash, reader, client, fresh, chunks, next: 0, state, failed: false, known });
    }

    /** An SLI's pull failed: with an error, or (a string) because its source went down this cycle. */
    const fail = (pull: SliPull, error: unknown) => {
      pull.failed = true;
      const { item, hash } = pull;
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ sli: item.sli, source: item.source, error: message });
      if (typeof error === 'string') return;
      // The source is down: don't spend every other SLI's retries on it this cycle.
      if (error instanceof SourceQueryError && error.retryable) {
        downThisCycle.set(item.source, message);
        return;
      }
      const previous = this.sliBackoff.get(item.sli);
      const failedCycles = (previous?.planHash === hash ? previous.failedCycles : 0) + 1;
      const retryInMs = this.backoffMs(failedCycles);
      this.sliBackoff.set(item.sli, { planHash: hash, failedCycles, retryAtMs: nowMs + retryInMs });
      log.warn(
        { sli: item.sli, source: item.source, error: message, retryInSeconds: retryInMs / 1000 },
        'pull failed',
      );
    };
    const overlapMs = config.overlapMinutes * MINUTE_MS;
    const writer = new ChunkWriter<PulledChunk>(db, nowMs, {
      stored: ({ pull, buckets, read, cursor }) => {
        minutes += buckets.length;
        this.deps.metrics.sourceMinutes.inc(
          { type: pull.item.kind, source: pull.item.source },
          buckets.length,
        );
        // Remember what the next pull reads again: the minutes from its cursor minus the overlap.
        const rereadFromMs = cursor.syncedUntilMs - overlapMs;
        const known = new Map<string, readonly [number, number]>();
        for (const [key, counts] of pull.known ?? [])
          if (Number(key.slice(key.lastIndexOf('\u0000') + 1)) >= rereadFromMs) known.set(key, counts);
        for (const b of read)
          if (b.minuteMs >= rereadFromMs) known.set(minuteKey(b.storageKey, b.minuteMs), [b.good, b.total]);
        pull.known = known;
        this.recent.set(pull.item.sli, { cursor, minutes: known });
      },
      failed: ({ pull }, error) => {
        this.recent.delete(pull.item.sli);
        fail(pull, error);
      },
    });

    // Waves: the SLIs whose next chunk ends latest read it together, sharing the answers of
    // identical ranges (the same cursor, or the same period on a first load). The latest first: SLIs
    // that are current are brought to the head before a long first load of new ones starts.
    for (;;) {
      if (this.stopping || !this.deps.isLeader()) break;
      let open = pulls.filter((p) => !p.failed && p.next < p.chunks.length);
      // SLIs of a source that went down in an earlier wave stop here, with its error.
      for (const pull of open) {
        const down = downThisCycle.get(pull.item.source);
        if (down !== undefined) fail(pull, down);
      }
      open = open.filter((p) => !p.failed);
      if (!open.length) break;
      const waveToMs = open.reduce((latest, p) => Math.max(latest, p.chunks[p.next]!.toMs), 0);
      const wave = open.filter((p) => p.chunks[p.next]!.toMs === waveToMs);
      queries += await this.runWave(wave, writer, nowMs, downThisCycle, fail);
    }

    const pulled = pulls.filter((p) => !p.failed && p.next >= p.chunks.length);
    for (const pull of pulled) {
      okSources.add(pull.item.source);
      this.sliBackoff.delete(pull.item.sli);
    }
    const firstLoads = pulled.filter((p) => p.fresh).length;
    await recordFailure(db, failures, nowMs);

    for (const [source, { kind }] of plan.sources) {
      const down = downThisCycle.get(source);
      if (down === undefined) {
        if (okSources.has(source)) this.health.delete(source);
        this.deps.metrics.sourceUp.set({ type: kind, source }, this.health.has(source) ? 0 : 1);
        continue;
      }
      const health = this.health.get(source) ?? { failedCycles: 0, retryAtMs: 0 };
      health.failedCycles++;
      const backoffMs = this.backoffMs(health.failedCycles);
      health.retryAtMs = nowMs + backoffMs;
      this.health.set(source, health);
      this.deps.metrics.sourceUp.set({ type: kind, source }, 0);
      log.warn(
        { source, failedCycles: health.failedCycles, retryInSeconds: backoffMs / 1000 },
        `${kind} ${source} is failing (${down}); statuses show no data until it answers`,
      );
    }
    const summary = {
      slis: plan.slis.length,
      pulled: pulled.length,
      failed: failures.length,
      skipped,
      minutes,
      queries,
    };
    const tookSeconds = Math.round(performance.now() - startedMs) / 1000;
    // A first load can take minutes for many SLIs: say what it did, once per cycle.
    if (firstLoads > 0)
      log.info(
        { ...summary, firstLoads, tookSeconds },
        `pulled sources: loaded the periods of ${firstLoads} SLIs (${minutes} minutes, ${queries} queries) in ${tookSeconds} s`,
      );
    else log.debug({ ...summary, tookSeconds }, 'pull cycle');
    return summary;
  }

  /**
   * One wave: each SLI's next chunk. The queries are asked once per (source, query, range) — or
   * once per group a source answers together — with `concurrency` SLIs in hand at a time, in the
   * order of the answers they read so each answer is dropped soon; chunks are stored in batches
   * while the next answers are read. Returns the range queries asked.
   */
  private async runWave(
    wave: readonly SliPull[],
    writer: ChunkWriter<PulledChunk>,
    nowMs: number,
    downThisCycle: ReadonlyMap<string, string>,
    fail: (pull: SliPull, error: unknown) => void,
  ): Promise<number> {
    // PostgreSQL: a first load's or backfill's older weeks get their partitions before it writes.
    const chunks = wave.map((pull) => pull.chunks[pull.next]!);
    await ensureMinuteWeeks(
      this.deps.db,
      Math.min(...chunks.map((c) => c.fromMs)),
      Math.max(...chunks.map((c) => c.toMs)),
    );
    const needsOf = new Map(
      wave.map((pull) => {
        const chunk = pull.chunks[pull.next]!;
        const range = { fromMs: chunk.fromMs, toMs: chunk.toMs };
        const needs = queriesByRole(pull.item.queries).map(
          ([role, query]) => [role, { source: pull.item.source, reader: pull.reader, query, range }] as const,
        );
        return [pull, needs as Array<readonly [QueryRole, FetchNeed]>];
      }),
    );
    const clients = new Map(wave.map((p) => [p.item.source, p.client]));
    const fetches = new SharedFetches(
      [...needsOf.values()].flatMap((needs) => needs.map(([, need]) => need)),
      (need) => this.queryWithRetries(clients.get(need.source)!, need),
    );
    // Plan order, but SLIs reading the same answer one after another (each answer dropped soon).
    const position = new Map(
      wave.map((p, i) => [p, [...needsOf.get(p)!.map(([, need]) => fetches.orderOf(need)), i]]),
    );
    const queue = [...wave].sort((a, b) => {
      const x = position.get(a)!;
      const y = position.get(b)!;
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    });
    const worker = async () => {
      for (let pull = queue.shift(); pull; pull = queue.shift()) {
        const needs = needsOf.get(pull)!;
        const chunk = pull.chunks[pull.next]!;
        try {
          if (this.stopping || !this.deps.isLeader()) continue;
          const down = downThisCycle.get(pull.item.source);
          if (down !== undefined) {
            fail(pull, down);
            continue;
          }
          // One role after another: a refused query is not followed by the SLI's others.
          const results: QueryResults = {};
          for (const [role, need] of needs) results[role] = await fetches.answer(need);
          const read = toBuckets(pull.item.queries, results, pull.item.streams, chunk.fromMs, chunk.toMs);
          // Re-read minutes stored with the same counts are not written again (nor marked changed).
          const known = pull.known;
          const buckets = known
            ? read.filter((b) => {
                const counts = known.get(minuteKey(b.storageKey, b.minuteMs));
                return !counts || counts[0] !== b.good || counts[1] !== b.total;
              })
            : read;
          const cursor: Cursor = {
            ...pull.state,
            ...(chunk.older
              ? { fromMs: chunk.fromMs }
              : { syncedUntilMs: Math.max(pull.state.syncedUntilMs, chunk.toMs) }),
            lastSuccessAt: nowMs,
            failures: 0,
            lastError: null,
            lastErrorAt: null,
          };
          // The next chunk builds on this one's cursor; it is stored before the next wave starts.
          pull.state = cursor;
          pull.next++;
          await writer.add({ pull, buckets, read, cursor });
        } catch (error) {
          fail(pull, error);
        } finally {
          for (const [, need] of needs) fetches.release(need);
        }
      }
    };
    await Promise.all(Array.from({ length: this.deps.config.concurrency }, worker));
    // A wave's chunks are stored before the next wave reads on from their cursors.
    await writer.flush();
    return fetches.asked;
  }

  /** The wait after n failed cycles: the interval, doubling, at most maxBackoffSeconds. */
  private backoffMs(failedCycles: number): number {
    const { intervalSeconds, maxBackoffSeconds } = this.deps.config;
    return Math.min(intervalSeconds * 1000 * 2 ** (failedCycles - 1), (maxBackoffSeconds ?? 300) * 1000);
  }

  /** The client of a data source, built once per definition (a changed spec or config rebuilds it). */
  private clientFor(source: string, plan: PullPlan): Promise<SourceClient | Error> {
    const planned = plan.sources.get(source)!;
    const key = JSON.stringify([planned, planned.connection ? null : this.deps.config.defaultUrl]);
    const cached = this.clients.get(source);
    if (cached?.key === key) return cached.client;
    if (cached)
      void cached.client.then((old) => {
        if (!(old instanceof Error)) return old.close();
      });
    const reader = this.byKind.get(planned.kind);
    const client = (
      reader
        ? connectSource(reader, source, planned, {
            defaultUrl: this.deps.config.defaultUrl,
            timeoutMs: this.deps.config.timeoutSeconds * 1000,
            connections: this.deps.connections,
            secrets: this.deps.secrets,
            egress: this.deps.egress,
          })
        : Promise.reject(new Error(`no ${planned.kind} source is registered`))
    ).catch((error: unknown) => new Error(`DataSource ${source}: ${(error as Error).message}`));
    this.clients.set(source, { key, client });
    return client;
  }

  private async queryWithRetries(client: SourceClient, need: FetchNeed): Promise<MinuteSeries[]> {
    const { metrics, config } = this.deps;
    const labels = { type: need.reader.kind, source: need.source };
    return pRetry(
      async () => {
        const stop = metrics.sourceQuerySeconds.startTimer(labels);
        try {
          const result = await client.fetchMinutes(need.query, need.range);
          metrics.sourceQueries.inc({ ...labels, outcome: 'ok' });
          return result;
        } catch (error) {
          const reason = error instanceof SourceQueryError ? error.reason : 'error';
          metrics.sourceQueries.inc({ ...labels, outcome: reason });
          throw error;
        } finally {
          stop();
        }
      },
      {
        retries: config.retries,
        factor: 2,
        minTimeout: (config.retryMinSeconds ?? 1) * 1000,
        maxTimeout: 30_000,
        randomize: true,
        // A rate limit says how long to wait: wait that long (at most a minute) before the usual delay.
        onFailedAttempt: async ({ error, retriesLeft }) => {
          if (error instanceof SourceQueryError && error.retryAfterMs && retriesLeft > 0 && !this.stopping)
            await sleep(Math.min(error.retryAfterMs, 60_000));
        },
        shouldRetry: ({ error }) => error instanceof SourceQueryError && error.retryable && !this.stopping,
      },
    );
  }
}

/** Identifies what an SLI's stored minutes were read with; a change of query or source reloads them. */
export function planHash(item: PulledSli): string {
  return createHash('sha256')
    .update(JSON.stringify([item.source, item.queries, item.streams]))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The chunks one SLI reads this cycle (pure). A first load (no cursor, or one for another plan)
 * reads the whole period its objectives need; later pulls read older minutes a longer window now
 * needs (newest first, so [fromMs, syncedUntilMs) stays whole), then from the cursor minus the
 * overlap up to the head. Chunk ends fall on the head minus whole chunks, so SLIs loading the same
 * period read the same ranges (and share their answers).
 */
export function pullChunks(o: {
  readonly item: PulledSli;
  readonly hash: string;
  readonly cursor: Cursor | undefined;
  readonly nowMs: number;
  readonly headMs: number;
  readonly chunkMinutes: number;
  readonly overlapMinutes: number;
}): { fresh: boolean; state: Cursor; chunks: PullChunk[] } {
  const { item, hash, cursor, headMs } = o;
  const chunkMs = o.chunkMinutes * MINUTE_MS;
  const needFromMs = Math.min(
    headMs - 60 * MINUTE_MS,
    ...item.specs.map((spec) => floorMinute(replayStartMs(spec, o.nowMs))),
  );
  const fresh = !cursor || cursor.planHash !== hash || cursor.syncedUntilMs <= cursor.fromMs;
  const state: Cursor = fresh
    ? {
        sli: item.sli,
        source: item.source,
        planHash: hash,
        fromMs: needFromMs,
        syncedUntilMs: needFromMs,
        lastSuccessAt: null,
        failures: 0,
        lastError: null,
        lastErrorAt: null,
      }
    : cursor;
  const chunks: PullChunk[] = [];
  let fromMs = state.fromMs;
  if (!fresh && needFromMs < state.fromMs) {
    for (let toMs = state.fromMs; toMs > needFromMs; ) {
      const chunkFromMs = Math.max(needFromMs, toMs - chunkMs);
      chunks.push({ fromMs: chunkFromMs, toMs, older: true });
      toMs = chunkFromMs;
    }
    fromMs = needFromMs;
  }
  const headFromMs = Math.max(fromMs, state.syncedUntilMs - (fresh ? 0 : o.overlapMinutes * MINUTE_MS));
  for (let chunkFromMs = headFromMs; chunkFromMs < headMs; ) {
    // The first chunk ends where a whole number of chunks before the head does.
    const toMs = headMs - Math.floor((headMs - chunkFromMs - 1) / chunkMs) * chunkMs;
    chunks.push({ fromMs: chunkFromMs, toMs, older: false });
    chunkFromMs = toMs;
  }
  return { fresh, state, chunks };
}

/** The same stored cursor (what it holds; failures recorded since do not change the minutes). */
function sameCursor(a: Cursor, b: Cursor): boolean {
  return (
    a.planHash === b.planHash &&
    a.fromMs === b.fromMs &&
    a.syncedUntilMs === b.syncedUntilMs &&
    a.lastSuccessAt === b.lastSuccessAt
  );
}

function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}
