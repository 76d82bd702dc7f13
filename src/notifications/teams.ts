/**
 * What a Microsoft Teams target receives (pure): an Adaptive Card in the message envelope that both
 * a Workflows "When a Teams webhook request is received" trigger and a legacy incoming webhook take,
 *
 *   { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: <card> }] }
 *
 * The card says what burns and how fast, with the service, severity, tier, the rule's burn rates,
 * the budget left, when it runs out at this rate, and buttons to the runbook and the SLO — in
 * English or Japanese (the target's `language`).
 */
import type { WebhookPayload } from './outbox.js';

/** The languages a Teams card is written in. */
export const CARD_LANGUAGES = ['en', 'ja'] as const;
export type CardLanguage = (typeof CARD_LANGUAGES)[number];

/**
 * The card schema version Shinrai writes: 1.4 is what Teams renders on desktop, web and mobile
 * alike; nothing on the card needs more than 1.2 (container styles).
 */
export const CARD_VERSION = '1.4';
export const CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** An Adaptive Card as JSON. */
export type AdaptiveCard = Record<string, unknown> & { readonly type: 'AdaptiveCard' };

/** The body a Teams webhook receives: one message with one Adaptive Card attachment. */
export interface TeamsMessage {
  readonly type: 'message';
  readonly attachments: ReadonlyArray<{
    readonly contentType: typeof CARD_CONTENT_TYPE;
    readonly contentUrl: null;
    readonly content: AdaptiveCard;
  }>;
}

interface Words {
  readonly firing: string;
  readonly resolved: string;
  readonly service: string;
  readonly severity: string;
  readonly tier: string;
  readonly rule: string;
  readonly burnRates: string;
  readonly budgetLeft: string;
  readonly exhaustedAt: string;
  readonly notBurning: string;
  readonly firedAt: string;
  readonly resolvedAt: string;
  readonly runbook: string;
  readonly openSlo: string;
  readonly tierName: (tier: string) => string;
  readonly burning: (slo: string, service: string, rate: string, window: string) => string;
  readonly burningNoRate: (slo: string, service: string) => string;
  readonly calm: (slo: string, service: string, tier: string) => string;
}

const WORDS: Readonly<Record<CardLanguage, Words>> = {
  en: {
    firing: 'FIRING',
    resolved: 'RESOLVED',
    service: 'Service',
    severity: 'Severity',
    tier: 'Tier',
    rule: 'Rule',
    burnRates: 'Burn rates',
    budgetLeft: 'Budget left',
    exhaustedAt: 'Exhausted at this rate',
    notBurning: 'not burning',
    firedAt: 'Fired at',
    resolvedAt: 'Resolved at',
    runbook: 'Runbook',
    openSlo: 'SLO in Shinrai',
    tierName: (tier) => tier,
    burning: (slo, service, rate, window) =>
      `${slo} (${service}) is burning its error budget ${rate} over ${window}`,
    burningNoRate: (slo, service) => `${slo} (${service}) is burning its error budget`,
    calm: (slo, service, tier) =>
      `${slo} (${service}) no longer burns its error budget fast enough to ${tier === 'page' ? 'page' : 'ticket'}`,
  },
  ja: {
    firing: '発火中',
    resolved: '解決済み',
    service: 'サービス',
    severity: '重大度',
    tier: '区分',
    rule: 'ルール',
    burnRates: 'バーンレート',
    budgetLeft: 'エラーバジェット残り',
    exhaustedAt: 'このペースでの枯渇時刻',
    notBurning: '消費していません',
    firedAt: '発火時刻',
    resolvedAt: '解決時刻',
    runbook: 'ランブック',
    openSlo: 'Shinrai で SLO を開く',
    tierName: (tier) => (tier === 'page' ? 'ページ (呼び出し)' : tier === 'ticket' ? 'チケット' : tier),
    burning: (slo, service, rate, window) =>
      `${slo} (${service}) がエラーバジェットを ${window} で ${rate} の速さで消費しています`,
    burningNoRate: (slo, service) => `${slo} (${service}) がエラーバジェットを消費しています`,
    calm: (slo, service, tier) =>
      `${slo} (${service}) のエラーバジェット消費は${tier === 'page' ? 'ページ (呼び出し)' : 'チケット'}の基準を下回りました`,
  },
};

