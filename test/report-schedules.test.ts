/**
 * Scheduled monthly reports end to end on both databases, with a real SMTP server (smtp-server on
 * a loopback port), the Slack fake and a webhook receiver, under a manual clock: a schedule fires at
 * its zoned time (Asia/Tokyo; America/New_York on the day clocks go back) and not a minute before;
 * the mail has an HTML and a plain-text part, absolute links and the attachment; Slack gets the
 * summary once and the webhook the JSON once; a month missed while the server was down is sent once
 * (only the latest month) after a restart, including when the first process stopped between queueing
 * and sending, and never again across further restarts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/platform/db/database.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { freePort } from './support/prometheus.js';
import { ManualClock, startTestServer, type TestServer } from './support/server.js';
import { FakeSlack } from './support/slack.js';
import { decodeQuotedPrintable, startSmtp, type TestSmtp } from './support/smtp.js';
import { ratioSloYaml } from './support/specs.js';

const BASE_URL = 'https://shinrai.example.com';
const SPECS = ratioSloYaml('checkout-availability', {
  service: 'checkout',
  target: 0.99,
  sli: 'checkout-requests',
});

async function specDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shinrai-report-schedules-'));
  await writeFile(join(dir, 'specs.yaml'), SPECS);
  return dir;
}

/** The occurrences recorded for the schedules, as `id outcome`. */
async function runs(database: TestDatabase): Promise<string[]> {
  const db = openDatabase(database.url);
  try {
    const rows = await db.kysely.selectFrom('report_schedule_runs').selectAll().orderBy('id').execute();
    return rows.map((r) => `${r.id} ${r.outcome}`);
  } finally {
    await db.close();
  }
}

/** A loopback webhook receiver that keeps every JSON body. */
async function startReceiver(): Promise<{ url: string; bodies: unknown[]; close(): void; server: Server }> {
  const bodies: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    server,
    close: () => server.close(),
  };
}

