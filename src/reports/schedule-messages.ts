/**
 * What a scheduled report sends (pure): the mail (the report's HTML as the body, a plain-text part
 * with absolute links, the PDF or Markdown attached when the schedule asks for it), the short Slack
 * summary (English or Japanese, with a link to the report) and the webhook's JSON — each built from
 * the rendered report so that an outbox row holds everything needed to send it.
 */
import { HTML_TEXT } from './html-text.js';
import type { MonthlyReport } from './model.js';
import type { ScheduleFormat } from './schedule.js';

/** A file attached to a mail, base64 so it survives the outbox's JSON. */
export interface ReportAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly contentBase64: string;
}

/** The mail of one recipient (the mail outbox's MailMessage, with an attachment). */
export interface ReportMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly attachments?: readonly ReportAttachment[] | undefined;
}

const WORDS = {
  en: {
    subject: (product: string, month: string) => `Reliability report: ${product}, ${month}`,
    intro: (product: string, month: string) => `The monthly reliability report of ${product} for ${month}.`,
    open: 'Open it in Shinrai',
    attached: (file: string) => `The report is attached as ${file}.`,
    why: (id: string) => `You receive this mail through the report schedule "${id}" (reports.schedules).`,
    slack: (product: string, month: string, met: number, slos: number, todo: number) =>
      `Monthly reliability report · ${product} · ${month}: ${met} of ${slos} SLOs met, ${todo} ${todo === 1 ? 'thing' : 'things'} to do.`,
    missed: (names: string) => `Missed: ${names}.`,
    openLink: 'Open the report',
  },
  ja: {
    subject: (product: string, month: string) => `信頼性レポート: ${product}（${month}）`,
    intro: (product: string, month: string) => `${product} の ${month} の月次信頼性レポートです。`,
    open: 'Shinrai で開く',
    attached: (file: string) => `レポートを ${file} として添付しています。`,
    why: (id: string) =>
      `レポートのスケジュール「${id}」（reports.schedules）によりこのメールが届いています。`,
    slack: (product: string, month: string, met: number, slos: number, todo: number) =>
      `月次信頼性レポート · ${product} · ${month}: SLO ${slos} 件中 ${met} 件達成、対応事項 ${todo} 件。`,
    missed: (names: string) => `未達: ${names}。`,
    openLink: 'レポートを開く',
  },
} as const;

/** The report's own page on the server (the API's HTML rendering), absolute with `baseUrl`. */
export function reportUrl(
  baseUrl: string,
  report: Pick<MonthlyReport, 'product' | 'month' | 'language'>,
): string {
  const query = new URLSearchParams({
    product: report.product.name,
    month: report.month,
    lang: report.language,
    format: 'html',
  });
  return `${baseUrl.replace(/\/+$/, '')}/api/v1/reports/monthly?${query.toString()}`;
}

/** The file name of a rendered report: `reliability-<product>-<month>.<ext>`. */
export function reportFileName(product: string, month: string, extension: string): string {
  return `reliability-${product.replace(/[^A-Za-z0-9._-]+/g, '-')}-${month}.${extension}`;
}

const monthName = (report: MonthlyReport) =>
  HTML_TEXT[report.language].monthName(report.month, report.timeZone);

/**
 * The mail: the report's HTML (self-contained, absolute links) as the HTML part; the plain-text
 * part says what it is, links to it and carries the report as Markdown (absolute links too); a
 * `pdf` or `md` schedule attaches that file.
 */
export function reportMail(input: {
  readonly report: MonthlyReport;
  readonly scheduleId: string;
  readonly baseUrl: string;
  readonly html: string;
  readonly markdown: string;
  readonly attachment?:
    | { readonly format: Exclude<ScheduleFormat, 'html'>; readonly body: string | Buffer }
    | undefined;
}): ReportMail {
  const { report } = input;
  const w = WORDS[report.language];
  const name = monthName(report);
  const file = input.attachment
    ? {
        filename: reportFileName(report.product.name, report.month, input.attachment.format),
        contentType: input.attachment.format === 'pdf' ? 'application/pdf' : 'text/markdown; charset=utf-8',
        contentBase64: Buffer.from(input.attachment.body).toString('base64'),
      }
    : undefined;
  const text = [
    w.intro(report.product.name, name),
    `${w.open}: ${reportUrl(input.baseUrl, report)}`,
    ...(file ? [w.attached(file.filename)] : []),
    '',
    input.markdown.trimEnd(),
    '',
    '-- ',
    w.why(input.scheduleId),
    '',
  ].join('\n');
  return {
    subject: w.subject(report.product.name, name),
    text,
    html: input.html,
    ...(file ? { attachments: [file] } : {}),
  };
}

/** Slack mrkdwn treats &, < and > as control characters. */
const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The Slack summary: SLOs met, what to do, the missed ones by name, and a link to the report. */
export function reportSlackText(report: MonthlyReport, baseUrl: string): string {
  const w = WORDS[report.language];
  const judged = report.verdict.filter((v) => v.met !== null);
  const met = judged.filter((v) => v.met).length;
  const missed = report.verdict.filter((v) => v.met === false).map((v) => v.displayName ?? v.slo);
  const lines = [
    escapeSlack(
      w.slack(report.product.name, monthName(report), met, report.verdict.length, report.todo.length),
    ),
    ...(missed.length ? [escapeSlack(w.missed(missed.join(', ')))] : []),
    `<${reportUrl(baseUrl, report)}|${w.openLink}>`,
  ];
  return lines.join('\n');
}

/** What a webhook target receives: `kind: report` tells it from alerts and incident announcements. */
export interface ReportWebhookPayload {
  readonly version: 1;
  readonly kind: 'report';
  /** The idempotency key, also sent as the `Idempotency-Key` header. */
  readonly id: string;
  readonly schedule: string;
  readonly at: string;
  readonly url: string;
  readonly report: MonthlyReport;
}

export function reportWebhookPayload(input: {
  readonly id: string;
  readonly scheduleId: string;
  readonly atMs: number;
  readonly baseUrl: string;
  readonly report: MonthlyReport;
}): ReportWebhookPayload {
  return {
    version: 1,
    kind: 'report',
    id: input.id,
    schedule: input.scheduleId,
    at: new Date(input.atMs).toISOString(),
    url: reportUrl(input.baseUrl, input.report),
    report: input.report,
  };
}
