/**
 * Incidents (pure): statuses and the moves between them, severities, milestones and their order,
 * and references (`INC-42`). Storage and the API build on these rules; nothing here does I/O.
 */

/** A severity name from the configured scale (SEV1–SEV4 by default). */
export type Severity = string;

/** The configured severities, most severe first, and those incidents from alerts get. */
export interface SeverityScale {
  readonly names: readonly Severity[];
  /** For incidents declared from a page alert (Alertmanager: critical, page, high). */
  readonly page: Severity;
  /** For incidents declared from a ticket alert (Alertmanager: error, warning, ticket). */
  readonly ticket: Severity;
}

export const DEFAULT_SEVERITIES: SeverityScale = {
  names: ['SEV1', 'SEV2', 'SEV3', 'SEV4'],
  page: 'SEV2',
  ticket: 'SEV3',
};

/** 0 for the most severe; names outside the scale (from an older configuration) rank last. */
export function severityRank(scale: SeverityScale, severity: Severity): number {
  const rank = scale.names.indexOf(severity);
  return rank === -1 ? scale.names.length : rank;
}

/** Most runbook links an incident keeps. */
export const MAX_RUNBOOKS = 20;

export const STATUSES = [
  'triage',
  'investigating',
  'identified',
  'monitoring',
  'resolved',
  'closed',
  'cancelled',
] as const;
export type IncidentStatus = (typeof STATUSES)[number];

/** Statuses while the incident is being worked on. */
export const OPEN_STATUSES: readonly IncidentStatus[] = [
  'triage',
  'investigating',
  'identified',
  'monitoring',
];

/**
 * Allowed moves. Open statuses move freely among themselves (work is not linear) and to resolved
 * or cancelled; a resolved incident is closed or reopened; closed and cancelled are final.
 */
export function canMove(from: IncidentStatus, to: IncidentStatus): boolean {
  if (from === to) return false;
  if (OPEN_STATUSES.includes(from)) return to !== 'closed';
  if (from === 'resolved') return to === 'closed' || to === 'investigating';
  return false;
}

/** Milestones in the order they must happen. */
export const MILESTONES = [
  'impactStartedAt',
  'detectedAt',
  'acknowledgedAt',
  'mitigatedAt',
  'resolvedAt',
] as const;
export type Milestone = (typeof MILESTONES)[number];
export type Milestones = Partial<Record<Milestone, number>>;

/** Problems with milestone times: each set milestone must not be before any earlier one. */
export function milestoneProblems(milestones: Milestones): Array<{ field: Milestone; message: string }> {
  const problems: Array<{ field: Milestone; message: string }> = [];
  for (let i = 0; i < MILESTONES.length; i++) {
    const later = MILESTONES[i]!;
    const laterMs = milestones[later];
    if (laterMs === undefined) continue;
    for (let j = 0; j < i; j++) {
      const earlier = MILESTONES[j]!;
      const earlierMs = milestones[earlier];
      if (earlierMs !== undefined && laterMs < earlierMs) {
        problems.push({
          field: later,
          message: `is before ${earlier} (${new Date(laterMs).toISOString()} < ${new Date(earlierMs).toISOString()})`,
        });
        break;
      }
    }
  }
  return problems;
}

/** The milestone a status move stamps when it is not set yet (moving to resolved stamps resolvedAt). */
export function milestoneOf(status: IncidentStatus): Milestone | undefined {
  if (status === 'identified' || status === 'investigating') return 'acknowledgedAt';
  if (status === 'monitoring') return 'mitigatedAt';
  if (status === 'resolved') return 'resolvedAt';
  return undefined;
}

export function reference(number: number): string {
  return `INC-${number}`;
}

/** The number in `INC-42` (or a bare `42`), or undefined. */
export function parseReference(ref: string): number | undefined {
  const match = /^(?:INC-)?(\d{1,9})$/i.exec(ref.trim());
  return match ? Number(match[1]) : undefined;
}
