/**
 * GET /api/v1/whoami — the caller's token name and role (null for an anonymous reader), so the web
 * UI can hide the controls a viewer may not use instead of offering writes that answer 403.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../auth/index.js';
import type { App } from './server.js';

export function whoamiRoutes() {
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/whoami',
      {
        schema: {
          tags: ['auth'],
          summary: "The caller's token name and role; both null for an anonymous reader (auth.anonymousRead)",
          response: {
            200: z.object({
              name: z.string().nullable(),
              role: z.enum(ROLES).nullable().describe('viewer reads; editor and admin may also write'),
            }),
          },
        },
      },
      async (request) => ({
        name: request.principal?.name ?? null,
        role: request.principal?.role ?? null,
      }),
    );
  };
}
