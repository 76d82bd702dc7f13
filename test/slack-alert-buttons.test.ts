/**
 * The buttons on a Slack alert message, on SQLite and PostgreSQL, against the local fake Slack Web
 * API with the official client, pressed as signed block_actions payloads: Actionable and Noise
 * record the alert feedback (the last verdict counts), Silence 1h stores a silence of one hour on
 * the alert's labels, Declare incident opens the declare modal pre-filled from the alert and its
 * submission declares; a viewer is refused and nothing changes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_ACTIONS, slackMessage } from '../src/notifications/formats.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { FAKE_BOT_ID, FAKE_BOT_USER_ID, FAKE_TEAM_ID, FakeSlack, signSlackRequest } from './support/slack.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const SECRET = 'test-signing-secret-alert-buttons';
const BOT_TOKEN = 'xoxb-test-alert-buttons';
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 9, 1, 0, 0);

for (const dialect of DIALECTS) {
  describe(`Slack alert buttons (${dialect})`, () => {
    const slack = new FakeSlack(BOT_TOKEN);
    const clock = new ManualClock(T0);
    let server: TestServer;
    let token: string;
    let dir: string;
    let channel: string;
    let page: JsonBody;
    let sequence = 0;

    beforeAll(async () => {
      await slack.start();
      slack.addUser({ id: 'U0ALICE', name: 'alice', realName: 'Alice Admin', locale: 'en-US' });
      slack.addUser({ id: 'U0VIEW', name: 'vera', realName: 'Vera Viewer', locale: 'ja-JP' });
      channel = slack.addChannel('alerts', ['U0ALICE', 'U0VIEW', FAKE_BOT_USER_ID]).id;
      dir = await mkdtemp(join(tmpdir(), 'shinrai-slack-alerts-'));
      await writeFile(
        join(dir, 'slo.yaml'),
        ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' }),
      );
      server = await startTestServer(dialect, {
        specs: dir,
        clock,
        config: {
          'slack.botToken': BOT_TOKEN,
          'slack.signingSecret': SECRET,
          'slack.apiUrl': slack.apiUrl,
          'slack.users': { U0ALICE: 'admin', U0VIEW: 'viewer' },
        },
      });
      token = await server.token('admin');
      // Two clean hours, then a minute of full outage: the page fires.
      const db = server.shinrai.ctx.db;
      await seedRequests(db, {
        sli: 'api-requests',
        fromMs: T0 - 2 * HOUR,
        minutes: 120,
        errorRate: 0,
        nowMs: T0,
      });
      await seedRequests(db, { sli: 'api-requests', fromMs: T0, minutes: 1, errorRate: 1, nowMs: T0 });
      clock.advance(MIN);
      for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
      const alerts: JsonBody[] = await json(server.request('GET', '/api/v1/alerts?state=active', { token }));
      page = alerts.find((a) => a.rule === 'page');
      expect(page).toMatchObject({ state: 'firing', slo: 'api', service: 'shop', tier: 'page' });
      // A minute on, so the quality report (which reads up to now, exclusive) counts the firing.
      clock.advance(MIN);
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      await slack.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** The alert message as the Slack target formats it, posted in #alerts as the app's webhook would. */
    const alertMessage = () => {
      const message = slackMessage({
        status: 'firing',
        at: new Date(clock.ms).toISOString(),
        alert: { ...page, id: page.id },
      } as never) as { text: string; blocks: Array<Record<string, unknown>> };
      const ts = `${Math.floor(clock.ms / 1000)}.${String(++sequence).padStart(6, '0')}`;
      slack.messages.push({ channel, ts, text: message.text, blocks: message.blocks, botId: FAKE_BOT_ID });
      return { ts, blocks: message.blocks };
    };

    /** Presses one of the alert message's buttons as `user`, signed as Slack signs. */
    const press = async (user: string, actionId: string) => {
      const { ts, blocks } = alertMessage();
      const actions = blocks.find((b) => b.type === 'actions') as {
        block_id: string;
        elements: Array<{ action_id: string; value: string; text: unknown }>;
      };
      const button = actions.elements.find((e) => e.action_id === actionId);
      expect(button).toBeDefined();
      const triggerId = `trigger.${clock.ms}.${++sequence}`;
      const body = new URLSearchParams({
        payload: JSON.stringify({
          type: 'block_actions',
          team: { id: FAKE_TEAM_ID, domain: 'fake-workspace' },
          user: { id: user, username: user.toLowerCase(), team_id: FAKE_TEAM_ID },
          api_app_id: 'A0FAKEAPP',
          token: 'deprecated-verification-token',
          container: { type: 'message', message_ts: ts, channel_id: channel },
          trigger_id: triggerId,
          channel: { id: channel, name: 'alerts' },
          message: { type: 'message', ts, text: '' },
          response_url: 'https://hooks.slack.com/actions/T0FAKETEAM/1/abc',
          actions: [
            {
              type: 'button',
              block_id: actions.block_id,
              action_id: button!.action_id,
              text: button!.text,
              value: button!.value,
              action_ts: `${Math.floor(clock.ms / 1000)}.000100`,
            },
          ],
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
      return triggerId;
    };
    const ephemeralsTo = (user: string) => slack.messages.filter((m) => m.ephemeralTo === user);
    const quality = async () => {
      const report = await json(server.request('GET', '/api/v1/alerts/quality?days=7', { token }));
      return report.rules.find((r: JsonBody) => r.rule === 'page');
    };
    const silences = async (): Promise<JsonBody[]> =>
      json(server.request('GET', '/api/v1/silences', { token }));

    it('refuses a viewer every button, in their language, and changes nothing', async () => {
      const incidents = (await json(server.request('GET', '/api/v1/incidents', { token }))).length;
      const views = slack.callsOf('views.open').length;
      for (const action of Object.values(ALERT_ACTIONS)) await press('U0VIEW', action);
      expect(ephemeralsTo('U0VIEW')).toHaveLength(4);
      for (const m of ephemeralsTo('U0VIEW')) expect(m.text).toMatch(/[\u3040-\u30ff\u4e00-\u9faf]/);
      expect(await quality()).toMatchObject({ withFeedback: 0 });
      expect(await silences()).toEqual([]);
      expect(slack.callsOf('views.open')).toHaveLength(views);
      expect((await json(server.request('GET', '/api/v1/incidents', { token }))).length).toBe(incidents);
    });

    it('Actionable then Noise record the feedback on the firing; the last verdict counts', async () => {
      await press('U0ALICE', ALERT_ACTIONS.actionable);
      expect(ephemeralsTo('U0ALICE').at(-1)!.text).toBe('Thanks: this firing is recorded as actionable.');
      expect(await quality()).toMatchObject({ firings: 1, withFeedback: 1, noiseShare: 0 });
      await press('U0ALICE', ALERT_ACTIONS.noise);
      expect(ephemeralsTo('U0ALICE').at(-1)!.text).toBe('Thanks: this firing is recorded as noise.');
      expect(await quality()).toMatchObject({ firings: 1, withFeedback: 1, noiseShare: 1 });
    });

    it('Silence 1h stores a silence on the alert labels for one hour', async () => {
      await press('U0ALICE', ALERT_ACTIONS.silence);
      const [silence, ...others] = await silences();
      expect(others).toEqual([]);
      expect(Date.parse(silence.endsAt) - Date.parse(silence.startsAt)).toBe(HOUR);
      expect(silence.startsAt).toBe(new Date(clock.ms).toISOString());
      expect(silence.createdBy).toBe('Alice Admin (U0ALICE)');
      expect(silence.matchers).toEqual(
        expect.arrayContaining([
          { label: 'slo', value: 'api' },
          { label: 'service', value: 'shop' },
          { label: 'alertname', value: 'page' },
        ]),
      );
      expect(ephemeralsTo('U0ALICE').at(-1)!.text).toBe(`Silenced until ${silence.endsAt} (1 h).`);
      const alert = await json(server.request('GET', `/api/v1/alerts/${page.id}`, { token }));
      expect(JSON.stringify(alert)).toContain(silence.id);
    });

    it('Declare incident opens the modal pre-filled from the alert; submitting declares', async () => {
      const triggerId = await press('U0ALICE', ALERT_ACTIONS.declare);
      const opened = slack.callsOf('views.open').at(-1)!;
      expect(opened.args.trigger_id).toBe(triggerId);
      const view = [...slack.views.values()].at(-1)!;
      expect(view.view.callback_id).toBe('shinrai_declare');
      const blocks = view.view.blocks as Array<{ block_id: string; element: Record<string, JsonBody> }>;
      const element = (id: string) => blocks.find((b) => b.block_id === id)!.element;
      expect(element('title').initial_value).toBe('api (shop) is burning its error budget');
      expect(element('severity').initial_option.value).toBe('SEV2');
      expect(element('services').initial_options.map((o: JsonBody) => o.value)).toEqual(['shop']);
      expect(element('slos').initial_options.map((o: JsonBody) => o.value)).toEqual(['api']);
      expect(element('commander').initial_user).toBe('U0ALICE');

      const submitted = await fetch(`${server.shinrai.url}/api/v1/integrations/slack/interactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'x',
      });
      expect(submitted.status).toBe(401);
      const submit = async (view: typeof opened.args & JsonBody, element: (id: string) => JsonBody) => {
        const body = new URLSearchParams({
          payload: JSON.stringify({
            type: 'view_submission',
            team: { id: FAKE_TEAM_ID, domain: 'fake-workspace' },
            user: { id: 'U0ALICE', username: 'alice', team_id: FAKE_TEAM_ID },
            api_app_id: 'A0FAKEAPP',
            token: 'deprecated-verification-token',
            trigger_id: `trigger.${clock.ms}.${++sequence}`,
            view: {
              ...view.view,
              id: view.id,
              hash: view.hash,
              team_id: FAKE_TEAM_ID,
              app_id: 'A0FAKEAPP',
              bot_id: FAKE_BOT_ID,
              state: {
                values: {
                  title: { value: { type: 'plain_text_input', value: element('title').initial_value } },
                  severity: {
                    value: { type: 'static_select', selected_option: element('severity').initial_option },
                  },
                  services: {
                    value: {
                      type: 'multi_static_select',
                      selected_options: element('services').initial_options,
                    },
                  },
                  slos: {
                    value: { type: 'multi_static_select', selected_options: element('slos').initial_options },
                  },
                  commander: { value: { type: 'users_select', selected_user: 'U0ALICE' } },
                  summary: { value: { type: 'plain_text_input', value: null } },
                },
              },
            },
          }),
        }).toString();
        const answer = await fetch(`${server.shinrai.url}/api/v1/integrations/slack/interactions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...signSlackRequest(body, SECRET, Math.floor(clock.ms / 1000)),
          },
          body,
        });
        return answer;
      };
      const answer = await submit(view, element);
      expect(answer.status).toBe(200);
      const [declared] = await json(server.request('GET', '/api/v1/incidents', { token }));
      const incident = await json(
        server.request('GET', `/api/v1/incidents/${declared.reference}`, { token }),
      );
      expect(incident).toMatchObject({
        title: 'api (shop) is burning its error budget',
        severity: 'SEV2',
        services: ['shop'],
        slos: ['api'],
        roles: { commander: 'Alice Admin (U0ALICE)' },
      });
      expect(incident.timeline[0]).toMatchObject({
        kind: 'declared',
        source: 'slack',
        actor: 'Alice Admin (U0ALICE)',
      });
      // Declared from the alert, as the API's POST /alerts/{id}/incident does: the firing is on the
      // timeline, and pressing Declare again on the same alert declares no second incident.
      expect(JSON.stringify(incident.timeline)).toContain('api');
      expect(incident.timeline.some((e: JsonBody) => e.kind === 'alert')).toBe(true);
      await press('U0ALICE', ALERT_ACTIONS.declare);
      const again = [...slack.views.values()].at(-1)!;
      const againBlocks = again.view.blocks as Array<{ block_id: string; element: Record<string, JsonBody> }>;
      const second = await submit(again, (id: string) => againBlocks.find((b) => b.block_id === id)!.element);
      expect(second.status).toBe(200);
      expect(await second.json()).toMatchObject({
        response_action: 'errors',
        errors: { title: expect.stringContaining(declared.reference) },
      });
      expect(await json(server.request('GET', '/api/v1/incidents', { token }))).toHaveLength(1);
    });
  });
}
