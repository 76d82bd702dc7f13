/**
 * Incident announcements through the notification outbox: when an incident is declared (by any
 * path), one row per target named in `incidents.announce` is inserted in the declaration's own
 * transaction (so a committed declaration is always announced and a rolled-back one never), and
 * the deliverer sends it with the same retries, backoff and idempotency key as alert
 * notifications. What a target receives depends on its kind: a Teams Adaptive Card (in the
 * target's language), a Slack Block Kit message, or the JSON below for a generic webhook.
 * Alertmanager targets take alerts, not announcements, and are skipped.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../platform/db/index.js';
import { queueWebhook } from './queue.js';
import type { TargetKind } from './targets.js';
import { type AdaptiveCard, CARD_SCHEMA, CARD_VERSION, type CardLanguage, teamsEnvelope } from './teams.js';

/** The incident as the announcement needs it (the incident service's `Incident` fits). */
export interface AnnouncedIncident {
  readonly id: string;
  readonly reference: string;
  readonly title: string;
  readonly summary: string;
  readonly severity: string;
  readonly status: string;
  readonly services: readonly string[];
  readonly slos: readonly string[];
  readonly drill: boolean;
  readonly runbooks: readonly string[];
  readonly roles?: Readonly<Record<string, string>> | undefined;
}

/** What a generic webhook receives for an announcement (JSON); `kind` tells it from an alert. */
export interface IncidentAnnouncement {
  readonly version: 1;
  readonly kind: 'incident';
  /** The idempotency key, also sent as the `Idempotency-Key` header. */
  readonly id: string;
  readonly event: 'declared';
  readonly at: string;
  readonly incident: {
    readonly id: string;
    readonly reference: string;
    readonly title: string;
    readonly summary: string;
    readonly severity: string;
    readonly status: string;
    readonly services: readonly string[];
    readonly slos: readonly string[];
    readonly commander: string | null;
    readonly drill: boolean;
    readonly runbooks: readonly string[];
  };
}

export function isAnnouncement(payload: unknown): payload is IncidentAnnouncement {
  return (payload as { kind?: unknown } | null)?.kind === 'incident';
}

export function announcementId(incidentId: string, target: string): string {
  return `shr-incident-${incidentId}-declared-${target}`;
}

/**
 * Queues the announcement of a newly declared incident to `targets` (in the caller's transaction).
 * `kindOf` says a target's kind (undefined when no such target is loaded: the row is still queued,
 * and the deliverer reports the missing target as for alerts). Idempotent per incident and target.
 */
export async function queueAnnouncements(
  trx: Kysely<Database>,
  incident: AnnouncedIncident,
  atMs: number,
  targets: readonly string[],
  kindOf: (target: string) => TargetKind | undefined,
): Promise<number> {
  let queued = 0;
  for (const target of new Set(targets)) {
    if (kindOf(target) === 'alertmanager') continue;
    const id = announcementId(incident.id, target);
    const payload: IncidentAnnouncement = {
      version: 1,
      kind: 'incident',
      id,
      event: 'declared',
      at: new Date(atMs).toISOString(),
      incident: {
        id: incident.id,
        reference: incident.reference,
        title: incident.title,
        summary: incident.summary,
        severity: incident.severity,
        status: incident.status,
        services: [...incident.services],
        slos: [...incident.slos],
        commander: incident.roles?.commander ?? null,
        drill: incident.drill,
        runbooks: [...incident.runbooks],
      },
    };
    await queueWebhook(
      trx,
      { id, target, fingerprint: `incident:${incident.id}`, transition: 'declared', payload },
      atMs,
    );
    queued++;
  }
  return queued;
}

