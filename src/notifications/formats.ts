/**
 * What each kind of target receives for one notification (pure): the generic webhook JSON as is,
 * a Slack Block Kit message people can act on, a Microsoft Teams Adaptive Card, or Alertmanager's
 * `/api/v2/alerts` list so existing routes, inhibitions and on-call rotations keep working.
 */
import type { WebhookPayload } from './outbox.js';
import type { TargetKind } from './targets.js';
import { type CardLanguage, teamsMessage } from './teams.js';

export interface FormatOptions {
  /** The language of a Teams card (English when not given). */
  readonly language?: CardLanguage | undefined;
}

/** Action ids of the buttons on a Slack alert message (the Slack app listens for them). */
export const ALERT_ACTIONS = {
  actionable: 'shinrai_alert_actionable',
  noise: 'shinrai_alert_noise',
  declare: 'shinrai_alert_declare',
  silence: 'shinrai_alert_silence',
} as const;

export interface OutgoingRequest {
  readonly url: string;
  readonly body: string;
}

export function formatRequest(
  kind: TargetKind,
  baseUrl: string,
  payload: WebhookPayload,
  nowMs: number,
  options: FormatOptions = {},
): OutgoingRequest {
  switch (kind) {
    case 'webhook':
      return { url: baseUrl, body: JSON.stringify(payload) };
    case 'slack':
      return { url: baseUrl, body: JSON.stringify(slackMessage(payload)) };
    case 'teams':
      return { url: baseUrl, body: JSON.stringify(teamsMessage(payload, options.language)) };
    case 'alertmanager':
      return {
        url: `${baseUrl.replace(/\/+$/, '')}/api/v2/alerts`,
        body: JSON.stringify(alertmanagerAlerts([payload], nowMs)),
      };
  }
}

const percent = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
const rate = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x.toFixed(1)}×`);

/** One line a person reads first: what burns, how fast. */
export function summary(p: WebhookPayload): string {
  const fastest = Object.entries(p.alert.burnRates)
    .filter((e): e is [string, number] => e[1] !== null)
    .sort((a, b) => b[1] - a[1])[0];
  const burning = fastest ? ` burning its error budget ${rate(fastest[1])} over ${fastest[0]}` : '';
  return p.status === 'firing'
    ? `${p.alert.slo} (${p.alert.service}) is${burning}`
    : `${p.alert.slo} (${p.alert.service}) no longer burns its error budget fast enough to ${p.alert.tier === 'page' ? 'page' : 'ticket'}`;
}

/** A Slack incoming-webhook message (Block Kit) with a plain-text fallback. */
export function slackMessage(p: WebhookPayload): Record<string, unknown> {
  const icon =
    p.status === 'firing'
      ? p.alert.tier === 'page'
        ? ':rotating_light:'
        : ':warning:'
      : ':white_check_mark:';
  const title = `${icon} ${p.status === 'firing' ? 'FIRING' : 'RESOLVED'} · ${p.alert.tier} · ${p.alert.slo}`;
  const fields = [
    `*Service*\n${p.alert.service}`,
    `*Severity*\n${p.alert.severity}`,
    `*Burn rates*\n${Object.entries(p.alert.burnRates)
      .map(([w, r]) => `${w}: ${rate(r)}`)
      .join(' · ')}`,
    `*Budget left*\n${percent(p.context?.budgetRemaining)}`,
    `*Exhausted at this rate*\n${p.context?.exhaustionAt ?? 'not burning'}`,
  ];
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(summary(p)) } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text: escapeSlack(text) })) },
  ];
  const links = [
    p.context?.runbookUrl ? `<${p.context.runbookUrl}|Runbook>` : undefined,
    p.context?.sloUrl ? `<${p.context.sloUrl}|SLO in Shinrai>` : undefined,
  ].filter(Boolean);
  if (links.length)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: links.join('  ·  ') }] });
  // Buttons reach Shinrai's Slack app when the incoming webhook belongs to it (docs/slack.md).
  const button = (actionId: string, text: string, style?: 'primary' | 'danger') => ({
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text },
    value: p.alert.id,
    ...(style ? { style } : {}),
  });
  blocks.push({
    type: 'actions',
    block_id: `shinrai_alert:${p.alert.id}`.slice(0, 255),
    elements: [
      button(ALERT_ACTIONS.actionable, 'Actionable'),
      button(ALERT_ACTIONS.noise, 'Noise'),
      ...(p.status === 'firing'
        ? [
            button(ALERT_ACTIONS.declare, 'Declare incident', 'primary'),
            button(ALERT_ACTIONS.silence, 'Silence 1h'),
          ]
        : []),
    ],
  });
  return { text: `${title}: ${summary(p)}`, blocks };
}

/** Slack mrkdwn treats &, < and > as control characters. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Alertmanager alerts. A firing alert is valid for `validForMs` from now and must be sent again
 * before then (Alertmanager resolves alerts that are not refreshed); a resolved one ends at its
 * resolution time.
 */
export function alertmanagerAlerts(
  payloads: readonly WebhookPayload[],
  nowMs: number,
  validForMs = 5 * 60_000,
) {
  return payloads.map((p) => ({
    labels: { ...p.alert.labels, shinrai_rule: p.alert.rule },
    annotations: {
      ...p.alert.annotations,
      summary: summary(p),
      ...(p.context?.runbookUrl ? { runbook_url: p.context.runbookUrl } : {}),
    },
    startsAt: p.alert.firedAt ?? p.at,
    endsAt:
      p.status === 'resolved' ? (p.alert.resolvedAt ?? p.at) : new Date(nowMs + validForMs).toISOString(),
    ...(p.context?.sloUrl ? { generatorURL: p.context.sloUrl } : {}),
  }));
}
