/**
 * GET /api/v1/whoami — the caller's token name and role (null for an anonymous reader), so the web
 * UI can hide the controls a viewer may not use instead of offering writes that answer 403. A
 * person signed in by SSO also learns their teams and the CSRF token their page's writes carry.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../auth/index.js';
import type { App, TeamWrites } from './server.js';

export function whoamiRoutes(teamWrites?: TeamWrites) {
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
              kind: z
                .enum(['token', 'session'])
                .optional()
                .describe('an API token, or a browser session opened by single sign-on'),
              email: z.string().optional().describe('sessions: the verified e-mail address'),
              teams: z
                .array(z.string())
                .optional()
                .describe(
                  "the teams whose services the caller may change: a session's from the provider's groups, a token's as created (absent or empty: every team)",
                ),
              readOnly: z
                .object({ services: z.array(z.string()), slos: z.array(z.string()) })
                .optional()
                .describe(
                  'editors with teams: the services and SLOs other teams own, which the caller may read but not change (docs/api.md#teams)',
                ),
              csrfToken: z
                .string()
                .optional()
                .describe('sessions: send it as X-CSRF-Token on every write made with the session cookie'),
            }),
          },
        },
      },
      async (request, reply) => {
        const principal = request.principal;
        if (!principal) return { name: null, role: null };
        const scoped =
          teamWrites && principal.role === 'editor' && principal.teams?.length
            ? { readOnly: teamWrites.readOnly(principal) }
            : {};
        if (principal.kind !== 'session')
          return {
            name: principal.name,
            role: principal.role,
            kind: 'token' as const,
            ...(principal.teams ? { teams: [...principal.teams] } : {}),
            ...scoped,
          };
        // The CSRF token is per session: never kept by a cache.
        reply.header('cache-control', 'no-store');
        return {
          name: principal.name,
          role: principal.role,
          kind: 'session' as const,
          ...(principal.email ? { email: principal.email } : {}),
          teams: [...(principal.teams ?? [])],
          ...scoped,
          csrfToken: request.csrfToken,
        };
      },
    );
  };
}
