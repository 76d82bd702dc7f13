/** Unit tests of the report's HTML: sections in order, both languages, escaping, links, no external reference. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostileReport, reportFixture, XSS_PAYLOADS } from './fixture.js';
import { escapeHtml, renderReportHtml, reportHref } from './html.js';
import { HTML_TEXT } from './html-text.js';
import type { MonthlyReport } from './model.js';

const BASE = 'https://shinrai.example.com';

/** Every http(s) URL in the document. */
const urls = (html: string) => html.match(/https?:\/\/[^\s"'<>)]*/g) ?? [];

/** The tags that have an event-handler attribute (text that merely reads `onerror=` is not a tag). */
const handlerTags = (html: string) =>
  (html.match(/<[a-z][^>]*>/gi) ?? []).filter((tag) => /\son[a-z]+\s*=/i.test(tag));

/** The report without charts (fast), for properties run many times. */
const chartless = (report: MonthlyReport): MonthlyReport => ({
  ...report,
  trend: [],
  alerts: { ...report.alerts, weeks: [] },
});

// Vega renders each chart in a few hundred ms; a loaded machine may take several times that.
describe('renderReportHtml', { timeout: 30_000 }, () => {
  for (const language of ['en', 'ja'] as const) {
    it(`writes every section in the issue's order in ${language}, with its lang attribute`, async () => {
      const html = await renderReportHtml(reportFixture(language), { baseUrl: BASE });
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).toContain(`<html lang="${language}">`);
      const sections = HTML_TEXT[language].sections;
      const order = [
        sections.verdict,
        sections.todo,
        sections.trend,
        sections.incidents,
        sections.actionItems,
        sections.risks,
        sections.alerts,
        sections.delivery,
      ].map((heading) => html.indexOf(`>${escapeHtml(heading)}</h2>`));
      expect(order.every((at) => at > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      // Headings in order: one h1, then h2s only.
      expect(html.match(/<h1[ >]/g)).toHaveLength(1);
      expect(html).not.toMatch(/<h[3-6][ >]/);
    });

    it(`draws both charts as inline SVG with a role, a title and a description in ${language}`, async () => {
      const html = await renderReportHtml(reportFixture(language));
      const svgs = html.match(/<svg[^>]*>/g) ?? [];
      expect(svgs).toHaveLength(2);
      for (const svg of svgs) {
        expect(svg).toContain('role="img"');
        expect(svg).toMatch(/aria-labelledby="[a-z-]+-title [a-z-]+-desc"/);
      }
      expect(html).toContain(`<title id="trend-chart-title">${HTML_TEXT[language].trend.chartTitle}</title>`);
      expect(html).toContain(
        `<title id="alerts-chart-title">${HTML_TEXT[language].alerts.chartTitle}</title>`,
      );
      expect(html.match(/<desc id="[a-z-]+-desc">[^<]{20,}<\/desc>/g)).toHaveLength(2);
    });
  }

  it('makes no external reference: the only URLs are the report’s own links on the base URL', async () => {
    const html = await renderReportHtml(reportFixture('en'), { baseUrl: `${BASE}/` });
    const found = urls(html);
    expect(found.length).toBeGreaterThan(5);
    for (const url of found) expect(url.startsWith(`${BASE}/`)).toBe(true);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/@import|url\(/i);
    // Without a base URL, no URL at all.
    expect(urls(await renderReportHtml(reportFixture('ja')))).toEqual([]);
  });

  it('links every "what to do" item to its source', async () => {
    const report = reportFixture('en');
    const html = await renderReportHtml(report, { baseUrl: BASE });
    const items = html.match(/<li class="todo [^"]+">.*?<\/li>/g) ?? [];
    expect(items).toHaveLength(report.todo.length);
    report.todo.forEach((item, i) => {
      expect(items[i]).toContain(`href="${escapeHtml(BASE + item.link)}"`);
    });
    for (const kind of ['policy', 'overdue-action-item', 'risk-too-big', 'noisy-alert']) {
      expect(html).toContain(`todo-${kind}`);
    }
  });

  it('says met, missed and no data, with attainment, target, budget and the policy action', async () => {
    const html = await renderReportHtml(reportFixture('en'));
    expect(html).toContain('data-met="false"');
    expect(html).toContain('data-met="true"');
    expect(html).toContain('data-met="none"');
    expect(html).toContain('99.812%');
    expect(html).toContain('99.90%');
    expect(html).toContain('187.9%');
    expect(html).toContain('24,130 events / 12,840 events');
    expect(html).toContain('Freeze feature deploys');
    expect(html).toContain('deploys blocked');
    const ja = await renderReportHtml(reportFixture('ja'));
    expect(ja).toContain('未達');
    expect(ja).toContain('24,130件');
    expect(ja).toContain('デプロイ停止');
    expect(ja).toContain('2026年11月');
  });

  it('formats dates in the report’s zone, not the machine’s', async () => {
    const html = await renderReportHtml(reportFixture('en'));
    // INC-2026-031 started 14:12 in Tokyo (05:12 UTC).
    expect(html).toContain('Nov 6, 2026, 2:12 PM');
  });

  it('keeps script payloads inert: escaped text, no element or attribute from the data', async () => {
    for (const language of ['en', 'ja'] as const) {
      const html = await renderReportHtml(hostileReport(language), { baseUrl: BASE });
      expect(/<script/i.test(html)).toBe(false);
      expect(/<img/i.test(html)).toBe(false);
      expect(/<svg[^>]*onload/i.test(html)).toBe(false);
      expect(handlerTags(html)).toEqual([]);
      expect(html).not.toMatch(/href="(?!https:\/\/shinrai\.example\.com\/|#)/);
      expect(html).toContain(escapeHtml(XSS_PAYLOADS[0]));
      for (const url of urls(html)) expect(url.startsWith(`${BASE}/`)).toBe(true);
    }
  });

  it('escapes any product name, title and action (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), async (name, title) => {
        const base = chartless(reportFixture('en'));
        const report: MonthlyReport = {
          ...base,
          product: { name, services: [title] },
          incidents: base.incidents.map((i) => ({ ...i, title })),
          todo: [{ kind: 'policy', slo: name, action: title, gate: 'deny', link: `/slos/${name}` }],
        };
        const html = await renderReportHtml(report);
        expect(html).toContain(escapeHtml(`${name}`));
        expect(html).toContain(escapeHtml(title));
        expect(/<script/i.test(html)).toBe(false);
        expect(handlerTags(html)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('shows empty sections with a sentence instead of a table', async () => {
    const base = reportFixture('ja');
    const html = await renderReportHtml({
      ...base,
      verdict: [],
      todo: [],
      trend: [],
      incidents: [],
      actionItems: { opened: {}, closed: {}, overdue: {} },
      risks: [],
      alerts: { weeks: [], noiseShare: null, medianDetectionMs: null },
      delivery: null,
    });
    const text = HTML_TEXT.ja;
    for (const sentence of [
      text.verdict.none,
      text.todo.none,
      text.trend.none,
      text.incidents.none,
      text.actionItems.none,
      text.risks.none,
      text.delivery.none,
    ]) {
      expect(html).toContain(escapeHtml(sentence));
    }
    expect(html).not.toContain('<svg');
  });
});

describe('reportHref', () => {
  it('joins server paths to the base URL and refuses anything else', () => {
    expect(reportHref('/slos/a', undefined)).toBe('/slos/a');
    expect(reportHref('/slos/a', 'https://x.example/shinrai/')).toBe('https://x.example/shinrai/slos/a');
    expect(reportHref('/slos/a', 'javascript:alert(1)')).toBe('/slos/a');
    for (const bad of [
      'javascript:alert(1)',
      '//evil.example/x',
      'https://evil.example',
      '/a b',
      '/\\evil',
      '',
    ]) {
      expect(reportHref(bad, 'https://x.example')).toBeUndefined();
    }
  });
});
