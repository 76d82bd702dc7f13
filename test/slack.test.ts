/**
 * The Slack app end to end, on SQLite and PostgreSQL: a running Shinrai with its Bolt app, the
 * local fake Slack Web API, and requests signed exactly as Slack signs them. Forged, stale and
 * replayed requests do nothing; /shinrai declare opens the modal whose submission declares;
 * channel commands act on the channel's incident with the user's mapped role; messages, edits,
 * deletions and the pin reaction reach the timeline; a Japanese joiner gets a Japanese catch-up.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkIncidentChannel } from '../src/slack/index.js';
import { DIALECTS } from './support/databases.js';
import { json, startTestServer, type TestServer } from './support/server.js';
import { FAKE_BOT_ID, FAKE_BOT_USER_ID, FAKE_TEAM_ID, FakeSlack, signSlackRequest } from './support/slack.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const SECRET = 'test-signing-secret-7f3a';
const BOT_TOKEN = 'xoxb-test-token';
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/;

for (const dialect of DIALECTS) {
  describe(`Slack app (${dialect})`, () => {
    const slack = new FakeSlack(BOT_TOKEN);
    let server: TestServer;
    let token: string;
    let dir: string;
    const logs: string[] = [];
    let sequence = 0;
    const next = () => `${Date.now()}${++sequence}`;

    beforeAll(async () => {
      await slack.start();
      slack.addUser({ id: 'U0ALICE', name: 'alice', realName: 'Alice Admin', locale: 'en-US' });
      slack.addUser({
        id: 'U0BOB',
        name: 'bob',
        realName: 'Bob Editor',
        email: 'Bob@Example.com',
        locale: 'ja-JP',
      });
      slack.addUser({ id: 'U0VIEW', name: 'vera', realName: 'Vera Viewer', locale: 'en-GB' });
      slack.addUser({ id: 'U0HANAKO', name: 'hanako', realName: '花子', locale: 'ja-JP' });
      slack.addUser({ id: 'U0STRANGER', name: 'stranger', locale: 'en-US' });
      dir = await mkdtemp(join(tmpdir(), 'shinrai-slack-'));
      await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('checkout-availability', { service: 'checkout' }));
      server = await startTestServer(dialect, {
        specs: dir,
        log: pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) }),
        config: {
          'slack.botToken': BOT_TOKEN,
          'slack.signingSecret': SECRET,
          'slack.apiUrl': slack.apiUrl,
          'slack.users': {
            U0ALICE: 'admin',
            'bob@example.com': 'editor',
            U0VIEW: 'viewer',
            U0HANAKO: 'viewer',
          },
        },
      });
      token = await server.token('admin');
      const nowMs = Date.now();
      await seedRequests(server.shinrai.ctx.db, {
        sli: 'checkout-availability-requests',
        fromMs: nowMs - 120 * 60_000,
        minutes: 110,
        errorRate: 0.02,
        nowMs,
      });
      for (let i = 0; i < 2; i++) await server.shinrai.evaluator.tick();
    });
    afterAll(async () => {
      await server?.close();
      await slack.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** POSTs a body to one of the Slack endpoints, signed as Slack signs (or as told). */
    const send = (
      kind: 'commands' | 'interactions' | 'events',
      body: string,
      options: {
        secret?: string;
        timestamp?: number;
        headers?: Record<string, string>;
        target?: TestServer;
      } = {},
    ) =>
      fetch(`${(options.target ?? server).shinrai.url}/api/v1/integrations/slack/${kind}`, {
        method: 'POST',
        headers: {
          'content-type': kind === 'events' ? 'application/json' : 'application/x-www-form-urlencoded',
          ...signSlackRequest(body, options.secret ?? SECRET, options.timestamp),
          ...options.headers,
        },
        body,
      });

    const command = (
      user: string,
      text: string,
      channel = 'C0GENERAL',
      extra: Parameters<typeof send>[2] = {},
    ) =>
      send(
        'commands',
        new URLSearchParams({
          token: 'deprecated-verification-token',
          team_id: FAKE_TEAM_ID,
          team_domain: 'fake-workspace',
          channel_id: channel,
          channel_name: 'general',
          user_id: user,
          user_name: user.toLowerCase(),
          command: '/shinrai',
          text,
          api_app_id: 'A0FAKEAPP',
          response_url: 'https://hooks.slack.com/commands/T0FAKETEAM/1/abc',
          trigger_id: `trigger.${next()}`,
        }).toString(),
        extra,
      );

    const event = (
      inner: Record<string, unknown>,
      eventId = `Ev${next()}`,
      headers: Record<string, string> = {},
      target?: TestServer,
    ) =>
      send(
        'events',
        JSON.stringify({
          token: 'deprecated-verification-token',
          team_id: FAKE_TEAM_ID,
          api_app_id: 'A0FAKEAPP',
          type: 'event_callback',
          event_id: eventId,
          event_time: Math.floor(Date.now() / 1000),
          authorizations: [{ team_id: FAKE_TEAM_ID, user_id: FAKE_BOT_USER_ID, is_bot: true }],
          event: { event_ts: `${Math.floor(Date.now() / 1000)}.000100`, ...inner },
        }),
        { headers, target },
      );

    const incidents = async () => json(server.request('GET', '/api/v1/incidents', { token }));
    const incident = async (ref: string) => {
      const body = await json(server.request('GET', `/api/v1/incidents/${ref}`, { token }));
      return { incident: body, timeline: body.timeline };
    };

    /** Declares through the modal as `user`; the incident's reference. */
    const declareViaModal = async (user: string, title: string, severity: string): Promise<string> => {
      const opened = await command(user, `declare ${title}`);
      expect(opened.status).toBe(200);
      const views = [...slack.views.values()];
      const view = views[views.length - 1]!;
      expect(view.view.callback_id).toBe('shinrai_declare');
      const blocks = view.view.blocks as Array<{ block_id: string; element: Record<string, unknown> }>;
      expect(blocks.find((b) => b.block_id === 'title')?.element.initial_value).toBe(title);
      expect(blocks.find((b) => b.block_id === 'commander')?.element.initial_user).toBe(user);
      const before = (await incidents()).length;
      const submitted = await send(
        'interactions',
        new URLSearchParams({
          payload: JSON.stringify({
            type: 'view_submission',
            team: { id: FAKE_TEAM_ID, domain: 'fake-workspace' },
            user: { id: user, username: user.toLowerCase(), team_id: FAKE_TEAM_ID },
            api_app_id: 'A0FAKEAPP',
            token: 'deprecated-verification-token',
            trigger_id: `trigger.${next()}`,
            view: {
              ...view.view,
              id: view.id,
              hash: view.hash,
              team_id: FAKE_TEAM_ID,
              app_id: 'A0FAKEAPP',
              bot_id: FAKE_BOT_ID,
              state: {
                values: {
                  title: { value: { type: 'plain_text_input', value: title } },
                  severity: {
                    value: {
                      type: 'static_select',
                      selected_option: { text: { type: 'plain_text', text: severity }, value: severity },
                    },
                  },
                  commander: { value: { type: 'users_select', selected_user: user } },
                  summary: { value: { type: 'plain_text_input', value: 'Writes fail on the primary.' } },
                },
              },
            },
          }),
        }).toString(),
      );
      expect(submitted.status).toBe(200);
      const list = await incidents();
      expect(list.length).toBe(before + 1);
      return list[0].reference as string;
    };

    it('refuses forged and stale signatures with 401 and counts them; nothing is declared', async () => {
      const before = (await incidents()).length;
      const forged = await command('U0ALICE', 'declare forged', 'C0GENERAL', { secret: 'not-the-secret' });
      expect(forged.status).toBe(401);
      expect(forged.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const stale = await command('U0ALICE', 'declare stale', 'C0GENERAL', {
        timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
      });
      expect(stale.status).toBe(401);
      const unsigned = await fetch(`${server.shinrai.url}/api/v1/integrations/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"type":"url_verification","challenge":"x"}',
      });
      expect(unsigned.status).toBe(401);
      expect((await incidents()).length).toBe(before);
      expect(slack.callsOf('views.open').length).toBe(0);
      const metrics = await (await server.request('GET', '/metrics')).text();
      expect(metrics).toMatch(/shinrai_slack_requests_total\{kind="commands",outcome="unauthorized"\} 2/);
      expect(metrics).toMatch(/shinrai_slack_requests_total\{kind="events",outcome="unauthorized"\} 1/);
      expect(metrics).not.toContain(SECRET);
    });

    it('answers the URL verification challenge and says on /readyz that the app is on', async () => {
      const answer = await send(
        'events',
        JSON.stringify({ token: 't', challenge: 'abc123', type: 'url_verification' }),
      );
      expect(await answer.json()).toEqual({ challenge: 'abc123' });
      const ready = await json(server.request('GET', '/readyz'));
      expect(ready.slack).toMatchObject({ mode: 'http', path: '/api/v1/integrations/slack', started: true });
    });

    it('declares through the modal with the Slack user as actor and commander', async () => {
      const ref = await declareViaModal('U0ALICE', 'Checkout DB down', 'SEV2');
      const { incident: declared, timeline } = await incident(ref);
      expect(declared).toMatchObject({
        title: 'Checkout DB down',
        severity: 'SEV2',
        summary: 'Writes fail on the primary.',
        roles: { commander: 'Alice Admin (U0ALICE)' },
      });
      expect(timeline[0]).toMatchObject({
        kind: 'declared',
        source: 'slack',
        actor: 'Alice Admin (U0ALICE)',
      });
      const view = [...slack.views.values()].at(-1)!;
      const blocks = view.view.blocks as Array<{
        block_id: string;
        element: { options?: Array<{ value: string }> };
      }>;
      expect(blocks.find((b) => b.block_id === 'slos')?.element.options?.map((o) => o.value)).toEqual([
        'checkout-availability',
      ]);
      expect(blocks.find((b) => b.block_id === 'services')?.element.options?.map((o) => o.value)).toEqual([
        'checkout',
      ]);
      expect(blocks.find((b) => b.block_id === 'severity')?.element.options?.map((o) => o.value)).toEqual([
        'SEV1',
        'SEV2',
        'SEV3',
        'SEV4',
      ]);
    });

    it("declares once when the same form submission arrives twice, and refuses a signed body that is not Slack's with 400", async () => {
      await command('U0ALICE', 'declare Twice');
      const view = [...slack.views.values()].at(-1)!;
      const body = new URLSearchParams({
        payload: JSON.stringify({
          type: 'view_submission',
          team: { id: FAKE_TEAM_ID },
          user: { id: 'U0ALICE' },
          api_app_id: 'A0FAKEAPP',
          token: 'deprecated-verification-token',
          view: {
            ...view.view,
            id: view.id,
            hash: view.hash,
            state: {
              values: {
                title: { value: { type: 'plain_text_input', value: 'Twice' } },
                severity: { value: { type: 'static_select', selected_option: { value: 'SEV4' } } },
                commander: { value: { type: 'users_select', selected_user: 'U0ALICE' } },
              },
            },
          },
        }),
      }).toString();
      const before = (await incidents()).length;
      expect((await send('interactions', body)).status).toBe(200);
      expect((await send('interactions', body)).status).toBe(200);
      expect((await incidents()).filter((i: { title: string }) => i.title === 'Twice')).toHaveLength(1);
      expect((await incidents()).length).toBe(before + 1);
      const garbage = await send('interactions', 'payload=%7Bnot-json');
      expect(garbage.status).toBe(400);
      expect(garbage.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await send('events', '[1,2]')).status).toBe(400);
    });

    it("shows a service's SLOs' error budget and burn rates to a viewer", async () => {
      const answer = await json(command('U0VIEW', 'budget checkout'));
      expect(answer.response_type).toBe('ephemeral');
      expect(answer.text).toMatch(
        /^• \*checkout-availability\*: -?\d+\.\d% of the error budget left · burn rate \w+ \d+\.\d\d×/,
      );
      expect((await json(command('U0VIEW', 'budget nope'))).text).toBe('No SLO of service "nope".');
      expect((await json(command('U0BOB', 'budget'))).text).toMatch(
        /^• \*checkout-availability\*: エラーバジェット残り -?\d+\.\d% · バーンレート /,
      );
    });

    it('answers help by locale, unknown sub-commands with a usage line, and unmapped or too-weak users with a clear refusal', async () => {
      expect(await json(command('U0ALICE', 'help'))).toMatchObject({
        response_type: 'ephemeral',
        text: expect.stringContaining('/shinrai declare'),
      });
      expect((await json(command('U0BOB', 'help'))).text).toMatch(JAPANESE);
      expect((await json(command('U0ALICE', 'frobnicate'))).text).toMatch(
        /^Unknown sub-command "frobnicate"\. Usage: \/shinrai/,
      );
      expect((await json(command('U0ALICE', 'severity SEV9'))).text).toBe(
        'Usage: /shinrai severity <SEV1|SEV2|SEV3|SEV4>',
      );
      expect((await json(command('U0STRANGER', 'declare x'))).text).toMatch(/You have no Shinrai role/);
      expect((await json(command('U0VIEW', 'declare x'))).text).toBe(
        'This needs the editor role in Shinrai; you are viewer.',
      );
      expect((await json(command('U0ALICE', 'status'))).text).toBe(
        'This channel belongs to no incident: run it in an incident channel.',
      );
    });

    describe('in an incident channel', () => {
      let ref: string;
      let channel: string;

      beforeAll(async () => {
        ref = await declareViaModal('U0BOB', 'Payments latency', 'SEV3');
        const { incident: declared } = await incident(ref);
        const created = slack.addChannel(`inc-${declared.number}-payments-latency`, [
          FAKE_BOT_USER_ID,
          'U0ALICE',
          'U0BOB',
        ]);
        channel = created.id;
        // The outbound part creates channels and writes this link; here the test does.
        // Let the outbox finish the channel it makes on declare, so this link is the one that stays.
        await server.shinrai.slackOutbox?.cycle();
        await linkIncidentChannel(
          server.shinrai.ctx.db,
          { incidentId: declared.id, channelId: channel, channelName: created.name },
          Date.now(),
        );
      });

      it("acts on the channel's incident: severity, ic, note, mitigated, status", async () => {
        expect(await json(command('U0BOB', 'severity SEV1', channel))).toEqual({
          response_type: 'in_channel',
          text: `${ref}: 重大度を SEV1 に変更しました。`,
        });
        expect((await json(command('U0ALICE', 'ic <@U0BOB|bob>', channel))).text).toBe(
          `${ref}: <@U0BOB> is now the incident commander.`,
        );
        expect((await json(command('U0BOB', 'note rolled back <b>1.2.3</b>', channel))).text).toMatch(
          /メモを追加しました/,
        );
        expect((await json(command('U0ALICE', 'mitigated', channel))).text).toBe(
          `${ref}: mitigated (monitoring).`,
        );
        const status = await json(command('U0VIEW', 'status', channel));
        expect(status.response_type).toBe('ephemeral');
        expect(status.text).toBe(
          `*${ref}* [SEV1] monitoring — Payments latency\ncommander: Bob Editor (U0BOB)`,
        );
        expect((await json(command('U0BOB', 'status', channel))).text).toBe(
          `*${ref}* [SEV1] 監視中 — Payments latency\nインシデントコマンダー: Bob Editor (U0BOB)`,
        );
        expect((await json(command('U0VIEW', 'resolved', channel))).text).toMatch(/needs the editor role/);
        const { incident: now, timeline } = await incident(ref);
        expect(now).toMatchObject({
          severity: 'SEV1',
          status: 'monitoring',
          roles: { commander: 'Bob Editor (U0BOB)' },
        });
        expect(timeline.find((e: { kind: string }) => e.kind === 'note')).toMatchObject({
          text: 'rolled back <b>1.2.3</b>',
          actor: 'Bob Editor (U0BOB)',
          source: 'slack',
        });
      });

      it('suggests the deployment before the impact as the cause, and confirms or removes a cause, by role and language', async () => {
        const nowMs = Date.now();
        const deployment = await json(
          server.request('POST', '/api/v1/deployments', {
            token,
            body: {
              id: `slack-cause-${dialect}`,
              service: 'checkout',
              environment: 'production',
              version: 'v2.0.1',
              finishedAt: new Date(nowMs - 30 * 60_000).toISOString(),
              status: 'success',
            },
          }),
        );
        await server.request('PATCH', `/api/v1/incidents/${ref}`, {
          token,
          body: {
            services: ['checkout'],
            milestones: { impactStartedAt: new Date(nowMs - 20 * 60_000).toISOString() },
          },
        });
        const suggested = await json(command('U0VIEW', 'cause', channel));
        expect(suggested.response_type).toBe('ephemeral');
        expect(suggested.text).toContain(`Suggested causes of ${ref}`);
        expect(suggested.text).toContain(`\`${deployment.id}\` checkout v2.0.1`);
        expect((await json(command('U0VIEW', `cause deploy ${deployment.id}`, channel))).text).toMatch(
          /needs the editor role/,
        );
        expect(await json(command('U0BOB', `cause deploy ${deployment.id}`, channel))).toEqual({
          response_type: 'in_channel',
          text: `${ref}: 原因を確定しました — デプロイ \`${deployment.id}\``,
        });
        expect((await incident(ref)).incident.causedBy).toMatchObject({
          deployment: deployment.id,
          confirmedBy: 'Bob Editor (U0BOB)',
        });
        expect((await json(command('U0ALICE', 'cause deploy no-such-thing', channel))).text).toMatch(
          /no deployment "no-such-thing"/,
        );
        expect((await json(command('U0ALICE', 'cause maybe', channel))).text).toBe(
          'Usage: /shinrai cause [deploy <id> | commit <sha> | none]',
        );
        expect((await json(command('U0ALICE', 'cause none', channel))).text).toBe(`${ref}: cause removed.`);
        expect((await incident(ref)).incident.causedBy).toBeUndefined();
      });

      it("answers catchup in the caller's language (Japanese for ja-JP without an LLM)", async () => {
        const ja = await json(command('U0BOB', 'catchup', channel));
        expect(ja.response_type).toBe('ephemeral');
        expect(ja.text).toContain(`${ref} の要約`);
        expect(ja.text).toMatch(JAPANESE);
        const en = await json(command('U0ALICE', 'catchup', channel));
        expect(en.text).toContain(`Catch-up on ${ref}`);
        expect(en.text).toMatch(/Status: /);
      });

      it('records messages with author and permalink once (a retry or a replay on another replica does nothing), follows edits and deletions, stars on the pin reaction, skips bots', async () => {
        const ts = `${Math.floor(Date.now() / 1000)}.000201`;
        slack.messages.push({ channel, ts, text: 'primary failed over', user: 'U0ALICE' });
        const message = {
          type: 'message',
          channel,
          user: 'U0ALICE',
          text: 'primary failed over',
          ts,
          channel_type: 'channel',
        };
        const eventId = `Ev${next()}`;
        expect((await event(message, eventId)).status).toBe(200);
        expect(
          (
            await event(message, eventId, {
              'x-slack-retry-num': '1',
              'x-slack-retry-reason': 'http_timeout',
            })
          ).status,
        ).toBe(200);
        const replica = await startTestServer(dialect, {
          database: server.database,
          config: {
            'slack.botToken': BOT_TOKEN,
            'slack.signingSecret': SECRET,
            'slack.apiUrl': slack.apiUrl,
          },
        });
        try {
          expect((await event(message, eventId, {}, replica)).status).toBe(200);
        } finally {
          await replica.close();
        }
        const notes = async () =>
          (await incident(ref)).timeline.filter(
            (e: { kind: string; text: string }) => e.kind === 'note' && e.text.startsWith('primary'),
          );
        expect(await notes()).toEqual([
          expect.objectContaining({
            actor: 'Alice Admin (U0ALICE)',
            source: 'slack',
            text: `primary failed over\nhttps://fake-workspace.slack.com/archives/${channel}/p${ts.replace('.', '')}`,
            starred: false,
          }),
        ]);
        const metrics = await (await server.request('GET', '/metrics')).text();
        expect(metrics).toMatch(/shinrai_slack_requests_total\{kind="events",outcome="duplicate"\} 1/);

        await event({
          type: 'message',
          subtype: 'message_changed',
          channel,
          hidden: true,
          ts: `${Math.floor(Date.now() / 1000)}.000202`,
          message: {
            type: 'message',
            user: 'U0ALICE',
            text: 'primary failed over to replica 2',
            ts,
            edited: { user: 'U0ALICE', ts: '1' },
          },
          previous_message: { type: 'message', user: 'U0ALICE', text: 'primary failed over', ts },
        });
        await event({
          type: 'reaction_added',
          user: 'U0BOB',
          reaction: 'pushpin',
          item: { type: 'message', channel, ts },
          item_user: 'U0ALICE',
        });
        expect(await notes()).toEqual([
          expect.objectContaining({
            text: expect.stringMatching(/^primary failed over to replica 2\n/),
            starred: true,
          }),
        ]);
        // A reaction by someone without the editor role stars nothing; other reactions do nothing.
        await event({
          type: 'reaction_removed',
          user: 'U0VIEW',
          reaction: 'pushpin',
          item: { type: 'message', channel, ts },
        });
        await event({
          type: 'reaction_removed',
          user: 'U0BOB',
          reaction: 'eyes',
          item: { type: 'message', channel, ts },
        });
        expect((await notes())[0].starred).toBe(true);

        // One ts for the message and its deletion: computed twice, a second boundary between them
        // would make the deletion name another message (the test failed that way on a slow run).
        const typoTs = `${Math.floor(Date.now() / 1000)}.000203`;
        await event({
          type: 'message',
          channel,
          user: 'U0BOB',
          text: 'primary typo',
          ts: typoTs,
        });
        expect((await notes()).length).toBe(2);
        await event({
          type: 'message',
          subtype: 'message_deleted',
          channel,
          hidden: true,
          deleted_ts: typoTs,
          ts: `${Math.floor(Date.now() / 1000)}.000204`,
          previous_message: { type: 'message', user: 'U0BOB', text: 'primary typo' },
        });
        expect((await notes()).length).toBe(1);

        await event({
          type: 'message',
          subtype: 'bot_message',
          channel,
          bot_id: 'B0OTHER',
          text: 'primary bot says',
          ts: `${Math.floor(Date.now() / 1000)}.000205`,
        });
        await event({
          type: 'message',
          channel,
          user: FAKE_BOT_USER_ID,
          bot_id: FAKE_BOT_ID,
          text: 'primary card',
          ts: `${Math.floor(Date.now() / 1000)}.000206`,
        });
        expect((await notes()).length).toBe(1);
      });

      it('sends a joiner an ephemeral catch-up in Japanese for a ja-JP user', async () => {
        slack.channels.get(channel)!.members.add('U0HANAKO');
        expect(
          (
            await event({
              type: 'member_joined_channel',
              user: 'U0HANAKO',
              channel,
              channel_type: 'C',
              team: FAKE_TEAM_ID,
            })
          ).status,
        ).toBe(200);
        const sent = slack.messages.filter((m) => m.ephemeralTo === 'U0HANAKO');
        expect(sent).toHaveLength(1);
        expect(sent[0]!.text).toContain(`${ref} の要約`);
        expect(sent[0]!.text).toMatch(JAPANESE);
        expect(sent[0]!.text).not.toMatch(/Status: /);
        // Strangers get nothing (no role); the bot joining is not a person.
        slack.channels.get(channel)!.members.add('U0STRANGER');
        await event({
          type: 'member_joined_channel',
          user: 'U0STRANGER',
          channel,
          channel_type: 'C',
          team: FAKE_TEAM_ID,
        });
        expect(slack.messages.filter((m) => m.ephemeralTo === 'U0STRANGER')).toHaveLength(0);
      });

      it('never logs the signing secret or the bot token, and says where the app listens', () => {
        const all = logs.join('');
        expect(all).toContain(
          'Slack app: receiving commands, interactions and events at /api/v1/integrations/slack/',
        );
        expect(all).toContain('slack: refused a request that is not signed by Slack');
        expect(all).not.toContain(SECRET);
        expect(all).not.toContain(BOT_TOKEN);
        // The bot's identity is asked once, not per request (the replica only saw a duplicate).
        expect(slack.callsOf('auth.test').length).toBe(1);
      });

      it('resolves from the channel', async () => {
        expect((await json(command('U0BOB', 'resolved', channel))).text).toBe(`${ref}: 解決済みにしました。`);
        expect((await incident(ref)).incident.status).toBe('resolved');
        expect((await json(command('U0BOB', 'mitigated', channel))).text).toMatch(
          /^実行できませんでした: .*is resolved and cannot move/,
        );
      });
    });
  });
}
