/**
 * Status-page subscription mails and pages (pure): the confirmation mail, the incident notice (public
 * fields only: the public names of public services, the public status words, the public notes as
 * plain text), and the small HTML pages of the subscribe, confirm and unsubscribe steps, in English
 * and Japanese. Every mail has an HTML and a plain-text part; every interpolated value is escaped.
 */
import { DateTime } from 'luxon';
import type { MailMessage } from '../platform/mail.js';
import type { ComponentState, PublicStatus } from './status-page.js';
import { escapeHtml } from './status-page-html.js';
import { fill, type Lang, TEXTS } from './status-page-i18n.js';

/** What changed: the first public word of an incident, a later public update, its resolution. */
export type NoticeKind = 'opened' | 'updated' | 'resolved';

/** An incident notice, from public fields only. */
export interface Notice {
  readonly kind: NoticeKind;
  /** Public names of the public services affected. */
  readonly components: readonly string[];
  readonly impact: Exclude<ComponentState, 'operational'>;
  readonly status: PublicStatus;
  /** The new public updates, newest first, as plain text. */
  readonly updates: ReadonlyArray<{ readonly atMs: number; readonly text: string }>;
}

interface MailTexts {
  readonly confirmSubject: string;
  readonly confirmIntro: string;
  readonly confirmAction: string;
  readonly confirmIgnore: string;
  readonly kinds: Readonly<Record<NoticeKind, string>>;
  readonly affected: string;
  readonly impact: string;
  readonly status: string;
  readonly viewPage: string;
  readonly why: string;
  readonly unsubscribe: string;
  readonly subscribeTitle: string;
  readonly subscribeLabel: string;
  readonly subscribeButton: string;
  readonly subscribeHint: string;
  readonly checkInbox: string;
  readonly checkInboxDetail: string;
  readonly formExpired: string;
  readonly tooMany: string;
  readonly invalidAddress: string;
  readonly confirmPageTitle: string;
  readonly confirmButton: string;
  readonly confirmAsk: string;
  readonly unsubscribeAsk: string;
  readonly confirmed: string;
  readonly linkInvalid: string;
  readonly unsubscribePageTitle: string;
  readonly unsubscribeButton: string;
  readonly unsubscribed: string;
  readonly back: string;
}

const en: MailTexts = {
  confirmSubject: 'Confirm your subscription to {title}',
  confirmIntro: 'Someone, hopefully you, asked to receive email about incidents on {title}.',
  confirmAction: 'To confirm, open this link within {hours} hours:',
  confirmIgnore: 'If it was not you, ignore this mail: nothing more will be sent.',
  kinds: { opened: 'New incident', updated: 'Update', resolved: 'Resolved' },
  affected: 'Affected',
  impact: 'Impact',
  status: 'Status',
  viewPage: 'Status page',
  why: 'You receive this mail because you subscribed to {title}.',
  unsubscribe: 'Unsubscribe',
  subscribeTitle: 'Get incident updates by email',
  subscribeLabel: 'Email address',
  subscribeButton: 'Subscribe',
  subscribeHint: 'We send a confirmation link first. Every mail has an unsubscribe link.',
  checkInbox: 'Check your inbox',
  checkInboxDetail:
    'If this address can be subscribed, a confirmation link is on its way. Nothing is sent until it is used.',
  formExpired: 'The form has expired. Go back, reload the page and try again.',
  tooMany: 'Too many subscribe requests from your address. Try again later.',
  invalidAddress: 'That does not look like an email address.',
  confirmPageTitle: 'Confirm your subscription',
  confirmButton: 'Confirm subscription',
  confirmAsk: 'Press the button to confirm your subscription.',
  unsubscribeAsk: 'Press the button to stop all mail to this address.',
  confirmed: 'Subscribed. You will get an email when an incident is announced, updated or resolved.',
  linkInvalid: 'This link is invalid, expired or already used.',
  unsubscribePageTitle: 'Unsubscribe',
  unsubscribeButton: 'Unsubscribe',
  unsubscribed: 'Unsubscribed. No more mail will be sent to this address.',
  back: 'Back to the status page',
};

