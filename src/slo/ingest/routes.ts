/**
 * POST /api/v1/sli/{name}/events — thin: read the raw body and headers, call the ingestion
 * service, answer after commit. The body is read as text here and parsed by the service, so a
 * bad batch is answered with one problem per bad line.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { INGEST_MEDIA_TYPES, type IngestContext, ingestBatch } from './service.js';

/** What the route needs: the ingestion service's context. */
export type IngestRouteDeps = IngestContext;

const resultSchema = z.object({
  status: z
    .enum(['accepted', 'duplicate'])
    .describe('duplicate: the Idempotency-Key was seen; nothing was counted'),
  sli: z.string().describe('the SLI the data was stored for'),
  accepted: z.number().describe('items (lines) accepted'),
  minutes: z.number().describe('distinct minutes the batch added to'),
  idempotencyKey: z.string().optional(),
});

/** Registers the ingestion route in its own scope, whose body parsers keep every body as text. */
export function ingestRoutes(app: FastifyInstance, deps: IngestRouteDeps): void {
  app.register(async (scope) => {
    // Only this scope reads bodies as strings; the rest of the app keeps Fastify's JSON parser.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser([...INGEST_MEDIA_TYPES], { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );

    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/sli/:name/events',
      {
        config: { minRole: 'editor' },
        schema: {
          summary: 'Send SLI data: counts or raw events',
          description:
            'Body: a JSON array or NDJSON of items `{"ts", "good", "total"}`, `{"ts", "bad", "total"}` or, for ' +
            'threshold SLIs, raw values `{"ts", "value"}`; `ts` is ISO 8601 (no offset = UTC) or epoch milliseconds. ' +
            'Content-Type: application/json, application/x-ndjson or text/plain. A bad batch is rejected whole ' +
            '(400, one problem per bad line); the answer is sent after the batch is committed. See docs/ingestion.md.',
          params: z.object({ name: z.string().min(1).describe('SLI name or SLO id') }),
          headers: z
            .object({
              'idempotency-key': z
                .string()
                .optional()
                .describe(
                  '1–200 printable ASCII characters; a repeated key is answered from the first batch',
                ),
            })
            .loose(),
          response: { 200: resultSchema },
        },
      },
      async (request, reply) => {
        const result = await ingestBatch({
          ctx: deps,
          input: {
            name: request.params.name,
            body: typeof request.body === 'string' ? request.body : '',
            contentType: request.headers['content-type'],
            idempotencyKey: request.headers['idempotency-key'],
          },
        });
        if (result.status === 'duplicate') reply.header('idempotent-replayed', 'true');
        return result;
      },
    );
  });
}
