/**
 * The reliability backlog (pure): per service, the open action items and the risks not yet
 * mitigated, ranked by the error-budget minutes a year each would save — so the next piece of
 * reliability work is chosen by numbers, not by argument. An item linked to a risk with its
 * effect (the risk's written estimate once the item is done; factors still apply) saves what the
 * what-if says; a risk saves all its bad minutes once mitigated; an item
 * without an estimate ranks after those with one, P0 first. Exported as CSV and markdown.
 */
import { stringify } from 'csv-stringify/sync';
import type { ActionItem } from '../incidents/index.js';
import type { RiskAnalysis } from './analysis.js';
import { effectiveAfter, whatIf } from './analysis.js';

export interface BacklogEntry {
  readonly service: string;
  readonly kind: 'action-item' | 'risk';
  readonly title: string;
  /** The risk it is, or the risk the action item reduces. */
  readonly risk?: string | undefined;
  readonly actionItem?: string | undefined;
  readonly priority?: string | undefined;
  readonly owner?: string | undefined;
  readonly dueDate?: string | undefined;
  readonly status: string;
  /** Expected budget minutes saved a year when done; null when not estimated. */
  readonly savedMinutesPerYear: number | null;
}

export interface ServiceBacklog {
  readonly service: string;
  readonly entries: readonly BacklogEntry[];
}

const PRIORITY_RANK: Record<string, number> = { P0: 0, P1: 1, P2: 2 };

function byValue(a: BacklogEntry, b: BacklogEntry): number {
  if (a.savedMinutesPerYear !== b.savedMinutesPerYear) {
    if (a.savedMinutesPerYear === null) return 1;
    if (b.savedMinutesPerYear === null) return -1;
    return b.savedMinutesPerYear - a.savedMinutesPerYear;
  }
  const pa = PRIORITY_RANK[a.priority ?? ''] ?? 3;
  const pb = PRIORITY_RANK[b.priority ?? ''] ?? 3;
  return pa - pb || a.title.localeCompare(b.title);
}

/** What finishing `item` saves a year on `risk` (never below 0); null when its effect is not estimated. */
export function savedMinutesOf(risk: RiskAnalysis['risks'][number], item: ActionItem): number | null {
  if (!item.riskEffect || Object.keys(item.riskEffect).length === 0) return null;
  return Math.max(0, whatIf(risk.effective, effectiveAfter(risk, item.riskEffect)).savedMinutesPerYear);
}

export function buildBacklog(input: {
  readonly analysis: RiskAnalysis;
  /** Open action items. */
  readonly items: readonly ActionItem[];
  /** The services of an item not linked to a risk (from its postmortem's incidents). */
  readonly servicesOf: (item: ActionItem) => readonly string[];
}): ServiceBacklog[] {
  const risks = new Map(input.analysis.risks.map((r) => [r.name, r]));
  const entries: BacklogEntry[] = [];
  for (const item of input.items) {
    if (item.status !== 'open') continue;
    const risk = item.risk ? risks.get(item.risk) : undefined;
    const saved = risk ? savedMinutesOf(risk, item) : null;
    const services = risk ? [risk.service] : input.servicesOf(item);
    for (const service of services.length ? services : ['unassigned'])
      entries.push({
        service,
        kind: 'action-item',
        title: item.title,
        risk: item.risk,
        actionItem: item.id,
        priority: item.priority,
        owner: item.owner,
        dueDate: item.dueDate,
        status: item.status,
        savedMinutesPerYear: saved,
      });
  }
  for (const risk of input.analysis.risks) {
    if (risk.status === 'mitigated') continue;
    entries.push({
      service: risk.service,
      kind: 'risk',
      title: risk.description ?? risk.name,
      risk: risk.name,
      status: risk.status,
      savedMinutesPerYear: risk.badMinutesPerYear,
    });
  }
  const services = [...new Set(entries.map((e) => e.service))].sort();
  return services.map((service) => ({
    service,
    entries: entries.filter((e) => e.service === service).sort(byValue),
  }));
}

const COLUMNS = [
  'service',
  'rank',
  'kind',
  'title',
  'risk',
  'priority',
  'owner',
  'due',
  'status',
  'saved_minutes_per_year',
] as const;

export function backlogCsv(backlog: readonly ServiceBacklog[]): string {
  return stringify(
    backlog.flatMap((s) =>
      s.entries.map((e, i) => [
        s.service,
        i + 1,
        e.kind,
        e.title,
        e.risk ?? '',
        e.priority ?? '',
        e.owner ?? '',
        e.dueDate ?? '',
        e.status,
        e.savedMinutesPerYear === null ? '' : e.savedMinutesPerYear.toFixed(1),
      ]),
    ),
    { header: true, columns: [...COLUMNS] },
  );
}

const cell = (text: string | undefined) =>
  text ? text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ') : '—';

export function backlogMarkdown(backlog: readonly ServiceBacklog[]): string {
  const lines = ['# Reliability backlog', ''];
  if (!backlog.length) lines.push('Nothing open: no action items and no risks left to mitigate.', '');
  for (const s of backlog) {
    lines.push(
      `## ${cell(s.service)}`,
      '',
      '| # | kind | what | risk | priority | owner | due | budget min/yr saved |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const [i, e] of s.entries.entries())
      lines.push(
        `| ${i + 1} | ${e.kind} | ${cell(e.title)} | ${cell(e.risk)} | ${e.priority ?? '—'} | ${cell(e.owner)} | ${e.dueDate ?? '—'} | ${e.savedMinutesPerYear === null ? 'not estimated' : e.savedMinutesPerYear.toFixed(1)} |`,
      );
    lines.push('');
  }
  return lines.join('\n');
}