const WORDS = {
  en: {
    declared: 'Incident declared',
    drill: 'drill',
    severity: 'Severity',
    status: 'Status',
    services: 'Services',
    slos: 'SLOs',
    commander: 'Incident commander',
    nobody: 'not assigned yet',
    declaredAt: 'Declared at',
    runbook: 'Runbook',
  },
  ja: {
    declared: 'インシデント宣言',
    drill: '訓練',
    severity: '重大度',
    status: 'ステータス',
    services: 'サービス',
    slos: 'SLO',
    commander: 'インシデントコマンダー',
    nobody: '未割り当て',
    declaredAt: '宣言時刻',
    runbook: 'ランブック',
  },
} as const;

/** Only http(s) links become buttons: Teams refuses a card whose Action.OpenUrl is not a URL. */
function httpUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}

const list = (values: readonly string[]) => (values.length ? values.join(', ') : '—');

function headline(a: IncidentAnnouncement, language: CardLanguage): string {
  const words = WORDS[language];
  const drill = a.incident.drill ? ` (${words.drill})` : '';
  return `${words.declared}${drill} · ${a.incident.reference} [${a.incident.severity}] ${a.incident.title}`;
}

function facts(a: IncidentAnnouncement, language: CardLanguage) {
  const words = WORDS[language];
  return [
    { title: words.severity, value: a.incident.severity },
    { title: words.status, value: a.incident.status },
    { title: words.services, value: list(a.incident.services) },
    { title: words.slos, value: list(a.incident.slos) },
    { title: words.commander, value: a.incident.commander ?? words.nobody },
    { title: words.declaredAt, value: a.at },
  ];
}

/** The Adaptive Card announcing a declared incident. */
export function announcementCard(a: IncidentAnnouncement, language: CardLanguage = 'en'): AdaptiveCard {
  const title = `🚨 ${headline(a, language)}`;
  const links = a.incident.runbooks
    .map((url) => httpUrl(url))
    .filter((url): url is string => url !== undefined)
    .slice(0, 5);
  return {
    type: 'AdaptiveCard',
    $schema: CARD_SCHEMA,
    version: CARD_VERSION,
    fallbackText: title,
    body: [
      {
        type: 'Container',
        style: 'attention',
        bleed: true,
        items: [{ type: 'TextBlock', text: title, size: 'Large', weight: 'Bolder', wrap: true }],
      },
      ...(a.incident.summary ? [{ type: 'TextBlock', text: a.incident.summary, wrap: true }] : []),
      { type: 'FactSet', facts: facts(a, language) },
    ],
    ...(links.length
      ? { actions: links.map((url) => ({ type: 'Action.OpenUrl', title: WORDS[language].runbook, url })) }
      : {}),
  };
}

/** Slack mrkdwn treats &, < and > as control characters. */
const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming-webhook message announcing a declared incident. */
export function announcementSlackMessage(
  a: IncidentAnnouncement,
  language: CardLanguage = 'en',
): Record<string, unknown> {
  const title = headline(a, language);
  return {
    text: `:rotating_light: ${escapeSlack(title)}`,
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: `🚨 ${title}`.slice(0, 150), emoji: true },
      },
      ...(a.incident.summary
        ? [
            {
              type: 'section',
              text: { type: 'mrkdwn', text: escapeSlack(a.incident.summary).slice(0, 3000) },
            },
          ]
        : []),
      {
        type: 'section',
        fields: facts(a, language).map((f) => ({
          type: 'mrkdwn',
          text: escapeSlack(`*${f.title}*\n${f.value}`).slice(0, 2000),
        })),
      },
    ],
  };
}

/** The request body a target of `kind` receives for an announcement. */
export function announcementBody(
  kind: Exclude<TargetKind, 'alertmanager'>,
  a: IncidentAnnouncement,
  language: CardLanguage = 'en',
): string {
  switch (kind) {
    case 'webhook':
      return JSON.stringify(a);
    case 'slack':
      return JSON.stringify(announcementSlackMessage(a, language));
    case 'teams':
      return JSON.stringify(teamsEnvelope(announcementCard(a, language)));
  }
}
