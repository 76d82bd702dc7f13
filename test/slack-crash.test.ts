/**
 * kill -9 while the outbox holds Slack calls: the channel was created, but posting the card keeps
 * failing (Slack answers 503) when the process dies. After a restart each call is made exactly
 * once: the channel is not created again, the card is posted and pinned once, the announcement
 * once. A real `shinrai serve` process on PostgreSQL against the fake Slack Web API.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/platform/auth/tokens.js';
import { systemClock } from '../src/platform/clock.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { type ShinraiProcess, spawnShinrai } from './support/process.js';
import { FakeSlack } from './support/slack.js';

const BOT_TOKEN = 'xoxb-test-crash';

const okCalls = (slack: FakeSlack, method: string) =>
  slack.callsOf(method).filter((c) => c.status === 200 && c.error === undefined);

async function until(check: () => boolean | Promise<boolean>, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Slack calls held in the outbox when the server is killed', () => {
  let database: TestDatabase | undefined;
  const slack = new FakeSlack(BOT_TOKEN);
  const processes: ShinraiProcess[] = [];

  afterAll(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    await slack.stop();
    await database?.drop();
  });

  it('are each made exactly once after a restart', async () => {
    database = await createTestDatabase('postgres');
    await slack.start();
    slack.addUser({ id: 'U0RESP', name: 'rita' });
    const broadcast = slack.addChannel('incidents').id;
    const db = openDatabase(database.url);
    let token: string;
    try {
      await migrateToLatest(db.kysely);
      token = (await createToken({ db, clock: systemClock }, { name: 'crash-test', role: 'editor' })).token;
    } finally {
      await db.close();
    }
    const args = ['--db', database.url];
    const env = {
      SHINRAI_SLACK_BOT_TOKEN: BOT_TOKEN,
      SHINRAI_SLACK_SIGNING_SECRET: 'crash-secret',
      SHINRAI_SLACK_API_URL: slack.apiUrl,
      SHINRAI_SLACK_BROADCAST_CHANNEL: broadcast,
      SHINRAI_SLACK_RESPONDERS: 'U0RESP',
      SHINRAI_ALERTING_DELIVERY_INTERVAL_SECONDS: '1',
      SHINRAI_EVALUATOR_LEADER_RETRY_SECONDS: '1',
    };
    // Slack is down for posting: the channel gets made and the responder invited, the card waits.
    slack.failNext('chat.postMessage', { httpStatus: 503 }, 1000);
    const first = await spawnShinrai(args, env);
    processes.push(first);
    const declared = await fetch(`${first.url}/api/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Payments down', severity: 'SEV1' }),
    });
    expect(declared.status).toBe(201);
    await until(() => slack.callsOf('chat.postMessage').length >= 1, 'a failed card post');
    await first.kill('SIGKILL');
    expect(okCalls(slack, 'conversations.create')).toHaveLength(1);
    expect(okCalls(slack, 'chat.postMessage')).toHaveLength(0);

    slack.clearFailures();
    const second = await spawnShinrai(args, env);
    processes.push(second);
    await until(() => okCalls(slack, 'chat.postMessage').length >= 2, 'the card and the announcement');
    // A few more passes make nothing again.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const channel = slack.channelByName('inc-1-payments-down')!;
    expect(okCalls(slack, 'conversations.create')).toHaveLength(1);
    expect(slack.callsOf('conversations.create')).toHaveLength(1);
    expect(okCalls(slack, 'conversations.invite')).toHaveLength(1);
    expect(slack.messagesIn(channel.id)).toHaveLength(1);
    expect(okCalls(slack, 'pins.add')).toHaveLength(1);
    expect(slack.messagesIn(broadcast)).toHaveLength(1);
    expect(okCalls(slack, 'chat.postMessage')).toHaveLength(2);
  }, 120_000);
});
