/**
 * /status (public, no token), /status.json (the public model the page renders) and
 * /status/internal (viewer): thin over the status page service.
 */
import type { FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../platform/http/index.js';
import { BAR_LEVELS, COMPONENT_STATES, PUBLIC_STATUSES } from './status-page.js';
import { renderInternalPage, renderPublicPage } from './status-page-html.js';
import { type Lang, pickLanguage } from './status-page-i18n.js';
import { type StatusPageDeps, StatusPageService } from './status-page-service.js';

/** Nothing but inline styles may load or run: no script, frame, form, image from elsewhere. */
export const STATUS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:";

const query = z.object({ lang: z.string().max(20).optional() });

/** The public model's shape, for the OpenAPI document; serialising through it also drops any stray key. */
const publicStatusSchema = z.object({
  title: z.string(),
  generatedAt: z.string(),
  timeZone: z.string(),
  overall: z.enum(COMPONENT_STATES),
  components: z.array(
    z.object({
      name: z.string(),
      state: z.enum(COMPONENT_STATES),
      availability: z.number().nullable(),
      bars: z.array(
        z.object({ date: z.string(), availability: z.number().nullable(), level: z.enum(BAR_LEVELS) }),
      ),
    }),
  ),
  incidents: z.array(
    z.object({
      components: z.array(z.string()),
      impact: z.enum(COMPONENT_STATES),
      status: z.enum(PUBLIC_STATUSES),
      updates: z.array(
        z.object({
          at: z.string(),
          html: z.string().describe("the note's markdown rendered and sanitised"),
          text: z.string().describe('the note as plain text'),
        }),
      ),
    }),
  ),
});

function secure(reply: FastifyReply, csp = STATUS_PAGE_CSP): FastifyReply {
  return reply
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

/** With subscriptions on, /status carries the subscribe form (rendered with a fresh per-form token). */
export interface StatusPageOptions {
  readonly subscribeForm?: ((lang: Lang) => Promise<string>) | undefined;
}

/** The status page routes; one service (and its cache of completed days) per server. */
export function statusPageRoutes(deps: StatusPageDeps, options: StatusPageOptions = {}) {
  const service = new StatusPageService(deps);
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();

    api.get(
      '/status',
      {
        config: { minRole: 'public' },
        schema: {
          // Like /healthz and /metrics: the API document lists what needs a token.
          hide: true,
          tags: ['status page'],
          summary: 'The public status page (HTML, no script): public services and announced incidents',
          querystring: query,
        },
      },
      async (request, reply) => {
        const lang = pickLanguage(request.query.lang, request.headers['accept-language']);
        const form = options.subscribeForm ? await options.subscribeForm(lang) : '';
        const html = renderPublicPage(await service.publicStatus(), lang, form);
        // The form posts to this server only.
        return secure(reply, form ? `${STATUS_PAGE_CSP}; form-action 'self'` : STATUS_PAGE_CSP)
          .header('cache-control', 'public, max-age=30')
          .header('vary', 'Accept-Language')
          .type('text/html; charset=utf-8')
          .send(html);
      },
    );

    api.get(
      '/status.json',
      {
        config: { minRole: 'public' },
        schema: {
          // Like /healthz and /metrics: the API document lists what needs a token.
          hide: true,
          tags: ['status page'],
          summary: 'The public status page as JSON: exactly the fields the page renders',
          response: { 200: publicStatusSchema },
        },
      },
      async (_request, reply) =>
        secure(reply)
          .header('cache-control', 'public, max-age=30')
          .send(await service.publicStatus()),
    );

    api.get(
      '/status/internal',
      {
        schema: {
          tags: ['status page'],
          summary:
            'The internal status page (HTML): every service, every open incident and its whole timeline',
          querystring: query,
        },
      },
      async (request, reply) => {
        const lang = pickLanguage(request.query.lang, request.headers['accept-language']);
        const html = renderInternalPage(await service.internalStatus(), lang);
        return secure(reply)
          .header('cache-control', 'private, no-store')
          .type('text/html; charset=utf-8')
          .send(html);
      },
    );
  };
}
