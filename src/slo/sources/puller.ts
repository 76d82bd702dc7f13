/**
 * The pull loop, the same for every source (port.ts): on the evaluator's leader, every interval,
 * reads each pulled SLI's per-minute counts from its source and stores them in `sli_minutes`
 * (replacing, so re-reads are idempotent), where the evaluator picks them up like ingested data.
 * The first pull of an SLI loads the whole SLO period; later pulls read from the cursor (minus an
 * overlap for late samples) to the head. Failures are retried with backoff, per query and per
 * data source, and recorded so statuses say "no data since T" instead of computing from a gap.
 * docs/sources.md.
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
import { minuteStamp, upsertBuckets } from '../ingest/service.js';
import type { Catalog } from '../model.js';
import { type QueryResults, toBuckets } from './buckets.js';
import { connectSource } from './connect.js';
import { type Cursor, pruneCursors, readCursors, recordFailure, saveCursor } from './cursors.js';
import { type PulledSli, type PullPlan, planPulls, queriesByRole } from './plan.js';
import {
  MINUTE_MS,
  type MinuteRange,
  type MinuteSeries,
  type SliSource,
  type SourceClient,
  SourceQueryError,
} from './port.js';

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
  readonly queries: number;
}

interface SourceHealth {
  failedCycles: number;
  /** Don't query this source before this time (ms, clock). */
  retryAtMs: number;
}

