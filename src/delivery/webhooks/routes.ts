/**
 * Deployment webhook routes: POST /api/v1/integrations/github, /gitlab and /deployments. Public (no
 * API token): each is authenticated by its sender's signature over the raw body, kept as bytes by a
 * parser of this scope. The logic is in receive.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../platform/errors.js';
import type { App } from '../../platform/http/index.js';
import {
  receiveGeneric,
  receiveGithub,
  receiveGitlab,
  type WebhookAnswer,
  type WebhookDeps,
  type WebhookRequest,
} from './receive.js';

const answerSchema = z.object({
  result: z
    .enum(['recorded', 'duplicate', 'ignored', 'pong'])
    .describe(
      'recorded; duplicate: a redelivery of an event already acted on; ignored: accepted, nothing to record',
    ),
  event: z.string(),
  deployment: z.string().optional().describe('the id of the deployment recorded'),
  outcome: z.enum(['created', 'updated', 'unchanged']).optional(),
  service: z.string().optional(),
  changes: z.number().optional().describe('changes (commits) in the event'),
  reason: z.string().optional().describe('why the event was ignored'),
});

const ROUTES = [
  {
    path: '/api/v1/integrations/github',
    receive: receiveGithub,
    summary:
      'GitHub webhook (deployment_status, push, pull_request merged, ping), signed with X-Hub-Signature-256; 404 unless delivery.github.secret is set',
  },
  {
    path: '/api/v1/integrations/gitlab',
    receive: receiveGitlab,
    summary:
      'GitLab webhook (Deployment Hook, Push Hook, Merge Request Hook), authenticated by X-Gitlab-Token; 404 unless delivery.gitlab.token is set',
  },
  {
    path: '/api/v1/integrations/deployments',
    receive: receiveGeneric,
    summary:
      'Generic deployment webhook: JSON with the fields of POST /api/v1/deployments, or a CloudEvent 1.0 (structured or binary); Authorization: Bearer <delivery.webhook.token> or X-Shinrai-Signature-256',
  },
] as const;

export function deliveryWebhookRoutes(deps: WebhookDeps) {
  return async (app: App) => {
    await app.register(async (scope: FastifyInstance) => {
      // Signatures are over the bytes sent: every body reaches the handler as a Buffer, unparsed.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      for (const route of ROUTES)
        scope.withTypeProvider<ZodTypeProvider>().post(
          route.path,
          {
            config: { minRole: 'public' },
            schema: {
              tags: ['delivery'],
              summary: route.summary,
              security: [],
              response: { 200: answerSchema, 202: answerSchema },
            },
          },
          async (request, reply) => {
            try {
              return answer(reply, await route.receive(deps, webhookRequest(request)));
            } catch (error) {
              // Said once in the log (the sender only sees its delivery fail): a wrong secret on
              // either side, or someone else calling the URL.
              if (error instanceof AppError && error.code === 'Unauthorized')
                request.log.warn(
                  { route: route.path },
                  `delivery webhook: refused an unsigned request (${error.message})`,
                );
              throw error;
            }
          },
        );
    });
  };
}

function webhookRequest(request: FastifyRequest): WebhookRequest {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const contentType = header('content-type');
  return {
    header,
    mediaType: contentType?.split(';', 1)[0]?.trim().toLowerCase() || undefined,
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
  };
}

function answer(reply: FastifyReply, result: WebhookAnswer) {
  return reply.status(result.status).send(result.body);
}
