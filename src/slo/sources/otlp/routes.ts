/**
 * POST /v1/metrics (OTLP/HTTP) — thin: read the body as bytes, call the receiver, answer the
 * ExportMetricsServiceResponse in the request's encoding after commit. Errors of protobuf requests
 * are a google.rpc.Status in protobuf, as OTLP/HTTP asks; JSON requests get problem+json.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, ERROR_STATUS } from '../../../platform/errors.js';
import { encodeResponseProtobuf, encodeStatus, RPC_CODE, responseJson } from './proto.js';
import {
  isUnreachable,
  OTLP_MEDIA_TYPES,
  type OtlpContext,
  type OtlpEncoding,
  receiveMetrics,
} from './service.js';

export interface OtlpRouteDeps extends OtlpContext {
  /** URL path of the receiver, /v1/metrics by default. */
  readonly path: string;
}

/** Seconds an OTLP client is asked to wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 5;

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return OTLP_MEDIA_TYPES[media];
}

/** Registers the receiver in its own scope, whose body parser keeps the body as bytes. */
export function otlpRoutes(app: FastifyInstance, deps: OtlpRouteDeps): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(Object.keys(OTLP_MEDIA_TYPES), { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    scope.setErrorHandler((caught: FastifyError | AppError, request, reply) => {
      // The database down (the token check reads it too) is retryable for the sender, not a 500.
      const error =
        !(caught instanceof AppError) && isUnreachable(caught)
          ? new AppError('Unavailable', 'the database is unreachable; retry the export later')
          : caught;
      const status = error instanceof AppError ? error.status : (error.statusCode ?? 500);
      // Exports refused for their body (400, 413, 415) or because the database is busy or away (503).
      if (status === ERROR_STATUS.Unavailable || status === ERROR_STATUS.RateLimited)
        deps.metrics.otlpExports.inc({ outcome: 'unavailable' });
      else if (status >= 400 && status < 500 && status !== 401 && status !== 403)
        deps.metrics.otlpExports.inc({ outcome: 'invalid' });
      if (status === ERROR_STATUS.Unavailable || status === ERROR_STATUS.RateLimited)
        reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      // Anything unexpected, and every error of a JSON request, is the server's problem+json.
      if (status >= 500 && !(error instanceof AppError)) throw error;
      if (encodingOf(request.headers['content-type']) !== 'protobuf') throw error;
      const code =
        status === 401
          ? RPC_CODE.UNAUTHENTICATED
          : status === 403
            ? RPC_CODE.PERMISSION_DENIED
            : status === 503 || status === 429
              ? RPC_CODE.UNAVAILABLE
              : status >= 500
                ? RPC_CODE.INTERNAL
                : RPC_CODE.INVALID_ARGUMENT;
      return reply
        .status(status)
        .type('application/x-protobuf')
        .send(Buffer.from(encodeStatus(code, error.message)));
    });

    scope.post(
      deps.path,
      {
        bodyLimit: deps.limits.maxBodyBytes,
        // Bodies are decompressed here, with the limit applied to the decompressed size.
        decompress: false,
        config: { minRole: 'editor' },
        schema: {
          summary: 'OTLP/HTTP metrics receiver (ExportMetricsServiceRequest)',
          description:
            'Body: an OTLP ExportMetricsServiceRequest as application/x-protobuf or application/json, optionally ' +
            'Content-Encoding: gzip. Monotonic sums and histograms of metrics named by OpenTelemetry SLIs feed their ' +
            'minutes; the answer (an ExportMetricsServiceResponse in the request encoding) is sent after commit and ' +
            'counts the points that map to no SLI or are invalid in partial_success. See docs/sources.md.',
          tags: ['ingestion'],
        },
      },
      async (request, reply) => {
        const encoding = encodingOf(request.headers['content-type']);
        if (!encoding || !Buffer.isBuffer(request.body))
          throw new AppError('UnsupportedMediaType', 'send application/x-protobuf or application/json');
        const result = await receiveMetrics({
          ctx: deps,
          input: {
            body: request.body,
            encoding,
            contentEncoding: request.headers['content-encoding'],
            assertMayWrite: request.assertMayWrite,
          },
        });
        if (encoding === 'protobuf')
          return reply
            .type('application/x-protobuf')
            .send(Buffer.from(encodeResponseProtobuf(result.partial)));
        return reply.type('application/json').send(responseJson(result.partial));
      },
    );
  });
}
