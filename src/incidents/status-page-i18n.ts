/**
 * Every string of the status pages, in English and Japanese, and how a request picks its
 * language: `?lang=` first, then Accept-Language, then English.
 */
import type { BarLevel, ComponentState, PublicStatus } from './status-page.js';

/** The languages of the status pages. */
export const LANGUAGES = ['en', 'ja'] as const;
export type Lang = (typeof LANGUAGES)[number];

/** Every string of the pages; `{name}` marks a placeholder filled by `fill`. */
export interface StatusPageTexts {
  readonly overall: Readonly<Record<ComponentState, string>>;
  readonly states: Readonly<Record<ComponentState, string>>;
  readonly statuses: Readonly<Record<PublicStatus, string>>;
  readonly levels: Readonly<Record<BarLevel, string>>;
  readonly incidents: string;
  readonly noIncidents: string;
  readonly components: string;
  readonly noComponents: string;
  readonly status: string;
  readonly updates: string;
  readonly barsLabel: string;
  readonly noData: string;
  readonly overDays: string;
  readonly legend: string;
  readonly timesIn: string;
  readonly generatedAt: string;
  readonly json: string;
  readonly language: string;
  readonly internalTitle: string;
  readonly internalNote: string;
  readonly openIncidents: string;
  readonly noOpenIncidents: string;
  readonly publicComponent: string;
  readonly privateComponent: string;
  readonly drill: string;
  readonly severity: string;
  readonly services: string;
  readonly timeline: string;
  readonly publicEvent: string;
  readonly internalEvent: string;
}

const en: StatusPageTexts = {
  overall: {
    operational: 'All systems operational',
    degraded: 'Some systems are degraded',
    'partial-outage': 'Partial outage',
    'major-outage': 'Major outage',
  },
  states: {
    operational: 'Operational',
    degraded: 'Degraded performance',
    'partial-outage': 'Partial outage',
    'major-outage': 'Major outage',
  },
  statuses: {
    investigating: 'Investigating',
    identified: 'Identified',
    monitoring: 'Monitoring',
    resolved: 'Resolved',
  },
  levels: {
    'no-data': 'No data',
    ok: 'Normal',
    degraded: 'Degraded',
    down: 'Outage',
  },
  incidents: 'Incidents',
  noIncidents: 'No incidents reported.',
  components: 'Components',
  noComponents: 'No components are listed.',
  status: 'Status',
  updates: 'Updates',
  barsLabel: 'Availability per day, last {days} days',
  noData: 'no data',
  overDays: '{value} over {days} days',
  legend: 'Each bar is one day. Normal: within the target; Degraded: below it; Outage: far below it.',
  timesIn: 'Dates and times in {zone}.',
  generatedAt: 'Updated {time}',
  json: 'This page as JSON',
  language: 'Language',
  internalTitle: 'internal',
  internalNote: 'Internal view: every service and open incident, with the whole timeline. Not for customers.',
  openIncidents: 'Open incidents',
  noOpenIncidents: 'No open incidents.',
  publicComponent: 'public',
  privateComponent: 'internal only',
  drill: 'drill',
  severity: 'Severity',
  services: 'Services',
  timeline: 'Timeline',
  publicEvent: 'public',
  internalEvent: 'internal',
};

const ja: StatusPageTexts = {
  overall: {
    operational: 'すべてのシステムは正常に稼働しています',
    degraded: '一部のシステムで性能が低下しています',
    'partial-outage': '一部で障害が発生しています',
    'major-outage': '大規模な障害が発生しています',
  },
  states: {
    operational: '正常',
    degraded: '性能低下',
    'partial-outage': '一部障害',
    'major-outage': '大規模障害',
  },
  statuses: {
    investigating: '調査中',
    identified: '原因特定',
    monitoring: '経過観察中',
    resolved: '解決済み',
  },
  levels: {
    'no-data': 'データなし',
    ok: '正常',
    degraded: '低下',
    down: '障害',
  },
  incidents: 'インシデント',
  noIncidents: '報告されているインシデントはありません。',
  components: 'コンポーネント',
  noComponents: '表示するコンポーネントはありません。',
  status: '状況',
  updates: '更新情報',
  barsLabel: '日ごとの可用性（過去{days}日間）',
  noData: 'データなし',
  overDays: '過去{days}日間で{value}',
  legend: '1本のバーが1日を表します。正常: 目標以上、低下: 目標未満、障害: 目標を大きく下回る。',
  timesIn: '日時は{zone}で表示しています。',
  generatedAt: '{time} 更新',
  json: 'このページのJSON',
  language: '言語',
  internalTitle: '社内向け',
  internalNote:
    '社内向けの表示です。すべてのサービスと対応中のインシデントを、タイムライン全体とともに表示します。',
  openIncidents: '対応中のインシデント',
  noOpenIncidents: '対応中のインシデントはありません。',
  publicComponent: '公開',
  privateComponent: '社内のみ',
  drill: '訓練',
  severity: '重大度',
  services: 'サービス',
  timeline: 'タイムライン',
  publicEvent: '公開',
  internalEvent: '社内',
};

/** The texts per language. */
export const TEXTS: Readonly<Record<Lang, StatusPageTexts>> = { en, ja };

/** Fills `{name}` placeholders. */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/** `?lang=ja|en` wins; else the first supported language of Accept-Language by q; else English. */
export function pickLanguage(query: string | undefined, acceptLanguage: string | undefined): Lang {
  const asked = query?.trim().toLowerCase();
  if (asked && (LANGUAGES as readonly string[]).includes(asked)) return asked as Lang;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined);
      return {
        primary: tag.trim().toLowerCase().split('-')[0] ?? '',
        q: q === undefined ? 1 : Number(q),
        index,
      };
    })
    .filter((entry) => entry.q > 0 && (LANGUAGES as readonly string[]).includes(entry.primary))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return (ranked[0]?.primary as Lang | undefined) ?? 'en';
}
