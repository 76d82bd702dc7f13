/**
 * A postmortem draft (pure), in English or Japanese: markdown with the SRE book's sections, filled with what Shinrai
 * knows — the incidents, their milestones, the error budget each consumed, and the starred
 * timeline — and left open where people must write (root causes, lessons). Titles and notes are
 * people's text: the draft keeps them as written, and rendering sanitises the whole document.
 */
import { actionItemsPlaceholder } from './action-items.js';
import { consumedText } from './catchup.js';
import type { BudgetImpact } from './impact.js';
import { type WriteUpLanguage, type WriteUpOptions, writeUpFormat } from './language.js';
import type { Incident, TimelineEvent } from './service.js';
import { timelineText } from './timeline-text.js';

export const POSTMORTEM_STATUSES = ['draft', 'in-review', 'published'] as const;
export type PostmortemStatus = (typeof POSTMORTEM_STATUSES)[number];

/** draft ⇄ in review → published; a published postmortem is final. */
export function canMovePostmortem(from: PostmortemStatus, to: PostmortemStatus): boolean {
  return (
    (from === 'draft' && to === 'in-review') ||
    (from === 'in-review' && (to === 'draft' || to === 'published'))
  );
}

export interface CoveredIncident {
  readonly incident: Incident;
  readonly timeline: readonly TimelineEvent[];
  readonly impact: readonly BudgetImpact[];
}

/** The fixed words of a draft; `_…_` lines are prompts for the authors. */
interface PostmortemText {
  title(first: string, more: number): string;
  header(refs: string): string;
  summary: string;
  summaryPrompt: string;
  impact: string;
  impactLine(
    ref: string,
    severity: string,
    start: string,
    mitigated: string,
    resolved: string,
    services: string,
  ): string;
  impactTable: readonly [string, string, string];
  rootCauses: string;
  rootCausesPrompt: string;
  rootCauseSeparator: string;
  trigger: string;
  triggerPrompt: string;
  resolution: string;
  resolutionPrompt: string;
  detection: string;
  detectionLine(ref: string, detected: string, afterImpact: string | null): string;
  actionItems: string;
  lessons: string;
  wentWell: string;
  wentWrong: string;
  gotLucky: string;
  timeline: string;
  supporting: string;
}

export const POSTMORTEM_TEXT: Record<WriteUpLanguage, PostmortemText> = {
  en: {
    title: (first, more) => `# Postmortem: ${first}${more > 0 ? ` (and ${more} more)` : ''}`,
    header: (refs) =>
      `Incidents: ${refs} · Status: draft · Blameless: describe systems and decisions, not people.`,
    summary: '## Summary',
    summaryPrompt: '_What happened, in two or three sentences._',
    impact: '## Impact',
    impactLine: (ref, severity, start, mitigated, resolved, services) =>
      `**${ref}** ${severity}: impact ${start} → mitigated ${mitigated}, resolved ${resolved}. Services: ${services}.`,
    impactTable: ['SLO', 'budget consumed', 'share of the period budget'],
    rootCauses: '## Root causes',
    rootCausesPrompt: '_Why it happened: the contributing causes, not a culprit._',
    rootCauseSeparator: '; ',
    trigger: '## Trigger',
    triggerPrompt: '_What set it off._',
    resolution: '## Resolution',
    resolutionPrompt: '_What stopped the impact, and what restored full service._',
    detection: '## Detection',
    detectionLine: (ref, detected, afterImpact) =>
      `- ${ref}: detected ${detected}${afterImpact === null ? '' : `, ${afterImpact} after impact began`}.`,
    actionItems: '## Action items',
    lessons: '## Lessons learned',
    wentWell: '### What went well',
    wentWrong: '### What went wrong',
    gotLucky: '### Where we got lucky',
    timeline: '## Timeline',
    supporting: '## Supporting information',
  },
  ja: {
    title: (first, more) => `# ポストモーテム: ${first}${more > 0 ? `（ほか ${more} 件）` : ''}`,
    header: (refs) =>
      `インシデント: ${refs} · ステータス: 下書き · ブレームレス: 人ではなく、システムと判断について書きます。`,
    summary: '## 概要',
    summaryPrompt: '_何が起きたのかを 2〜3 文で。_',
    impact: '## 影響',
    impactLine: (ref, severity, start, mitigated, resolved, services) =>
      `**${ref}** ${severity}: 影響開始 ${start} → 緩和 ${mitigated}、解決 ${resolved}。サービス: ${services}。`,
    impactTable: ['SLO', '消費したバジェット', '期間のバジェットに占める割合'],
    rootCauses: '## 根本原因',
    rootCausesPrompt: '_なぜ起きたのか。犯人ではなく、寄与した要因を。_',
    rootCauseSeparator: '、',
    trigger: '## トリガー',
    triggerPrompt: '_何が引き金になったのか。_',
    resolution: '## 解決',
    resolutionPrompt: '_何が影響を止め（緩和）、何がサービスを完全に復旧させたのか。_',
    detection: '## 検知',
    detectionLine: (ref, detected, afterImpact) =>
      `- ${ref}: 検知 ${detected}${afterImpact === null ? '' : `（影響開始から ${afterImpact}後）`}。`,
    actionItems: '## アクションアイテム',
    lessons: '## 教訓',
    wentWell: '### うまくいったこと',
    wentWrong: '### うまくいかなかったこと',
    gotLucky: '### 運がよかったこと',
    timeline: '## タイムライン',
    supporting: '## 補足情報',
  },
};

