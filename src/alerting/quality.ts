/**
 * Alert quality (pure): from what alerts did (their firings and resolutions), what people said
 * of them (actionable or noise) and the significant burns in the data, per SLO and rule: pages a
 * week, the share marked noise, alerts that resolved within 10 minutes (flapping), and how long
 * significant burns took to be detected.
 */
import { median } from '../platform/stats.js';

export interface Firing {
  readonly fingerprint: string;
  readonly slo: string;
  readonly rule: string;
  readonly tier: string;
  readonly firedAtMs: number;
  /** Null while still firing. */
  readonly resolvedAtMs: number | null;
  readonly verdict?: 'actionable' | 'noise' | undefined;
}

export interface BurnEvent {
  readonly slo: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly budgetShare: number;
}

export interface RuleQuality {
  readonly slo: string;
  readonly rule: string;
  readonly tier: string;
  readonly firings: number;
  readonly perWeek: number;
  /** Firings with a verdict, and the share of them marked noise (null when none has a verdict). */
  readonly withFeedback: number;
  readonly noiseShare: number | null;
  /** Firings that resolved less than 10 minutes after they fired. */
  readonly shortLived: number;
}

export interface SloQuality {
  readonly slo: string;
  readonly significantBurns: number;
  readonly detected: number;
  /** Median minutes from a significant burn's start to its first alert; null when none was detected. */
  readonly medianMinutesToDetect: number | null;
}

export const SHORT_LIVED_MS = 10 * 60_000;

export function ruleQuality(firings: readonly Firing[], periodMs: number): RuleQuality[] {
  const groups = new Map<string, Firing[]>();
  for (const f of firings) {
    const key = `${f.slo}\u0000${f.rule}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const weeks = periodMs / (7 * 86_400_000);
  return [...groups.values()]
    .map((list) => {
      const judged = list.filter((f) => f.verdict);
      return {
        slo: list[0]!.slo,
        rule: list[0]!.rule,
        tier: list[0]!.tier,
        firings: list.length,
        perWeek: list.length / weeks,
        withFeedback: judged.length,
        noiseShare: judged.length ? judged.filter((f) => f.verdict === 'noise').length / judged.length : null,
        shortLived: list.filter(
          (f) => f.resolvedAtMs !== null && f.resolvedAtMs - f.firedAtMs < SHORT_LIVED_MS,
        ).length,
      };
    })
    .sort((a, b) => a.slo.localeCompare(b.slo) || a.rule.localeCompare(b.rule));
}

/** A burn counts as detected when an alert of its SLO fired during it or within an hour after. */
export function detection(burns: readonly BurnEvent[], firings: readonly Firing[]): SloQuality[] {
  const bySlo = new Map<string, BurnEvent[]>();
  for (const b of burns) bySlo.set(b.slo, [...(bySlo.get(b.slo) ?? []), b]);
  return [...bySlo.entries()]
    .map(([slo, list]) => {
      const delays = detectionDelaysMinutes(list, firings);
      return {
        slo,
        significantBurns: list.length,
        detected: delays.length,
        medianMinutesToDetect: median(delays),
      };
    })
    .sort((a, b) => a.slo.localeCompare(b.slo));
}

/** Minutes from each detected burn's start to the first alert of its SLO (undetected burns left out). */
export function detectionDelaysMinutes(burns: readonly BurnEvent[], firings: readonly Firing[]): number[] {
  return burns.flatMap((b) => {
    const first = firings
      .filter((f) => f.slo === b.slo && f.firedAtMs > b.startMs && f.firedAtMs <= b.endMs + 3_600_000)
      .sort((x, y) => x.firedAtMs - y.firedAtMs)[0];
    return first ? [(first.firedAtMs - b.startMs) / 60_000] : [];
  });
}
