/**
 * Incident write-ups in Japanese through the API, on both databases: `?lang=ja` gives the catch-up
 * summary (in the incident and on its own) and the postmortem draft in Japanese, with times in
 * `incidents.timeZone`; the rendered postmortem shows its action items in Japanese; English stays
 * the default and another language is a 400.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0);

describe.each(DIALECTS)('incident write-ups in Japanese on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let editor: string;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-incident-ja-'));
    await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('api', { service: 'shop' }));
    server = await startTestServer(dialect, {
      specs: dir,
      clock,
      config: { 'incidents.timeZone': 'Asia/Tokyo' },
    });
    editor = await server.token('editor');
    const declared = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: {
        title: '決済エラー',
        severity: 'SEV2',
        services: ['shop'],
        milestones: { impactStartedAt: new Date(T0 - 10 * MIN).toISOString() },
      },
    });
    expect(declared.status).toBe(201);
    clock.advance(5 * MIN);
    const note = await server.request('POST', '/api/v1/incidents/INC-1/notes', {
      token: editor,
      body: { text: 'v2.3 をロールバック', starred: true },
    });
    expect(note.status).toBe(201);
    const roles = await server.request('PATCH', '/api/v1/incidents/INC-1', {
      token: editor,
      body: { roles: { commander: 'alice' } },
    });
    expect(roles.status).toBe(200);
    clock.advance(80 * MIN);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the catch-up in Japanese with ?lang=ja, in the team time zone, and English by default', async () => {
    const ja = await json(server.request('GET', '/api/v1/incidents/INC-1?lang=ja', { token: editor }));
    expect(ja.catchUp).toContain('INC-1 SEV2 — 決済エラー');
    expect(ja.catchUp).toContain('影響開始から 1 時間 35 分経過（2026/11/23 18:50 JST）');
    expect(ja.catchUp).toContain('役割: インシデントコマンダー alice。');
    expect(ja.catchUp).toContain('- 2026/11/23 19:05 JST v2.3 をロールバック');
    // The entries Shinrai wrote itself read in Japanese too; English ones never show.
    expect(ja.catchUp).toContain('SEV2 として宣言: 決済エラー');
    expect(ja.catchUp).toContain('インシデントコマンダー: alice');
    expect(ja.catchUp).not.toMatch(/declared|commander/);
    const en = await json(server.request('GET', '/api/v1/incidents/INC-1', { token: editor }));
    expect(en.catchUp).toContain('95 min since impact started (2026-11-23T09:50:00Z)');

    const alone = await json(
      server.request('GET', '/api/v1/incidents/INC-1/catch-up?lang=ja', { token: editor }),
    );
    expect(alone).toMatchObject({ source: 'timeline', text: ja.catchUp, facts: ja.catchUp });
  });

  it('drafts the postmortem in Japanese with ?lang=ja and shows its action items in Japanese', async () => {
    const created = await server.request('POST', '/api/v1/incidents/INC-1/postmortem?lang=ja', {
      token: editor,
    });
    expect(created.status).toBe(201);
    const pm = (await created.json()) as JsonBody;
    for (const heading of [
      '# ポストモーテム: 決済エラー',
      '## 影響',
      '## 根本原因',
      '## 検知',
      '## タイムライン',
      '## 教訓',
    ])
      expect(pm.markdown).toContain(heading);
    expect(pm.markdown).toContain('影響開始 2026/11/23 18:50 JST');
    expect(pm.html).toContain('<h2>アクションアイテム</h2>');
    expect(pm.html).toContain('アクションアイテムはまだありません。');

    const item = await server.request('POST', `/api/v1/postmortems/${pm.id}/action-items`, {
      token: editor,
      body: { title: 'カナリアを追加', category: 'prevent', priority: 'P0' },
    });
    expect(item.status).toBe(201);
    const read = await json(server.request('GET', `/api/v1/postmortems/${pm.id}`, { token: editor }));
    expect(read.html).toContain('<th>アクション</th>');
    expect(read.html).toContain('<td>予防</td>');
    expect(read.html).toContain('<td>未完了</td>');

    const english = await json(
      server.request('POST', '/api/v1/incidents/INC-1/postmortem', { token: editor, body: {} }),
    );
    expect(english.markdown).toContain('## Impact');
    expect(english.html).toContain('No action items yet.');
  });

  it('refuses a language it does not write with a problem that lists the choices', async () => {
    for (const path of ['/api/v1/incidents/INC-1?lang=fr', '/api/v1/incidents/INC-1/catch-up?lang=fr']) {
      const response = await server.request('GET', path, { token: editor });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(((await response.json()) as JsonBody).detail).toContain('ja');
    }
    const post = await server.request('POST', '/api/v1/incidents/INC-1/postmortem?lang=fr', {
      token: editor,
    });
    expect(post.status).toBe(400);
  });

  it('prints the catch-up and drafts the postmortem in Japanese from the CLI with --lang ja', async () => {
    const flags = ['--server', server.shinrai.url, '--token', editor];
    const catchUp = await runCli(['incident', 'catch-up', 'INC-1', '--lang', 'ja', ...flags]);
    expect(catchUp).toMatchObject({ code: 0, stderr: '' });
    expect(catchUp.stdout).toContain(
      'ステータス: 調査中。影響開始から 1 時間 35 分経過（2026/11/23 18:50 JST）。',
    );
    const english = await runCli(['incident', 'catch-up', 'INC-1', ...flags]);
    expect(english.stdout).toContain('Status: investigating, 95 min since impact started');

    const drafted = await runCli(['incident', 'postmortem', 'INC-1', '--lang', 'ja', ...flags]);
    expect(drafted.code).toBe(0);
    expect(drafted.stdout.startsWith('# ポストモーテム: 決済エラー\n')).toBe(true);
    expect(drafted.stdout).toContain('## 影響');
    expect(drafted.stderr).toMatch(/^drafted postmortem \S+: edit it at \/postmortems\//);

    const wrong = await runCli(['incident', 'catch-up', 'INC-1', '--lang', 'fr', ...flags]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--lang must be en or ja');
    const missing = await runCli(['incident', 'postmortem', 'INC-404', ...flags]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
  });
});
