/**
 * The periodic review across incidents and postmortems (pure): what keeps going wrong (recurring
 * root-cause categories), where (incidents and error budget consumed per service), whether the
 * learning happened (postmortems the budget policy requires, and their P0 action items) and
 * whether the follow-ups are done (overdue action items). Rendered as markdown in English or
 * Japanese for the review meeting.
 */
import { median } from '../platform/stats.js';
import { type ActionItem, countsForPolicy, isOverdue, policyBreaches } from './action-items.js';
import type { BudgetImpact } from './impact.js';
import { type SeverityScale, severityRank } from './model.js';
import type { Incident } from './service.js';

export interface ReviewInput {
  readonly fromMs: number;
  readonly toMs: number;
  /** YYYY-MM-DD in the team's time zone, for overdue items. */
  readonly today: string;
  readonly severities: SeverityScale;
  /** Incidents declared in the period, with the budget each consumed. */
  readonly incidents: ReadonlyArray<{
    readonly incident: Incident;
    readonly impact: readonly BudgetImpact[];
  }>;
  /** Every postmortem: id, status and the references it covers. */
  readonly postmortems: ReadonlyArray<{
    readonly id: string;
    readonly status: string;
    readonly incidents: readonly string[];
  }>;
  /** Every action item (overdue ones count whenever they were created). */
  readonly actionItems: readonly ActionItem[];
  /** The service of each SLO (evaluation targets included), to attribute budget. */
  readonly serviceOfSlo: ReadonlyMap<string, string>;
}

export interface RootCauseCount {
  /** The incident's root-cause category, lower-cased; `unknown` when none was recorded. */
  readonly category: string;
  readonly incidents: readonly string[];
  /** Seen in two or more incidents of the period. */
  readonly recurring: boolean;
}

export interface ServiceReview {
  readonly service: string;
  readonly incidents: readonly string[];
  readonly bySeverity: Readonly<Record<string, number>>;
  /** Budget consumed by the period's incidents per SLO of this service. */
  readonly budget: ReadonlyArray<{
    readonly slo: string;
    readonly unit: 'events' | 'minutes';
    readonly consumed: number;
    /** The sum of each incident's share of the period budget at its time (0.25 = 25%). */
    readonly shareOfBudget: number;
  }>;
  readonly ttrMedianMinutes: number | null;
}

export type PostmortemGap = 'no postmortem' | 'not published' | 'no P0 action item';

export interface Review {
  readonly from: string;
  readonly to: string;
  readonly incidents: { readonly count: number; readonly bySeverity: Readonly<Record<string, number>> };
  readonly rootCauses: readonly RootCauseCount[];
  readonly services: readonly ServiceReview[];
  readonly postmortems: {
    /** Incidents that consumed more than 20% of a budget. */
    readonly required: readonly string[];
    /** Of those, the ones whose postmortem is missing, unpublished or without a P0 action item. */
    readonly gaps: ReadonlyArray<{ readonly incident: string; readonly gap: PostmortemGap }>;
    /** Postmortems covering the period's incidents, by status. */
    readonly byStatus: Readonly<Record<string, number>>;
  };
  readonly actionItems: {
    /** Items of the period's postmortems by status. */
    readonly byStatus: Readonly<Record<string, number>>;
    /** Every open item past its due date, oldest due first. */
    readonly overdue: readonly ActionItem[];
  };
}

const count = (values: readonly string[]) => {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
};

