/** Postmortems: drafted from incidents, edited as markdown, reviewed and published; served as sanitised HTML too. */
import { randomUUID } from 'node:crypto';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/server.js';
import { renderMarkdown } from '../platform/markdown.js';
import type { Catalog } from '../slo/model.js';
import { budgetImpact } from './impact.js';
import {
  canMovePostmortem,
  draftPostmortem,
  POSTMORTEM_STATUSES,
  type PostmortemStatus,
} from './postmortem.js';
import { getIncident, type IncidentDeps } from './service.js';

const postmortemSchema = z.object({
  id: z.string(),
  status: z.enum(POSTMORTEM_STATUSES),
  incidents: z.array(z.string()),
  markdown: z.string(),
  html: z.string().describe('the markdown rendered and sanitised: safe to insert into a page'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

interface Row {
  id: string;
  status: string;
  incidents: string;
  markdown: string;
  created_at: number;
  updated_at: number;
}

function view(row: Row): z.output<typeof postmortemSchema> {
  return {
    id: row.id,
    status: row.status as PostmortemStatus,
    incidents: JSON.parse(row.incidents) as string[],
    markdown: row.markdown,
    html: renderMarkdown(row.markdown),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

export function postmortemRoutes(deps: IncidentDeps & { readonly catalog: () => Catalog }) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const find = async (id: string) => {
      const row = await deps.db.kysely
        .selectFrom('postmortems')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw new AppError('NotFound', `no postmortem with id ${JSON.stringify(id)}`);
      return row;
    };

    api.post(
      '/api/v1/incidents/:ref/postmortem',
      {
        schema: {
          tags: ['postmortems'],
          summary:
            'Draft a postmortem (SRE-book sections, budget figures, starred timeline) for this incident and optionally others',
          params: z.object({ ref: z.string().max(100) }),
          body: z
            .strictObject({ alsoCovers: z.array(z.string().max(100)).max(20).default([]) })
            .default({ alsoCovers: [] }),
          response: { 201: postmortemSchema },
        },
      },
      async (request, reply) => {
        const refs = [request.params.ref, ...request.body.alsoCovers];
        const covered = [];
        for (const ref of refs) {
          const { incident, timeline } = await getIncident(deps, ref);
          covered.push({ incident, timeline, impact: await budgetImpact(deps, deps.catalog(), incident) });
        }
        const nowMs = deps.clock.now();
        const row: Row = {
          id: randomUUID(),
          status: 'draft',
          incidents: JSON.stringify([...new Set(covered.map((c) => c.incident.reference))]),
          markdown: draftPostmortem(covered),
          created_at: nowMs,
          updated_at: nowMs,
        };
        await deps.db.kysely.insertInto('postmortems').values(row).execute();
        return reply.code(201).send(view(row));
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
      async () =>
        (
          await deps.db.kysely.selectFrom('postmortems').selectAll().orderBy('created_at', 'desc').execute()
        ).map(view),
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
      async (request) => view(await find(request.params.id)),
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
      async (request) => {
        const row = await find(request.params.id);
        const from = row.status as PostmortemStatus;
        const { markdown, status } = request.body;
        if (from === 'published' && (markdown !== undefined || status !== undefined))
          throw new AppError('Conflict', 'a published postmortem is final; write a follow-up instead');
        if (status !== undefined && status !== from && !canMovePostmortem(from, status))
          throw new AppError('Conflict', `a postmortem in ${from} cannot move to ${status}`, [
            { field: 'status', message: `not allowed from ${from}` },
          ]);
        const next: Row = {
          ...row,
          markdown: markdown ?? row.markdown,
          status: status ?? from,
          updated_at: deps.clock.now(),
        };
        await deps.db.kysely
          .updateTable('postmortems')
          .set({ markdown: next.markdown, status: next.status, updated_at: next.updated_at })
          .where('id', '=', row.id)
          .execute();
        return view(next);
      },
    );
  };
}
