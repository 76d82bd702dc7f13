/**
 * A postmortem draft (pure): markdown with the SRE book's sections, filled with what Shinrai
 * knows — the incidents, their milestones, the error budget each consumed, and the starred
 * timeline — and left open where people must write (root causes, lessons). Titles and notes are
 * people's text: the draft keeps them as written, and rendering sanitises the whole document.
 */
import { ACTION_ITEMS_PLACEHOLDER } from './action-items.js';
import type { BudgetImpact } from './impact.js';
import type { Incident, TimelineEvent } from './service.js';

export const POSTMORTEM_STATUSES = ['draft', 'in-review', 'published'] as const;
export type PostmortemStatus = (typeof POSTMORTEM_STATUSES)[number];

/** draft ⇄ in review → published; a published postmortem is final. */
export function canMovePostmortem(from: PostmortemStatus, to: PostmortemStatus): boolean {
  return (
    (from === 'draft' && to === 'in-review') ||
    (from === 'in-review' && (to === 'draft' || to === 'published'))
  );
}

const iso = (ms: number | undefined) =>
  ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z');

export interface CoveredIncident {
  readonly incident: Incident;
  readonly timeline: readonly TimelineEvent[];
  readonly impact: readonly BudgetImpact[];
}

export function draftPostmortem(covered: readonly CoveredIncident[]): string {
  const refs = covered.map((c) => c.incident.reference).join(', ');
  const first = covered[0]!.incident;
  const lines: string[] = [
    `# Postmortem: ${first.title}${covered.length > 1 ? ` (and ${covered.length - 1} more)` : ''}`,
    '',
    `Incidents: ${refs} · Status: draft · Blameless: describe systems and decisions, not people.`,
    '',
    '## Summary',
    '',
    first.summary || '_What happened, in two or three sentences._',
    '',
    '## Impact',
    '',
  ];
  for (const { incident, impact } of covered) {
    const m = incident.milestones;
    lines.push(
      `**${incident.reference}** ${incident.severity}: impact ${iso(m.impactStartedAt ?? m.detectedAt)} → mitigated ${iso(m.mitigatedAt)}, resolved ${iso(m.resolvedAt)}. Services: ${incident.services.join(', ') || '—'}.`,
      '',
    );
    if (impact.length) {
      lines.push('| SLO | budget consumed | share of the period budget |', '|---|---|---|');
      for (const i of impact)
        lines.push(
          `| ${i.slo} | ${Math.round(i.consumed)} ${i.unit} | ${i.shareOfBudget === null ? '—' : `${(i.shareOfBudget * 100).toFixed(1)}%`} |`,
        );
      lines.push('');
    }
  }
  lines.push(
    '## Root causes',
    '',
    covered
      .map((c) => c.incident.rootCause)
      .filter(Boolean)
      .join('; ') || '_Why it happened: the contributing causes, not a culprit._',
    '',
    '## Trigger',
    '',
    '_What set it off._',
    '',
    '## Resolution',
    '',
    '_What stopped the impact, and what restored full service._',
    '',
    '## Detection',
    '',
  );
  for (const { incident } of covered) {
    const m = incident.milestones;
    const ttd =
      m.impactStartedAt !== undefined && m.detectedAt !== undefined
        ? Math.round((m.detectedAt - m.impactStartedAt) / 60_000)
        : null;
    lines.push(
      `- ${incident.reference}: detected ${iso(m.detectedAt)}${ttd === null ? '' : `, ${ttd} min after impact began`}.`,
    );
  }
  lines.push(
    '',
    '## Action items',
    '',
    ACTION_ITEMS_PLACEHOLDER,
    '',
    '## Lessons learned',
    '',
    '### What went well',
    '',
    '- ',
    '',
    '### What went wrong',
    '',
    '- ',
    '',
    '### Where we got lucky',
    '',
    '- ',
    '',
    '## Timeline',
    '',
  );
  const starred = covered.flatMap((c) =>
    c.timeline.filter((e) => e.starred).map((e) => ({ ref: c.incident.reference, e })),
  );
  const events = starred.length
    ? starred
    : covered.flatMap((c) => c.timeline.map((e) => ({ ref: c.incident.reference, e })));
  for (const { ref, e } of events.sort((a, b) => a.e.atMs - b.e.atMs))
    lines.push(`- ${iso(e.atMs)} ${covered.length > 1 ? `${ref} ` : ''}${e.text} (${e.actor})`);
  lines.push(
    '',
    '## Supporting information',
    '',
    ...covered.flatMap((c) => c.incident.runbooks.map((r) => `- ${r}`)),
    '',
  );
  return lines.join('\n');
}
