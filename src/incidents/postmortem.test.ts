import { describe, expect, it } from 'vitest';
import { ACTION_ITEMS_PLACEHOLDER, ACTION_ITEMS_PLACEHOLDER_JA, withActionItems } from './action-items.js';
import { type CoveredIncident, canMovePostmortem, draftPostmortem, POSTMORTEM_TEXT } from './postmortem.js';
import type { Incident, TimelineEvent } from './service.js';
import { englishLeftIn, testActionItem } from './testing.js';

describe('postmortem status', () => {
  it('goes draft ⇄ in review → published, and published is final', () => {
    expect(canMovePostmortem('draft', 'in-review')).toBe(true);
    expect(canMovePostmortem('in-review', 'draft')).toBe(true);
    expect(canMovePostmortem('in-review', 'published')).toBe(true);
    expect(canMovePostmortem('draft', 'published')).toBe(false);
    expect(canMovePostmortem('published', 'draft')).toBe(false);
    expect(canMovePostmortem('published', 'in-review')).toBe(false);
  });
});

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0);

const incident = (over: Partial<Incident> = {}): Incident => ({
  id: 'i7',
  number: 7,
  reference: 'INC-7',
  title: '決済エラー',
  summary: '',
  severity: 'SEV2',
  status: 'resolved',
  services: ['checkout', 'payments'],
  slos: ['checkout-availability'],
  labels: {},
  drill: false,
  runbooks: ['https://wiki.example.com/runbooks/checkout'],
  milestones: {
    impactStartedAt: T0,
    detectedAt: T0 + 5 * MIN,
    acknowledgedAt: T0 + 7 * MIN,
    mitigatedAt: T0 + 40 * MIN,
    resolvedAt: T0 + 95 * MIN,
  },
  roles: { commander: 'alice' },
  createdAtMs: T0 + 5 * MIN,
  updatedAtMs: T0 + 95 * MIN,
  ...over,
});

const event = (minute: number, text: string, starred = false): TimelineEvent => ({
  id: String(minute),
  atMs: T0 + minute * MIN,
  kind: 'note',
  source: 'api',
  actor: 'alice',
  text,
  starred,
  public: false,
});

const covered: CoveredIncident[] = [
  {
    incident: incident(),
    timeline: [event(8, 'v2.3 をロールバック', true), event(9, 'エラー減少中')],
    impact: [
      {
        slo: 'checkout-availability',
        from: '',
        to: '',
        unit: 'events',
        consumed: 12345,
        shareOfBudget: 1.748,
      },
      { slo: 'checkout-latency', from: '', to: '', unit: 'minutes', consumed: 42, shareOfBudget: null },
    ],
  },
  {
    incident: incident({
      id: 'i8',
      reference: 'INC-8',
      title: '在庫エラー',
      services: [],
      runbooks: [],
      milestones: { detectedAt: T0 + 20 * MIN },
    }),
    timeline: [event(21, '在庫サービスを再起動', true)],
    impact: [],
  },
];

