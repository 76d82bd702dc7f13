/**
 * Action items (pure): the structured follow-ups of a postmortem, when one is overdue, the
 * markdown table the rendered postmortem shows, and the budget policy — an incident that consumed
 * more than 20% of an SLO's budget needs a postmortem with at least one P0 action item.
 */
import type { BudgetImpact } from './impact.js';
import { POSTMORTEM_REQUIRED_SHARE } from './impact.js';
import type { WriteUpLanguage } from './language.js';

/** The SRE book's action-item categories. */
export const ACTION_ITEM_CATEGORIES = [
  'investigate',
  'mitigate',
  'repair',
  'detect',
  'mitigate-future',
  'prevent',
] as const;
export type ActionItemCategory = (typeof ACTION_ITEM_CATEGORIES)[number];

export const ACTION_ITEM_PRIORITIES = ['P0', 'P1', 'P2'] as const;
export type ActionItemPriority = (typeof ACTION_ITEM_PRIORITIES)[number];

export const ACTION_ITEM_STATUSES = ['open', 'done', 'skipped'] as const;
export type ActionItemStatus = (typeof ACTION_ITEM_STATUSES)[number];

export interface ActionItem {
  readonly id: string;
  readonly postmortemId: string;
  readonly title: string;
  readonly category: ActionItemCategory;
  readonly priority: ActionItemPriority;
  readonly owner?: string | undefined;
  /** A calendar date, YYYY-MM-DD: due at the end of that day. */
  readonly dueDate?: string | undefined;
  readonly status: ActionItemStatus;
  readonly ticketUrl?: string | undefined;
  /** The risk (catalog name) this item reduces, and the estimate once it is done. */
  readonly risk?: string | undefined;
  readonly riskEffect?: RiskEffect | undefined;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** When it became done or skipped. */
  readonly closedAtMs?: number | undefined;
}

/** A risk's estimate once an action item is done (the fields it changes). */
export interface RiskEffect {
  readonly ettdMinutes?: number | undefined;
  readonly ettrMinutes?: number | undefined;
  readonly impact?: number | undefined;
  readonly ettfDays?: number | undefined;
}

/** An open item whose due date lies before `today` (YYYY-MM-DD in the team's calendar). */
export function isOverdue(item: Pick<ActionItem, 'status' | 'dueDate'>, today: string): boolean {
  return item.status === 'open' && item.dueDate !== undefined && item.dueDate < today;
}

/** The placeholder in a postmortem's markdown where the current action items are shown. */
export const ACTION_ITEMS_PLACEHOLDER = '<!-- shinrai:action-items -->';
/** The same in a Japanese draft: the table is then shown with Japanese headings and values. */
export const ACTION_ITEMS_PLACEHOLDER_JA = '<!-- shinrai:action-items:ja -->';

export function actionItemsPlaceholder(language: WriteUpLanguage): string {
  return language === 'ja' ? ACTION_ITEMS_PLACEHOLDER_JA : ACTION_ITEMS_PLACEHOLDER;
}

interface ActionItemsText {
  readonly none: string;
  readonly headings: readonly string[];
  readonly category: Record<ActionItemCategory, string>;
  readonly status: Record<ActionItemStatus, string>;
}

export const ACTION_ITEMS_TEXT: Record<WriteUpLanguage, ActionItemsText> = {
  en: {
    none: '_No action items yet._',
    headings: ['action', 'category', 'priority', 'owner', 'due', 'status', 'ticket'],
    category: Object.fromEntries(ACTION_ITEM_CATEGORIES.map((c) => [c, c])) as Record<
      ActionItemCategory,
      string
    >,
    status: { open: 'open', done: 'done', skipped: 'skipped' },
  },
  ja: {
    none: '_アクションアイテムはまだありません。_',
    headings: ['アクション', '分類', '優先度', '担当者', '期限', '状態', 'チケット'],
    category: {
      investigate: '調査',
      mitigate: '緩和',
      repair: '修復',
      detect: '検知',
      'mitigate-future': '将来の緩和',
      prevent: '予防',
    },
    status: { open: '未完了', done: '完了', skipped: '見送り' },
  },
};

const cell = (text: string | undefined) =>
  text ? text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ') : '—';

/** The action items as a markdown table (or a line saying there are none). */
export function actionItemsTable(items: readonly ActionItem[], language: WriteUpLanguage = 'en'): string {
  const t = ACTION_ITEMS_TEXT[language];
  if (!items.length) return t.none;
  const rows = [...items].sort(
    (a, b) => a.priority.localeCompare(b.priority) || a.createdAtMs - b.createdAtMs,
  );
  return [
    `| ${t.headings.join(' | ')} |`,
    `|${t.headings.map(() => '---').join('|')}|`,
    ...rows.map(
      (i) =>
        `| ${cell(i.title)} | ${t.category[i.category]} | ${i.priority} | ${cell(i.owner)} | ${i.dueDate ?? '—'} | ${t.status[i.status]} | ${i.ticketUrl ? `<${i.ticketUrl}>` : '—'} |`,
    ),
  ].join('\n');
}

/** The markdown with each placeholder replaced by the current action items, in its language. */
export function withActionItems(markdown: string, items: readonly ActionItem[]): string {
  return markdown
    .split(ACTION_ITEMS_PLACEHOLDER)
    .join(actionItemsTable(items, 'en'))
    .split(ACTION_ITEMS_PLACEHOLDER_JA)
    .join(actionItemsTable(items, 'ja'));
}

/** An SLO whose budget an incident consumed beyond the policy's share. */
export interface PolicyBreach {
  readonly incident: string;
  readonly slo: string;
  readonly shareOfBudget: number;
}

/** The SLOs of which the incident consumed more than 20% of the budget. */
export function policyBreaches(reference: string, impact: readonly BudgetImpact[]): PolicyBreach[] {
  return impact
    .filter((i) => (i.shareOfBudget ?? 0) > POSTMORTEM_REQUIRED_SHARE)
    .map((i) => ({ incident: reference, slo: i.slo, shareOfBudget: i.shareOfBudget ?? 0 }));
}

/** Items that satisfy the policy: P0 and not skipped. */
export function countsForPolicy(item: Pick<ActionItem, 'priority' | 'status'>): boolean {
  return item.priority === 'P0' && item.status !== 'skipped';
}

/**
 * Why a postmortem may not be published yet under the budget policy: one line per breach when no
 * P0 action item (open or done) exists; empty when it may.
 */
export function publishBlockers(breaches: readonly PolicyBreach[], items: readonly ActionItem[]): string[] {
  if (!breaches.length || items.some(countsForPolicy)) return [];
  return breaches.map(
    (b) =>
      `${b.incident} consumed ${(b.shareOfBudget * 100).toFixed(1)}% of ${b.slo}'s error budget (more than ${POSTMORTEM_REQUIRED_SHARE * 100}%): add at least one P0 action item`,
  );
}