const ja: MailTexts = {
  confirmSubject: '{title} の購読の確認',
  confirmIntro: '{title} の障害情報をメールで受け取る申し込みがありました。',
  confirmAction: '{hours} 時間以内に次のリンクを開いて確認してください:',
  confirmIgnore: '心当たりがない場合はこのメールを無視してください。これ以上メールは届きません。',
  kinds: { opened: '新しい障害', updated: '更新', resolved: '解決' },
  affected: '影響を受けるサービス',
  impact: '影響',
  status: '状況',
  viewPage: 'ステータスページ',
  why: '{title} を購読しているため、このメールが届いています。',
  unsubscribe: '購読を解除する',
  subscribeTitle: '障害情報をメールで受け取る',
  subscribeLabel: 'メールアドレス',
  subscribeButton: '購読する',
  subscribeHint: 'まず確認用のリンクをお送りします。すべてのメールに購読解除のリンクがあります。',
  checkInbox: '受信箱を確認してください',
  checkInboxDetail:
    'このアドレスで購読できる場合は、確認用のリンクを送りました。リンクを開くまでメールは届きません。',
  formExpired: 'フォームの有効期限が切れました。ページを再読み込みしてもう一度お試しください。',
  tooMany: 'このアドレスからの購読の申し込みが多すぎます。しばらくしてからお試しください。',
  invalidAddress: 'メールアドレスの形式ではありません。',
  confirmPageTitle: '購読の確認',
  confirmButton: '購読を確定する',
  confirmAsk: 'ボタンを押すと購読が確定します。',
  unsubscribeAsk: 'ボタンを押すと、このアドレスへのメールをすべて停止します。',
  confirmed: '購読しました。障害の発表・更新・解決のたびにメールが届きます。',
  linkInvalid: 'このリンクは無効か、期限切れか、すでに使われています。',
  unsubscribePageTitle: '購読の解除',
  unsubscribeButton: '購読を解除する',
  unsubscribed: '購読を解除しました。このアドレスにはもうメールは届きません。',
  back: 'ステータスページに戻る',
};

export const MAIL_TEXTS: Readonly<Record<Lang, MailTexts>> = { en, ja };

const MAIL_STYLE =
  'font-family:system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif;line-height:1.5;color:#1b1f24';

