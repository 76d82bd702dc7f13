/**
 * Socket Mode, against the fake's Socket Mode endpoint (apps.connections.open + a loopback
 * WebSocket speaking the documented envelope protocol), since Slack's own WebSocket service
 * cannot be reached from here: Bolt's SocketModeReceiver connects with the app-level token through
 * slack.apiUrl and the egress-checked dispatcher, serves no HTTP routes, acknowledges a slash
 * command with its answer, and acts once on an event Slack redelivers.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { linkIncidentChannel } from '../src/slack/index.js';
import { DIALECTS } from './support/databases.js';
import { json, startTestServer, type TestServer } from './support/server.js';
import { FAKE_BOT_USER_ID, FAKE_TEAM_ID, FakeSlack } from './support/slack.js';

for (const dialect of DIALECTS) {
  describe(`Slack app in Socket Mode (${dialect})`, () => {
    const slack = new FakeSlack('xoxb-socket-bot', 'xapp-socket-app');
    let server: TestServer;

    beforeAll(async () => {
      await slack.start();
      slack.addUser({ id: 'U0ALICE', name: 'alice', realName: 'Alice Admin', locale: 'en-US' });
      server = await startTestServer(dialect, {
        config: {
          'slack.botToken': 'xoxb-socket-bot',
          'slack.appToken': 'xapp-socket-app',
          'slack.socketMode': true,
          'slack.apiUrl': slack.apiUrl,
          'slack.users': { U0ALICE: 'admin' },
        },
      });
      await slack.socketConnected();
    });
    afterAll(async () => {
      await server?.close();
      await slack.stop();
    });

    it('connects with the app token, shows socket mode on /readyz and serves no HTTP endpoints', async () => {
      const open = slack.callsOf('apps.connections.open');
      expect(open.length).toBeGreaterThanOrEqual(1);
      expect(open[0]?.headers.authorization).toBe('Bearer xapp-socket-app');
      expect((await json(server.request('GET', '/readyz'))).slack).toMatchObject({
        mode: 'socket',
        started: true,
      });
      const http = await fetch(`${server.shinrai.url}/api/v1/integrations/slack/events`, {
        method: 'POST',
        body: '{}',
      });
      expect(http.status).toBe(404);
    });

    it('answers a slash command in the acknowledgement and records a redelivered message once', async () => {
      const ack = await slack.sendEnvelope('slash_commands', {
        token: 'x',
        team_id: FAKE_TEAM_ID,
        channel_id: 'C0GENERAL',
        user_id: 'U0ALICE',
        command: '/shinrai',
        text: 'help',
        trigger_id: 'trigger.socket.1',
        api_app_id: 'A0FAKEAPP',
      });
      expect(ack.payload).toMatchObject({
        response_type: 'ephemeral',
        text: expect.stringContaining('/shinrai declare'),
      });

      const created = await server.request('POST', '/api/v1/incidents', {
        token: await server.token('editor'),
        body: { title: 'Socket incident', severity: 'SEV3' },
      });
      const incident = await json(created);
      const channel = slack.addChannel(`inc-${incident.number}-socket`, [FAKE_BOT_USER_ID, 'U0ALICE']);
      // Let the outbox finish the channel it makes on declare, so this link is the one that stays.
      await server.shinrai.slackOutbox?.cycle();
      await linkIncidentChannel(
        server.shinrai.ctx.db,
        { incidentId: incident.id, channelId: channel.id, channelName: channel.name },
        Date.now(),
      );
      const ts = `${Math.floor(Date.now() / 1000)}.000301`;
      slack.messages.push({ channel: channel.id, ts, text: 'over the socket', user: 'U0ALICE' });
      const payload = {
        token: 'x',
        team_id: FAKE_TEAM_ID,
        api_app_id: 'A0FAKEAPP',
        type: 'event_callback',
        event_id: 'Ev0SOCKET1',
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [{ team_id: FAKE_TEAM_ID, user_id: FAKE_BOT_USER_ID, is_bot: true }],
        event: { type: 'message', channel: channel.id, user: 'U0ALICE', text: 'over the socket', ts },
      };
      await slack.sendEnvelope('events_api', payload);
      await slack.sendEnvelope('events_api', payload, { retryAttempt: 1 });
      // Bolt acknowledges an Events API envelope before its listeners run: wait for the note.
      const viewer = await server.token('viewer');
      const notes = async () =>
        (
          await json(server.request('GET', `/api/v1/incidents/${incident.reference}`, { token: viewer }))
        ).timeline.filter((e: { text: string }) => e.text.startsWith('over the socket'));
      await vi.waitFor(async () => expect(await notes()).toHaveLength(1), { timeout: 10_000, interval: 50 });
      await vi.waitFor(
        async () => {
          const metrics = await (await server.request('GET', '/metrics')).text();
          expect(metrics).toContain('shinrai_slack_requests_total{kind="events",outcome="ok"} 1');
          expect(metrics).toContain('shinrai_slack_requests_total{kind="events",outcome="duplicate"} 1');
        },
        { timeout: 10_000, interval: 50 },
      );
      expect(await notes()).toHaveLength(1);
    });
  });
}
