/**
 * Slack users with teams (docs/slack.md#teams) on both databases, against the local fake Slack:
 * a `slack.users` entry's teams, or those an admin assigned to the user's e-mail, scope an editor
 * to its teams' incidents like a team-scoped token. Another team's incident answers an ephemeral
 * refusal in the user's language (English, Japanese) and nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignPerson } from '../src/platform/auth/index.js';
import { linkIncidentChannel } from '../src/slack/index.js';
import { DIALECTS } from './support/databases.js';
import { json, startTestServer, type TestServer } from './support/server.js';
import { FAKE_BOT_USER_ID, FAKE_TEAM_ID, FakeSlack, signSlackRequest } from './support/slack.js';

const SECRET = 'test-signing-secret-teams';
const BOT_TOKEN = 'xoxb-test-teams';

describe.each(DIALECTS)('Slack users with teams on %s', (dialect) => {
  const slack = new FakeSlack(BOT_TOKEN);
  let server: TestServer;
  let token: string;
  let sequence = 0;
  let checkout: { reference: string; id: string; channel: string };

  beforeAll(async () => {
    await slack.start();
    // Payments' editor by its entry; Discovery's by the teams an admin gave its e-mail (Japanese).
    slack.addUser({ id: 'U0PAY', name: 'pay', realName: 'Pat Payments', locale: 'en-US' });
    slack.addUser({
      id: 'U0DISC',
      name: 'disc',
      realName: '発見 花子',
      email: 'Hanako@Example.com',
      locale: 'ja-JP',
    });
    slack.addUser({ id: 'U0ANY', name: 'any', realName: 'Any Editor', locale: 'en-US' });
    server = await startTestServer(dialect, {
      specs: 'examples/shop',
      config: {
        'slack.botToken': BOT_TOKEN,
        'slack.signingSecret': SECRET,
        'slack.apiUrl': slack.apiUrl,
        'slack.users': { U0PAY: { role: 'editor', teams: ['team-payments'] }, '*': 'editor' },
      },
    });
    await assignPerson(
      server.shinrai.ctx,
      { person: 'hanako@example.com', role: 'editor', teams: ['team-discovery'] },
      'test',
    );
    token = await server.token('admin');
    const declared = await json(
      server.request('POST', '/api/v1/incidents', {
        token,
        body: { title: 'Checkout errors', severity: 'SEV3', services: ['checkout'] },
      }),
    );
    const channel = slack.addChannel(`inc-${declared.number}-checkout`, [
      FAKE_BOT_USER_ID,
      'U0PAY',
      'U0DISC',
    ]);
    await server.shinrai.slackOutbox?.cycle();
    await linkIncidentChannel(
      server.shinrai.ctx.db,
      { incidentId: declared.id, channelId: channel.id, channelName: channel.name },
      Date.now(),
    );
    checkout = { reference: declared.reference, id: declared.id, channel: channel.id };
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await slack.stop();
  });

  const send = (kind: 'commands' | 'interactions', body: string) =>
    fetch(`${server.shinrai.url}/api/v1/integrations/slack/${kind}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...signSlackRequest(body, SECRET),
      },
      body,
    });
  const command = (user: string, text: string, channel: string) =>
    json(
      send(
        'commands',
        new URLSearchParams({
          team_id: FAKE_TEAM_ID,
          channel_id: channel,
          user_id: user,
          user_name: user.toLowerCase(),
          command: '/shinrai',
          text,
          api_app_id: 'A0FAKEAPP',
          trigger_id: `trigger.${++sequence}`,
        }).toString(),
      ),
    );
  /** An interaction payload (a form submission, a button press) sent by `user`. */
  const interact = (user: string, payload: Record<string, unknown>) =>
    send(
      'interactions',
      new URLSearchParams({
        payload: JSON.stringify({
          team: { id: FAKE_TEAM_ID },
          user: { id: user, team_id: FAKE_TEAM_ID },
          api_app_id: 'A0FAKEAPP',
          trigger_id: `trigger.${++sequence}`,
          ...payload,
        }),
      }).toString(),
    );
  const option = (value: string) => ({ text: { type: 'plain_text', text: value }, value });
  /** Submits the declare modal as `user` with these services. */
  const submitDeclare = (user: string, title: string, services: string[]) =>
    interact(user, {
      type: 'view_submission',
      view: {
        id: `V${++sequence}`,
        type: 'modal',
        callback_id: 'shinrai_declare',
        private_metadata: JSON.stringify({ channel: 'C0GENERAL', language: 'en' }),
        state: {
          values: {
            title: { value: { type: 'plain_text_input', value: title } },
            severity: { value: { type: 'static_select', selected_option: option('SEV3') } },
            services: { value: { type: 'multi_static_select', selected_options: services.map(option) } },
            commander: { value: { type: 'users_select', selected_user: user } },
          },
        },
      },
    });
  /** Presses the incident card's Acknowledge button as `user`. */
  const acknowledge = (user: string) =>
    interact(user, {
      type: 'block_actions',
      channel: { id: checkout.channel },
      actions: [
        {
          type: 'button',
          block_id: `shinrai_card:${checkout.id}`,
          action_id: 'shinrai_card_ack',
          action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
        },
      ],
    });
  const acknowledged = async () =>
    (await json(server.request('GET', `/api/v1/incidents/${checkout.reference}`, { token }))).milestones
      ?.acknowledgedAt;
  const severity = async () =>
    (await json(server.request('GET', `/api/v1/incidents/${checkout.reference}`, { token }))).severity;
  const titles = async () =>
    (await json(server.request('GET', '/api/v1/incidents', { token }))).map(
      (i: { title: string }) => i.title,
    );

  it("lets an entry's team change its incident from the channel, and refuses another team in Japanese", async () => {
    expect(await command('U0PAY', 'severity SEV2', checkout.channel)).toEqual({
      response_type: 'in_channel',
      text: `${checkout.reference}: severity is now SEV2.`,
    });
    // Hanako's teams come from the admin's assignment to her e-mail: team-discovery only.
    expect(await command('U0DISC', 'severity SEV1', checkout.channel)).toEqual({
      response_type: 'ephemeral',
      text: 'この操作にはチーム team-payments の編集権限が必要です(サービス checkout)。あなたのチーム: team-discovery',
    });
    expect(await command('U0DISC', 'note not mine', checkout.channel)).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('team-payments'),
    });
    expect(await severity()).toBe('SEV2');
    // Reading stays open to every team.
    expect((await command('U0DISC', 'status', checkout.channel)).text).toContain(checkout.reference);
    // An editor without teams ("*") keeps every editor's rights.
    expect((await command('U0ANY', 'severity SEV3', checkout.channel)).response_type).toBe('in_channel');
  });

  it("refuses declaring on another team's service from the modal, in English, declaring nothing", async () => {
    const refused = await submitDeclare('U0PAY', 'Search is slow', ['search']);
    expect(refused.status).toBe(200);
    expect(await refused.json()).toEqual({
      response_action: 'errors',
      errors: {
        title: 'This needs editor rights on team team-discovery (service search); your teams: team-payments.',
      },
    });
    expect(await titles()).not.toContain('Search is slow');
    const declared = await submitDeclare('U0PAY', 'Checkout is slow', ['checkout']);
    expect(declared.status).toBe(200);
    expect(await titles()).toContain('Checkout is slow');
  });

  it("refuses another team's press of the incident card with an ephemeral message; the owner's works", async () => {
    expect((await acknowledge('U0DISC')).status).toBe(200);
    const refusal = slack.messages.filter((m) => m.ephemeralTo === 'U0DISC').at(-1);
    expect(refusal?.text).toBe(
      'この操作にはチーム team-payments の編集権限が必要です(サービス checkout)。あなたのチーム: team-discovery',
    );
    expect(await acknowledged()).toBeUndefined();
    expect((await acknowledge('U0PAY')).status).toBe(200);
    expect(await acknowledged()).toEqual(expect.any(String));
  });
});
