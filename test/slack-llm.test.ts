/**
 * Catch-ups in Slack with an LLM configured: the model's wording when it answers in time, and the
 * deterministic facts (in the user's language) when it does not answer within the two seconds a
 * Slack answer can wait — never a timed-out command.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkIncidentChannel } from '../src/slack/index.js';
import { json, startTestServer, type TestServer } from './support/server.js';
import { FAKE_BOT_USER_ID, FAKE_TEAM_ID, FakeSlack, signSlackRequest } from './support/slack.js';

const SECRET = 'llm-secret';

describe('Slack catch-up with an LLM', () => {
  const slack = new FakeSlack('xoxb-llm');
  let llm: Server;
  let server: TestServer;
  let channel = '';
  /** Japanese requests are answered; English ones never are (a model that hangs). */
  const startLlm = async () => {
    llm = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        const body = JSON.parse(text) as { messages: Array<{ content: string }> };
        if (!body.messages[0]?.content.includes('Japanese')) return; // hangs
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            choices: [{ message: { role: 'assistant', content: 'モデルによる要約です。' } }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => llm.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`;
  };

  beforeAll(async () => {
    await slack.start();
    slack.addUser({ id: 'U0JA', name: 'ja', locale: 'ja-JP' });
    slack.addUser({ id: 'U0EN', name: 'en', locale: 'en-US' });
    const llmUrl = await startLlm();
    server = await startTestServer('sqlite', {
      config: {
        'slack.botToken': 'xoxb-llm',
        'slack.signingSecret': SECRET,
        'slack.apiUrl': slack.apiUrl,
        'slack.users': { '*': 'viewer' },
        'incidents.llmUrl': llmUrl,
        'incidents.llmTimeoutSeconds': 4,
      },
    });
    const incident = await json(
      server.request('POST', '/api/v1/incidents', {
        token: await server.token('editor'),
        body: { title: 'LLM incident', severity: 'SEV2' },
      }),
    );
    channel = slack.addChannel('inc-1-llm', [FAKE_BOT_USER_ID]).id;
    // Let the outbox finish the channel it makes on declare, so this link is the one that stays.
    await server.shinrai.slackOutbox?.cycle();
    await linkIncidentChannel(
      server.shinrai.ctx.db,
      { incidentId: incident.id, channelId: channel, channelName: 'inc-1-llm' },
      Date.now(),
    );
  });
  afterAll(async () => {
    await server?.close();
    llm?.closeAllConnections();
    await new Promise((resolve) => llm?.close(resolve));
    await slack.stop();
  });

  const catchup = async (user: string) => {
    const body = new URLSearchParams({
      command: '/shinrai',
      text: 'catchup',
      user_id: user,
      channel_id: channel,
      team_id: FAKE_TEAM_ID,
      trigger_id: `trigger.${user}.${Date.now()}`,
    }).toString();
    const response = await fetch(`${server.shinrai.url}/api/v1/integrations/slack/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET) },
      body,
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { text: string }).text;
  };

  it("answers with the model's wording when it comes in time", async () => {
    expect(await catchup('U0JA')).toBe('*INC-1 の要約*\nモデルによる要約です。');
  });

  it('answers with the facts when the model does not answer in time', async () => {
    const text = await catchup('U0EN');
    expect(text).toMatch(/^\*Catch-up on INC-1\*\nINC-1 SEV2 — LLM incident\nStatus: investigating/);
  });
});
