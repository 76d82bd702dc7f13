/** The subscription mails and pages (pure): both parts, the unsubscribe header, and any text inert in HTML. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { confirmationMail, noticeMail, subscribeForm, subscriptionPage } from './status-subscription-mail.js';

const notice = (text: string, component: string) =>
  ({
    kind: 'opened',
    components: [component],
    impact: 'degraded',
    status: 'investigating',
    updates: [{ atMs: Date.UTC(2026, 11, 1, 3, 0), text }],
  }) as const;

/** Tags our templates write; anything else that looks like a tag came from the data. */
const OUR_TAGS = new Set([
  '!doctype',
  'html',
  'head',
  'meta',
  'title',
  'body',
  'h1',
  'table',
  'tr',
  'th',
  'td',
  'p',
  'strong',
  'br',
  'a',
  'hr',
  'section',
  'h2',
  'form',
  'input',
  'label',
  'button',
  'style',
  'main',
]);

function foreignTags(html: string): string[] {
  return [...html.matchAll(/<\/?([!a-z][a-z0-9]*)/gi)]
    .map((m) => m[1]!.toLowerCase())
    .filter((t) => !OUR_TAGS.has(t));
}

describe('status subscription mails', () => {
  it('writes a notice with both parts, its unsubscribe link and the one-click header', () => {
    const mail = noticeMail({
      lang: 'en',
      title: 'Shop status',
      timeZone: 'Asia/Tokyo',
      notice: notice('Checkout errors', 'Web shop'),
      statusUrl: 'https://status.example.com/status?lang=en',
      unsubscribeUrl: 'https://status.example.com/status/unsubscribe?token=abc',
    });
    expect(mail.subject).toBe('[Shop status] New incident: Investigating · Web shop');
    expect(mail.text).toContain('2026-12-01 12:00 GMT+9\nCheckout errors');
    expect(mail.text).toContain('Unsubscribe: https://status.example.com/status/unsubscribe?token=abc');
    expect(mail.html).toContain('href="https://status.example.com/status/unsubscribe?token=abc"');
    expect(mail.headers).toEqual({
      'List-Unsubscribe': '<https://status.example.com/status/unsubscribe?token=abc>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('writes Japanese mails', () => {
    const mail = confirmationMail({
      lang: 'ja',
      title: 'ショップ',
      confirmUrl: 'https://s.example/c',
      hours: 48,
    });
    expect(mail.subject).toBe('ショップ の購読の確認');
    expect(mail.text).toContain('48 時間以内');
    expect(mail.html).toContain('<html lang="ja">');
  });

  it('keeps any title, component or note inert in every HTML it writes (property)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string(),
        fc.constantFrom(
          '<script>alert(1)</script>',
          '<img src=x onerror=alert(1)>',
          '"><svg onload=alert(1)>',
          '',
        ),
        (title, component, text, payload) => {
          const mail = noticeMail({
            lang: 'en',
            title: title + payload,
            timeZone: 'UTC',
            notice: notice(text + payload, component + payload),
            statusUrl: 'https://status.example.com/status',
            unsubscribeUrl: 'https://status.example.com/status/unsubscribe?token=t',
          });
          expect(foreignTags(mail.html)).toEqual([]);
          const confirm = confirmationMail({
            lang: 'en',
            title: title + payload,
            confirmUrl: 'https://s/c?t=1',
            hours: 1,
          });
          expect(foreignTags(confirm.html)).toEqual([]);
          const page = subscriptionPage({
            lang: 'ja',
            title: title + payload,
            message: text + payload,
            form: { action: '/x', token: payload, button: component },
          });
          expect(foreignTags(page)).toEqual([]);
          expect(foreignTags(subscribeForm('en', payload + text))).toEqual([]);
        },
      ),
    );
  });
});
