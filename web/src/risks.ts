/**
 * Pure helpers of the Risks page: the deploy-gate badge, links to the SLOs a gate reason or a
 * share names, which estimates the factors changed, bar widths, the services to show and the
 * backlog's file names. No React, no I/O: unit-tested in risks.test.ts.
 */
import type { GateAnswer, GateDecision, RiskEstimate, Service } from './api';

export type Tone = 'green' | 'amber' | 'red';

const DECISION_TONE: Record<GateDecision, Tone> = { allow: 'green', warn: 'amber', deny: 'red' };

export function decisionTone(decision: GateDecision): Tone {
  return DECISION_TONE[decision];
}

export interface GateBadge {
  tone: Tone;
  /** allow, warn, deny, or override: allowed only because an override is in force. */
  label: GateDecision | 'override';
}

/**
 * The badge for a gate answer. An override lets changes through a policy that says otherwise:
 * the badge says so in amber rather than showing a plain green "allowed".
 */
export function gateBadge(answer: Pick<GateAnswer, 'decision' | 'policyDecision' | 'override'>): GateBadge {
  if (answer.override?.active && answer.policyDecision !== 'allow')
    return { tone: 'amber', label: 'override' };
  return { tone: decisionTone(answer.decision), label: answer.decision };
}

/** The SLO page of an evaluation target: `slo` or `slo/objective` (a multi-objective SLO). */
export function sloHref(target: string): string {
  const slash = target.indexOf('/');
  if (slash < 0) return `/slos/${encodeURIComponent(target)}`;
  return `/slos/${encodeURIComponent(target.slice(0, slash))}?objective=${encodeURIComponent(target)}`;
}

const ESTIMATE_FIELDS = ['ettdMinutes', 'ettrMinutes', 'impact', 'ettfDays'] as const;

/** The estimates the risk factors changed (effective ≠ as written), ignoring float noise. */
export function changedByFactors(
  written: RiskEstimate,
  effective: RiskEstimate,
): ReadonlySet<keyof RiskEstimate> {
  return new Set(
    ESTIMATE_FIELDS.filter(
      (f) => Math.abs(written[f] - effective[f]) > 1e-9 * Math.max(1, Math.abs(written[f])),
    ),
  );
}

/** The width of a share bar in percent: 0–100, a share beyond the whole budget fills it. */
export function shareWidth(share: number | null | undefined): number {
  if (share === null || share === undefined || Number.isNaN(share)) return 0;
  return Math.max(0, Math.min(1, share)) * 100;
}

/** The services the filter offers: those the server knows and those risks name, sorted. */
export function serviceChoices(services: readonly Service[], riskServices: readonly string[]): string[] {
  return [...new Set([...services.map((s) => s.name), ...riskServices])].sort((a, b) => a.localeCompare(b));
}

/** The services whose gate to show: the chosen one, or every service the server knows. */
export function gateServices(services: readonly Service[], chosen: string): string[] {
  if (chosen) return [chosen];
  return services.map((s) => s.name).sort((a, b) => a.localeCompare(b));
}

export type BacklogFormat = 'csv' | 'markdown';

/** The backlog export's path and the name to save it under. */
export function backlogFile(format: BacklogFormat, service: string): { path: string; fileName: string } {
  const query = new URLSearchParams({ format });
  if (service) query.set('service', service);
  const safe = service.replace(/[^A-Za-z0-9._-]+/g, '-');
  return {
    path: `/api/v1/backlog?${query}`,
    fileName: `reliability-backlog${safe ? `-${safe}` : ''}.${format === 'csv' ? 'csv' : 'md'}`,
  };
}

/**
 * The fields of calibration's `specUpdate` ("ettd: 30m" lines, what a person would paste into the
 * Risk), as the body of PATCH /api/v1/risks/{name}.
 */
export function specUpdateFields(specUpdate: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of specUpdate.split('\n')) {
    const match = /^\s*([A-Za-z]+):\s*(\S.*?)\s*$/.exec(line);
    if (match) fields[match[1]!] = match[2]!;
  }
  return fields;
}
