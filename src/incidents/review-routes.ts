/** `GET /api/v1/reviews`: the periodic review across incidents and postmortems, as JSON or markdown. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import type { Catalog } from '../slo/index.js';
import { todayIn } from './action-item-routes.js';
import { reviewMarkdown } from './review.js';
import { periodicReview } from './review-service.js';
import type { IncidentDeps } from './service.js';

const DEFAULT_DAYS = 30;

const when = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .describe('a date (midnight in incidents.timeZone) or a date-time with offset');

/** A date is midnight in the team's time zone; a date-time is taken as given. */
function instant(value: string, timeZone: string): number {
  return value.length === 10 ? DateTime.fromISO(value, { zone: timeZone }).toMillis() : Date.parse(value);
}

export function reviewRoutes(
  deps: IncidentDeps & { readonly catalog: () => Catalog; readonly timeZone: string },
) {
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/reviews',
      {
        schema: {
          tags: ['postmortems'],
          summary:
            'Periodic review: recurring root causes, incidents and budget per service, postmortems the policy requires, overdue action items',
          querystring: z.object({
            from: when.optional().describe(`default: ${DEFAULT_DAYS} days before \`to\``),
            to: when.optional().describe('default: now'),
            format: z.enum(['json', 'markdown']).default('json'),
            lang: z.enum(['en', 'ja']).default('en').describe('language of the markdown'),
          }),
        },
      },
      async (request, reply) => {
        const q = request.query;
        const nowMs = deps.clock.now();
        const toMs = q.to ? instant(q.to, deps.timeZone) : nowMs;
        const fromMs = q.from ? instant(q.from, deps.timeZone) : toMs - DEFAULT_DAYS * 86_400_000;
        if (!(fromMs < toMs))
          throw new AppError('Invalid', '`from` must be before `to`', [
            { field: 'from', message: 'not before `to`' },
          ]);
        const review = await periodicReview(deps, deps.catalog(), {
          fromMs,
          toMs,
          today: todayIn(deps.timeZone, nowMs),
        });
        if (q.format === 'markdown')
          return reply.type('text/markdown; charset=utf-8').send(reviewMarkdown(review, q.lang));
        return review;
      },
    );
  };
}
