import { describe, expect, it } from 'vitest';
import { CATCH_UP_TEXT, catchUpSummary } from './catchup.js';
import type { Incident, TimelineEvent } from './service.js';
import { englishLeftIn } from './testing.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0);
const incident: Incident = {
  id: 'i',
  number: 7,
  reference: 'INC-7',
  title: 'Checkout errors',
  summary: '',
  severity: 'SEV2',
  status: 'identified',
  services: ['checkout'],
  slos: ['checkout-availability'],
  labels: {},
  drill: false,
  runbooks: [],
  milestones: { impactStartedAt: T0, detectedAt: T0 + 5 * MIN, acknowledgedAt: T0 + 7 * MIN },
  roles: { commander: 'alice', scribe: 'bob' },
  createdAtMs: T0 + 5 * MIN,
  updatedAtMs: T0 + 7 * MIN,
};
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

describe('catchUpSummary', () => {
  it('says where the incident stands, who holds what, what it cost and what mattered', () => {
    const text = catchUpSummary(
      incident,
      [
        event(5, 'declared'),
        event(8, 'Rolled back v2.3', true),
        event(9, 'Errors dropping'),
        event(10, 'Watching'),
      ],
      [
        {
          slo: 'checkout-availability',
          from: '',
          to: '',
          unit: 'events',
          consumed: 5000,
          shareOfBudget: 0.174,
        },
      ],
      T0 + 30 * MIN,
    );
    expect(text).toBe(
      [
        'INC-7 SEV2 — Checkout errors',
        'Status: identified, 30 min since impact started (2026-11-23T10:00:00Z).',
        'Services: checkout.',
        'Roles: commander alice, scribe bob.',
        "Error budget of checkout-availability: 5000 events consumed (17.4% of the period's budget).",
        'Milestones: detected 2026-11-23T10:05:00Z, acknowledged 2026-11-23T10:07:00Z.',
        'Key events:',
        '- 2026-11-23T10:08:00Z Rolled back v2.3 (alice)',
        'Latest:',
        '- 2026-11-23T10:05:00Z declared (alice)',
        '- 2026-11-23T10:09:00Z Errors dropping (alice)',
        '- 2026-11-23T10:10:00Z Watching (alice)',
      ].join('\n'),
    );
  });
});

describe('catchUpSummary in Japanese', () => {
  const impact = [
    {
      slo: 'checkout-availability',
      from: '',
      to: '',
      unit: 'events' as const,
      consumed: 5000,
      shareOfBudget: 0.174,
    },
  ];
  const timeline = [
    event(5, 'declared'),
    event(8, 'v2.3 をロールバック', true),
    event(9, 'エラー減少中'),
    event(10, '監視中'),
  ];

  it('writes the same facts in Japanese, with times in the team time zone', () => {
    const text = catchUpSummary(incident, timeline, impact, T0 + 95 * MIN, {
      language: 'ja',
      timeZone: 'Asia/Tokyo',
    });
    expect(text).toBe(
      [
        'INC-7 SEV2 — Checkout errors',
        'ステータス: 原因特定。影響開始から 1 時間 35 分経過（2026/11/23 19:00 JST）。',
        'サービス: checkout。',
        '役割: インシデントコマンダー alice、記録係 bob。',
        'checkout-availability のエラーバジェット: 不良イベント 5,000 件を消費（期間のバジェットの 17.4%）。',
        'マイルストーン: 検知 2026/11/23 19:05 JST、認知 2026/11/23 19:07 JST。',
        '重要なイベント:',
        '- 2026/11/23 19:08 JST v2.3 をロールバック (alice)',
        '最近の動き:',
        '- 2026/11/23 19:05 JST declared (alice)',
        '- 2026/11/23 19:09 JST エラー減少中 (alice)',
        '- 2026/11/23 19:10 JST 監視中 (alice)',
      ].join('\n'),
    );
  });

  it('leaves no English template words in the Japanese text, whatever the incident holds', () => {
    const drill = {
      ...incident,
      title: '決済エラー',
      drill: true,
      roles: { commander: 'alice', communications: 'bob', operations: 'carol' },
      milestones: { detectedAt: T0, acknowledgedAt: T0, mitigatedAt: T0, resolvedAt: T0 },
    };
    for (const status of Object.keys(CATCH_UP_TEXT.en.statuses) as Array<
      keyof typeof CATCH_UP_TEXT.en.statuses
    >) {
      const text = catchUpSummary(
        { ...drill, status },
        timeline.slice(1),
        [
          ...impact,
          { ...impact[0]!, slo: 'checkout-latency', unit: 'minutes' as const, shareOfBudget: null },
        ],
        T0 + 30 * MIN,
        { language: 'ja', timeZone: 'Asia/Tokyo' },
      );
      expect(
        englishLeftIn(text, [
          'checkout-availability',
          'checkout-latency',
          'checkout',
          'alice',
          'bob',
          'carol',
        ]),
      ).toEqual([]);
    }
    const nobody = catchUpSummary({ ...drill, roles: {} }, [], [], T0, { language: 'ja' });
    expect(nobody).toContain('役割: まだ誰も担当していません。');
    expect(englishLeftIn(nobody, ['checkout'])).toEqual([]);
  });
});
