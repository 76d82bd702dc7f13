/**
 * A catch-up summary for someone joining an incident late (pure, deterministic), in English or
 * Japanese: where it stands, who holds which role, what it cost in error budget, and the key
 * (starred) events, from the incident and its timeline. An LLM may polish the wording; the facts
 * come from here. People's text (titles, notes, names) is kept as written.
 */
import type { BudgetImpact } from './impact.js';
import { type WriteUpFormat, type WriteUpLanguage, type WriteUpOptions, writeUpFormat } from './language.js';
import type { IncidentStatus } from './model.js';
import type { Incident, TimelineEvent } from './service.js';
import { JA_INCIDENT_WORDS, timelineText } from './timeline-text.js';

type Milestone = 'detectedAt' | 'acknowledgedAt' | 'mitigatedAt' | 'resolvedAt';

interface CatchUpText {
  status(status: string, drill: boolean, elapsed: string, sinceImpact: boolean, at: string): string;
  services(list: string): string;
  roles(list: string): string;
  noRoles: string;
  budget(slo: string, consumed: string, share: string | null): string;
  milestones(list: string): string;
  keyEvents: string;
  latest: string;
  statuses: Record<IncidentStatus, string>;
  milestone: Record<Milestone, string>;
  /** The standard roles; others are shown as named. */
  role: Record<string, string>;
  unit: { events(n: string): string; minutes(n: string): string };
}

export const CATCH_UP_TEXT: Record<WriteUpLanguage, CatchUpText> = {
  en: {
    status: (status, drill, elapsed, sinceImpact, at) =>
      `Status: ${status}${drill ? ' (drill)' : ''}, ${elapsed} since ${sinceImpact ? 'impact started' : 'detection'} (${at}).`,
    services: (list) => `Services: ${list}.`,
    roles: (list) => `Roles: ${list}.`,
    noRoles: 'Roles: nobody assigned yet.',
    budget: (slo, consumed, share) =>
      `Error budget of ${slo}: ${consumed} consumed${share === null ? '' : ` (${share} of the period's budget)`}.`,
    milestones: (list) => `Milestones: ${list}.`,
    keyEvents: 'Key events:',
    latest: 'Latest:',
    statuses: {
      triage: 'triage',
      investigating: 'investigating',
      identified: 'identified',
      monitoring: 'monitoring',
      resolved: 'resolved',
      closed: 'closed',
      cancelled: 'cancelled',
    },
    milestone: {
      detectedAt: 'detected',
      acknowledgedAt: 'acknowledged',
      mitigatedAt: 'mitigated',
      resolvedAt: 'resolved',
    },
    role: {},
    unit: { events: (n) => `${n} events`, minutes: (n) => `${n} minutes` },
  },
  ja: {
    status: (status, drill, elapsed, sinceImpact, at) =>
      `ステータス: ${status}${drill ? '（訓練）' : ''}。${sinceImpact ? '影響開始' : '検知'}から ${elapsed}経過（${at}）。`,
    services: (list) => `サービス: ${list}。`,
    roles: (list) => `役割: ${list}。`,
    noRoles: '役割: まだ誰も担当していません。',
    budget: (slo, consumed, share) =>
      `${slo} のエラーバジェット: ${consumed}を消費${share === null ? '' : `（期間のバジェットの ${share}）`}。`,
    milestones: (list) => `マイルストーン: ${list}。`,
    keyEvents: '重要なイベント:',
    latest: '最近の動き:',
    statuses: JA_INCIDENT_WORDS.status,
    milestone: JA_INCIDENT_WORDS.milestone,
    role: JA_INCIDENT_WORDS.role,
    unit: { events: (n) => `不良イベント ${n} 件`, minutes: (n) => `不良時間 ${n} 分` },
  },
};

/** The budget an incident consumed, in the language's words (`5000 events`, `不良イベント 5,000 件`). */
export function consumedText(impact: BudgetImpact, format: WriteUpFormat): string {
  const unit = CATCH_UP_TEXT[format.language].unit;
  return impact.unit === 'events'
    ? unit.events(format.count(impact.consumed))
    : unit.minutes(format.count(impact.consumed));
}

export function catchUpSummary(
  incident: Incident,
  timeline: readonly TimelineEvent[],
  impact: readonly BudgetImpact[],
  nowMs: number,
  options: WriteUpOptions = {},
): string {
  const format = writeUpFormat(options);
  const t = CATCH_UP_TEXT[format.language];
  const m = incident.milestones;
  const since = m.impactStartedAt ?? m.detectedAt ?? incident.createdAtMs;
  const lines = [
    `${incident.reference} ${incident.severity} — ${incident.title}`,
    t.status(
      t.statuses[incident.status] ?? incident.status,
      incident.drill,
      format.duration((nowMs - since) / 60_000),
      m.impactStartedAt !== undefined,
      format.time(since),
    ),
  ];
  if (incident.services.length) lines.push(t.services(format.list(incident.services)));
  const roles = Object.entries(incident.roles ?? {});
  lines.push(
    roles.length
      ? t.roles(format.list(roles.map(([role, person]) => `${t.role[role] ?? role} ${person}`)))
      : t.noRoles,
  );
  for (const i of impact)
    lines.push(
      t.budget(
        i.slo,
        consumedText(i, format),
        i.shareOfBudget === null ? null : format.percent(i.shareOfBudget),
      ),
    );
  const done = (['detectedAt', 'acknowledgedAt', 'mitigatedAt', 'resolvedAt'] as const)
    .filter((k) => m[k] !== undefined)
    .map((k) => `${t.milestone[k]} ${format.time(m[k])}`);
  if (done.length) lines.push(t.milestones(format.list(done)));
  const key = timeline.filter((e) => e.starred);
  const recent = timeline.filter((e) => !e.starred).slice(-3);
  const entry = (e: TimelineEvent) => `- ${format.time(e.atMs)} ${timelineText(e, format)} (${e.actor})`;
  if (key.length) lines.push(t.keyEvents, ...key.map(entry));
  if (recent.length) lines.push(t.latest, ...recent.map(entry));
  return lines.join('\n');
}