/** A draft in the language asked for; times in Japanese are shown in the team's time zone. */
export function draftPostmortem(covered: readonly CoveredIncident[], options: WriteUpOptions = {}): string {
  const format = writeUpFormat(options);
  const t = POSTMORTEM_TEXT[format.language];
  const refs = format.list(covered.map((c) => c.incident.reference));
  const first = covered[0]!.incident;
  const lines: string[] = [
    t.title(first.title, covered.length - 1),
    '',
    t.header(refs),
    '',
    t.summary,
    '',
    first.summary || t.summaryPrompt,
    '',
    t.impact,
    '',
  ];
  for (const { incident, impact } of covered) {
    const m = incident.milestones;
    lines.push(
      t.impactLine(
        incident.reference,
        incident.severity,
        format.time(m.impactStartedAt ?? m.detectedAt),
        format.time(m.mitigatedAt),
        format.time(m.resolvedAt),
        format.list(incident.services) || '—',
      ),
      '',
    );
    if (impact.length) {
      lines.push(`| ${t.impactTable.join(' | ')} |`, '|---|---|---|');
      for (const i of impact)
        lines.push(
          `| ${i.slo} | ${consumedText(i, format)} | ${i.shareOfBudget === null ? '—' : format.percent(i.shareOfBudget)} |`,
        );
      lines.push('');
    }
  }
  lines.push(
    t.rootCauses,
    '',
    covered
      .map((c) => c.incident.rootCause ?? '')
      .filter(Boolean)
      .join(t.rootCauseSeparator) || t.rootCausesPrompt,
    '',
    t.trigger,
    '',
    t.triggerPrompt,
    '',
    t.resolution,
    '',
    t.resolutionPrompt,
    '',
    t.detection,
    '',
  );
  for (const { incident } of covered) {
    const m = incident.milestones;
    const ttdMinutes =
      m.impactStartedAt !== undefined && m.detectedAt !== undefined
        ? (m.detectedAt - m.impactStartedAt) / 60_000
        : null;
    lines.push(
      t.detectionLine(
        incident.reference,
        format.time(m.detectedAt),
        ttdMinutes === null ? null : format.duration(ttdMinutes),
      ),
    );
  }
  lines.push(
    '',
    t.actionItems,
    '',
    actionItemsPlaceholder(format.language),
    '',
    t.lessons,
    '',
    t.wentWell,
    '',
    '- ',
    '',
    t.wentWrong,
    '',
    '- ',
    '',
    t.gotLucky,
    '',
    '- ',
    '',
    t.timeline,
    '',
  );
  const starred = covered.flatMap((c) =>
    c.timeline.filter((e) => e.starred).map((e) => ({ ref: c.incident.reference, e })),
  );
  const events = starred.length
    ? starred
    : covered.flatMap((c) => c.timeline.map((e) => ({ ref: c.incident.reference, e })));
  for (const { ref, e } of events.sort((a, b) => a.e.atMs - b.e.atMs))
    lines.push(
      `- ${format.time(e.atMs)} ${covered.length > 1 ? `${ref} ` : ''}${timelineText(e, format)} (${e.actor})`,
    );
  lines.push('', t.supporting, '', ...covered.flatMap((c) => c.incident.runbooks.map((r) => `- ${r}`)), '');
  return lines.join('\n');
}
