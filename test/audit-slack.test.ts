/**
 * Writes made from Slack are audited with the Slack user as the actor, on SQLite and PostgreSQL:
 * a channel command signed as Slack signs it (against the local fake Slack Web API) changes the
 * channel's incident and records `slack:<user id>` with the role `slack.users` maps the user to;
 * a refused command records nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkIncidentChannel } from '../src/slack/index.js';
import { undocumentedWrites, writeRoutes } from './support/audit-routes.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { FAKE_BOT_USER_ID, FakeSlack, sendSlashCommand } from './support/slack.js';
import { ratioSloYaml } from './support/specs.js';

const SECRET = 'test-signing-secret-audit';
const BOT_TOKEN = 'xoxb-test-audit';

describe.each(DIALECTS)('audit of Slack writes on %s', (dialect) => {
  const slack = new FakeSlack(BOT_TOKEN);
  let server: TestServer;
  let admin: string;
  let dir: string;
  let ref: string;
  let channel: string;

  beforeAll(async () => {
    await slack.start();
    slack.addUser({ id: 'U0ALICE', name: 'alice', realName: 'Alice Editor', locale: 'en-US' });
    slack.addUser({ id: 'U0VIEW', name: 'vera', realName: 'Vera Viewer', locale: 'en-US' });
    dir = await mkdtemp(join(tmpdir(), 'shinrai-audit-slack-'));
    await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('checkout-availability', { service: 'checkout' }));
    server = await startTestServer(dialect, {
      specs: dir,
      config: {
        'slack.botToken': BOT_TOKEN,
        'slack.signingSecret': SECRET,
        'slack.apiUrl': slack.apiUrl,
        'slack.users': { U0ALICE: 'editor', U0VIEW: 'viewer' },
      },
    });
    admin = await server.token('admin');
    const declared = await json(
      server.request('POST', '/api/v1/incidents', {
        token: admin,
        body: { title: 'Payments', severity: 'SEV3' },
      }),
    );
    ref = declared.reference;
    // The outbox makes the channel of a new incident; let it finish, then link the test's channel.
    await server.shinrai.slackOutbox?.cycle();
    const created = slack.addChannel(`inc-${declared.number}-payments`, [
      FAKE_BOT_USER_ID,
      'U0ALICE',
      'U0VIEW',
    ]);
    channel = created.id;
    await linkIncidentChannel(
      server.shinrai.ctx.db,
      { incidentId: declared.id, channelId: channel, channelName: created.name },
      Date.now(),
    );
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await slack.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** `/shinrai <text>` from `user` in the incident's channel, signed as Slack signs it. */
  const command = async (user: string, text: string) => {
    const response = await sendSlashCommand(server.shinrai.url, SECRET, { user, channel, text });
    expect(response.status).toBe(200);
    return (await response.json()) as { text: string };
  };

  const slackEvents = async (): Promise<JsonBody[]> =>
    (
      await json(server.request('GET', `/api/v1/audit?targetType=incident&targetId=${ref}`, { token: admin }))
    ).events.filter((e: JsonBody) => e.credential.startsWith('slack:'));

  it('records a channel command with the Slack user, credential and mapped role; a refused one records nothing', async () => {
    expect((await command('U0VIEW', 'severity SEV1')).text).toMatch(/needs the editor role/);
    expect(await slackEvents()).toEqual([]);
    expect((await command('U0ALICE', 'severity SEV1')).text).toContain('SEV1');
    const [event, ...others] = await slackEvents();
    expect(others).toEqual([]);
    expect(event).toMatchObject({
      action: 'incident.update',
      actor: 'Alice Editor (U0ALICE)',
      credential: 'slack:U0ALICE',
      role: 'editor',
      target: { type: 'incident', id: ref },
      changes: { before: { severity: 'SEV3' }, after: { severity: 'SEV1' } },
      clientAddress: null,
    });
  });

  it('has its Slack endpoints in docs/audit.md', async () => {
    const slackRoutes = writeRoutes(server.shinrai.server).filter((r) => r.includes('/integrations/slack/'));
    expect(slackRoutes).toHaveLength(3);
    expect(await undocumentedWrites(slackRoutes)).toEqual([]);
  });
});
