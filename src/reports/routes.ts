/**
 * `GET /api/v1/reports/monthly?product=&month=&lang=&format=`: one product's monthly report as
 * JSON or Markdown, and HTML and PDF from the renderers the composition root passes
 * (`documentRenderers`); a format without a renderer answers 406 problem+json.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import { renderReportHtml } from './html.js';
import { reportMarkdown } from './markdown.js';
import { type MonthlyReport, REPORT_FORMATS, type ReportFormat } from './model.js';
import { monthOf, monthsEndingWith } from './month.js';
import { renderReportPdf } from './pdf.js';
import { monthlyReport, type ReportDeps } from './service.js';

/** A rendered report: its media type, its file name's extension and its bytes or text. */
export interface RenderedReport {
  readonly contentType: string;
  readonly extension: string;
  readonly body: string | Buffer;
}

export type ReportRenderer = (report: MonthlyReport) => Promise<RenderedReport> | RenderedReport;

/** The formats every server renders; the composition root may add more (HTML, PDF). */
export const BUILT_IN_RENDERERS: Partial<Record<ReportFormat, ReportRenderer>> = {
  json: (report) => ({
    contentType: 'application/json; charset=utf-8',
    extension: 'json',
    body: JSON.stringify(report),
  }),
  md: (report) => ({
    contentType: 'text/markdown; charset=utf-8',
    extension: 'md',
    body: reportMarkdown(report),
  }),
};

/** HTML (one self-contained file) and PDF (the HTML printed by Chromium), with links starting at `baseUrl`. */
export function documentRenderers(options: {
  readonly baseUrl?: string | undefined;
  readonly chromiumPath?: string | undefined;
}): Partial<Record<ReportFormat, ReportRenderer>> {
  const baseUrl = options.baseUrl || undefined;
  return {
    html: async (report) => ({
      contentType: 'text/html; charset=utf-8',
      extension: 'html',
      body: await renderReportHtml(report, { baseUrl }),
    }),
    pdf: async (report) => ({
      contentType: 'application/pdf',
      extension: 'pdf',
      body: await renderReportPdf(await renderReportHtml(report, { baseUrl }), {
        chromiumPath: options.chromiumPath,
      }),
    }),
  };
}

export interface ReportRouteDeps extends ReportDeps {
  /** Renderers beyond JSON and Markdown, by format. */
  readonly renderers?: Partial<Record<ReportFormat, ReportRenderer>> | undefined;
}

/** The month before the one containing `nowMs` in the zone: the last complete month. */
export function lastCompleteMonth(nowMs: number, timeZone: string): string {
  return monthsEndingWith(monthOf(nowMs, timeZone), 2)[0]!;
}

export function reportRoutes(deps: ReportRouteDeps) {
  const renderers = { ...BUILT_IN_RENDERERS, ...deps.renderers };
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/reports/monthly',
      {
        schema: {
          tags: ['reports'],
          summary:
            "One product's monthly reliability report: verdict per SLO, what to do, 6-month trend, incidents, action items, risks, alerts, delivery",
          querystring: z.object({
            product: z
              .string()
              .trim()
              .min(1)
              .max(300)
              .describe('a service, or owner:<team>, journey:<journey>, label:<key>=<value>'),
            month: z
              .string()
              .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month such as 2026-11')
              .optional()
              .describe('YYYY-MM in reports.timeZone; default: the last complete month'),
            lang: z.enum(['en', 'ja']).default('en'),
            format: z.enum(REPORT_FORMATS).default('json'),
          }),
          response: {
            200: {
              description: 'The report in the format asked for',
              content: {
                'application/json': { schema: z.any() },
                'text/markdown': { schema: z.string() },
                'text/html': { schema: z.string() },
                'application/pdf': { schema: z.string().describe('binary') },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { product, lang, format } = request.query;
        const render = renderers[format];
        if (!render)
          throw new AppError(
            'NotAcceptable',
            `format ${format} is not available on this server yet: ask for ${Object.keys(renderers).join(' or ')}`,
          );
        const month = request.query.month ?? lastCompleteMonth(deps.clock.now(), deps.timeZone);
        const report = await monthlyReport(deps, { product, month, language: lang });
        const rendered = await render(report);
        const fileName = `reliability-${product.replace(/[^A-Za-z0-9._-]+/g, '-')}-${month}.${rendered.extension}`;
        return reply
          .type(rendered.contentType)
          .header('content-disposition', `inline; filename="${fileName}"`)
          .send(rendered.body);
      },
    );
  };
}
