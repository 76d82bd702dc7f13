/**
 * Status-page email subscriptions end to end on both databases, with a real SMTP server on a
 * loopback port: the form on /status → confirmation mail (both parts) → confirm link → a public
 * incident's announcement, update and resolution each mailed once; a private incident, a private
 * service's incident, a drill or an incident without a public note never mailed; unsubscribe stops
 * mail; expired and reused links refused; the same answer for known and new addresses; rate limit
 * per client (429); script payloads inert; no address on any public page.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { decodeQuotedPrintable, startSmtp, type TestSmtp } from './support/smtp.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1, 3, 0);
const PUBLIC_URL = 'https://status.example.com';
const XSS_TITLE = '<script>alert("title")</script> INTERNAL-TITLE';
const XSS_NOTE =
  '<img src=x onerror=alert(1)> Checkout errors <script>alert(2)</script> are being investigated';

const SPECS = `apiVersion: openslo/v1
kind: Service
metadata:
  name: storefront
  annotations:
    shinrai.dev/public: "true"
    shinrai.dev/public-name: Web shop
spec: {}
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: ledger
spec: {}
---
${ratioSloYaml('storefront-availability', { service: 'storefront', target: 0.99, sli: 'storefront-requests' })}---
${ratioSloYaml('ledger-availability', { service: 'ledger', target: 0.999, sli: 'ledger-requests' })}`;

/** The mail's raw source with quoted-printable undone (headers, both parts). */
const decoded = (raw: string) => decodeQuotedPrintable(raw);