export function buildReview(input: ReviewInput): Review {
  const counted = input.incidents.filter(
    ({ incident: i }) =>
      !i.drill && i.status !== 'cancelled' && i.createdAtMs >= input.fromMs && i.createdAtMs < input.toMs,
  );
  const bySeverity = (list: typeof counted) => {
    const counts = count(list.map((c) => c.incident.severity));
    return Object.fromEntries(
      Object.entries(counts).sort(
        ([a], [b]) =>
          severityRank(input.severities, a) - severityRank(input.severities, b) || a.localeCompare(b),
      ),
    );
  };

  const causes = new Map<string, string[]>();
  for (const { incident } of counted) {
    const category = incident.rootCause?.trim().toLowerCase() || 'unknown';
    causes.set(category, [...(causes.get(category) ?? []), incident.reference]);
  }
  const rootCauses = [...causes]
    .map(([category, refs]) => ({ category, incidents: refs, recurring: refs.length >= 2 }))
    .sort((a, b) => b.incidents.length - a.incidents.length || a.category.localeCompare(b.category));

  const serviceNames = new Set<string>();
  for (const { incident, impact } of counted) {
    for (const s of incident.services) serviceNames.add(s);
    for (const i of impact) serviceNames.add(serviceOf(input, i.slo, incident));
  }
  const services = [...serviceNames]
    .map((service): ServiceReview => {
      const involved = counted.filter(
        ({ incident, impact }) =>
          incident.services.includes(service) ||
          impact.some((i) => serviceOf(input, i.slo, incident) === service),
      );
      const budget = new Map<
        string,
        { slo: string; unit: 'events' | 'minutes'; consumed: number; shareOfBudget: number }
      >();
      for (const { incident, impact } of involved)
        for (const i of impact) {
          if (serviceOf(input, i.slo, incident) !== service) continue;
          const entry = budget.get(i.slo) ?? { slo: i.slo, unit: i.unit, consumed: 0, shareOfBudget: 0 };
          budget.set(i.slo, {
            ...entry,
            consumed: entry.consumed + i.consumed,
            shareOfBudget: entry.shareOfBudget + (i.shareOfBudget ?? 0),
          });
        }
      const ttrs = involved.flatMap(({ incident: { milestones: m } }) => {
        const start = m.impactStartedAt ?? m.detectedAt;
        return start !== undefined && m.resolvedAt !== undefined ? [(m.resolvedAt - start) / 60_000] : [];
      });
      return {
        service,
        incidents: involved.map((c) => c.incident.reference),
        bySeverity: bySeverity(involved),
        budget: [...budget.values()].sort((a, b) => b.shareOfBudget - a.shareOfBudget),
        ttrMedianMinutes: ttrs.length ? median(ttrs) : null,
      };
    })
    .sort((a, b) => b.incidents.length - a.incidents.length || a.service.localeCompare(b.service));

  const itemsOf = (postmortemId: string) => input.actionItems.filter((i) => i.postmortemId === postmortemId);
  const covering = (ref: string) => input.postmortems.filter((p) => p.incidents.includes(ref));
  const required = counted
    .filter(({ incident, impact }) => policyBreaches(incident.reference, impact).length > 0)
    .map((c) => c.incident.reference);
  const gaps = required.flatMap((ref) => {
    const postmortems = covering(ref);
    const gap: PostmortemGap | undefined = !postmortems.length
      ? 'no postmortem'
      : !postmortems.some((p) => itemsOf(p.id).some(countsForPolicy))
        ? 'no P0 action item'
        : !postmortems.some((p) => p.status === 'published')
          ? 'not published'
          : undefined;
    return gap ? [{ incident: ref, gap }] : [];
  });
  const periodRefs = new Set(counted.map((c) => c.incident.reference));
  const periodPostmortems = input.postmortems.filter((p) => p.incidents.some((r) => periodRefs.has(r)));

  return {
    from: new Date(input.fromMs).toISOString(),
    to: new Date(input.toMs).toISOString(),
    incidents: { count: counted.length, bySeverity: bySeverity(counted) },
    rootCauses,
    services,
    postmortems: {
      required,
      gaps,
      byStatus: count(periodPostmortems.map((p) => p.status)),
    },
    actionItems: {
      byStatus: count(periodPostmortems.flatMap((p) => itemsOf(p.id).map((i) => i.status))),
      overdue: input.actionItems
        .filter((i) => isOverdue(i, input.today))
        .sort((a, b) => (a.dueDate ?? '').localeCompare(b.dueDate ?? '') || a.createdAtMs - b.createdAtMs),
    },
  };
}

/** The SLO's service from the catalog; for an SLO no longer in the specs, the incident's first service. */
function serviceOf(input: ReviewInput, slo: string, incident: Incident): string {
  return (
    input.serviceOfSlo.get(slo) ??
    input.serviceOfSlo.get(slo.split('/')[0]!) ??
    incident.services[0] ??
    'unknown'
  );
}

