/**
 * Pure: what Shinrai posts in Slack for an incident — the channel name, the pinned incident card
 * (Block Kit, English or Japanese) with its buttons, the announcement in the broadcast channel and
 * the status-update reminder. No I/O: the outbox renders these from the incident as stored.
 */
import type { Incident } from '../incidents/index.js';
import { escapeSlack, type SlackLanguage } from './text.js';

/** Action ids of the card's buttons and menus (card-actions.ts listens for them). */
export const CARD_ACTIONS = {
  acknowledge: 'shinrai_card_ack',
  role: 'shinrai_card_role',
  status: 'shinrai_card_status',
  severity: 'shinrai_card_severity',
  mitigated: 'shinrai_card_mitigated',
  resolved: 'shinrai_card_resolved',
  postmortem: 'shinrai_card_postmortem',
} as const;

/** The roles offered on the card before `slack.roles`. */
export const CARD_ROLES = ['commander', 'communications', 'operations'] as const;

const STATUS_CHOICES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
const SLACK_NAME_MAX = 80;

/**
 * `<prefix><number>-<slug>`: Slack channel names are lower-case letters, digits, `-` and `_`, at
 * most 80 characters. The slug keeps the title's ASCII letters and digits (full-width forms and
 * accented letters folded first: `Ｃｈｅｃｋｏｕｔ` → `checkout`, `café` → `cafe`); everything else
 * becomes one `-`. A title with none (a Japanese title such as 決済の障害) gives `<prefix><number>`.
 */
export function channelName(prefix: string, number: number, title: string): string {
  const head = `${prefix}${number}`;
  const slug = title
    .normalize('NFKC')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!slug) return head;
  return `${head}-${slug}`.slice(0, SLACK_NAME_MAX).replace(/-+$/, '');
}

/** The name to try after `name_taken` (`inc-7-db` → `inc-7-db-2` → `inc-7-db-3`…). */
export function nextChannelName(base: string, attempt: number): string {
  const suffix = `-${attempt + 1}`;
  return attempt === 0 ? base : `${base.slice(0, SLACK_NAME_MAX - suffix.length)}${suffix}`;
}

export interface CardFacts {
  readonly incident: Incident;
  /** Budget consumed so far per linked SLO (share of the period's budget, or null). */
  readonly impact: ReadonlyArray<{ readonly slo: string; readonly shareOfBudget: number | null }>;
  readonly severities: readonly string[];
  /** Roles offered besides the standard three (`slack.roles`). */
  readonly extraRoles: readonly string[];
  /** The incident in Shinrai's UI, when `slack.uiUrl` is set. */
  readonly url?: string | undefined;
  readonly language: SlackLanguage;
}

interface CardText {
  readonly severity: string;
  readonly status: string;
  readonly roles: string;
  readonly noRoles: string;
  readonly slos: string;
  readonly noSlos: string;
  readonly consumed: (share: string) => string;
  readonly runbook: string;
  readonly open: string;
  readonly acknowledge: string;
  readonly acknowledged: string;
  readonly takeRole: string;
  readonly setStatus: string;
  readonly setSeverity: string;
  readonly mitigated: string;
  readonly resolved: string;
  readonly postmortem: string;
  readonly statuses: Readonly<Record<string, string>>;
  readonly announce: (reference: string, severity: string, title: string, channel: string) => string;
  readonly remind: (who: string, minutes: number) => string;
}

export const CARD_TEXT: Record<SlackLanguage, CardText> = {
  en: {
    severity: 'Severity',
    status: 'Status',
    roles: 'Roles',
    noRoles: 'no one yet',
    slos: 'Linked SLOs',
    noSlos: 'none linked',
    consumed: (share) => `${share} of budget consumed`,
    runbook: 'Runbook',
    open: 'Open in Shinrai',
    acknowledge: 'Acknowledge',
    acknowledged: 'Acknowledged',
    takeRole: 'Take a role',
    setStatus: 'Change status',
    setSeverity: 'Change severity',
    mitigated: 'Mitigated',
    resolved: 'Resolved',
    postmortem: 'Draft postmortem',
    statuses: {
      triage: 'triage',
      investigating: 'investigating',
      identified: 'identified',
      monitoring: 'monitoring (mitigated)',
      resolved: 'resolved',
      closed: 'closed',
      cancelled: 'cancelled',
    },
    announce: (reference, severity, title, channel) =>
      `:rotating_light: ${reference} [${severity}] declared: ${title}. Join <#${channel}>.`,
    remind: (who, minutes) =>
      `${who} no status update for ${minutes} minutes: please post one (\`/shinrai note …\` or change the status on the card).`,
  },
  ja: {
    severity: '重大度',
    status: 'ステータス',
    roles: 'ロール',
    noRoles: 'まだ誰もいません',
    slos: '関連する SLO',
    noSlos: 'なし',
    consumed: (share) => `エラーバジェットの ${share} を消費`,
    runbook: 'ランブック',
    open: 'Shinrai で開く',
    acknowledge: '確認 (ACK)',
    acknowledged: '確認済み',
    takeRole: 'ロールを引き受ける',
    setStatus: 'ステータスを変更',
    setSeverity: '重大度を変更',
    mitigated: '緩和済み',
    resolved: '解決済み',
    postmortem: 'ポストモーテムを起草',
    statuses: {
      triage: 'トリアージ',
      investigating: '調査中',
      identified: '原因特定',
      monitoring: '監視中(緩和済み)',
      resolved: '解決済み',
      closed: 'クローズ',
      cancelled: '取り消し',
    },
    announce: (reference, severity, title, channel) =>
      `:rotating_light: ${reference} [${severity}] が宣言されました: ${title}。<#${channel}> に参加してください。`,
    remind: (who, minutes) =>
      `${who} ${minutes} 分間ステータス更新がありません。更新を投稿してください(\`/shinrai note …\` またはカードでステータスを変更)。`,
  },
};

