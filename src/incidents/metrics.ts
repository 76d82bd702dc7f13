/**
 * Response metrics over incidents (pure): time to detect (impact start → detected), acknowledge
 * (detected → acknowledged), mitigate (impact start or detection → mitigated) and resolve
 * (impact start or detection → resolved), each with count, median and p90 — not only means,
 * which one long incident skews. Drills and cancelled incidents are left out.
 */
import { median, percentile } from '../platform/stats.js';
import type { Milestones } from './model.js';

export interface Distribution {
  readonly count: number;
  /** Minutes; null without data. */
  readonly medianMinutes: number | null;
  readonly p90Minutes: number | null;
}

export interface ResponseMetrics {
  readonly incidents: number;
  readonly ttd: Distribution;
  readonly tta: Distribution;
  readonly ttm: Distribution;
  readonly ttr: Distribution;
}

interface MetricInput {
  readonly milestones: Milestones;
  readonly drill: boolean;
  readonly status: string;
}

function distribution(values: readonly number[]): Distribution {
  return { count: values.length, medianMinutes: median(values), p90Minutes: percentile(values, 0.9) };
}

export function responseMetrics(incidents: readonly MetricInput[]): ResponseMetrics {
  const counted = incidents.filter((i) => !i.drill && i.status !== 'cancelled');
  const span = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? [] : [(to - from) / 60_000];
  const collect = (pick: (m: Milestones) => number[]) =>
    distribution(counted.flatMap((i) => pick(i.milestones)));
  return {
    incidents: counted.length,
    ttd: collect((m) => span(m.impactStartedAt, m.detectedAt)),
    tta: collect((m) => span(m.detectedAt, m.acknowledgedAt)),
    ttm: collect((m) => span(m.impactStartedAt ?? m.detectedAt, m.mitigatedAt)),
    ttr: collect((m) => span(m.impactStartedAt ?? m.detectedAt, m.resolvedAt)),
  };
}
