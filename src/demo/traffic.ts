/**
 * Synthetic traffic for the demo shop: a daily rhythm (Tokyo time), a small background error
 * rate and, now and then, an incident — an error or latency burst of a few minutes to an hour.
 * Deterministic for a seed, so demos and tests are repeatable.
 */
import type { MinuteCounts } from '../slo/index.js';

export interface TrafficProfile {
  /** Requests per minute at the daily peak. */
  readonly peakPerMinute: number;
  /** Share of requests that fail (or are slow) outside incidents. */
  readonly backgroundBadRatio: number;
  /** Expected incidents per day. */
  readonly incidentsPerDay: number;
  /** Share of requests that fail during an incident, at most. */
  readonly incidentBadRatio: number;
}

export const DEFAULT_PROFILE: TrafficProfile = {
  peakPerMinute: 1200,
  backgroundBadRatio: 0.0003,
  incidentsPerDay: 0.35,
  incidentBadRatio: 0.12,
};

/** Small, fast, seedable PRNG (mulberry32); quality is ample for synthetic traffic. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function hashSeed(text: string, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const TOKYO_OFFSET_MS = 9 * 3_600_000;

/**
 * Traffic for one stream, minute after minute; keeps the incident in progress between calls so a
 * live feed and a backfill produce the same kind of data.
 */
export class TrafficGenerator {
  private incidentEndMs = -1;
  private incidentBad = 0;

  constructor(
    private readonly profile: TrafficProfile,
    private readonly random: () => number,
  ) {}

  /** Counts for the minute starting at `ts` (minute-aligned). */
  minute(ts: number): MinuteCounts {
    const { profile, random } = this;
    if (ts >= this.incidentEndMs && random() < profile.incidentsPerDay / 1440) {
      this.incidentEndMs = ts + (5 + Math.floor(random() * 55)) * 60_000;
      this.incidentBad = profile.incidentBadRatio * (0.2 + 0.8 * random());
    }
    // Daily rhythm: quiet at 04:00 Tokyo, busiest in the evening.
    const hour = (((ts + TOKYO_OFFSET_MS) % 86_400_000) / 3_600_000 + 24) % 24;
    const rhythm = 0.55 + 0.45 * Math.sin(((hour - 10) / 24) * 2 * Math.PI);
    const total = Math.max(1, Math.round(profile.peakPerMinute * rhythm * (0.9 + 0.2 * random())));
    const badRatio =
      ts < this.incidentEndMs ? this.incidentBad : profile.backgroundBadRatio * (0.5 + random());
    // Stochastic rounding keeps tiny error rates visible on average instead of rounding to zero.
    const expectedBad = total * badRatio;
    const bad = Math.min(total, Math.floor(expectedBad) + (random() < expectedBad % 1 ? 1 : 0));
    return { ts, good: total - bad, total };
  }
}

/** A profile for an objective: background errors well inside the budget, incidents that burn it. */
export function profileFor(target: number): TrafficProfile {
  const budget = 1 - target;
  return {
    ...DEFAULT_PROFILE,
    backgroundBadRatio: budget * 0.3,
    incidentBadRatio: Math.min(0.6, budget * 120),
  };
}

/** Per-minute good/total counts for [fromMs, toMs), minute-aligned. */
export function generateTraffic(
  fromMs: number,
  toMs: number,
  profile: TrafficProfile,
  random: () => number,
): MinuteCounts[] {
  const generator = new TrafficGenerator(profile, random);
  const out: MinuteCounts[] = [];
  for (let ts = Math.ceil(fromMs / 60_000) * 60_000; ts < toMs; ts += 60_000) out.push(generator.minute(ts));
  return out;
}
