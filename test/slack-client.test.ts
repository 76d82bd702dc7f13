/**
 * The Slack Web API client (official @slack/web-api WebClient) against the local fake Slack:
 * documented shapes come back, Slack's error codes and 429 + Retry-After are reported in one safe
 * line, egress.allow is enforced on the client's connections, and the fake's request signature
 * matches what Bolt's verifier expects.
 */
import { verifySlackRequest } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Egress, parseEgressAllow } from '../src/platform/egress.js';
import { describeSlackError, SlackApi } from '../src/slack/index.js';
import { FAKE_BOT_USER_ID, FakeSlack, signSlackRequest } from './support/slack.js';

function egress(allow: string[]): Egress {
  const parsed = parseEgressAllow(allow);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return new Egress(parsed.policy);
}

describe('Slack Web API client against the fake', () => {
  const slack = new FakeSlack('xoxb-test-token');
  let api: SlackApi;

  beforeAll(async () => {
    await slack.start();
    api = new SlackApi({ apiUrl: slack.apiUrl, egress: egress([]) });
  });
  afterAll(async () => {
    await api.close();
    await slack.stop();
  });

  it('creates a channel, invites, posts, pins and updates with the documented shapes', async () => {
    const client = api.client('xoxb-test-token');
    const auth = await client.auth.test();
    expect(auth.user_id).toBe(FAKE_BOT_USER_ID);
    slack.addUser({ id: 'U0ALICE', name: 'alice', email: 'alice@example.com', locale: 'ja-JP' });
    const created = await client.conversations.create({ name: 'inc-1-db-down' });
    const channel = created.channel?.id ?? '';
    expect(created.channel?.name).toBe('inc-1-db-down');
    await client.conversations.invite({ channel, users: 'U0ALICE' });
    const posted = await client.chat.postMessage({
      channel,
      text: 'card',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*INC-1*' } }],
    });
    await client.pins.add({ channel, timestamp: posted.ts ?? '' });
    await client.chat.update({ channel, ts: posted.ts ?? '', text: 'card v2' });
    expect(slack.messagesIn(channel)[0]).toMatchObject({ text: 'card v2', edited: true });
    expect(slack.pins.has(`${channel} ${posted.ts}`)).toBe(true);
    expect(slack.callsOf('chat.postMessage')[0]?.args.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*INC-1*' } },
    ]);
    const info = await client.users.info({ user: 'U0ALICE', include_locale: true });
    expect(info.user?.locale).toBe('ja-JP');
    expect((await client.users.info({ user: 'U0ALICE' })).user?.locale).toBeUndefined();
    expect((await client.users.lookupByEmail({ email: 'ALICE@example.com' })).user?.id).toBe('U0ALICE');
  });

  it('reports name_taken and a 429 with Retry-After in one line, at once (no retries of its own)', async () => {
    const client = api.client('xoxb-test-token');
    slack.addChannel('inc-2-taken');
    const taken = await client.conversations.create({ name: 'inc-2-taken' }).catch((e: unknown) => e);
    expect(describeSlackError('conversations.create', taken)).toMatchObject({
      kind: 'platform',
      error: 'name_taken',
      message: 'slack conversations.create: name_taken',
    });
    slack.failNext('chat.postMessage', { rateLimitedSeconds: 30 });
    const before = slack.callsOf('chat.postMessage').length;
    const limited = await client.chat.postMessage({ channel: 'C0NONE', text: 'x' }).catch((e: unknown) => e);
    expect(describeSlackError('chat.postMessage', limited)).toMatchObject({
      kind: 'rate_limited',
      retryAfterSeconds: 30,
    });
    expect(slack.callsOf('chat.postMessage').length).toBe(before + 1);
    const wrong = await api
      .client('xoxb-wrong')
      .auth.test()
      .catch((e: unknown) => e);
    expect(describeSlackError('auth.test', wrong).message).toBe('slack auth.test: invalid_auth');
  });

  it('refuses to connect where egress.allow does not allow, and says so without the URL path or token', async () => {
    const fenced = new SlackApi({ apiUrl: slack.apiUrl, egress: egress(['slack.com']) });
    try {
      const before = slack.calls.length;
      const error = await fenced
        .client('xoxb-test-token')
        .auth.test()
        .catch((e: unknown) => e);
      const failure = describeSlackError('auth.test', error);
      expect(failure.kind).toBe('transport');
      expect(failure.message).toMatch(
        /^slack auth\.test: egress refused: 127\.0\.0\.1 is not allowed by egress\.allow$/,
      );
      expect(slack.calls.length).toBe(before);
    } finally {
      await fenced.close();
    }
  });

  it('signs requests as Bolt verifies them', () => {
    const body = 'token=x&command=%2Fshinrai&text=status';
    const now = Math.floor(Date.now() / 1000);
    const headers = signSlackRequest(body, 'secret-1', now);
    expect(() =>
      verifySlackRequest({
        signingSecret: 'secret-1',
        body,
        headers: {
          'x-slack-signature': headers['x-slack-signature'],
          'x-slack-request-timestamp': now,
        },
      }),
    ).not.toThrow();
    expect(() =>
      verifySlackRequest({
        signingSecret: 'secret-2',
        body,
        headers: { 'x-slack-signature': headers['x-slack-signature'], 'x-slack-request-timestamp': now },
      }),
    ).toThrow();
  });
});
