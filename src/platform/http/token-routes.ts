/**
 * API tokens managed over HTTP (admins; the Admin page of the web UI): the same use cases as
 * `shinrai token create|list|revoke` (platform/auth/tokens.ts), each write audited in its own
 * transaction. The clear token is in the creation's answer only; the list never shows a hash.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/index.js';
import { type AuthDeps, createToken, listTokens, ROLES, revokeToken } from '../auth/index.js';
import { AppError } from '../errors.js';
import type { App } from './server.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const nameRule = 'is 1–63 letters, digits, ".", "_" or "-"';

const tokenInfo = z.object({
  id: z.string().describe('identifies the token without being a secret (the audit log names it)'),
  name: z.string(),
  role: z.enum(ROLES),
  teams: z
    .array(z.string())
    .readonly()
    .optional()
    .describe("the teams whose services the token may change; absent: every team's"),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable().describe('to the minute; null: never used'),
  revokedAt: z.string().nullable(),
});

export function tokenRoutes(deps: AuthDeps) {
  return (app: App) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.get(
      '/api/v1/auth/tokens',
      {
        config: { minRole: 'admin' },
        schema: {
          tags: ['auth'],
          summary: 'API tokens, revoked ones too (never their secrets or hashes)',
          response: { 200: z.array(tokenInfo) },
        },
      },
      async (_request, reply) => {
        // Who holds which role changes with every create and revoke: no cache keeps it.
        reply.header('cache-control', 'no-store');
        return listTokens(deps);
      },
    );
    typed.post(
      '/api/v1/auth/tokens',
      {
        config: { minRole: 'admin' },
        schema: {
          tags: ['auth'],
          summary: 'Creates an API token; the answer is the only place its secret is ever shown',
          body: z.strictObject({
            name: z.string().regex(NAME, `name ${nameRule}`),
            role: z.enum(ROLES),
            teams: z
              .array(z.string().regex(NAME, `a team ${nameRule}`))
              .max(100)
              .optional()
              .describe("scope the token to these teams' services (absent or empty: every team)"),
          }),
          response: {
            201: tokenInfo.extend({
              token: z.string().describe('the clear token, `shr_…`: store it now, it is not shown again'),
            }),
          },
        },
      },
      async (request, reply) => {
        const { name, role, teams } = request.body;
        const created = await createToken(deps, { name, role, teams }, actorOf(request));
        reply.header('cache-control', 'no-store').status(201);
        return { ...created.info, token: created.token };
      },
    );
    typed.delete(
      '/api/v1/auth/tokens/:name',
      {
        config: { minRole: 'admin' },
        schema: {
          tags: ['auth'],
          summary: 'Revokes a token by name (or id) at once; the token making the request is refused (409)',
          params: z.object({ name: z.string().min(1).max(63) }),
          response: { 204: z.null().describe('revoked') },
        },
      },
      async (request, reply) => {
        const target = request.params.name;
        // Revoking the credential of the request itself would lock its holder out mid-click,
        // perhaps the last admin: that takes another admin token or the CLI on purpose.
        const own = request.principal?.kind === 'token' ? request.principal.tokenId : undefined;
        if (own) {
          const named = (await listTokens(deps)).filter(
            (t) => t.revokedAt === null && (t.name === target || t.id === target),
          );
          if (named.some((t) => t.id === own))
            throw new AppError(
              'Conflict',
              `token "${target}" is the one this request is made with; revoke it with another admin token or \`shinrai token revoke ${target}\``,
            );
        }
        await revokeToken(deps, target, actorOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
