/** Unit tests of what a scheduled report sends: the mail's parts and attachment, the Slack summary, the webhook JSON. */
import { describe, expect, it } from 'vitest';
import { hostileReport, reportFixture } from './fixture.js';
import { reportMarkdown } from './markdown.js';
import { reportMail, reportSlackText, reportUrl, reportWebhookPayload } from './schedule-messages.js';

const BASE = 'https://shinrai.example.com';

describe('reportMail', () => {
  it('has the report as HTML, a text part with absolute links, and the file attached when asked', () => {
    const report = reportFixture('en');
    const markdown = reportMarkdown(report, { baseUrl: BASE });
    const mail = reportMail({
      report,
      scheduleId: 'checkout-en',
      baseUrl: BASE,
      html: '<!doctype html><p>report</p>',
      markdown,
      attachment: { format: 'md', body: markdown },
    });
    expect(mail.subject).toBe(`Reliability report: ${report.product.name}, November 2026`);
    expect(mail.html).toBe('<!doctype html><p>report</p>');
    expect(mail.text).toContain(`${BASE}/api/v1/reports/monthly?product=`);
    expect(mail.text).toContain(`](${BASE}/slos/`);
    expect(mail.text).toContain('reports.schedules');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments![0]!.filename).toBe(`reliability-${report.product.name}-2026-11.md`);
    expect(Buffer.from(mail.attachments![0]!.contentBase64, 'base64').toString('utf8')).toBe(markdown);
  });

  it('is in Japanese for a Japanese schedule, without an attachment for html', () => {
    const report = reportFixture('ja');
    const mail = reportMail({ report, scheduleId: 's', baseUrl: BASE, html: '<p></p>', markdown: '# r' });
    expect(mail.subject).toContain('信頼性レポート');
    expect(mail.text).toContain('月次信頼性レポートです');
    expect(mail.attachments).toBeUndefined();
  });
});

describe('reportSlackText', () => {
  it('counts SLOs met and things to do, names the missed ones and links to the report', () => {
    const report = reportFixture('en');
    const text = reportSlackText(report, BASE);
    const met = report.verdict.filter((v) => v.met).length;
    expect(text).toContain(`${met} of ${report.verdict.length} SLOs met`);
    expect(text).toContain(`<${reportUrl(BASE, report)}|Open the report>`);
    expect(reportSlackText(reportFixture('ja'), BASE)).toContain('レポートを開く');
  });

  it('keeps names with control characters inert', () => {
    const text = reportSlackText(hostileReport('en'), BASE);
    const [summary] = text.split('\n');
    expect(summary).not.toMatch(/<(?!http)/);
    expect(text).toContain('&lt;');
  });
});

describe('reportWebhookPayload', () => {
  it('carries the whole report with kind report and its idempotency key', () => {
    const report = reportFixture('en');
    const payload = reportWebhookPayload({ id: 'k', scheduleId: 's', atMs: 0, baseUrl: BASE, report });
    expect(payload).toMatchObject({ version: 1, kind: 'report', id: 'k', schedule: 's' });
    expect(payload.report).toBe(report);
    expect(payload.url.startsWith(`${BASE}/api/v1/reports/monthly?`)).toBe(true);
  });
});