/** The section headings of a draft, in order. */
const headings = (markdown: string) => markdown.split('\n').filter((l) => /^#{1,3} /.test(l));

describe('draftPostmortem', () => {
  it('writes the SRE-book sections in English by default, with ISO UTC times', () => {
    const md = draftPostmortem(covered);
    expect(headings(md)).toEqual([
      '# Postmortem: 決済エラー (and 1 more)',
      '## Summary',
      '## Impact',
      '## Root causes',
      '## Trigger',
      '## Resolution',
      '## Detection',
      '## Action items',
      '## Lessons learned',
      '### What went well',
      '### What went wrong',
      '### Where we got lucky',
      '## Timeline',
      '## Supporting information',
    ]);
    expect(md).toContain(
      '**INC-7** SEV2: impact 2026-11-23T10:00:00Z → mitigated 2026-11-23T10:40:00Z, resolved 2026-11-23T11:35:00Z. Services: checkout, payments.',
    );
    expect(md).toContain('| checkout-availability | 12345 events | 174.8% |');
    expect(md).toContain('- INC-7: detected 2026-11-23T10:05:00Z, 5 min after impact began.');
    expect(md).toContain(ACTION_ITEMS_PLACEHOLDER);
    expect(md).toContain('- 2026-11-23T10:08:00Z INC-7 v2.3 をロールバック (alice)');
  });

  it('writes every section in Japanese, with times in the team time zone and ja numbers', () => {
    const md = draftPostmortem(covered, { language: 'ja', timeZone: 'Asia/Tokyo' });
    expect(headings(md)).toEqual([
      '# ポストモーテム: 決済エラー（ほか 1 件）',
      '## 概要',
      '## 影響',
      '## 根本原因',
      '## トリガー',
      '## 解決',
      '## 検知',
      '## アクションアイテム',
      '## 教訓',
      '### うまくいったこと',
      '### うまくいかなかったこと',
      '### 運がよかったこと',
      '## タイムライン',
      '## 補足情報',
    ]);
    expect(md).toContain('インシデント: INC-7、INC-8 · ステータス: 下書き · ブレームレス:');
    expect(md).toContain(
      '**INC-7** SEV2: 影響開始 2026/11/23 19:00 JST → 緩和 2026/11/23 19:40 JST、解決 2026/11/23 20:35 JST。サービス: checkout、payments。',
    );
    expect(md).toContain('**INC-8** SEV2: 影響開始 2026/11/23 19:20 JST → 緩和 —、解決 —。サービス: —。');
    expect(md).toContain('| SLO | 消費したバジェット | 期間のバジェットに占める割合 |');
    expect(md).toContain('| checkout-availability | 不良イベント 12,345 件 | 174.8% |');
    expect(md).toContain('| checkout-latency | 不良時間 42 分 | — |');
    expect(md).toContain('- INC-7: 検知 2026/11/23 19:05 JST（影響開始から 5 分後）。');
    expect(md).toContain('- INC-8: 検知 2026/11/23 19:20 JST。');
    expect(md).toContain('- 2026/11/23 19:08 JST INC-7 v2.3 をロールバック (alice)');
    expect(md).toContain('- 2026/11/23 19:21 JST INC-8 在庫サービスを再起動 (alice)');
    expect(md).toContain(ACTION_ITEMS_PLACEHOLDER_JA);
    expect(md).not.toContain(ACTION_ITEMS_PLACEHOLDER);
  });

  it('leaves no English template string in the Japanese draft, its action items included', () => {
    const md = withActionItems(draftPostmortem(covered, { language: 'ja', timeZone: 'Asia/Tokyo' }), [
      testActionItem({ title: 'カナリア段階を追加', category: 'mitigate-future', status: 'skipped' }),
      testActionItem({ id: 'y', title: 'アラートの閾値を見直す', category: 'detect', priority: 'P0' }),
    ]);
    const written = ['checkout-availability', 'checkout-latency', 'checkout', 'payments', 'alice'];
    expect(englishLeftIn(md, [...written, 'https://wiki.example.com/runbooks/checkout'])).toEqual([]);
    for (const [key, value] of Object.entries(POSTMORTEM_TEXT.en))
      if (typeof value === 'string' && /[a-z]{3}/.test(value)) expect(md, key).not.toContain(value);
    expect(md).toContain('| アクション | 分類 | 優先度 | 担当者 | 期限 | 状態 | チケット |');
    expect(md).toContain('| アラートの閾値を見直す | 検知 | P0 | — | — | 未完了 | — |');
    expect(md).toContain('| カナリア段階を追加 | 将来の緩和 | P1 | — | — | 見送り | — |');
    expect(withActionItems(ACTION_ITEMS_PLACEHOLDER_JA, [])).toBe('_アクションアイテムはまだありません。_');
  });

  it('keeps the root causes people recorded, joined in the language', () => {
    const causes = [
      { ...covered[0]!, incident: incident({ rootCause: 'deploy' }) },
      { ...covered[1]!, incident: incident({ id: 'i8', reference: 'INC-8', rootCause: 'config' }) },
    ];
    expect(draftPostmortem(causes)).toContain('\n\ndeploy; config\n\n');
    expect(draftPostmortem(causes, { language: 'ja' })).toContain('\n\ndeploy、config\n\n');
  });
});
