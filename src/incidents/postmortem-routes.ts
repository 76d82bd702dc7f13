/** Postmortems over HTTP: drafted from incidents, edited as markdown, reviewed and published; served as sanitised HTML too. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../platform/audit/index.js';
import type { App } from '../platform/http/index.js';
import { renderMarkdown } from '../platform/markdown.js';
import type { Catalog } from '../slo/index.js';
import { actionItemSchema, actionItemView, todayIn } from './action-item-routes.js';
import { listActionItems } from './action-item-service.js';
import { type ActionItem, withActionItems } from './action-items.js';
import { writeUpLanguageQuery } from './language.js';
import { POSTMORTEM_STATUSES } from './postmortem.js';
import {
  changePostmortem,
  createPostmortem,
  getPostmortem,
  listPostmortems,
  type Postmortem,
} from './postmortems.js';
import type { IncidentDeps } from './service.js';

const postmortemSchema = z.object({
  id: z.string(),
  status: z.enum(POSTMORTEM_STATUSES),
  incidents: z.array(z.string()),
  markdown: z.string(),
  html: z
    .string()
    .describe(
      'the markdown rendered and sanitised, with the current action items: safe to insert into a page',
    ),
  actionItems: z.array(actionItemSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
});

function view(p: Postmortem, items: readonly ActionItem[], today: string): z.output<typeof postmortemSchema> {
  return {
    id: p.id,
    status: p.status,
    incidents: [...p.incidents],
    markdown: p.markdown,
    html: renderMarkdown(withActionItems(p.markdown, items)),
    actionItems: items.map((i) => actionItemView(i, today)),
    createdAt: new Date(p.createdAtMs).toISOString(),
    updatedAt: new Date(p.updatedAtMs).toISOString(),
  };
}

export function postmortemRoutes(
  deps: IncidentDeps & { readonly catalog: () => Catalog; readonly timeZone: string },
) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const today = () => todayIn(deps.timeZone, deps.clock.now());
    const withItems = async (p: Postmortem) =>
      view(p, await listActionItems(deps, { postmortemId: p.id }), today());

    api.post(
      '/api/v1/incidents/:ref/postmortem',
      {
        schema: {
          tags: ['postmortems'],
          summary:
            'Draft a postmortem (SRE-book sections, budget figures, starred timeline) for this incident and optionally others, in English or Japanese',
          params: z.object({ ref: z.string().max(100) }),
          querystring: z.object({ lang: writeUpLanguageQuery }),
          body: z
            .strictObject({ alsoCovers: z.array(z.string().max(100)).max(20).default([]) })
            .default({ alsoCovers: [] }),
          response: { 201: postmortemSchema },
        },
      },
      async (request, reply) => {
        const created = await createPostmortem(
          deps,
          deps.catalog(),
          [request.params.ref, ...request.body.alsoCovers],
          { language: request.query.lang, timeZone: deps.timeZone },
          actorOf(request),
        );
        return reply.code(201).send(view(created, [], today()));
      },
    );

    api.get(
      '/api/v1/postmortems',
      {
        schema: {
          tags: ['postmortems'],
          summary: 'Postmortems, newest first',
          response: { 200: z.array(postmortemSchema) },
        },
      },
      async () => {
        const items = await listActionItems(deps);
        return (await listPostmortems(deps)).map((p) =>
          view(
            p,
            items.filter((i) => i.postmortemId === p.id),
            today(),
          ),
        );
      },
    );

    api.get(
      '/api/v1/postmortems/:id',
      {
        schema: {
          tags: ['postmortems'],
          summary: 'One postmortem, as markdown and as sanitised HTML',
          params: z.object({ id: z.string().max(100) }),
          response: { 200: postmortemSchema },
        },
      },
      async (request) => withItems(await getPostmortem(deps, request.params.id)),
    );

    api.patch(
      '/api/v1/postmortems/:id',
      {
        schema: {
          tags: ['postmortems'],
          summary: 'Edit the markdown, or move draft → in-review → published (published is final)',
          params: z.object({ id: z.string().max(100) }),
          body: z.strictObject({
            markdown: z.string().max(500_000).optional(),
            status: z.enum(POSTMORTEM_STATUSES).optional(),
          }),
          response: { 200: postmortemSchema },
        },
      },
      async (request) =>
        withItems(
          await changePostmortem(deps, deps.catalog(), request.params.id, request.body, actorOf(request)),
        ),
    );
  };
}
