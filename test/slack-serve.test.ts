/**
 * `shinrai serve` (the built CLI) with the Slack app configured from the environment: it says in
 * its log and on /readyz that the app receives at /api/v1/integrations/slack/, answers a request
 * Slack signed, and neither the bot token nor the signing secret ever appears in what it prints —
 * nor in the one-line error when the configuration is incomplete.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack, signSlackRequest } from './support/slack.js';

const BIN = fileURLToPath(new URL('../bin/shinrai.js', import.meta.url));
const TOKEN = 'xoxb-serve-token-5d1e';
const SECRET = 'serve-signing-secret-a41c';

describe('shinrai serve with the Slack app', () => {
  const slack = new FakeSlack(TOKEN);
  const dir = mkdtempSync(join(tmpdir(), 'shinrai-slack-serve-'));
  let child: ChildProcess;
  let output = '';
  let url = '';

  beforeAll(async () => {
    await slack.start();
    slack.addUser({ id: 'U0ALICE', name: 'alice', locale: 'ja-JP' });
    child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--db', join(dir, 'shinrai.db'), '--log-level', 'info'],
      {
        env: {
          ...process.env,
          SHINRAI_SLACK_BOT_TOKEN: TOKEN,
          SHINRAI_SLACK_SIGNING_SECRET: SECRET,
          SHINRAI_SLACK_API_URL: slack.apiUrl,
          SHINRAI_SLACK_USERS: 'U0ALICE=viewer',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no Slack log line within 30 s:\n${output}`)), 30_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const listening = /Shinrai is listening on (http:\/\/[^"\s]+)/.exec(output);
        if (listening && output.includes('Slack app: receiving')) {
          clearTimeout(timer);
          resolve(listening[1]!);
        }
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs and shows on /readyz where the app receives, and answers a signed command', async () => {
    expect(output).toContain(
      'Slack app: receiving commands, interactions and events at /api/v1/integrations/slack/{commands,interactions,events}',
    );
    const ready = (await (await fetch(`${url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready.slack).toEqual({ mode: 'http', path: '/api/v1/integrations/slack', started: true });
    const body = new URLSearchParams({
      command: '/shinrai',
      text: 'help',
      user_id: 'U0ALICE',
      channel_id: 'C0X',
      team_id: 'T0FAKETEAM',
      trigger_id: 'trigger.serve.1',
    }).toString();
    const answer = await fetch(`${url}/api/v1/integrations/slack/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET) },
      body,
    });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { text: string }).text).toContain('インシデント');
    const forged = await fetch(`${url}/api/v1/integrations/slack/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, 'wrong') },
      body,
    });
    expect(forged.status).toBe(401);
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(SECRET);
  });

  it('refuses to start with a bot token but no signing secret, in one line without the token', () => {
    const run = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--db', join(dir, 'other.db')], {
      env: { ...process.env, SHINRAI_SLACK_BOT_TOKEN: TOKEN },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(
      /slack\.signingSecret \(from defaults\): needed to verify requests from Slack \(or set slack\.socketMode with an appToken\)/,
    );
    expect(run.stderr + run.stdout).not.toContain(TOKEN);
  });
});
