/**
 * The Slack app's outbound side end to end, on SQLite and PostgreSQL, against the local fake Slack
 * Web API with the official client: an incident declared through the API gets its channel, invites,
 * a pinned card and an announcement; changes update the card in place; card buttons (signed
 * block_actions payloads) act through the incident service with the presser's role; a 429 waits
 * for its Retry-After and then succeeds; the IC is reminded after the update interval (manual clock).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { FAKE_TEAM_ID, FakeSlack, signSlackRequest } from './support/slack.js';

const SECRET = 'test-signing-secret-outbound';
const BOT_TOKEN = 'xoxb-test-outbound';
const MIN = 60_000;

for (const dialect of DIALECTS) {
  describe(`Slack outbound (${dialect})`, () => {
    const slack = new FakeSlack(BOT_TOKEN);
    const clock = new ManualClock(Math.floor(Date.now() / MIN) * MIN);
    let server: TestServer;
    let token: string;
    let broadcast: string;
    let sequence = 0;

    beforeAll(async () => {
      await slack.start();
      slack.addUser({ id: 'U0ALICE', name: 'alice', realName: 'Alice Admin', locale: 'en-US' });
      slack.addUser({ id: 'U0VIEW', name: 'vera', realName: 'Vera Viewer', locale: 'ja-JP' });
      slack.addUser({ id: 'U0RESP', name: 'rita', realName: 'Rita Responder' });
      broadcast = slack.addChannel('incidents').id;
      server = await startTestServer(dialect, {
        clock,
        config: {
          'slack.botToken': BOT_TOKEN,
          'slack.signingSecret': SECRET,
          'slack.apiUrl': slack.apiUrl,
          'slack.broadcastChannel': broadcast,
          'slack.responders': 'U0RESP',
          'slack.uiUrl': 'https://shinrai.example.com',
          // No tick in a test's lifetime: what reaches Slack without an explicit cycle came from the nudge.
          'alerting.deliveryIntervalSeconds': 300,
          'slack.users': { U0ALICE: 'admin', U0VIEW: 'viewer' },
          'incidents.updateIntervalMinutes': 'SEV1=15,*=30',
        },
      });
      token = await server.token('admin');
    });
    afterAll(async () => {
      await server?.close();
      await slack.stop();
    });

    const outbox = () => server.shinrai.slackOutbox!;
    const declare = async (title: string, severity = 'SEV2') => {
      const response = await server.request('POST', '/api/v1/incidents', {
        token,
        body: { title, severity },
      });
      expect(response.status).toBe(201);
      const body = await json(response);
      return { ...body, number: Number(String(body.reference).slice('INC-'.length)) };
    };
    const patch = (ref: string, body: unknown) =>
      server.request('PATCH', `/api/v1/incidents/${ref}`, { token, body });
    const get = async (ref: string) => json(server.request('GET', `/api/v1/incidents/${ref}`, { token }));
    const cardOf = (channel: string) => slack.messagesIn(channel)[0]!;
    const cardText = (channel: string) => JSON.stringify(cardOf(channel).blocks);

    /** Presses a card or alert button as `user`, signed as Slack signs. */
    const press = async (user: string, channel: string, action: Record<string, unknown>) => {
      const body = new URLSearchParams({
        payload: JSON.stringify({
          type: 'block_actions',
          team: { id: FAKE_TEAM_ID, domain: 'fake-workspace' },
          user: { id: user, username: user.toLowerCase(), team_id: FAKE_TEAM_ID },
          api_app_id: 'A0FAKEAPP',
          token: 'deprecated-verification-token',
          container: { type: 'message', message_ts: cardOf(channel).ts, channel_id: channel },
          trigger_id: `trigger.${Date.now()}.${++sequence}`,
          channel: { id: channel, name: 'incident' },
          message: { type: 'message', ts: cardOf(channel).ts, text: '' },
          response_url: 'https://hooks.slack.com/actions/T0FAKETEAM/1/abc',
          actions: [{ type: 'button', action_ts: `${Math.floor(clock.ms / 1000)}.000100`, ...action }],
        }),
      }).toString();
      const response = await fetch(`${server.shinrai.url}/api/v1/integrations/slack/interactions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...signSlackRequest(body, SECRET, Math.floor(clock.ms / 1000)),
        },
        body,
      });
      expect(response.status).toBe(200);
      await outbox().cycle();
    };

    it('declaring through the API creates the channel, invites, pins the card and announces it', async () => {
      const incident = await declare('Checkout latency — EU');
      await outbox().cycle();
      const channel = slack.channelByName(`inc-${incident.number}-checkout-latency-eu`)!;
      expect(channel).toBeDefined();
      expect(channel.members.has('U0RESP')).toBe(true);
      const card = cardOf(channel.id);
      expect(card.text).toContain(incident.reference);
      expect(cardText(channel.id)).toContain('https://shinrai.example.com/incidents/');
      expect(slack.pins.has(`${channel.id} ${card.ts}`)).toBe(true);
      const announced = slack.messagesIn(broadcast).filter((m) => m.text.includes(incident.reference));
      expect(announced).toHaveLength(1);
      expect(announced[0]!.text).toContain(`<#${channel.id}>`);
      // Another pass makes no call again.
      const calls = slack.calls.length;
      await outbox().cycle();
      expect(slack.calls.length).toBe(calls);
    });

    it('a declaration reaches Slack right after its commit, not at the next outbox tick', async () => {
      const incident = await declare('Search outage');
      const name = `inc-${incident.number}-search-outage`;
      for (let i = 0; i < 100 && !slack.channelByName(name)?.members.has('U0RESP'); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(slack.channelByName(name)?.members.has('U0RESP')).toBe(true);
      await outbox().cycle();
    });

    it('a Japanese title gives a channel named by the number, and name_taken moves to the next name', async () => {
      const first = await declare('決済の障害');
      await outbox().cycle();
      expect(slack.channelByName(`inc-${first.number}`)).toBeDefined();
      slack.addChannel(`inc-${first.number + 1}-db`);
      const second = await declare('DB');
      await outbox().cycle();
      expect(slack.channelByName(`inc-${second.number}-db-2`)).toBeDefined();
      const errors = slack.callsOf('conversations.create').map((c) => c.error);
      expect(errors).toContain('name_taken');
    });

    it('changes update the card in place; buttons act as the presser, with their role', async () => {
      const incident = await declare('Search errors');
      await outbox().cycle();
      const channel = slack.channelByName(`inc-${incident.number}-search-errors`)!.id;
      const updates = () => slack.callsOf('chat.update').filter((c) => c.args.channel === channel);
      expect((await patch(incident.reference, { severity: 'SEV1' })).status).toBe(200);
      await outbox().cycle();
      expect(updates()).toHaveLength(1);
      expect(cardOf(channel).text).toContain('[SEV1]');
      expect(slack.messagesIn(channel)).toHaveLength(1);

      // A viewer (in the channel, as anyone pressing the card is) is told no and nothing changes.
      slack.channels.get(channel)!.members.add('U0VIEW');
      await press('U0VIEW', channel, {
        action_id: 'shinrai_card_ack',
        block_id: `shinrai_card:${incident.id}`,
        value: incident.id,
      });
      expect((await get(incident.reference)).milestones.acknowledgedAt).toBeUndefined();
      expect(slack.messages.some((m) => m.ephemeralTo === 'U0VIEW')).toBe(true);

      await press('U0ALICE', channel, {
        action_id: 'shinrai_card_ack',
        block_id: `shinrai_card:${incident.id}`,
        value: incident.id,
      });
      const acked = await get(incident.reference);
      expect(acked.milestones.acknowledgedAt).toBeDefined();
      expect(acked.roles.commander).toBe('Alice Admin (U0ALICE)');
      expect(cardText(channel)).toContain('<@U0ALICE>');
      expect(slack.channels.get(channel)!.members.has('U0ALICE')).toBe(true);

      await press('U0ALICE', channel, {
        type: 'static_select',
        action_id: 'shinrai_card_role',
        block_id: `shinrai_card:${incident.id}`,
        selected_option: { text: { type: 'plain_text', text: 'communications' }, value: 'communications' },
      });
      expect((await get(incident.reference)).roles.communications).toBe('Alice Admin (U0ALICE)');

      await press('U0ALICE', channel, {
        action_id: 'shinrai_card_mitigated',
        block_id: `shinrai_card:${incident.id}`,
        value: incident.id,
      });
      expect((await get(incident.reference)).status).toBe('monitoring');
      await press('U0ALICE', channel, {
        action_id: 'shinrai_card_resolved',
        block_id: `shinrai_card:${incident.id}`,
        value: incident.id,
      });
      expect((await get(incident.reference)).status).toBe('resolved');
      expect(cardOf(channel).text).toContain('resolved');
      // The card is still one message, updated in place.
      expect(slack.messagesIn(channel)).toHaveLength(1);
    });

    it('a 429 waits for its Retry-After, then the latest state is sent once', async () => {
      const incident = await declare('Cart errors');
      await outbox().cycle();
      const channel = slack.channelByName(`inc-${incident.number}-cart-errors`)!.id;
      slack.failNext('chat.update', { rateLimitedSeconds: 120 });
      await patch(incident.reference, { status: 'identified' });
      await outbox().cycle();
      expect(slack.callsOf('chat.update').at(-1)!.status).toBe(429);
      // Two more changes while it waits: one row, latest state wins.
      await patch(incident.reference, { severity: 'SEV3' });
      await patch(incident.reference, { severity: 'SEV4' });
      const before = slack.callsOf('chat.update').length;
      clock.advance(60_000);
      await outbox().cycle();
      expect(slack.callsOf('chat.update').length).toBe(before);
      clock.advance(61_000);
      await outbox().cycle();
      expect(slack.callsOf('chat.update').length).toBe(before + 1);
      expect(cardOf(channel).text).toContain('[SEV4]');
    });

    it('reminds the IC in the channel after the update interval, once per interval', async () => {
      const incident = await declare('Login slow', 'SEV1');
      await outbox().cycle();
      const channel = slack.channelByName(`inc-${incident.number}-login-slow`)!.id;
      await patch(incident.reference, { roles: { commander: 'Alice Admin (U0ALICE)' } });
      await outbox().cycle();
      const reminders = () => slack.messagesIn(channel).filter((m) => m.text.includes('no status update'));
      clock.advance(14 * MIN);
      await outbox().cycle();
      expect(reminders()).toHaveLength(0);
      clock.advance(2 * MIN);
      await outbox().cycle();
      await outbox().cycle();
      expect(reminders()).toHaveLength(1);
      expect(reminders()[0]!.text).toContain('<@U0ALICE>');
      expect(reminders()[0]!.text).toContain('15 minutes');
      clock.advance(MIN);
      await outbox().cycle();
      expect(reminders()).toHaveLength(1);
      // A status update restarts the count.
      await server.request('POST', `/api/v1/incidents/${incident.reference}/notes`, {
        token,
        body: { text: 'Rolled back the login service.' },
      });
      clock.advance(10 * MIN);
      await outbox().cycle();
      expect(reminders()).toHaveLength(1);
    });
  });
}
