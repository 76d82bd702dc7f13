/** Action items over HTTP: added to a postmortem, changed one by one, listed across postmortems. */

import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { actorOf } from '../platform/audit/index.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import { httpUrl } from '../platform/urls.js';
import type { Catalog } from '../slo/index.js';
import { closest } from '../slo/index.js';
import { changeActionItem, createActionItem, listActionItems } from './action-item-service.js';
import {
  ACTION_ITEM_CATEGORIES,
  ACTION_ITEM_PRIORITIES,
  ACTION_ITEM_STATUSES,
  type ActionItem,
  isOverdue,
} from './action-items.js';
import type { IncidentDeps } from './service.js';

const title = z.string().trim().min(1).max(500);
const owner = z.string().trim().min(1).max(200);
const dueDate = z.iso.date().describe('YYYY-MM-DD; overdue from the next day on (incidents.timeZone)');
const ticketUrl = httpUrl.describe('http(s) link to the ticket');

const riskEffect = z
  .strictObject({
    ettdMinutes: z.number().min(0).max(1e6).optional(),
    ettrMinutes: z.number().min(0).max(1e6).optional(),
    impact: z.number().gt(0).max(1).optional(),
    ettfDays: z.number().gt(0).max(1e5).optional(),
  })
  .describe("the linked risk's estimate once this item is done (the fields it changes)");

export const actionItemSchema = z.object({
  id: z.string(),
  postmortemId: z.string(),
  title: z.string(),
  category: z.enum(ACTION_ITEM_CATEGORIES),
  priority: z.enum(ACTION_ITEM_PRIORITIES),
  owner: z.string().optional(),
  dueDate: z.string().optional(),
  status: z.enum(ACTION_ITEM_STATUSES),
  ticketUrl: z.string().optional(),
  risk: z.string().optional(),
  riskEffect: riskEffect.optional(),
  overdue: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  closedAt: z.string().optional(),
});

const iso = (ms: number) => new Date(ms).toISOString();

export function actionItemView(item: ActionItem, today?: string): z.output<typeof actionItemSchema> {
  const { createdAtMs, updatedAtMs, closedAtMs, ...rest } = item;
  return {
    ...rest,
    overdue: today !== undefined && isOverdue(item, today),
    createdAt: iso(createdAtMs),
    updatedAt: iso(updatedAtMs),
    ...(closedAtMs === undefined ? {} : { closedAt: iso(closedAtMs) }),
  };
}

/** Today's date (YYYY-MM-DD) in the team's time zone: due dates are calendar days there. */
export function todayIn(timeZone: string, nowMs: number): string {
  return DateTime.fromMillis(nowMs, { zone: timeZone }).toISODate() ?? '';
}

/** A linked risk must be in the loaded catalog (a typo gets a suggestion). */
function checkRisk(catalog: Catalog, risk: string | undefined): void {
  if (risk === undefined) return;
  const names = (catalog.risks ?? []).map((r) => r.name);
  if (names.includes(risk)) return;
  const suggestion = closest(risk, names);
  throw new AppError(
    'Invalid',
    `no risk ${JSON.stringify(risk)} in the catalog${suggestion ? `: did you mean "${suggestion}"?` : ''}`,
    [{ field: 'risk', message: 'names no Risk in the loaded specs' }],
  );
}

export function actionItemRoutes(
  deps: IncidentDeps & { readonly timeZone: string; readonly catalog: () => Catalog },
) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const today = () => todayIn(deps.timeZone, deps.clock.now());

    api.post(
      '/api/v1/postmortems/:id/action-items',
      {
        schema: {
          tags: ['postmortems'],
          summary: 'Add an action item to a postmortem',
          params: z.object({ id: z.string().max(100) }),
          body: z.strictObject({
            title,
            category: z.enum(ACTION_ITEM_CATEGORIES),
            priority: z.enum(ACTION_ITEM_PRIORITIES),
            owner: owner.optional(),
            dueDate: dueDate.optional(),
            status: z.enum(ACTION_ITEM_STATUSES).optional(),
            ticketUrl: ticketUrl.optional(),
            risk: z.string().max(200).optional().describe('the catalog risk this item reduces'),
            riskEffect: riskEffect.optional(),
          }),
          response: { 201: actionItemSchema },
        },
      },
      async (request, reply) => {
        checkRisk(deps.catalog(), request.body.risk);
        return reply
          .code(201)
          .send(
            actionItemView(
              await createActionItem(deps, request.params.id, request.body, actorOf(request)),
              today(),
            ),
          );
      },
    );

    api.patch(
      '/api/v1/action-items/:id',
      {
        schema: {
          tags: ['postmortems'],
          summary: 'Change an action item (null clears owner, dueDate or ticketUrl)',
          params: z.object({ id: z.string().max(100) }),
          body: z.strictObject({
            title: title.optional(),
            category: z.enum(ACTION_ITEM_CATEGORIES).optional(),
            priority: z.enum(ACTION_ITEM_PRIORITIES).optional(),
            owner: owner.nullable().optional(),
            dueDate: dueDate.nullable().optional(),
            status: z.enum(ACTION_ITEM_STATUSES).optional(),
            ticketUrl: ticketUrl.nullable().optional(),
            risk: z.string().max(200).nullable().optional(),
            riskEffect: riskEffect.nullable().optional(),
          }),
          response: { 200: actionItemSchema },
        },
      },
      async (request) =>
        actionItemView(
          await changeActionItem(deps, request.params.id, request.body, actorOf(request)),
          today(),
        ),
    );

    api.get(
      '/api/v1/action-items',
      {
        schema: {
          tags: ['postmortems'],
          summary: 'Action items across postmortems, oldest first',
          querystring: z.object({
            status: z.enum(ACTION_ITEM_STATUSES).optional(),
            owner: z.string().max(200).optional(),
            postmortem: z.string().max(100).optional(),
            overdue: z.stringbool().optional().describe('true: only open items past their due date'),
          }),
          response: { 200: z.array(actionItemSchema) },
        },
      },
      async (request) => {
        const q = request.query;
        const day = today();
        const items = await listActionItems(deps, {
          status: q.status,
          owner: q.owner,
          postmortemId: q.postmortem,
          overdueOn: q.overdue ? day : undefined,
        });
        return items.map((i) => actionItemView(i, day));
      },
    );
  };
}
