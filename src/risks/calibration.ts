/**
 * Calibration (pure): after incidents, each risk's estimates beside what its incidents measured —
 * time to detect (impact start → detected), time to repair (detected → mitigated, or resolved)
 * and, with two incidents or more, the time between them — and the update to offer: the measured
 * medians, the bad minutes a year they imply, and the spec lines to paste. Estimates drift; the
 * incidents say by how much. An incident belongs to a risk through its `risk` label.
 */
import type { Incident } from '../incidents/index.js';
import { DAY_MS } from '../platform/dates.js';
import { median } from '../platform/stats.js';
import { badMinutesPerYear, effectiveAfter, type RiskEstimate, type RiskFigures } from './analysis.js';

/** The incident label naming the catalog risk it was an occurrence of. */
export const RISK_LABEL = 'risk';

const MIN = 60_000;

export interface RiskCalibration {
  readonly risk: string;
  readonly service: string;
  readonly incidents: readonly string[];
  readonly estimate: RiskEstimate;
  readonly measured: {
    readonly ttdMinutes: number | null;
    readonly ttrMinutes: number | null;
    /** Median days between the incidents' starts; null with fewer than two. */
    readonly tbfDays: number | null;
  };
  /** The written estimate with the measured medians in place (unchanged where nothing was measured). */
  readonly suggested: RiskEstimate;
  readonly badMinutesPerYear: { readonly estimated: number; readonly measured: number };
  /** The spec lines to paste into the Risk (`ettd`, `ettr`, `ettf`), or empty when nothing changes. */
  readonly specUpdate: string;
}

const round = (n: number) => Math.max(1, Math.round(n));

export function calibrate(risks: readonly RiskFigures[], incidents: readonly Incident[]): RiskCalibration[] {
  return risks.flatMap((risk) => {
    const linked = incidents
      .filter((i) => i.labels[RISK_LABEL] === risk.name && !i.drill && i.status !== 'cancelled')
      .sort((a, b) => start(a) - start(b));
    if (!linked.length) return [];
    const ttd = linked.flatMap(({ milestones: m }) =>
      m.impactStartedAt !== undefined && m.detectedAt !== undefined
        ? [(m.detectedAt - m.impactStartedAt) / MIN]
        : [],
    );
    const ttr = linked.flatMap(({ milestones: m }) => {
      const end = m.mitigatedAt ?? m.resolvedAt;
      return m.detectedAt !== undefined && end !== undefined ? [(end - m.detectedAt) / MIN] : [];
    });
    const gaps = linked.slice(1).map((i, k) => (start(i) - start(linked[k]!)) / DAY_MS);
    const measured = {
      ttdMinutes: ttd.length ? median(ttd) : null,
      ttrMinutes: ttr.length ? median(ttr) : null,
      tbfDays: gaps.length ? median(gaps) : null,
    };
    const suggested: RiskEstimate = {
      ...risk.estimate,
      ...(measured.ttdMinutes === null ? {} : { ettdMinutes: round(measured.ttdMinutes) }),
      ...(measured.ttrMinutes === null ? {} : { ettrMinutes: round(measured.ttrMinutes) }),
      ...(measured.tbfDays === null ? {} : { ettfDays: Math.max(1, Math.round(measured.tbfDays)) }),
    };
    const lines: string[] = [];
    if (suggested.ettdMinutes !== risk.estimate.ettdMinutes) lines.push(`ettd: ${suggested.ettdMinutes}m`);
    if (suggested.ettrMinutes !== risk.estimate.ettrMinutes) lines.push(`ettr: ${suggested.ettrMinutes}m`);
    if (suggested.ettfDays !== risk.estimate.ettfDays) lines.push(`ettf: ${suggested.ettfDays}d`);
    return [
      {
        risk: risk.name,
        service: risk.service,
        incidents: linked.map((i) => i.reference),
        estimate: risk.estimate,
        measured,
        suggested,
        badMinutesPerYear: {
          estimated: risk.badMinutesPerYear,
          measured: badMinutesPerYear(effectiveAfter(risk, suggested)),
        },
        specUpdate: lines.join('\n'),
      },
    ];
  });
}

function start(i: Incident): number {
  return i.milestones.impactStartedAt ?? i.milestones.detectedAt ?? i.createdAtMs;
}