describe.each(DIALECTS)('status-page subscriptions on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let smtp: TestSmtp;
  let editor: string;
  const clock = new ManualClock(T0);
  const confirmed = 'alice@example.org';
  let unsubscribeUrl = '';
  let publicRef = '';

  const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  const formToken = async (lang = 'en') => {
    const html = await (await server.request('GET', `/status?lang=${lang}`)).text();
    const token = /name="form" value="([^"]+)"/.exec(html)?.[1];
    expect(token).toBeDefined();
    return token!;
  };
  const subscribe = async (email: string, lang = 'en', headers: Record<string, string> = {}) =>
    server.request('POST', '/status/subscribe', form({ form: await formToken(lang), email, lang }, headers));
  const send = async () => {
    await server.shinrai.mailOutbox!.cycle();
  };
  const notify = async () => {
    const queued = await server.shinrai.statusSubscriptions!.cycle();
    await send();
    return queued;
  };
  const mailsTo = (address: string) =>
    smtp.messages.filter((m) => m.to.includes(address)).map((m) => decoded(m.raw));
  const confirmToken = (address: string) => {
    const mails = mailsTo(address);
    return /\/status\/confirm\?token=([A-Za-z0-9_-]{43})/.exec(mails.at(-1) ?? '')?.[1];
  };
  const declare = async (body: unknown) => {
    const response = await server.request('POST', '/api/v1/incidents', { token: editor, body });
    expect(response.status).toBe(201);
    return ((await response.json()) as JsonBody).reference as string;
  };
  const note = async (ref: string, text: string, isPublic: boolean) => {
    clock.advance(MIN);
    const response = await server.request('POST', `/api/v1/incidents/${ref}/notes`, {
      token: editor,
      body: { text, public: isPublic },
    });
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-subscriptions-'));
    await writeFile(join(dir, 'specs.yaml'), SPECS);
    smtp = await startSmtp();
    server = await startTestServer(dialect, {
      specs: dir,
      clock,
      config: {
        'statusPage.title': 'Shop status',
        'statusPage.timeZone': 'Asia/Tokyo',
        'statusPage.subscriptions': true,
        'statusPage.publicUrl': PUBLIC_URL,
        'statusPage.subscribePerClientPerHour': 8,
        'statusPage.confirmHours': 24,
        'smtp.url': `smtp://127.0.0.1:${smtp.port}`,
        'smtp.from': 'Shop Status <status@example.com>',
        'smtp.starttls': 'opportunistic',
        'smtp.intervalSeconds': 3600,
      },
    });
    editor = await server.token('editor');
    // The first notifier pass records what is public already (nothing here) as the baseline.
    await notify();
  });

  afterAll(async () => {
    await server?.close();
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('offers a plain form on /status and mails a confirmation with both parts', async () => {
    const page = await server.request('GET', '/status?lang=ja');
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");
    const html = await page.text();
    expect(html).toContain('<form method="post" action="/status/subscribe">');
    expect(html).not.toContain('<script');

    const answer = await subscribe('Alice@Example.org', 'ja');
    expect(answer.status).toBe(202);
    expect(await answer.text()).toContain('受信箱を確認してください');
    await send();
    const [mail] = mailsTo(confirmed);
    expect(mail).toBeDefined();
    expect(mail).toMatch(/Content-Type: text\/plain/i);
    expect(mail).toMatch(/Content-Type: text\/html/i);
    expect(mail).toContain('の障害情報をメールで受け取る申し込みがありました');
    expect(mail).toContain(`${PUBLIC_URL}/status/confirm?token=`);
  });

  it('confirms through the link once; a reused link is refused', async () => {
    const token = confirmToken(confirmed)!;
    expect(token).toBeDefined();
    // Opening the link changes nothing (mail scanners open links): it shows a one-button form.
    const shown = await server.request('GET', `/status/confirm?token=${token}&lang=ja`);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain(`name="token" value="${token}"`);
    const first = await server.request('POST', '/status/confirm', form({ token, lang: 'ja' }));
    expect(first.status).toBe(200);
    const again = await server.request('POST', '/status/confirm', form({ token, lang: 'ja' }));
    expect(again.status).toBe(400);
  });

  it('refuses an expired confirmation link', async () => {
    expect((await subscribe('late@example.org')).status).toBe(202);
    await send();
    const token = confirmToken('late@example.org')!;
    expect(token).toBeDefined();
    clock.advance(24 * 60 * MIN + MIN);
    const expired = await server.request('POST', '/status/confirm', form({ token }));
    expect(expired.status).toBe(400);
  });

  it('answers alike for a confirmed address (no enumeration) and mails it nothing', async () => {
    const before = smtp.messages.length;
    const known = await subscribe(confirmed);
    const fresh = await subscribe('bob@example.org');
    expect(known.status).toBe(fresh.status);
    expect(await known.text()).toBe(await fresh.text());
    await send();
    expect(mailsTo(confirmed)).toHaveLength(1);
    expect(smtp.messages.length).toBe(before + 1);
  });

  it('mails confirmed subscribers when a public incident is announced, with script payloads inert', async () => {
    publicRef = await declare({ title: XSS_TITLE, severity: 'SEV2', services: ['storefront'] });
    // Declared but not yet announced (no public note): no mail.
    expect(await notify()).toBe(0);
    await note(publicRef, 'PRIVATE-NOTE only staff see', false);
    expect(await notify()).toBe(0);
    await note(publicRef, XSS_NOTE, true);
    expect(await notify()).toBe(1);
    const mails = mailsTo(confirmed);
    expect(mails).toHaveLength(2);
    const mail = mails[1]!;
    expect(mail).toMatch(/Content-Type: text\/plain/i);
    expect(mail).toMatch(/Content-Type: text\/html/i);
    expect(mail).toContain('新しい障害');
    expect(mail).toContain('Web shop');
    expect(mail).toContain('Checkout errors');
    expect(mail).not.toMatch(/<script|<img/i);
    expect(mail).not.toContain('INTERNAL-TITLE');
    expect(mail).not.toContain('PRIVATE-NOTE');
    expect(mail).not.toContain('storefront');
    expect(mail).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    // Headers are read undecoded (quoted-printable is for the parts).
    const raw = smtp.messages.filter((m) => m.to.includes(confirmed)).at(-1)!.raw;
    unsubscribeUrl = /List-Unsubscribe:\s*<([^>]+)>/.exec(raw)?.[1] ?? '';
    expect(unsubscribeUrl.startsWith(`${PUBLIC_URL}/status/unsubscribe?token=`)).toBe(true);
    // Nothing new: nothing mailed twice.
    expect(await notify()).toBe(0);
  });

  it('never mails about a private service, a drill or a cancelled incident', async () => {
    const ledger = await declare({ title: 'Ledger lag', severity: 'SEV1', services: ['ledger'] });
    await note(ledger, 'PRIVATE-SERVICE public note', true);
    const drill = await declare({ title: 'Drill', severity: 'SEV1', services: ['storefront'], drill: true });
    await note(drill, 'DRILL public note', true);
    const cancelled = await declare({ title: 'Nothing', severity: 'SEV3', services: ['storefront'] });
    const patched = await server.request('PATCH', `/api/v1/incidents/${cancelled}`, {
      token: editor,
      body: { status: 'cancelled' },
    });
    expect(patched.status).toBe(200);
    await note(cancelled, 'CANCELLED public note', true);
    expect(await notify()).toBe(0);
    expect(mailsTo(confirmed)).toHaveLength(2);
  });

  it('mails each public update and the resolution once', async () => {
    await note(publicRef, 'A fix is being rolled out', true);
    expect(await notify()).toBe(1);
    expect(mailsTo(confirmed).at(-1)).toContain('A fix is being rolled out');
    clock.advance(MIN);
    const resolved = await server.request('PATCH', `/api/v1/incidents/${publicRef}`, {
      token: editor,
      body: { status: 'resolved' },
    });
    expect(resolved.status).toBe(200);
    expect(await notify()).toBe(1);
    expect(mailsTo(confirmed).at(-1)).toContain('解決');
    expect(await notify()).toBe(0);
    expect(mailsTo(confirmed)).toHaveLength(4);
  });

  it('shows no address on any public page', async () => {
    for (const path of ['/status', '/status?lang=ja', '/status.json']) {
      const text = await (await server.request('GET', path)).text();
      expect(text).not.toMatch(/alice|bob@|late@/i);
    }
  });

  it('stops mailing after the unsubscribe link is used', async () => {
    const path = unsubscribeUrl.slice(PUBLIC_URL.length);
    const shown = await server.request('GET', path);
    expect(shown.status).toBe(200);
    // A mail client's RFC 8058 one-click POST: the token stays in the URL.
    const done = await server.request('POST', path, {
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(done.status).toBe(200);
    const forged = await server.request(
      'POST',
      '/status/unsubscribe',
      form({ token: `${'0'.repeat(36)}.x` }),
    );
    expect(forged.status).toBe(400);
    const another = await declare({ title: 'Again', severity: 'SEV3', services: ['storefront'] });
    await note(another, 'Slow pages', true);
    await notify();
    expect(mailsTo(confirmed)).toHaveLength(4);
  });

  it('refuses a form without its token, from another site, or not form-encoded', async () => {
    const noToken = await server.request('POST', '/status/subscribe', form({ email: 'x@example.org' }));
    expect(noToken.status).toBe(403);
    const crossSite = await subscribe('x@example.org', 'en', { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const asJson = await server.request('POST', '/status/subscribe', { body: { email: 'x@example.org' } });
    expect(asJson.status).toBe(415);
    const invalid = await subscribe('not an address');
    expect(invalid.status).toBe(400);
  });

  it('answers any body on the subscription routes with a page or a 4xx, never a 5xx (fuzz)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/status/subscribe', '/status/confirm', '/status/unsubscribe'),
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc
            .dictionary(fc.constantFrom('email', 'form', 'token', 'lang', 'x'), fc.string({ maxLength: 80 }))
            .map((fields) => new URLSearchParams(fields).toString()),
        ),
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data',
        ),
        async (path, body, type) => {
          const response = await server.request('POST', path, { body, headers: { 'content-type': type } });
          await response.arrayBuffer();
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('answers 429 once a client made too many subscribe requests', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 10 && !limited; i++) {
      const response = await subscribe(`flood${i}@example.org`);
      if (response.status === 429) limited = response;
      else expect(response.status).toBe(202);
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
