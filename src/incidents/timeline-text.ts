/**
 * The timeline entries Shinrai writes itself when an incident changes (pure): their stored English
 * text, built here only, and the same entry worded in a write-up's language. Entries are stored
 * as text, so a Japanese catch-up or postmortem reads them back through the patterns below; a
 * person's note, or any text these patterns do not recognise, is shown as written.
 */
import type { WriteUpFormat } from './language.js';
import type { IncidentStatus } from './model.js';
import type { EventKind } from './service.js';

/** The stored (English) text of each entry Shinrai writes. */
export const SYSTEM_EVENT_TEXT = {
  declared: (severity: string, title: string) => `${severity} declared: ${title}`,
  status: (from: string, to: string) => `status ${from} → ${to}`,
  severity: (from: string, to: string) => `severity ${from} → ${to}`,
  milestoneSet: (name: string, atMs: number) => `${name} set to ${new Date(atMs).toISOString()}`,
  milestoneCleared: (name: string) => `${name} cleared`,
  fieldChanged: (field: string) => `${field} changed`,
  listSet: (field: string, values: readonly string[]) => `${field}: ${values.join(', ') || 'none'}`,
  labelRemoved: (key: string) => `label ${key} removed`,
  causedByDeployment: (id: string) => `cause confirmed: deployment ${id}`,
  causedByCommit: (sha: string) => `cause confirmed: commit ${sha}`,
  causeCleared: () => 'cause removed',
  labelSet: (key: string, value: string) => `label ${key}: ${value}`,
  roleLeft: (role: string, before: string | undefined) => `${role}: ${before} stepped down`,
  roleTaken: (role: string, person: string, before: string | undefined) =>
    `${role}: ${person}${before ? ` (was ${before})` : ''}`,
  alertFiring: (rule: string, slo: string, rates: string) =>
    `Alert firing: ${rule} of ${slo} — burn rates ${rates}`,
  /** An Alertmanager alert: its name, labels and summary. */
  alertmanager: (firing: boolean, body: string) => `${firing ? 'Alert firing' : 'Alert resolved'}: ${body}`,
} as const;

/** Incident words in Japanese (statuses, milestones, roles), shared by every Japanese write-up. */
export const JA_INCIDENT_WORDS = {
  status: {
    triage: 'トリアージ',
    investigating: '調査中',
    identified: '原因特定',
    monitoring: '経過観察',
    resolved: '解決',
    closed: 'クローズ',
    cancelled: '取り消し',
  } satisfies Record<IncidentStatus, string>,
  milestone: {
    impactStartedAt: '影響開始',
    detectedAt: '検知',
    acknowledgedAt: '認知',
    mitigatedAt: '緩和',
    resolvedAt: '解決',
  },
  role: {
    commander: 'インシデントコマンダー',
    communications: 'コミュニケーション担当',
    operations: 'オペレーション担当',
    scribe: '記録係',
  } as Record<string, string>,
};

const JA = {
  status: JA_INCIDENT_WORDS.status as Record<string, string>,
  milestone: JA_INCIDENT_WORDS.milestone as Record<string, string>,
  field: {
    title: 'タイトル',
    summary: '概要',
    rootCause: '根本原因',
    services: 'サービス',
    slos: 'SLO',
  } as Record<string, string>,
  role: JA_INCIDENT_WORDS.role,
};

const word = (table: Record<string, string>, key: string) => table[key] ?? key;

/** One recognised stored text and its Japanese wording. */
type Rule = readonly [pattern: RegExp, ja: (m: RegExpExecArray, format: WriteUpFormat) => string];

const RULES: Partial<Record<EventKind, readonly Rule[]>> = {
  declared: [[/^(\S+) declared: ([\s\S]*)$/, (m) => `${m[1]} として宣言: ${m[2]}`]],
  status: [
    [/^status (\S+) → (\S+)$/, (m) => `ステータス ${word(JA.status, m[1]!)} → ${word(JA.status, m[2]!)}`],
  ],
  severity: [[/^severity (\S+) → (\S+)$/, (m) => `重大度 ${m[1]} → ${m[2]}`]],
  milestone: [
    [/^(\w+) cleared$/, (m) => `${word(JA.milestone, m[1]!)}を取り消し`],
    [
      /^(\w+) set to (\d{4}-\d\d-\d\dT[\d:.]+Z)$/,
      (m, format) => `${word(JA.milestone, m[1]!)}: ${format.time(Date.parse(m[2]!))}`,
    ],
  ],
  field: [
    [/^(title|summary|rootCause) changed$/, (m) => `${word(JA.field, m[1]!)}を変更`],
    [/^(services|slos): none$/, (m) => `${word(JA.field, m[1]!)}: なし`],
    [
      /^(services|slos): ([\s\S]*)$/,
      (m, format) => `${word(JA.field, m[1]!)}: ${format.list(m[2]!.split(', '))}`,
    ],
    [/^label (\S+) removed$/, (m) => `ラベル ${m[1]} を削除`],
    [/^cause confirmed: deployment (\S+)$/, (m) => `原因を確定: デプロイ ${m[1]}`],
    [/^cause confirmed: commit (\S+)$/, (m) => `原因を確定: コミット ${m[1]}`],
    [/^cause removed$/, () => '原因を取り消し'],
    [/^label (\S+): ([\s\S]*)$/, (m) => `ラベル ${m[1]}: ${m[2]}`],
  ],
  role: [
    [/^([a-z][a-z0-9-]*): ([\s\S]+) stepped down$/, (m) => `${word(JA.role, m[1]!)}: ${m[2]} が退任`],
    [
      /^([a-z][a-z0-9-]*): ([\s\S]+) \(was ([\s\S]+)\)$/,
      (m) => `${word(JA.role, m[1]!)}: ${m[2]}（前任 ${m[3]}）`,
    ],
    [/^([a-z][a-z0-9-]*): ([\s\S]+)$/, (m) => `${word(JA.role, m[1]!)}: ${m[2]}`],
  ],
  alert: [
    [
      /^Alert firing: (\S+) of (\S+) — burn rates ([\s\S]*)$/,
      (m) => `アラート発火: ${m[2]} の ${m[1]}（バーンレート ${m[3]}）`,
    ],
    [/^Alert firing: ([\s\S]*)$/, (m) => `アラート発火: ${m[1]}`],
    [/^Alert resolved: ([\s\S]*)$/, (m) => `アラート解消: ${m[1]}`],
  ],
};

/** A timeline entry's text in the write-up's language; notes and unrecognised text as written. */
export function timelineText(event: { kind: EventKind; text: string }, format: WriteUpFormat): string {
  if (format.language === 'en') return event.text;
  for (const [pattern, ja] of RULES[event.kind] ?? []) {
    const match = pattern.exec(event.text);
    if (match) return ja(match, format);
  }
  return event.text;
}
