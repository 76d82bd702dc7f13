/**
 * The monthly report as PDF: the self-contained HTML printed on A4 by headless Chromium through
 * playwright-core (Debian's /usr/bin/chromium; no browser is downloaded). Every network request
 * the page might make is refused. Without Chromium it throws AppError `Unavailable` naming what
 * to install, so the server answers 503 and the CLI exits 1 with one line, never an empty file.
 */
import { access, constants } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { AppError } from '../platform/errors.js';

/** Where Debian's `chromium` package puts the browser. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

export interface PdfOptions {
  /** The Chromium (or Chrome) executable; default /usr/bin/chromium. */
  readonly chromiumPath?: string | undefined;
  /** Gives up launching and printing after this long; default 60 s. */
  readonly timeoutMs?: number | undefined;
}

/** The one-line message when no browser can print the report. */
export function chromiumMissingMessage(path: string, reason?: string): string {
  return (
    `PDF reports need headless Chromium, and none could be started at ${path}` +
    `${reason ? ` (${reason})` : ''}: install it (Debian/Ubuntu: apt-get install chromium; ` +
    'Japanese text also needs fonts-ipafont-gothic) or choose format html'
  );
}

/** Prints `html` on A4 pages and answers the PDF's bytes (starting with `%PDF`). */
export async function renderReportPdf(html: string, options: PdfOptions = {}): Promise<Buffer> {
  const path = options.chromiumPath ?? DEFAULT_CHROMIUM_PATH;
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new AppError('Unavailable', chromiumMissingMessage(path));
  }
  let browser: Awaited<ReturnType<typeof chromium.launch>>;
  try {
    browser = await chromium.launch({
      executablePath: path,
      timeout: timeoutMs,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  } catch (error) {
    const first = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    throw new AppError('Unavailable', chromiumMissingMessage(path, first.slice(0, 200)));
  }
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    const page = await context.newPage();
    page.setDefaultTimeout(timeoutMs);
    // The report is self-contained; anything it would fetch is refused rather than fetched.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    await page.emulateMedia({ media: 'print' });
    const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
    if (pdf.length < 5 || pdf.subarray(0, 5).toString('latin1') !== '%PDF-') {
      throw new AppError('Internal', 'Chromium printed something that is not a PDF');
    }
    return pdf;
  } finally {
    await browser.close();
  }
}