export class SliPuller {
  private plan: { version: number; plan: PullPlan; slis: ReadonlySet<string> } | null = null;
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
   * Queries of the current cycle by (source, query, range): SLIs with the same query (Sloth SLOs
   * at several objectives over one service's requests) share one answer.
   */
  private cycleQueries = new Map<string, Promise<MinuteSeries[]>>();

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
        cursor !== undefined && cursor.planHash === planHash(item) && cursor.syncedUntilMs > cursor.fromMs;
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
      this.plan = { version, plan, slis: new Set(plan.slis.map((s) => s.sli)) };
    }
    return this.plan.plan;
  }

  private async runCycle(): Promise<PullSummary | null> {
    const { db, clock, log, config } = this.deps;
    if (!this.deps.isLeader()) return null;
    const plan = this.currentPlan();
    if (!plan.slis.length) return { slis: 0, pulled: 0, failed: 0, skipped: 0, minutes: 0, queries: 0 };
    const planned = new Set(plan.slis.map((s) => s.sli));
    await pruneCursors(db, planned);
    for (const sli of this.sliBackoff.keys()) if (!planned.has(sli)) this.sliBackoff.delete(sli);
    const cursors = await readCursors(db.kysely);
    const nowMs = clock.now();
    const headMs = floorMinute(nowMs - config.delaySeconds * 1000);

    const downThisCycle = new Map<string, string>();
    const failures: Array<{ sli: string; source: string; error: string }> = [];
    const okSources = new Set<string>();
    let pulled = 0;
    let skipped = 0;
    let minutes = 0;
    let queries = 0;
    let firstLoads = 0;
    const startedMs = performance.now();

    this.cycleQueries = new Map();
    const queue = [...plan.slis];
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        if (this.stopping || !this.deps.isLeader()) return;
        const health = this.health.get(item.source);
        const down = downThisCycle.get(item.source);
        if (down !== undefined || (health && health.retryAtMs > nowMs)) {
          skipped++;
          if (down !== undefined) failures.push({ sli: item.sli, source: item.source, error: down });
          continue;
        }
        const waiting = this.sliBackoff.get(item.sli);
        if (waiting && waiting.planHash === planHash(item) && waiting.retryAtMs > nowMs) {
          skipped++;
          continue;
        }
        const client = await this.clientFor(item.source, plan);
        if (client instanceof Error) {
          failures.push({ sli: item.sli, source: item.source, error: client.message });
          downThisCycle.set(item.source, client.message);
          continue;
        }
        try {
          const result = await this.pullSli(item, cursors.get(item.sli), client, nowMs, headMs);
          pulled++;
          minutes += result.minutes;
          queries += result.queries;
          if (result.firstLoad) firstLoads++;
          okSources.add(item.source);
          this.sliBackoff.delete(item.sli);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          failures.push({ sli: item.sli, source: item.source, error: message });
          // The source is down: don't spend every other SLI's retries on it this cycle.
          if (error instanceof SourceQueryError && error.retryable) downThisCycle.set(item.source, message);
          else {
            const previous = this.sliBackoff.get(item.sli);
            const failedCycles = (previous?.planHash === planHash(item) ? previous.failedCycles : 0) + 1;
            const retryInMs = this.backoffMs(failedCycles);
            this.sliBackoff.set(item.sli, {
              planHash: planHash(item),
              failedCycles,
              retryAtMs: nowMs + retryInMs,
            });
            log.warn(
              { sli: item.sli, source: item.source, error: message, retryInSeconds: retryInMs / 1000 },
              'pull failed',
            );
          }
        }
      }
    };
    await Promise.all(Array.from({ length: this.deps.config.concurrency }, worker));
    this.cycleQueries = new Map();
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
    const summary = { slis: plan.slis.length, pulled, failed: failures.length, skipped, minutes, queries };
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

  /**
   * Reads what one SLI is missing, chunk by chunk, and stores each chunk with its cursor in one
   * transaction: a crash loses at most the chunk in flight, which the next pull reads again.
   */
  private async pullSli(
    item: PulledSli,
    cursor: Cursor | undefined,
    client: SourceClient,
    nowMs: number,
    headMs: number,
  ): Promise<{ minutes: number; queries: number; firstLoad: boolean }> {
    const hash = planHash(item);
    const reader = this.byKind.get(item.kind)!;
    const chunkMs =
      Math.min(this.deps.config.chunkMinutes ?? Number.POSITIVE_INFINITY, reader.maxChunkMinutes) * MINUTE_MS;
    const needFromMs = Math.min(
      headMs - 60 * MINUTE_MS,
      ...item.specs.map((spec) => floorMinute(replayStartMs(spec, nowMs))),
    );
    const overlapMs = this.deps.config.overlapMinutes * MINUTE_MS;
    const fresh = !cursor || cursor.planHash !== hash || cursor.syncedUntilMs <= cursor.fromMs;
    let state: Cursor = fresh
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
    let minutes = 0;
    let queries = 0;
    const store = async (fromMs: number, toMs: number, next: Cursor) => {
      const results: QueryResults = {};
      for (const [role, query] of queriesByRole(item.queries)) {
        results[role] = await this.query(client, item, query, { fromMs, toMs });
        queries++;
      }
      const buckets = toBuckets(item.queries, results, item.streams, fromMs, toMs);
      const saved: Cursor = {
        ...next,
        lastSuccessAt: nowMs,
        failures: 0,
        lastError: null,
        lastErrorAt: null,
      };
      await this.deps.db.kysely.transaction().execute(async (trx) => {
        await upsertBuckets(trx, buckets, minuteStamp(this.deps.db, nowMs), 'replace');
        await saveCursor(trx, saved, nowMs);
      });
      this.deps.metrics.sourceMinutes.inc({ type: item.kind, source: item.source }, buckets.length);
      minutes += buckets.length;
      state = saved;
    };

    // Older minutes a longer window now needs: newest first, so [fromMs, syncedUntilMs) stays whole.
    if (!fresh && needFromMs < state.fromMs)
      for (let toMs = state.fromMs; toMs > needFromMs && !this.stopping; ) {
        const fromMs = Math.max(needFromMs, toMs - chunkMs);
        await store(fromMs, toMs, { ...state, fromMs });
        toMs = fromMs;
      }
    // The head: from the cursor (minus the overlap) up to the newest complete minute.
    for (
      let fromMs = Math.max(state.fromMs, state.syncedUntilMs - (fresh ? 0 : overlapMs));
      fromMs < headMs;
    ) {
      if (this.stopping) break;
      const toMs = Math.min(headMs, fromMs + chunkMs);
      await store(fromMs, toMs, { ...state, syncedUntilMs: Math.max(state.syncedUntilMs, toMs) });
      fromMs = toMs;
    }
    return { minutes, queries, firstLoad: fresh };
  }

  private query(client: SourceClient, item: PulledSli, query: string, range: MinuteRange) {
    const key = JSON.stringify([item.source, query, range.fromMs, range.toMs]);
    let answer = this.cycleQueries.get(key);
    if (!answer) {
      answer = this.queryWithRetries(client, item, query, range);
      this.cycleQueries.set(key, answer);
      // A failed answer is not reused: the next SLI (or cycle) asks again.
      answer.catch(() => this.cycleQueries.delete(key));
    }
    return answer;
  }

  private async queryWithRetries(
    client: SourceClient,
    item: PulledSli,
    query: string,
    range: MinuteRange,
  ): Promise<MinuteSeries[]> {
    const { metrics, config } = this.deps;
    const labels = { type: item.kind, source: item.source };
    return pRetry(
      async () => {
        const stop = metrics.sourceQuerySeconds.startTimer(labels);
        try {
          const result = await client.fetchMinutes(query, range);
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

function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}
