/**
 * The monthly report's HTML in a real browser (Debian's Chromium through playwright-core), in
 * English and Japanese: no request leaves the page (every request is intercepted and fails the
 * test), no console error, Japanese text drawn with a Japanese font (asked of Chromium through
 * the DevTools protocol), axe-core finds no serious violation, screenshots (desktop and phone) in
 * test-output/screenshots/. Then the PDF: A4 pages from the same HTML. Prints how long rendering
 * the fixture takes (a bench line; no timing assertion).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileReport, reportFixture } from '../src/reports/fixture.js';
import { renderReportHtml } from '../src/reports/html.js';
import { HTML_TEXT } from '../src/reports/html-text.js';
import { renderReportPdf } from '../src/reports/pdf.js';
import {
  CHROMIUM,
  launchBrowser,
  openPage,
  SCREENSHOTS,
  screenshot,
  seriousA11yViolations,
} from './support/browser.js';

const BASE = 'https://shinrai.example.com';
const OUTPUT = join(process.cwd(), 'test-output', 'reports');

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** Opens `html` with every request refused and recorded; answers the page, its errors and the requests. */
async function open(html: string, viewport = { width: 1200, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
  const { page, problems } = await openPage(context);
  const requests: string[] = [];
  await context.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  await page.setContent(html, { waitUntil: 'load' });
  return { context, page, problems, requests };
}

/** The fonts Chromium used to draw the text of the first element matching `selector`. */
async function platformFonts(
  page: Page,
  selector: string,
): Promise<Array<{ familyName: string; glyphCount: number }>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  await cdp.detach();
  return fonts;
}

const JAPANESE_FONT = /IPA|Noto Sans CJK|Noto Sans JP|Hiragino|Yu Gothic|Meiryo|Takao|VL Gothic/i;

describe('the monthly report in Chromium', () => {
  for (const language of ['en', 'ja'] as const) {
    it(`opens with no request, no console error and no serious axe violation, in ${language}`, async () => {
      const startedMs = performance.now();
      const html = await renderReportHtml(reportFixture(language), { baseUrl: BASE });
      const renderMs = performance.now() - startedMs;
      console.log(
        `bench: renderReportHtml(fixture, ${language}) took ${renderMs.toFixed(0)} ms (${html.length} bytes)`,
      );
      mkdirSync(OUTPUT, { recursive: true });
      writeFileSync(join(OUTPUT, `report-${language}.html`), html);

      const { context, page, problems, requests } = await open(html);
      try {
        expect(await page.getAttribute('html', 'lang')).toBe(language);
        const text = HTML_TEXT[language];
        await expect(page.locator('h1').textContent()).resolves.toBe(text.title('checkout'));
        const headings = await page.locator('h2').allTextContents();
        expect(headings).toEqual([
          text.sections.verdict,
          text.sections.todo,
          text.sections.trend,
          text.sections.incidents,
          text.sections.actionItems,
          text.sections.risks,
          text.sections.alerts,
          text.sections.delivery,
        ]);
        // Both charts are drawn and named.
        const charts = page.locator('svg[role="img"]');
        expect(await charts.count()).toBe(2);
        for (const chart of await charts.all()) {
          const box = await chart.boundingBox();
          expect(box?.width).toBeGreaterThan(200);
          expect(box?.height).toBeGreaterThan(100);
        }
        await expect(page.getByRole('img', { name: text.trend.chartTitle }).count()).resolves.toBe(1);
        await expect(page.getByRole('img', { name: text.alerts.chartTitle }).count()).resolves.toBe(1);

        if (language === 'ja') {
          const fonts = await platformFonts(page, 'h1');
          expect(fonts.some((f) => JAPANESE_FONT.test(f.familyName) && f.glyphCount > 0)).toBe(true);
          const chartFonts = await platformFonts(page, '#trend svg text');
          expect(chartFonts.some((f) => JAPANESE_FONT.test(f.familyName))).toBe(true);
        }

        expect(await seriousA11yViolations(page)).toEqual([]);
        await screenshot(page, `report-${language}`);
        await page.setViewportSize({ width: 390, height: 844 });
        // On a phone the page itself does not scroll sideways (wide tables scroll in their box).
        const overflow = await page.evaluate(() => {
          const root = (
            globalThis as unknown as {
              document: { documentElement: { scrollWidth: number; clientWidth: number } };
            }
          ).document.documentElement;
          return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
        });
        expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.clientWidth + 1);
        expect(await seriousA11yViolations(page)).toEqual([]);
        await screenshot(page, `report-${language}-phone`);
        expect(requests).toEqual([]);
        expect(problems.errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('keeps script payloads inert when opened: nothing runs, no element from the data', async () => {
    const html = await renderReportHtml(hostileReport('en'), { baseUrl: BASE });
    const { context, page, problems, requests } = await open(html);
    try {
      await page.evaluate(() => undefined);
      const counts = await page.evaluate(() => {
        const d = (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } })
          .document;
        return {
          scripts: d.querySelectorAll('script').length,
          images: d.querySelectorAll('img, iframe, object, embed').length,
          handlers: d.querySelectorAll('[onload], [onerror], [onclick]').length,
          javascriptLinks: d.querySelectorAll('a[href^="javascript:" i]').length,
          svgs: d.querySelectorAll('svg').length,
        };
      });
      expect(counts).toEqual({ scripts: 0, images: 0, handlers: 0, javascriptLinks: 0, svgs: 2 });
      await expect(page.locator('h1').textContent()).resolves.toContain('<script>alert(1)</script>');
      expect(requests).toEqual([]);
      expect(problems.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('prints on A4 as a PDF of several pages', async () => {
    for (const language of ['en', 'ja'] as const) {
      const html = await renderReportHtml(reportFixture(language), { baseUrl: BASE });
      const startedMs = performance.now();
      const pdf = await renderReportPdf(html, { chromiumPath: CHROMIUM });
      console.log(
        `bench: renderReportPdf(${language}) took ${(performance.now() - startedMs).toFixed(0)} ms (${pdf.length} bytes)`,
      );
      mkdirSync(OUTPUT, { recursive: true });
      writeFileSync(join(OUTPUT, `report-${language}.pdf`), pdf);
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const text = pdf.toString('latin1');
      const pages = text.match(/\/Type\s*\/Page\b(?!s)/g)?.length ?? 0;
      expect(pages).toBeGreaterThan(1);
      // A4 is 595 × 842 points.
      expect(text).toMatch(/\/MediaBox\s*\[\s*0\s+0\s+59[45](\.\d+)?\s+84[12](\.\d+)?\s*\]/);
      expect(pdf.length).toBeGreaterThan(20_000);
      if (language === 'ja') expect(text).toMatch(/IPA[P]?Gothic|NotoSansCJK|Hiragino/);
    }
    console.log(`screenshots in ${SCREENSHOTS}, HTML and PDF in ${OUTPUT}`);
  });
});