/** A role holder written `Name (U0123)` is mentioned; any other text is shown escaped. */
export function mention(holder: string): string {
  const id = /\(([UW][A-Z0-9]{2,})\)$/.exec(holder)?.[1];
  return id ? `<@${id}>` : escapeSlack(holder);
}

const percent = (share: number | null) => (share === null ? '—' : `${(share * 100).toFixed(1)}%`);
const plain = (text: string) => ({ type: 'plain_text' as const, text: text.slice(0, 75), emoji: true });
const option = (text: string, value: string) => ({ text: plain(text), value });

/** The card: a plain-text fallback and the blocks. Every button's value is the incident id. */
export function incidentCard(facts: CardFacts): { text: string; blocks: Array<Record<string, unknown>> } {
  const { incident, language } = facts;
  const t = CARD_TEXT[language];
  const status = t.statuses[incident.status] ?? incident.status;
  const heading = `${incident.reference} · ${incident.title}`;
  const roles = Object.entries(incident.roles ?? {})
    .map(([role, holder]) => `${escapeSlack(role)}: ${mention(holder)}`)
    .join('\n');
  const impact = new Map(facts.impact.map((i) => [i.slo, i.shareOfBudget]));
  const slos = incident.slos
    .map((slo) => {
      const share = impact.get(slo);
      return `• ${escapeSlack(slo)}${share !== undefined ? ` — ${t.consumed(percent(share))}` : ''}`;
    })
    .join('\n');
  const links = [
    ...incident.runbooks.slice(0, 5).map((url) => `<${url}|${t.runbook}>`),
    ...(facts.url ? [`<${facts.url}|${t.open}>`] : []),
  ];
  const open = !['resolved', 'closed', 'cancelled'].includes(incident.status);
  const value = incident.id;
  const blockId = `shinrai_card:${incident.id}`;
  const acknowledged = incident.milestones.acknowledgedAt !== undefined;
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: heading.slice(0, 150), emoji: true } },
    ...(incident.summary
      ? [{ type: 'section', text: { type: 'mrkdwn', text: escapeSlack(incident.summary).slice(0, 2900) } }]
      : []),
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*${t.severity}*\n${escapeSlack(incident.severity)}` },
        { type: 'mrkdwn', text: `*${t.status}*\n${escapeSlack(status)}` },
        { type: 'mrkdwn', text: `*${t.roles}*\n${roles || t.noRoles}`.slice(0, 2000) },
        { type: 'mrkdwn', text: `*${t.slos}*\n${slos || t.noSlos}`.slice(0, 2000) },
      ],
    },
    ...(links.length ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: links.join('  ·  ') }] }] : []),
  ];
  if (open) {
    blocks.push({
      type: 'actions',
      block_id: blockId,
      elements: [
        acknowledged
          ? { type: 'button', action_id: CARD_ACTIONS.acknowledge, text: plain(`✓ ${t.acknowledged}`), value }
          : {
              type: 'button',
              action_id: CARD_ACTIONS.acknowledge,
              text: plain(t.acknowledge),
              value,
              style: 'primary',
            },
        ...(incident.status !== 'monitoring'
          ? [{ type: 'button', action_id: CARD_ACTIONS.mitigated, text: plain(t.mitigated), value }]
          : []),
        { type: 'button', action_id: CARD_ACTIONS.resolved, text: plain(t.resolved), value, style: 'danger' },
        {
          type: 'static_select',
          action_id: CARD_ACTIONS.role,
          placeholder: plain(t.takeRole),
          options: [...CARD_ROLES, ...facts.extraRoles].slice(0, 100).map((role) => option(role, role)),
        },
        {
          type: 'static_select',
          action_id: CARD_ACTIONS.status,
          placeholder: plain(t.setStatus),
          options: STATUS_CHOICES.filter((s) => s !== incident.status).map((s) =>
            option(t.statuses[s] ?? s, s),
          ),
        },
      ],
    });
    blocks.push({
      type: 'actions',
      block_id: `${blockId}:more`,
      elements: [
        {
          type: 'static_select',
          action_id: CARD_ACTIONS.severity,
          placeholder: plain(t.setSeverity),
          options: facts.severities.slice(0, 100).map((s) => option(s, s)),
        },
        { type: 'button', action_id: CARD_ACTIONS.postmortem, text: plain(t.postmortem), value },
      ],
    });
  } else {
    blocks.push({
      type: 'actions',
      block_id: blockId,
      elements: [{ type: 'button', action_id: CARD_ACTIONS.postmortem, text: plain(t.postmortem), value }],
    });
  }
  const text = `${incident.reference} [${incident.severity}] ${status}: ${incident.title}`;
  return { text, blocks };
}

/** The incident a card's block or button belongs to (`shinrai_card:<id>` or the button value). */
export function cardIncidentId(blockId: string | undefined, value: string | undefined): string | undefined {
  const fromBlock = /^shinrai_card:([^:]+)/.exec(blockId ?? '')?.[1];
  return fromBlock ?? (value || undefined);
}
