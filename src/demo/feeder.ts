/**
 * The live demo: synthetic traffic for every SLI of the loaded specs, sent through the same
 * ingestion service as real data — first a backfill of `seedDays`, then every completed minute.
 * Restart-safe: it continues after the last stored minute instead of counting minutes twice.
 */
import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/index.js';
import type { ShinraiMetrics } from '../platform/metrics.js';
import type { Catalog } from '../slo/index.js';
import { evaluationTargets, ingestBatch, latestMinuteMs } from '../slo/index.js';
import { hashSeed, profileFor, seededRandom, TrafficGenerator } from './traffic.js';

export interface DemoFeederDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
  readonly catalog: () => Catalog;
}

interface Stream {
  readonly sliName: string;
  readonly storageKey: string;
  readonly generator: TrafficGenerator;
  nextMinuteMs: number;
}

const MINUTE_MS = 60_000;
const BATCH_MINUTES = 1440;

export class DemoFeeder {
  private streams = new Map<string, Stream>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: DemoFeederDeps,
    private readonly options: { seedDays: number; seed?: number; tickMs?: number },
  ) {}

  /** Backfills history, then feeds every completed minute. */
  async start(): Promise<void> {
    await this.feed();
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.feed().finally(() => (this.running = undefined));
    }, this.options.tickMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Sends every completed minute not yet sent, for every stream of the current specs. */
  async feed(): Promise<void> {
    try {
      await this.syncStreams();
      const nowMinute = Math.floor(this.deps.clock.now() / MINUTE_MS) * MINUTE_MS;
      for (const stream of this.streams.values()) {
        while (stream.nextMinuteMs < nowMinute) {
          const until = Math.min(nowMinute, stream.nextMinuteMs + BATCH_MINUTES * MINUTE_MS);
          const items: Array<{ ts: number; good: number; total: number }> = [];
          for (let ts = stream.nextMinuteMs; ts < until; ts += MINUTE_MS)
            items.push(stream.generator.minute(ts));
          await ingestBatch({
            ctx: {
              db: this.deps.db,
              clock: this.deps.clock,
              metrics: this.deps.metrics,
              catalog: this.deps.catalog,
            },
            input: {
              name: stream.sliName,
              body: JSON.stringify(items),
              contentType: 'application/json',
              idempotencyKey: `demo:${stream.storageKey}:${stream.nextMinuteMs}:${until}`,
            },
          });
          stream.nextMinuteMs = until;
        }
      }
    } catch (error) {
      // The demo must never take the server down; the next tick retries.
      this.deps.log.warn({ err: error }, 'demo traffic could not be ingested; retrying');
    }
  }

  private async syncStreams(): Promise<void> {
    const seen = new Set<string>();
    const earliest = this.deps.clock.now() - this.options.seedDays * 86_400_000;
    for (const target of evaluationTargets(this.deps.catalog())) {
      for (const part of target.parts) {
        const objective = target.slo.objectives.find((o) => o.key === part.key);
        const sli = objective?.indicator ?? target.slo.indicator;
        if (!sli || seen.has(part.storageKey)) continue;
        seen.add(part.storageKey);
        if (this.streams.has(part.storageKey)) continue;
        const lastMs = await latestMinuteMs(this.deps.db, part.storageKey);
        const start =
          Math.ceil(Math.max(earliest, lastMs === null ? earliest : lastMs + MINUTE_MS) / MINUTE_MS) *
          MINUTE_MS;
        const random = seededRandom(hashSeed(part.storageKey, this.options.seed ?? 1) ^ start);
        // An SLO with one objective names exactly one stream, even when its threshold SLI is
        // shared with other SLOs; a composite part goes by its SLI.
        const postTo = !target.slo.composite && target.slo.objectives.length === 1 ? target.slo.id : sli.name;
        this.streams.set(part.storageKey, {
          sliName: postTo,
          storageKey: part.storageKey,
          generator: new TrafficGenerator(profileFor(part.spec.timeSliceTarget ?? part.target), random),
          nextMinuteMs: start,
        });
      }
    }
    for (const key of this.streams.keys()) if (!seen.has(key)) this.streams.delete(key);
  }
}
