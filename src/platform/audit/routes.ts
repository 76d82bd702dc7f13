/**
 * GET /api/v1/audit (admin): the audit log, filtered, newest first, a page at a time; with
 * `Accept: application/x-ndjson` or `?format=ndjson`, every matching event streamed as NDJSON.
 */
import { Readable } from 'node:stream';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../errors.js';
import type { App } from '../http/index.js';
import { exportAuditEvents, listAuditEvents, MAX_AUDIT_PAGE } from './store.js';

const isoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time');
const text = z.string().min(1).max(200);

const changesSchema = z.object({
  before: z.record(z.string(), z.unknown()),
  after: z.record(z.string(), z.unknown()),
});

export const auditEventSchema = z.object({
  id: z.string().describe('sorts like `at`; the cursor of the next page'),
  at: z.string(),
  actor: z.string().describe('token name, SSO user, Slack user or OS user (CLI)'),
  credential: z.string().describe('token:<id>, session:<subject>, slack:<user id> or cli:<os user>'),
  role: z.string().nullable(),
  action: z.string().describe('e.g. incident.create, risk.update, silence.delete (docs/audit.md)'),
  target: z.object({ type: z.string(), id: z.string() }),
  changes: changesSchema.describe('the changed fields only, before and after; secrets are "[redacted]"'),
  clientAddress: z.string().nullable(),
  requestId: z.string().nullable(),
  teams: z
    .array(z.string())
    .describe(
      'the teams owning what the write touched (docs/api.md#teams); empty for none, and for older events',
    ),
});

export function auditRoutes(deps: { readonly db: Parameters<typeof listAuditEvents>[0] }) {
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/audit',
      {
        config: { minRole: 'admin' },
        schema: {
          tags: ['audit'],
          summary:
            'The audit log (admin): every write with who, which credential, what changed and from where; NDJSON export with Accept: application/x-ndjson or format=ndjson',
          querystring: z.object({
            actor: text.optional().describe('exactly this actor'),
            action: text.optional().describe('actions starting with this, e.g. incident or risk.update'),
            targetType: text.optional(),
            targetId: text.optional(),
            team: text.optional().describe('events touching what this team owns'),
            since: isoTime.optional().describe('events at or after'),
            until: isoTime.optional().describe('events before'),
            limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(100),
            cursor: z
              .string()
              .max(100)
              .optional()
              .describe('nextCursor of the previous page: the events after it'),
            format: z.enum(['json', 'ndjson']).optional(),
          }),
          response: {
            200: z.object({
              events: z.array(auditEventSchema),
              nextCursor: z.string().nullable().describe('pass as cursor for the next page; null at the end'),
            }),
          },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const sinceMs = q.since === undefined ? undefined : Date.parse(q.since);
        const untilMs = q.until === undefined ? undefined : Date.parse(q.until);
        if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs)
          throw invalid('since must be before until', [{ field: 'since', message: 'is not before until' }]);
        const filter = {
          actor: q.actor,
          action: q.action,
          targetType: q.targetType,
          targetId: q.targetId,
          team: q.team,
          sinceMs,
          untilMs,
          cursor: q.cursor,
        };
        const ndjson =
          q.format === 'ndjson' ||
          (q.format === undefined && /application\/x-ndjson/i.test(request.headers.accept ?? ''));
        if (ndjson) {
          const lines = async function* () {
            for await (const event of exportAuditEvents(deps.db, filter)) yield `${JSON.stringify(event)}\n`;
          };
          return (
            reply
              .type('application/x-ndjson; charset=utf-8')
              .header('cache-control', 'no-store')
              .header('content-disposition', 'attachment; filename="shinrai-audit.ndjson"')
              // A stream is sent as it is (no serializer); the type provider only knows the JSON answer.
              .send(Readable.from(lines()) as never)
          );
        }
        reply.header('cache-control', 'no-store');
        return listAuditEvents(deps.db, filter, q.limit);
      },
    );
  };
}