const percent = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
const rate = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x.toFixed(1)}×`);

/** Only http(s) links become buttons: Teams refuses a card whose Action.OpenUrl is not a URL. */
function httpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** One line a person reads first: what burns, how fast (in the card's language). */
export function cardSummary(p: WebhookPayload, language: CardLanguage = 'en'): string {
  const words = WORDS[language];
  const { slo, service, tier } = p.alert;
  if (p.status === 'resolved') return words.calm(slo, service, tier);
  const fastest = Object.entries(p.alert.burnRates)
    .filter((e): e is [string, number] => e[1] !== null)
    .sort((a, b) => b[1] - a[1])[0];
  return fastest
    ? words.burning(slo, service, rate(fastest[1]), fastest[0])
    : words.burningNoRate(slo, service);
}

/** The Adaptive Card of one alert notification. */
export function alertCard(p: WebhookPayload, language: CardLanguage = 'en'): AdaptiveCard {
  const words = WORDS[language];
  const firing = p.status === 'firing';
  const style = firing ? (p.alert.tier === 'page' ? 'attention' : 'warning') : 'good';
  const icon = firing ? (p.alert.tier === 'page' ? '🚨' : '⚠️') : '✅';
  const title = `${icon} ${firing ? words.firing : words.resolved} · ${words.tierName(p.alert.tier)} · ${p.alert.slo}`;
  const line = cardSummary(p, language);
  const burnRates = Object.entries(p.alert.burnRates)
    .map(([window, r]) => `${window}: ${rate(r)}`)
    .join(' · ');
  const facts = [
    { title: words.service, value: p.alert.service },
    { title: words.severity, value: p.alert.severity },
    { title: words.tier, value: words.tierName(p.alert.tier) },
    { title: words.rule, value: p.alert.rule },
    { title: words.burnRates, value: burnRates || '—' },
    { title: words.budgetLeft, value: percent(p.context?.budgetRemaining) },
    { title: words.exhaustedAt, value: p.context?.exhaustionAt ?? words.notBurning },
    ...(p.alert.firedAt ? [{ title: words.firedAt, value: p.alert.firedAt }] : []),
    ...(!firing && p.alert.resolvedAt ? [{ title: words.resolvedAt, value: p.alert.resolvedAt }] : []),
  ];
  const links = [
    { title: words.runbook, url: httpUrl(p.context?.runbookUrl) },
    { title: words.openSlo, url: httpUrl(p.context?.sloUrl) },
  ].filter((l): l is { title: string; url: string } => l.url !== undefined);
  return {
    type: 'AdaptiveCard',
    $schema: CARD_SCHEMA,
    version: CARD_VERSION,
    fallbackText: `${title}: ${line}`,
    body: [
      {
        type: 'Container',
        style,
        bleed: true,
        items: [{ type: 'TextBlock', text: title, size: 'Large', weight: 'Bolder', wrap: true }],
      },
      { type: 'TextBlock', text: line, wrap: true },
      { type: 'FactSet', facts },
    ],
    ...(links.length
      ? { actions: links.map((l) => ({ type: 'Action.OpenUrl', title: l.title, url: l.url })) }
      : {}),
  };
}

/** A card in the message envelope Teams webhooks (Workflows and incoming webhooks) take. */
export function teamsEnvelope(card: AdaptiveCard): TeamsMessage {
  return {
    type: 'message',
    attachments: [{ contentType: CARD_CONTENT_TYPE, contentUrl: null, content: card }],
  };
}

/** What a Teams target receives for one alert notification. */
export function teamsMessage(p: WebhookPayload, language: CardLanguage = 'en'): TeamsMessage {
  return teamsEnvelope(alertCard(p, language));
}
