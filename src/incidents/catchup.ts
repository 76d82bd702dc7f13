/**
 * A catch-up summary for someone joining an incident late (pure, deterministic): where it stands,
 * who holds which role, what it cost in error budget, and the key (starred) events, from the
 * incident and its timeline. An LLM may later polish the wording; the facts come from here.
 */
import type { BudgetImpact } from './impact.js';
import type { Incident, TimelineEvent } from './service.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export function catchUpSummary(
  incident: Incident,
  timeline: readonly TimelineEvent[],
  impact: readonly BudgetImpact[],
  nowMs: number,
): string {
  const m = incident.milestones;
  const since = m.impactStartedAt ?? m.detectedAt ?? incident.createdAtMs;
  const minutes = Math.round((nowMs - since) / 60_000);
  const lines = [
    `${incident.reference} ${incident.severity} — ${incident.title}`,
    `Status: ${incident.status}${incident.drill ? ' (drill)' : ''}, ${minutes} min since ${m.impactStartedAt ? 'impact started' : 'detection'} (${iso(since)}).`,
  ];
  if (incident.services.length) lines.push(`Services: ${incident.services.join(', ')}.`);
  const roles = Object.entries(incident.roles ?? {});
  lines.push(
    roles.length
      ? `Roles: ${roles.map(([role, person]) => `${role} ${person}`).join(', ')}.`
      : 'Roles: nobody assigned yet.',
  );
  for (const i of impact)
    lines.push(
      `Error budget of ${i.slo}: ${Math.round(i.consumed)} ${i.unit} consumed${i.shareOfBudget === null ? '' : ` (${(i.shareOfBudget * 100).toFixed(1)}% of the period's budget)`}.`,
    );
  const done = (['detectedAt', 'acknowledgedAt', 'mitigatedAt', 'resolvedAt'] as const)
    .filter((k) => m[k] !== undefined)
    .map((k) => `${k.replace(/At$/, '')} ${iso(m[k]!)}`);
  if (done.length) lines.push(`Milestones: ${done.join(', ')}.`);
  const key = timeline.filter((e) => e.starred);
  const recent = timeline.filter((e) => !e.starred).slice(-3);
  if (key.length) lines.push('Key events:', ...key.map((e) => `- ${iso(e.atMs)} ${e.text} (${e.actor})`));
  if (recent.length) lines.push('Latest:', ...recent.map((e) => `- ${iso(e.atMs)} ${e.text} (${e.actor})`));
  return lines.join('\n');
}