function htmlMail(lang: Lang, title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style='${MAIL_STYLE}'>${body}</body></html>`;
}

function link(url: string, label: string): string {
  return `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`;
}

/** The confirmation mail of a new (pending) subscription. */
export function confirmationMail(input: {
  readonly lang: Lang;
  readonly title: string;
  readonly confirmUrl: string;
  readonly hours: number;
}): MailMessage {
  const t = MAIL_TEXTS[input.lang];
  const subject = fill(t.confirmSubject, { title: input.title });
  const intro = fill(t.confirmIntro, { title: input.title });
  const action = fill(t.confirmAction, { hours: input.hours });
  return {
    subject,
    text: `${intro}\n\n${action}\n${input.confirmUrl}\n\n${t.confirmIgnore}\n`,
    html: htmlMail(
      input.lang,
      subject,
      `<p>${escapeHtml(intro)}</p><p>${escapeHtml(action)}<br>${link(input.confirmUrl, input.confirmUrl)}</p><p>${escapeHtml(t.confirmIgnore)}</p>`,
    ),
  };
}

/** An incident notice to one confirmed subscriber (with their unsubscribe link and header). */
export function noticeMail(input: {
  readonly lang: Lang;
  readonly title: string;
  readonly timeZone: string;
  readonly notice: Notice;
  readonly statusUrl: string;
  readonly unsubscribeUrl: string;
}): MailMessage {
  const t = MAIL_TEXTS[input.lang];
  const page = TEXTS[input.lang];
  const { notice } = input;
  const components = notice.components.join(', ');
  const statusWord = page.statuses[notice.status];
  const subject = `[${input.title}] ${t.kinds[notice.kind]}: ${statusWord} · ${components}`;
  const time = (ms: number) =>
    DateTime.fromMillis(ms, { zone: input.timeZone }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
  const facts: Array<[string, string]> = [
    [t.affected, components],
    [t.impact, page.states[notice.impact]],
    [t.status, statusWord],
  ];
  const why = fill(t.why, { title: input.title });
  const text = [
    `${t.kinds[notice.kind]}: ${statusWord}`,
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    '',
    ...notice.updates.flatMap((u) => [time(u.atMs), u.text, '']),
    `${t.viewPage}: ${input.statusUrl}`,
    '',
    '--',
    why,
    `${t.unsubscribe}: ${input.unsubscribeUrl}`,
    '',
  ].join('\n');
  const html = htmlMail(
    input.lang,
    subject,
    `<h1 style="font-size:1.3em">${escapeHtml(`${t.kinds[notice.kind]}: ${statusWord}`)}</h1>` +
      `<table>${facts.map(([k, v]) => `<tr><th scope="row" style="text-align:left;padding-right:1em">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>` +
      notice.updates
        .map(
          (u) =>
            `<p><strong>${escapeHtml(time(u.atMs))}</strong><br>${escapeHtml(u.text).replaceAll('\n', '<br>')}</p>`,
        )
        .join('') +
      `<p>${link(input.statusUrl, t.viewPage)}</p>` +
      `<hr><p style="color:#57606a;font-size:.9em">${escapeHtml(why)} ${link(input.unsubscribeUrl, t.unsubscribe)}</p>`,
  );
  return {
    subject,
    text,
    html,
    headers: {
      'List-Unsubscribe': `<${input.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

const PAGE_STYLE =
  'body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif;color-scheme:light dark}main{max-width:36em;margin:2em auto;padding:0 1em}button{font:inherit;padding:.4em 1em}';

/** A small page of one subscription step: a message, maybe a one-button form, a link back. */
export function subscriptionPage(input: {
  readonly lang: Lang;
  readonly title: string;
  readonly message: string;
  readonly form?: { readonly action: string; readonly token: string; readonly button: string } | undefined;
}): string {
  const t = MAIL_TEXTS[input.lang];
  const form = input.form
    ? `<form method="post" action="${escapeHtml(input.form.action)}"><input type="hidden" name="token" value="${escapeHtml(input.form.token)}"><input type="hidden" name="lang" value="${input.lang}"><button type="submit">${escapeHtml(input.form.button)}</button></form>`
    : '';
  return `<!doctype html>
<html lang="${input.lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex"><title>${escapeHtml(input.title)}</title><style>${PAGE_STYLE}</style></head>
<body><main><h1>${escapeHtml(input.title)}</h1><p>${escapeHtml(input.message)}</p>${form}<p><a href="${escapeHtml(`/status?lang=${input.lang}`)}">${escapeHtml(t.back)}</a></p></main></body>
</html>
`;
}

/** The subscribe form on /status (a plain form POST; `formToken` is the per-form token). */
export function subscribeForm(lang: Lang, formToken: string): string {
  const t = MAIL_TEXTS[lang];
  return `<section aria-labelledby="subscribe"><h2 id="subscribe">${escapeHtml(t.subscribeTitle)}</h2><form method="post" action="/status/subscribe"><input type="hidden" name="form" value="${escapeHtml(formToken)}"><input type="hidden" name="lang" value="${lang}"><label for="subscribe-email">${escapeHtml(t.subscribeLabel)}</label> <input id="subscribe-email" type="email" name="email" required maxlength="254" autocomplete="email"> <button type="submit">${escapeHtml(t.subscribeButton)}</button></form><p class="muted">${escapeHtml(t.subscribeHint)}</p></section>`;
}
