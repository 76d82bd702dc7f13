import type { Command } from 'commander';
import { cliActor } from '../../platform/audit/index.js';
import { createToken, listTokens, ROLES, type Role, revokeToken } from '../../platform/auth/index.js';
import { type DbFlags, withDatabaseFlags, withDatabase as withDb } from '../config-flags.js';
import { table } from '../format.js';
import { CliError, type CliIo } from '../io.js';

export function registerToken(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const token = program.command('token').description('manage API tokens (stored hashed; shown once)');

  withDatabaseFlags(
    token
      .command('create')
      .description('create an API token and print it once')
      .requiredOption('--name <name>', 'who or what uses it, e.g. ci or grafana')
      .option('--role <role>', `one of ${ROLES.join(', ')}`, 'viewer')
      .option(
        '--team <team>',
        "scope the token to a team: it may change only that team's services (repeat for several; default every team)",
        (team: string, teams: string[]) => [...teams, team],
        [] as string[],
      ),
  ).action(async (options: DbFlags & { name: string; role: string; team: string[] }) => {
    if (!ROLES.includes(options.role as Role))
      throw new CliError(`--role must be one of ${ROLES.join(', ')}`, 2);
    // The first token of a new installation may come before the server ever ran: create the database.
    const created = await withDb(
      options,
      (deps) =>
        createToken(
          deps,
          { name: options.name, role: options.role as Role, teams: options.team },
          cliActor(),
        ),
      { create: true },
    );
    io.out(created.token);
    const scope = created.info.teams ? ` for team ${created.info.teams.join(', ')}` : '';
    io.err(
      `created ${created.info.role} token "${created.info.name}"${scope}; it is not shown again — store it now`,
    );
    setExit(0);
  });

  withDatabaseFlags(
    token.command('list').description('list tokens (never their secrets)').option('--json', 'JSON'),
  ).action(async (options: DbFlags & { json?: boolean }) => {
    const tokens = await withDb(options, (deps) => listTokens(deps));
    if (options.json) io.out(JSON.stringify(tokens, null, 2));
    else
      io.out(
        table(
          ['NAME', 'ROLE', 'ID', 'CREATED', 'LAST USED', 'REVOKED', 'TEAMS'],
          tokens.map((t) => [
            t.name,
            t.role,
            t.id,
            t.createdAt,
            t.lastUsedAt ?? '—',
            t.revokedAt ?? '',
            t.teams?.join(',') ?? 'all',
          ]),
        ),
      );
    setExit(0);
  });

  withDatabaseFlags(
    token.command('revoke').description('revoke a token by name or id').argument('<name>'),
  ).action(async (name: string, options: DbFlags) => {
    await withDb(options, (deps) => revokeToken(deps, name, cliActor()));
    io.err(`revoked token "${name}"`);
    setExit(0);
  });
}
