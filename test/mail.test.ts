/**
 * The mail outbox against a real SMTP server (smtp-server on a loopback port) on both databases:
 * both parts and the headers arrive, a logical mail id is queued and sent once, an SMTP outage
 * leaves the mail queued until the server is back, a process killed between send and mark sends
 * it at most once more, a refusal is given up and logged without the server's text, credentials
 * come from the URL or the settings, and egress.allow is obeyed.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/platform/config.js';
import { type Db, migrateToLatest, openDatabase } from '../src/platform/db/index.js';
import { parseEgressAllow } from '../src/platform/egress.js';
import { Mailer, type MailMessage, messageIdOf } from '../src/platform/mail.js';
import { enqueueMail, INTERRUPTED, MailOutbox } from '../src/platform/mail-outbox.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { ManualClock } from './support/server.js';
import { selfSignedCertificate, startSmtp, type TestSmtp } from './support/smtp.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0);
const FROM = 'Shop Status <status@example.com>';
const LEASE_MS = 300_000;

const message: MailMessage = {
  subject: 'Hello <b>there</b>',
  text: 'plain part line',
  html: '<p>html part line</p>',
  headers: { 'List-Unsubscribe': '<https://status.example.com/status/unsubscribe?token=x>' },
};

function smtpConfig(url: string, extra: Record<string, unknown> = {}) {
  return loadConfig({
    flags: {
      'smtp.url': url,
      'smtp.from': FROM,
      'smtp.starttls': 'opportunistic',
      'smtp.timeoutSeconds': 5,
      ...extra,
    },
  }).smtp;
}

function allowAll() {
  const parsed = parseEgressAllow([]);
  if (!parsed.ok) throw new Error('egress');
  return parsed.policy;
}

describe.each(DIALECTS)('mail outbox on %s', (dialect) => {
  let database: TestDatabase;
  let db: Db;
  let smtp: TestSmtp;
  let clock: ManualClock;
  let logged: string[];
  const log = () =>
    pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          logged.push(String(chunk));
          done();
        },
      }),
    );

  beforeEach(async () => {
    database = await createTestDatabase(dialect);
    db = openDatabase(database.url);
    await migrateToLatest(db.kysely);
    smtp = await startSmtp({
      auth: { user: 'mailer', password: 'p@ss word' },
      refuse: ['nobody@example.net'],
    });
    clock = new ManualClock(T0);
    logged = [];
  });

  afterEach(async () => {
    await smtp.close();
    await db.close();
    await database.drop();
  });

  const outbox = (
    options: { url?: string; afterSend?: (id: string) => Promise<void>; allow?: string[] } = {},
  ) => {
    const config = smtpConfig(
      options.url ?? `smtp://mailer:${encodeURIComponent('p@ss word')}@127.0.0.1:${smtp.port}`,
    );
    const egress = parseEgressAllow(options.allow ?? []);
    if (!egress.ok) throw new Error('egress');
    return new MailOutbox({
      db,
      clock,
      log: log(),
      sender: new Mailer({ config, egress: egress.policy }),
      isLeader: () => true,
      intervalMs: 3_600_000,
      giveUpHours: 48,
      leaseMs: LEASE_MS,
      afterSend: options.afterSend,
    });
  };

  const row = (id: string) =>
    db.kysely.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('sends a queued mail with both parts and its headers, once per logical id', async () => {
    const mail = { id: 'test:1', kind: 'test', to: 'alice@example.org', message };
    expect(await enqueueMail(db.kysely, [mail], clock.now())).toBe(1);
    // The same logical mail again (a retry of what queued it): nothing new.
    expect(await enqueueMail(db.kysely, [mail], clock.now())).toBe(0);
    expect(await outbox().cycle()).toEqual({ sent: 1, failed: 0, gaveUp: 0 });
    expect(await outbox().cycle()).toEqual({ sent: 0, failed: 0, gaveUp: 0 });
    expect(smtp.messages).toHaveLength(1);
    const [received] = smtp.messages;
    expect(received!.to).toEqual(['alice@example.org']);
    expect(received!.raw).toMatch(/Content-Type: text\/plain/i);
    expect(received!.raw).toMatch(/Content-Type: text\/html/i);
    expect(received!.raw).toContain('plain part line');
    expect(received!.raw).toContain('html part line');
    expect(received!.raw).toContain(
      'List-Unsubscribe: <https://status.example.com/status/unsubscribe?token=x>',
    );
    expect(received!.raw).toContain(`Message-ID: ${messageIdOf('test:1', FROM)}`);
    const stored = await row('test:1');
    expect(stored.sent_at).not.toBeNull();
    // The body is not kept once sent.
    expect(stored.message).toBe('{}');
  });

  it('keeps mail queued while the SMTP server is down and sends it when it is back', async () => {
    const port = smtp.port;
    await smtp.close();
    await enqueueMail(
      db.kysely,
      [{ id: 'test:down', kind: 'test', to: 'bob@example.org', message }],
      clock.now(),
    );
    const sender = outbox({ url: `smtp://mailer:${encodeURIComponent('p@ss word')}@127.0.0.1:${port}` });
    expect(await sender.cycle()).toEqual({ sent: 0, failed: 1, gaveUp: 0 });
    let stored = await row('test:down');
    expect(stored.sent_at).toBeNull();
    expect(stored.gave_up_at).toBeNull();
    expect(stored.sending_at).toBeNull();
    expect(Number(stored.attempts)).toBe(1);
    expect(stored.last_error).toMatch(/^smtp (ESOCKET|ECONNECTION)/);
    // Before the backoff ends nothing is tried.
    expect(await sender.cycle()).toEqual({ sent: 0, failed: 0, gaveUp: 0 });
    smtp = await startSmtp({ port, auth: { user: 'mailer', password: 'p@ss word' } });
    clock.advance(60_000);
    expect(await sender.cycle()).toEqual({ sent: 1, failed: 0, gaveUp: 0 });
    expect(smtp.messages).toHaveLength(1);
    stored = await row('test:down');
    expect(stored.sent_at).toBe(clock.now());
    expect(stored.last_error).toBeNull();
  });

  it('sends a mail at most once more when the process died between send and mark', async () => {
    await enqueueMail(
      db.kysely,
      [{ id: 'test:crash', kind: 'test', to: 'carol@example.org', message }],
      clock.now(),
    );
    const dying = outbox({
      afterSend: async () => {
        throw new Error('killed between send and mark');
      },
    });
    await dying.cycle();
    expect(smtp.messages).toHaveLength(1);
    let stored = await row('test:crash');
    expect(stored.sent_at).toBeNull();
    expect(stored.sending_at).toBe(T0);
    // A restarted process leaves the claim alone while it may still be in flight…
    const restarted = outbox();
    expect(await restarted.cycle()).toEqual({ sent: 0, failed: 0, gaveUp: 0 });
    // …and sends it once more when the lease is over: the same Message-ID, so clients can fold it.
    clock.advance(LEASE_MS);
    expect(await restarted.cycle()).toEqual({ sent: 1, failed: 0, gaveUp: 0 });
    expect(await restarted.cycle()).toEqual({ sent: 0, failed: 0, gaveUp: 0 });
    expect(smtp.messages).toHaveLength(2);
    const ids = smtp.messages.map((m) => /Message-ID: (\S+)/.exec(m.raw)?.[1]);
    expect(ids[0]).toBe(ids[1]);
    stored = await row('test:crash');
    expect(stored.sent_at).not.toBeNull();
  });

  it('gives up after a second interruption rather than sending a third copy', async () => {
    await enqueueMail(
      db.kysely,
      [{ id: 'test:twice', kind: 'test', to: 'dan@example.org', message }],
      clock.now(),
    );
    const dying = () =>
      outbox({
        afterSend: async () => {
          throw new Error('killed');
        },
      });
    await dying().cycle();
    clock.advance(LEASE_MS);
    await dying().cycle();
    expect((await row('test:twice')).last_error).toBe(INTERRUPTED);
    clock.advance(LEASE_MS);
    expect(await outbox().cycle()).toEqual({ sent: 0, failed: 0, gaveUp: 1 });
    expect(smtp.messages).toHaveLength(2);
  });

  it('gives up a refused recipient and logs it without the server text or the address', async () => {
    await enqueueMail(
      db.kysely,
      [{ id: 'test:refused', kind: 'test', to: 'nobody@example.net', message }],
      clock.now(),
    );
    expect(await outbox().cycle()).toEqual({ sent: 0, failed: 0, gaveUp: 1 });
    const stored = await row('test:refused');
    expect(stored.last_error).toMatch(/status 550/);
    expect(stored.last_error).not.toContain('SECRET-REMOTE-REPLY');
    expect(stored.message).toBe('{}');
    const text = logged.join('');
    expect(text).toContain('test:refused');
    expect(text).not.toContain('SECRET-REMOTE-REPLY');
    expect(text).not.toContain('nobody@example.net');
    expect(text).not.toContain('p@ss word');
  });

  it('takes credentials from smtp.user/smtp.password and reports a refused login without them', async () => {
    await enqueueMail(
      db.kysely,
      [{ id: 'test:auth', kind: 'test', to: 'erin@example.org', message }],
      clock.now(),
    );
    const bad = new MailOutbox({
      db,
      clock,
      log: log(),
      sender: new Mailer({
        config: smtpConfig(`smtp://127.0.0.1:${smtp.port}`, {
          'smtp.user': 'mailer',
          'smtp.password': 'wrong-secret',
        }),
        egress: allowAll(),
      }),
      isLeader: () => true,
      intervalMs: 3_600_000,
      giveUpHours: 48,
      leaseMs: LEASE_MS,
    });
    expect(await bad.cycle()).toEqual({ sent: 0, failed: 1, gaveUp: 0 });
    expect((await row('test:auth')).last_error).toMatch(/^smtp EAUTH/);
    expect(logged.join('')).not.toContain('wrong-secret');
    const good = new Mailer({
      config: smtpConfig(`smtp://127.0.0.1:${smtp.port}`, {
        'smtp.user': 'mailer',
        'smtp.password': 'p@ss word',
      }),
      egress: allowAll(),
    });
    expect(await good.send('test:auth2', 'erin@example.org', message)).toEqual({ ok: true });
  });

  it('refuses a server without STARTTLS when smtp.starttls is required', async () => {
    const mailer = new Mailer({
      config: smtpConfig(`smtp://mailer:${encodeURIComponent('p@ss word')}@127.0.0.1:${smtp.port}`, {
        'smtp.starttls': 'required',
      }),
      egress: allowAll(),
    });
    const outcome = await mailer.send('test:tls', 'gus@example.org', message);
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.error).toMatch(/^smtp ETLS/);
    expect(smtp.messages).toHaveLength(0);
  });

  it('refuses an SMTP server egress.allow does not list', async () => {
    await enqueueMail(
      db.kysely,
      [{ id: 'test:egress', kind: 'test', to: 'fay@example.org', message }],
      clock.now(),
    );
    expect(await outbox({ allow: ['smtp.example.com'] }).cycle()).toEqual({ sent: 0, failed: 1, gaveUp: 0 });
    expect((await row('test:egress')).last_error).toMatch(/egress refused/);
    expect(smtp.messages).toHaveLength(0);
  });
});

describe('SMTP over TLS', () => {
  let dir: string;
  let certificate: ReturnType<typeof selfSignedCertificate>;
  // localhost is the certificate's name; the test server listens on IPv4 loopback.
  const lookup = ((
    _host: string,
    _options: unknown,
    callback: (e: null, a: Array<{ address: string; family: number }>) => void,
  ) => callback(null, [{ address: '127.0.0.1', family: 4 }])) as never;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-smtp-tls-'));
    certificate = selfSignedCertificate(dir);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const secure of [false, true]) {
    it(`sends over ${secure ? 'smtps:// (TLS)' : 'smtp:// with STARTTLS required'}, verifying the certificate against the name`, async () => {
      const smtp = await startSmtp({
        auth: { user: 'mailer', password: 'secret' },
        tls: { key: certificate.key, cert: certificate.cert, secure },
      });
      try {
        const url = `${secure ? 'smtps' : 'smtp'}://mailer:secret@localhost:${smtp.port}`;
        const trusted = new Mailer({
          config: smtpConfig(url, { 'smtp.starttls': 'required', 'smtp.caFile': certificate.certFile }),
          egress: allowAll(),
          lookup,
        });
        expect(await trusted.send('tls:1', 'hal@example.org', message)).toEqual({ ok: true });
        expect(smtp.messages).toHaveLength(1);
        // Without the CA the certificate is not trusted: nothing is sent in the clear instead.
        const untrusted = new Mailer({
          config: smtpConfig(url, { 'smtp.starttls': 'required' }),
          egress: allowAll(),
          lookup,
        });
        expect((await untrusted.send('tls:2', 'hal@example.org', message)).ok).toBe(false);
        expect(smtp.messages).toHaveLength(1);
      } finally {
        await smtp.close();
      }
    });
  }
});
