/**
 * Bad input at the Slack endpoints: bodies that are correctly signed (as if the signing secret
 * leaked, or Slack sent something new) but of any shape — random JSON in events, random
 * `payload` JSON in interactions, random form fields in commands, shapes close to Slack's with
 * wrong types — are answered 200 (ignored) or 400, never 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { FakeSlack, signSlackRequest } from './support/slack.js';

const SECRET = 'fuzz-secret';

describe('Slack endpoints under bad input', () => {
  const slack = new FakeSlack('xoxb-fuzz');
  let server: TestServer;

  beforeAll(async () => {
    await slack.start();
    slack.addUser({ id: 'U0ALICE', name: 'alice' });
    server = await startTestServer('sqlite', {
      config: {
        'slack.botToken': 'xoxb-fuzz',
        'slack.signingSecret': SECRET,
        'slack.apiUrl': slack.apiUrl,
        'slack.users': { '*': 'admin' },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await slack.stop();
  });

  const post = async (kind: string, contentType: string, body: string) => {
    const response = await server.shinrai.server.inject({
      method: 'POST',
      url: `/api/v1/integrations/slack/${kind}`,
      headers: { 'content-type': contentType, ...signSlackRequest(body, SECRET) },
      payload: body,
    });
    if (response.statusCode >= 500) throw new Error(`${kind} ${response.statusCode}: ${body.slice(0, 300)}`);
    expect([200, 400, 415]).toContain(response.statusCode);
  };

  const loose = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
    fc.object(),
    fc.array(fc.anything()),
  );
  const userish = fc.oneof(fc.constantFrom('U0ALICE', 'U0NOBODY', ''), loose);
  const eventShape = fc.record(
    {
      type: fc.oneof(fc.constantFrom('event_callback', 'url_verification', 'app_rate_limited'), loose),
      event_id: fc.oneof(fc.string({ minLength: 1 }), loose),
      challenge: loose,
      authorizations: loose,
      event: fc.oneof(
        loose,
        fc.record(
          {
            type: fc.oneof(
              fc.constantFrom(
                'message',
                'reaction_added',
                'reaction_removed',
                'member_joined_channel',
                'app_mention',
              ),
              loose,
            ),
            subtype: fc.oneof(
              fc.constantFrom('message_changed', 'message_deleted', 'bot_message', 'file_share'),
              loose,
            ),
            channel: fc.oneof(fc.constantFrom('C0X'), loose),
            user: userish,
            text: loose,
            ts: loose,
            deleted_ts: loose,
            message: loose,
            previous_message: loose,
            reaction: fc.oneof(fc.constant('pushpin'), loose),
            item: loose,
            bot_id: loose,
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  );
  const interactionShape = fc.record(
    {
      type: fc.oneof(fc.constantFrom('view_submission', 'block_actions', 'shortcut', 'view_closed'), loose),
      trigger_id: loose,
      user: fc.oneof(loose, fc.record({ id: userish }, { requiredKeys: [] })),
      view: fc.oneof(
        loose,
        fc.record(
          {
            id: loose,
            hash: loose,
            callback_id: fc.oneof(fc.constant('shinrai_declare'), loose),
            state: fc.oneof(loose, fc.record({ values: loose }, { requiredKeys: [] })),
          },
          { requiredKeys: [] },
        ),
      ),
      actions: loose,
    },
    { requiredKeys: [] },
  );
  const commandFields = fc.dictionary(
    fc.oneof(
      fc.constantFrom('command', 'text', 'user_id', 'channel_id', 'trigger_id', 'team_id'),
      fc.string(),
    ),
    fc.oneof(
      fc.constantFrom('/shinrai', 'declare', 'status', 'severity SEV1', 'ic <@U0ALICE>', 'note x', 'budget'),
      fc.string(),
    ),
  );

  it('never answers 5xx to signed events of any shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          eventShape.map((e) => JSON.stringify(e)),
          fc.string(),
          fc.json(),
        ),
        (body) => post('events', 'application/json', body),
      ),
      { numRuns: 200 },
    );
  });

  it('never answers 5xx to signed interactions of any shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          interactionShape.map((p) => new URLSearchParams({ payload: JSON.stringify(p) }).toString()),
          fc.string(),
        ),
        (body) => post('interactions', 'application/x-www-form-urlencoded', body),
      ),
      { numRuns: 200 },
    );
  });

  it('never answers 5xx to signed commands of any shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          commandFields.map((fields) => new URLSearchParams(fields).toString()),
          fc.string(),
        ),
        (body) => post('commands', 'application/x-www-form-urlencoded', body),
      ),
      { numRuns: 200 },
    );
  });
});