describe.each(DIALECTS)('scheduled reports on %s', (dialect) => {
  describe('in Asia/Tokyo, to email, Slack and a webhook', () => {
    // 2026-12-01 08:00 in Tokyo: November's report is due in an hour.
    const clock = new ManualClock(Date.parse('2026-11-30T23:00:00Z'));
    let dir: string;
    let smtp: TestSmtp;
    let server: TestServer;
    const slack = new FakeSlack();
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let channel: string;

    const passes = async () => {
      await server.shinrai.reportScheduler!.cycle();
      await server.shinrai.mailOutbox!.cycle();
      await server.shinrai.slackOutbox!.cycle();
      await server.shinrai.deliverer.cycle();
    };

    beforeAll(async () => {
      dir = await specDir();
      smtp = await startSmtp();
      await slack.start();
      channel = slack.addChannel('reliability').id;
      receiver = await startReceiver();
      server = await startTestServer(dialect, {
        specs: dir,
        clock,
        config: {
          'reports.timeZone': 'Asia/Tokyo',
          'reports.baseUrl': BASE_URL,
          'reports.schedules': [
            {
              id: 'checkout-monthly',
              product: 'checkout',
              recipients: ['team@example.org', 'manager@example.org'],
              slackChannel: channel,
              webhook: 'reports-hook',
              language: 'ja',
              format: 'md',
            },
          ],
          'notificationTargets.reports-hook': { target: 'webhook', url: receiver.url },
          'smtp.url': `smtp://127.0.0.1:${smtp.port}`,
          'smtp.from': 'Shinrai <shinrai@example.com>',
          'smtp.starttls': 'opportunistic',
          'smtp.intervalSeconds': 3600,
          'slack.botToken': slack.botToken,
          'slack.signingSecret': 'test-signing-secret',
          'slack.apiUrl': slack.apiUrl,
          'alerting.deliveryIntervalSeconds': 300,
        },
      });
    });

    afterAll(async () => {
      await server?.close();
      await smtp?.close();
      await slack.stop();
      receiver?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('sends nothing before the schedule time in the zone', async () => {
      await passes();
      clock.ms = Date.parse('2026-11-30T23:59:00Z'); // 08:59 in Tokyo
      await passes();
      expect(smtp.messages).toHaveLength(0);
      expect(slack.messagesIn(channel)).toHaveLength(0);
      expect(receiver.bodies).toHaveLength(0);
      // First seen before December 1st: October (the month then due) is its baseline, not sent.
      expect(await runs(server.database)).toEqual(['report:checkout-monthly:2026-10 baseline']);
    });

    it('at 09:00 in Tokyo mails each recipient once, with both parts, the attachment and working links', async () => {
      clock.ms = Date.parse('2026-12-01T00:00:00Z');
      await passes();
      expect(await runs(server.database)).toEqual([
        'report:checkout-monthly:2026-10 baseline',
        'report:checkout-monthly:2026-11 sent',
      ]);
      expect(smtp.messages.map((m) => m.to).sort()).toEqual([['manager@example.org'], ['team@example.org']]);
      const raw = smtp.messages[0]!.raw;
      const mail = decodeQuotedPrintable(raw);
      expect(mail).toMatch(/^Subject: /m);
      expect(mail).toMatch(/Content-Type: text\/plain/i);
      expect(mail).toMatch(/Content-Type: text\/html/i);
      expect(mail).toMatch(/Content-Disposition: attachment; filename=reliability-checkout-2026-11\.md/i);
      expect(mail).toContain('checkout の 2026年11月 の月次信頼性レポートです');
      // The links of both parts are absolute, on the server, and open the report.
      const reportLink = `${BASE_URL}/api/v1/reports/monthly?product=checkout&month=2026-11&lang=ja&format=html`;
      expect(mail).toContain(reportLink);
      expect(mail).toContain(`href="${BASE_URL}/slos/checkout-availability"`);
      expect(mail).toContain(`](${BASE_URL}/slos/checkout-availability)`);
      const viewer = await server.token('viewer');
      const opened = await server.request('GET', reportLink.slice(BASE_URL.length), { token: viewer });
      expect(opened.status).toBe(200);
      expect(opened.headers.get('content-type')).toContain('text/html');
      // The report it opens is the one mailed, with the same absolute links.
      expect(await opened.text()).toContain(`href="${BASE_URL}/slos/checkout-availability"`);
    });

    it('posts the summary to Slack once and the JSON to the webhook once', async () => {
      const posted = slack.messagesIn(channel);
      expect(posted).toHaveLength(1);
      expect(posted[0]!.text).toContain('月次信頼性レポート · checkout · 2026年11月');
      expect(posted[0]!.text).toContain('|レポートを開く>');
      expect(receiver.bodies).toHaveLength(1);
      expect(receiver.bodies[0]).toMatchObject({
        version: 1,
        kind: 'report',
        schedule: 'checkout-monthly',
        report: { month: '2026-11', language: 'ja', product: { name: 'checkout' } },
      });
    });

    it('sends nothing more later in the month', async () => {
      clock.ms = Date.parse('2026-12-15T00:00:00Z');
      await passes();
      expect(smtp.messages).toHaveLength(2);
      expect(slack.messagesIn(channel)).toHaveLength(1);
      expect(receiver.bodies).toHaveLength(1);
      const metrics = await (await server.request('GET', '/metrics')).text();
      expect(metrics).toMatch(/shinrai_scheduled_reports_total\{channel="email",outcome="queued"\} 2/);
      expect(metrics).toMatch(/shinrai_scheduled_reports_total\{channel="email",outcome="sent"\} 2/);
      expect(metrics).toMatch(/shinrai_scheduled_reports_total\{channel="slack",outcome="queued"\} 1/);
    });
  });

  describe('in America/New_York on the day clocks go back', () => {
    // 2026-11-01: EDT (UTC−4) ends at 02:00; 09:00 that day is 14:00Z, not 13:00Z.
    const clock = new ManualClock(Date.parse('2026-11-01T12:00:00Z'));
    let dir: string;
    let smtp: TestSmtp;
    let server: TestServer;

    beforeAll(async () => {
      dir = await specDir();
      smtp = await startSmtp();
      server = await startTestServer(dialect, {
        specs: dir,
        clock,
        config: {
          'reports.timeZone': 'America/New_York',
          'reports.baseUrl': BASE_URL,
          'reports.schedules': [{ product: 'checkout', recipients: ['team@example.org'], format: 'pdf' }],
          'smtp.url': `smtp://127.0.0.1:${smtp.port}`,
          'smtp.from': 'Shinrai <shinrai@example.com>',
          'smtp.starttls': 'opportunistic',
          'smtp.intervalSeconds': 3600,
        },
      });
    });

    afterAll(async () => {
      await server?.close();
      await smtp?.close();
      await rm(dir, { recursive: true, force: true });
    });

    const passes = async () => {
      await server.shinrai.reportScheduler!.cycle();
      await server.shinrai.mailOutbox!.cycle();
    };

    it('fires at 09:00 standard time, not at 09:00 daylight time', async () => {
      await passes();
      clock.ms = Date.parse('2026-11-01T13:00:00Z'); // 09:00 had the clocks not gone back
      await passes();
      clock.ms = Date.parse('2026-11-01T13:59:00Z');
      await passes();
      expect(smtp.messages).toHaveLength(0);
      clock.ms = Date.parse('2026-11-01T14:00:00Z');
      await passes();
      expect(smtp.messages).toHaveLength(1);
      const mail = decodeQuotedPrintable(smtp.messages[0]!.raw);
      expect(mail).toContain('Subject: Reliability report: checkout, October 2026');
      expect(mail).toMatch(/Content-Type: text\/plain/i);
      expect(mail).toMatch(/Content-Type: text\/html/i);
      // format pdf: the report printed by the machine's Chromium, attached besides the HTML body.
      expect(mail).toMatch(/Content-Type: application\/pdf; name=reliability-checkout-2026-10\.pdf/i);
      const pdf =
        /Content-Disposition: attachment[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/i.exec(
          mail,
        );
      expect(Buffer.from(pdf![1]!.replace(/\s+/g, ''), 'base64').subarray(0, 5).toString('latin1')).toBe(
        '%PDF-',
      );
      expect(await runs(server.database)).toEqual([
        'report:checkout-en:2026-09 baseline',
        'report:checkout-en:2026-10 sent',
      ]);
    });
  });

  describe('across restarts', () => {
    let database: TestDatabase;
    let dir: string;
    let smtp: TestSmtp | undefined;
    let smtpPort: number;
    let server: TestServer | undefined;
    const clock = new ManualClock(Date.parse('2026-11-20T03:00:00Z'));

    const start = async () => {
      server = await startTestServer(dialect, {
        specs: dir,
        clock,
        database,
        config: {
          'reports.timeZone': 'Asia/Tokyo',
          'reports.baseUrl': BASE_URL,
          'reports.schedules': [
            { id: 'weekly-ish', product: 'checkout', recipients: ['team@example.org'], dayOfMonth: 1 },
          ],
          'smtp.url': `smtp://127.0.0.1:${smtpPort}`,
          'smtp.from': 'Shinrai <shinrai@example.com>',
          'smtp.starttls': 'opportunistic',
          'smtp.intervalSeconds': 3600,
        },
      });
      await server.shinrai.reportScheduler!.cycle();
      await server.shinrai.mailOutbox!.cycle();
    };
    const stop = async () => {
      await server?.close();
      server = undefined;
    };
    const queuedMails = async () => {
      const db = openDatabase(database.url);
      try {
        return await db.kysely
          .selectFrom('mail_outbox')
          .select(['id', 'sent_at', 'last_error'])
          .where('kind', '=', 'report')
          .execute();
      } finally {
        await db.close();
      }
    };

    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      dir = await specDir();
      // The SMTP server is down at first: nothing listens on this port yet.
      smtpPort = await freePort();
    });

    afterAll(async () => {
      await stop();
      await smtp?.close();
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    it('sends only the latest missed month once, after a stop between queueing and sending', async () => {
      // November 20th: the schedule is first seen (October is its baseline).
      await start();
      await stop();
      // Down through December 1st and January 1st; back on February 3rd with SMTP still down:
      // January's report (the latest missed) is queued and its send fails; the process stops.
      clock.ms = Date.parse('2027-02-03T03:00:00Z');
      await start();
      const queued = await queuedMails();
      expect(queued.map((m) => m.id)).toEqual(['report:weekly-ish:2027-01:mail:team@example.org']);
      expect(queued[0]!.sent_at).toBeNull();
      expect(queued[0]!.last_error).toMatch(/^smtp /);
      await stop();
      // SMTP is back; the next process sends the queued mail — rendering nothing again.
      smtp = await startSmtp({ port: smtpPort });
      clock.ms = Date.parse('2027-02-03T04:00:00Z');
      await start();
      expect(smtp.messages).toHaveLength(1);
      const mail = decodeQuotedPrintable(smtp.messages[0]!.raw);
      expect(mail).toContain('January 2027');
      // format html (the default): the body is the report, nothing attached.
      expect(mail).toMatch(/Content-Type: text\/html/i);
      expect(mail).not.toMatch(/Content-Disposition: attachment/i);
      await stop();
      expect(await runs(database)).toEqual([
        'report:weekly-ish:2026-10 baseline',
        'report:weekly-ish:2027-01 sent',
      ]);
    });

    it('never sends it twice across two more restarts', async () => {
      clock.ms = Date.parse('2027-02-04T03:00:00Z');
      await start();
      await stop();
      clock.ms = Date.parse('2027-02-28T03:00:00Z');
      await start();
      await stop();
      expect(smtp!.messages).toHaveLength(1);
      expect((await queuedMails()).length).toBe(1);
      expect(await runs(database)).toHaveLength(2);
    });
  });
});
