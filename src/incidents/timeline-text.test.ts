import { describe, expect, it } from 'vitest';
import { writeUpFormat } from './language.js';
import type { EventKind } from './service.js';
import { englishLeftIn } from './testing.js';
import { SYSTEM_EVENT_TEXT as T, timelineText } from './timeline-text.js';

const ja = writeUpFormat({ language: 'ja', timeZone: 'Asia/Tokyo' });
const AT = Date.UTC(2026, 10, 23, 10, 0);

/** Every entry Shinrai writes, built by the same functions the service stores them with. */
const ENTRIES: ReadonlyArray<readonly [EventKind, string, string]> = [
  ['declared', T.declared('SEV2', '決済エラー'), 'SEV2 として宣言: 決済エラー'],
  ['status', T.status('investigating', 'identified'), 'ステータス 調査中 → 原因特定'],
  ['severity', T.severity('SEV3', 'SEV1'), '重大度 SEV3 → SEV1'],
  ['milestone', T.milestoneSet('mitigatedAt', AT), '緩和: 2026/11/23 19:00 JST'],
  ['milestone', T.milestoneCleared('impactStartedAt'), '影響開始を取り消し'],
  ['field', T.fieldChanged('rootCause'), '根本原因を変更'],
  ['field', T.listSet('services', ['checkout', 'payments']), 'サービス: checkout、payments'],
  ['field', T.listSet('slos', []), 'SLO: なし'],
  ['field', T.labelRemoved('team'), 'ラベル team を削除'],
  ['field', T.labelSet('risk', 'db-failover'), 'ラベル risk: db-failover'],
  ['field', T.causedByDeployment('7f3a9c2e-42'), '原因を確定: デプロイ 7f3a9c2e-42'],
  ['field', T.causedByCommit('a1b2c3d'), '原因を確定: コミット a1b2c3d'],
  ['field', T.causeCleared(), '原因を取り消し'],
  ['role', T.roleLeft('scribe', 'bob'), '記録係: bob が退任'],
  ['role', T.roleTaken('commander', 'alice', 'bob'), 'インシデントコマンダー: alice（前任 bob）'],
  ['role', T.roleTaken('commander', 'alice', undefined), 'インシデントコマンダー: alice'],
  ['role', T.roleTaken('deputy', 'carol', undefined), 'deputy: carol'],
  [
    'alert',
    T.alertFiring('page', 'checkout-availability', '1h 14.4×'),
    'アラート発火: checkout-availability の page（バーンレート 1h 14.4×）',
  ],
  [
    'alert',
    T.alertmanager(true, 'HighErrorRate {service=checkout}'),
    'アラート発火: HighErrorRate {service=checkout}',
  ],
  ['alert', T.alertmanager(false, 'HighErrorRate'), 'アラート解消: HighErrorRate'],
];

describe('timelineText', () => {
  it.each(ENTRIES)('words the %s entry "%s" in Japanese', (kind, text, expected) => {
    expect(timelineText({ kind, text }, ja)).toBe(expected);
  });

  it('leaves no English word of its own in the Japanese entries', () => {
    const written = ['checkout-availability', 'checkout', 'payments', 'alice', 'bob', 'carol', 'deputy'];
    const extra = ['HighErrorRate', 'service', 'team', 'risk', 'db-failover', 'page'];
    for (const [kind, text] of ENTRIES)
      expect(englishLeftIn(timelineText({ kind, text }, ja), [...written, ...extra])).toEqual([]);
  });

  it('keeps notes, English and unrecognised text as written', () => {
    expect(timelineText({ kind: 'note', text: 'status a → b' }, ja)).toBe('status a → b');
    expect(timelineText({ kind: 'status', text: 'something else' }, ja)).toBe('something else');
    expect(timelineText({ kind: 'status', text: T.status('triage', 'resolved') }, writeUpFormat())).toBe(
      'status triage → resolved',
    );
  });
});
