/**
 * GET /api/v1/teams — the teams Shinrai knows (the config's `teams.*` and the specs' owners) with
 * the services each owns, for the Admin page's team pickers and the read-only notices.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ownersOf } from '../auth/index.js';
import type { Config } from '../config.js';
import type { App, TeamWrites } from './server.js';

export function teamRoutes(configured: Config['teams'], teamWrites: TeamWrites | undefined) {
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/teams',
      {
        schema: {
          tags: ['auth'],
          summary: "Teams and the services each owns (the config's teams.*, the specs' shinrai.dev/owner)",
          response: {
            200: z.array(z.object({ team: z.string(), services: z.array(z.string()) })),
          },
        },
      },
      async () => {
        const services = new Map<string, Set<string>>(
          Object.keys(configured).map((team) => [team, new Set<string>()]),
        );
        // owners() already merges both sources: invert service → teams into team → services.
        // A server without team checks (a test's) still lists the configured teams' services.
        const owners = teamWrites?.owners() ?? ownersOf({ slos: [] }, configured);
        for (const [service, teams] of owners)
          for (const team of teams) services.set(team, (services.get(team) ?? new Set()).add(service));
        return [...services]
          .map(([team, owned]) => ({ team, services: [...owned].sort() }))
          .sort((a, b) => a.team.localeCompare(b.team));
      },
    );
  };
}