const TEXT = {
  en: {
    title: 'Reliability review',
    period: 'Period',
    incidents: 'Incidents',
    none: 'None.',
    rootCauses: 'Root-cause categories',
    category: 'category',
    recurring: 'recurring',
    services: 'Incidents and error budget per service',
    service: 'service',
    severity: 'by severity',
    budget: 'budget consumed',
    ttr: 'median TTR',
    postmortems: 'Postmortems',
    required: 'Required by the error-budget policy (an incident consumed more than 20% of a budget)',
    gaps: 'Gaps',
    byStatus: 'By status',
    actionItems: 'Action items',
    overdue: 'Overdue',
    owner: 'owner',
    due: 'due',
    priority: 'priority',
    title_: 'action',
    minutes: 'min',
    gap: {
      'no postmortem': 'no postmortem',
      'not published': 'postmortem not published',
      'no P0 action item': 'no P0 action item',
    },
  },
  ja: {
    title: '信頼性レビュー',
    period: '期間',
    incidents: 'インシデント',
    none: 'なし。',
    rootCauses: '根本原因カテゴリ',
    category: 'カテゴリ',
    recurring: '再発',
    services: 'サービスごとのインシデントとエラーバジェット',
    service: 'サービス',
    severity: '重大度別',
    budget: '消費したバジェット',
    ttr: 'TTR 中央値',
    postmortems: 'ポストモーテム',
    required: 'エラーバジェットポリシーで必須（バジェットの 20% 超を消費したインシデント）',
    gaps: '未対応',
    byStatus: 'ステータス別',
    actionItems: 'アクションアイテム',
    overdue: '期限切れ',
    owner: '担当',
    due: '期限',
    priority: '優先度',
    title_: 'アクション',
    minutes: '分',
    gap: {
      'no postmortem': 'ポストモーテムなし',
      'not published': 'ポストモーテム未公開',
      'no P0 action item': 'P0 アクションアイテムなし',
    },
  },
} as const;

export type ReviewLanguage = keyof typeof TEXT;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const counts = (record: Readonly<Record<string, number>>) =>
  Object.entries(record)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '—';
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** The review as markdown for the meeting. People's text (root causes, titles) is escaped for tables only: render it sanitised. */
export function reviewMarkdown(review: Review, language: ReviewLanguage = 'en'): string {
  const t = TEXT[language];
  const lines = [
    `# ${t.title}`,
    '',
    `${t.period}: ${review.from} → ${review.to}`,
    '',
    `## ${t.incidents}: ${review.incidents.count}`,
    '',
    counts(review.incidents.bySeverity),
    '',
    `## ${t.rootCauses}`,
    '',
  ];
  if (review.rootCauses.length) {
    lines.push(`| ${t.category} | ${t.incidents} | |`, '|---|---|---|');
    for (const c of review.rootCauses)
      lines.push(
        `| ${cell(c.category)} | ${c.incidents.join(', ')} | ${c.recurring ? `**${t.recurring}**` : ''} |`,
      );
  } else lines.push(t.none);
  lines.push('', `## ${t.services}`, '');
  if (review.services.length) {
    lines.push(
      `| ${t.service} | ${t.incidents} | ${t.severity} | ${t.budget} | ${t.ttr} |`,
      '|---|---|---|---|---|',
    );
    for (const s of review.services)
      lines.push(
        `| ${cell(s.service)} | ${s.incidents.join(', ')} | ${counts(s.bySeverity)} | ${
          s.budget
            .map((b) => `${cell(b.slo)} ${Math.round(b.consumed)} ${b.unit} (${percent(b.shareOfBudget)})`)
            .join('; ') || '—'
        } | ${s.ttrMedianMinutes === null ? '—' : `${Math.round(s.ttrMedianMinutes)} ${t.minutes}`} |`,
      );
  } else lines.push(t.none);
  lines.push(
    '',
    `## ${t.postmortems}`,
    '',
    `${t.required}: ${review.postmortems.required.join(', ') || '—'}`,
    '',
    `${t.gaps}: ${review.postmortems.gaps.map((g) => `${g.incident} (${t.gap[g.gap]})`).join(', ') || '—'}`,
    '',
    `${t.byStatus}: ${counts(review.postmortems.byStatus)}`,
    '',
    `## ${t.actionItems}`,
    '',
    `${t.byStatus}: ${counts(review.actionItems.byStatus)}`,
    '',
    `### ${t.overdue}: ${review.actionItems.overdue.length}`,
    '',
  );
  if (review.actionItems.overdue.length) {
    lines.push(`| ${t.title_} | ${t.priority} | ${t.owner} | ${t.due} |`, '|---|---|---|---|');
    for (const i of review.actionItems.overdue)
      lines.push(`| ${cell(i.title)} | ${i.priority} | ${cell(i.owner ?? '—')} | ${i.dueDate ?? '—'} |`);
  }
  lines.push('');
  return lines.join('\n');
}
