/**
 * `shinrai deploy record`: tells a running server that a service was deployed, for CI. In a git
 * checkout it sends the commits the deployment shipped (`git log prev..sha`, committer dates), and
 * an Idempotency-Key derived from service, environment, sha and status so a retried CI job counts
 * once. `recordFromFlags` is shared with `shinrai gate --record`.
 */

import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { DEPLOYMENT_KINDS, DEPLOYMENT_STATUSES } from '../../delivery/index.js';
import { callWithHeaders, type ServerFlags, withServerFlags } from '../api-client.js';
import { type GitRunner, gitCommits, MAX_COMMITS, runGit, SHA } from '../git-log.js';
import { CliError, type CliIo } from '../io.js';

/** The statuses and kinds the API takes (delivery's model), checked here before sending. */
export const STATUSES = DEPLOYMENT_STATUSES;
export const KINDS = DEPLOYMENT_KINDS;

/** The deployment as the server answers it (DeploymentView). */
export interface DeploymentView {
  id: string;
  service: string;
  environment: string;
  production: boolean;
  version?: string;
  headSha?: string;
  startedAt?: string;
  finishedAt: string;
  status: string;
  kind: string;
  url?: string;
  fixes: string[];
  source: string;
  changes: number;
  gate?: { decision: string; summary: string; at: string };
  createdAt: string;
  updatedAt: string;
}

/** The flags that describe a deployment, as commander hands them over. */
export interface DeploymentFlags {
  service?: string;
  env: string;
  sha?: string;
  version?: string;
  status: string;
  kind: string;
  startedAt?: string;
  finishedAt?: string;
  url?: string;
  id?: string;
  fixes?: string;
  prev?: string;
  /** false with --no-git. */
  git: boolean;
}

/** The id a retried CI job sends again: the same service, environment, commit and status. */
export function idempotencyKey(service: string, environment: string, sha: string, status: string): string {
  const digest = createHash('sha256')
    .update([service, environment, sha.toLowerCase(), status].join('\0'))
    .digest('hex');
  return `cli-${digest.slice(0, 32)}`;
}

/** An ISO 8601 time from a flag, or exit 2 naming the flag. */
export function parseTimeFlag(name: string, value: string): string {
  const parsed = DateTime.fromISO(value, { zone: 'utc', setZone: true });
  if (!parsed.isValid)
    throw new CliError(`${name} "${value}" is not an ISO 8601 time (e.g. 2026-11-23T09:00:00Z)`, 2);
  return parsed.toUTC().toISO()!;
}

/** `INC-12,INC-13` → ['INC-12', 'INC-13']. */
export function parseFixes(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const refs = value
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (refs.length === 0 || refs.length > 50 || refs.some((r) => /\s/.test(r) || r.length > 100))
    throw new CliError(
      `--fixes "${value}" is not a comma-separated list of at most 50 incidents (e.g. INC-12,INC-13)`,
      2,
    );
  return refs;
}

function oneOf(name: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value))
    throw new CliError(`${name} must be ${allowed.join(', ')}, not "${value}"`, 2);
}

/** Adds the flags that describe a deployment (shared by `deploy record` and `gate --record`). */
export function withDeploymentFlags(command: Command, options: { statusAndKind: boolean }): Command {
  command
    .option('--env <name>', 'the environment deployed to', 'production')
    .option('--sha <commit>', 'the commit deployed (default: HEAD of the checkout)')
    .option('--version <version>', 'the version or tag deployed');
  if (options.statusAndKind)
    command
      .option('--status <status>', STATUSES.join(', '), 'success')
      .option('--kind <kind>', `${KINDS.join(', ')} (hotfix and rollback are unplanned work)`, 'normal')
      .option('--started-at <time>', 'when the deployment started (ISO 8601)')
      .option('--finished-at <time>', 'when it finished (ISO 8601; default now)')
      .option('--id <id>', 'the deployment id (default: derived from service, env, sha and status)')
      .option('--fixes <refs>', 'incidents this deployment fixes, comma-separated (INC-12,INC-13)');
  return command
    .option('--url <url>', 'a link to the CI run or release')
    .option('--prev <commit>', "the previous deployment's commit (default: asked of the server)")
    .option('--no-git', 'do not read commits from the git checkout');
}

/** The flags checked and parsed: exit 2 with one line on the first bad one. */
export function checkDeploymentFlags(
  flags: DeploymentFlags,
  io: CliIo,
): { service: string; environment: string; startedAt?: string; finishedAt: string; fixes?: string[] } {
  if (!flags.service) throw new CliError('give --service <name> (the service deployed)', 2);
  if (flags.service.trim() === '' || flags.service.length > 200)
    throw new CliError('--service must be 1 to 200 characters', 2);
  if (flags.env.trim() === '' || flags.env.length > 200)
    throw new CliError('--env must name an environment (1 to 200 characters)', 2);
  oneOf('--status', flags.status, STATUSES);
  oneOf('--kind', flags.kind, KINDS);
  for (const [name, value] of [
    ['--sha', flags.sha],
    ['--prev', flags.prev],
  ] as const)
    if (value !== undefined && !SHA.test(value))
      throw new CliError(`${name} "${value}" is not a commit hash (4 to 64 hex digits)`, 2);
  if (flags.id !== undefined && !/^[\x21-\x7e]{1,300}$/.test(flags.id))
    throw new CliError(`--id "${flags.id}" must be 1 to 300 printable ASCII characters without spaces`, 2);
  if (flags.version !== undefined && (flags.version.trim() === '' || flags.version.length > 200))
    throw new CliError('--version must be 1 to 200 characters', 2);
  if (flags.url !== undefined && !/^https?:\/\/\S+$/i.test(flags.url))
    throw new CliError(`--url "${flags.url}" is not an http(s) link`, 2);
  const startedAt =
    flags.startedAt === undefined ? undefined : parseTimeFlag('--started-at', flags.startedAt);
  const finishedAt =
    flags.finishedAt === undefined
      ? io.now().toISOString()
      : parseTimeFlag('--finished-at', flags.finishedAt);
  if (startedAt !== undefined && Date.parse(startedAt) > Date.parse(finishedAt))
    throw new CliError(`--started-at ${startedAt} is after the finish ${finishedAt}`, 2);
  const fixes = parseFixes(flags.fixes);
  return {
    service: flags.service,
    environment: flags.env,
    finishedAt,
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(fixes === undefined ? {} : { fixes }),
  };
}

/**
 * Records the deployment the flags describe: checks them, reads the commits when in a checkout,
 * POSTs with an Idempotency-Key. Notes about the commits go to stderr.
 */
export async function recordFromFlags(
  flags: ServerFlags & DeploymentFlags,
  io: CliIo,
  source: 'cli' | 'gate' = 'cli',
  git: GitRunner = runGit,
): Promise<{ deployment: DeploymentView; replayed: boolean; created: boolean }> {
  const { service, environment, startedAt, finishedAt, fixes } = checkDeploymentFlags(flags, io);

  let headSha = flags.sha?.toLowerCase();
  let commits: Array<{ sha: string; timestamp: string; author?: string; message?: string }> | undefined;
  if (flags.git) {
    const read = await gitCommits(
      io.cwd,
      headSha ?? 'HEAD',
      async (head) => {
        if (flags.prev !== undefined) return flags.prev;
        const ownId = flags.id ?? idempotencyKey(service, environment, head, flags.status);
        return previousDeployedSha(flags, service, environment, head, ownId);
      },
      git,
    );
    if (read.ok) {
      headSha = read.headSha;
      commits = read.commits;
      for (const note of read.notes) io.err(`note: ${note}`);
      if (read.truncated)
        io.err(
          `note: more than ${MAX_COMMITS.toLocaleString('en-US')} commits since the previous deployment; sending the newest ${MAX_COMMITS.toLocaleString('en-US')}`,
        );
    } else {
      if (headSha === undefined)
        throw new CliError(`give --sha <commit> (the commit deployed): ${read.reason}`, 2);
      io.err(
        `note: recording without commits: ${read.reason} (the server counts the commits push webhooks reported up to ${headSha}, if any)`,
      );
    }
  } else if (headSha === undefined) throw new CliError('give --sha <commit> (the commit deployed)', 2);

  const id = flags.id ?? idempotencyKey(service, environment, headSha!, flags.status);
  const body = {
    ...(flags.id === undefined ? {} : { id: flags.id }),
    service,
    environment,
    ...(flags.version === undefined ? {} : { version: flags.version }),
    headSha,
    ...(commits === undefined ? {} : { commits }),
    ...(startedAt === undefined ? {} : { startedAt }),
    finishedAt,
    status: flags.status,
    kind: flags.kind,
    ...(flags.url === undefined ? {} : { url: flags.url }),
    ...(fixes === undefined ? {} : { fixes }),
  };
  const answer = await callWithHeaders(flags, 'POST', '/api/v1/deployments', body, {
    'idempotency-key': id,
    'x-shinrai-source': source,
  });
  return {
    deployment: answer.body as DeploymentView,
    replayed: answer.headers.get('idempotent-replayed') === 'true',
    created: answer.status === 201,
  };
}

/** The headSha of the service's last successful deployment to the environment, other than this one. */
async function previousDeployedSha(
  flags: ServerFlags,
  service: string,
  environment: string,
  headSha: string,
  ownId: string,
): Promise<string | undefined> {
  const query = new URLSearchParams({ service, environment, limit: '20', impact: 'false' });
  const answer = (await callWithHeaders(flags, 'GET', `/api/v1/deployments?${query}`)).body as {
    deployments?: DeploymentView[];
  };
  // A retried job finds its own earlier record first: skip it, or the range would be empty.
  const previous = (answer.deployments ?? []).find(
    (d) =>
      d.status === 'success' &&
      d.id !== ownId &&
      typeof d.headSha === 'string' &&
      SHA.test(d.headSha) &&
      d.headSha.toLowerCase() !== headSha,
  );
  return previous?.headSha;
}

/** One line for people: what was recorded and how many changes it shipped. */
export function recordedLine(result: {
  deployment: DeploymentView;
  replayed: boolean;
  created: boolean;
}): string {
  const d = result.deployment;
  const changes = `${d.changes} change${d.changes === 1 ? '' : 's'}`;
  const verb = result.replayed ? 'already recorded' : result.created ? 'recorded' : 'updated';
  return `${verb} deployment ${d.id} of ${d.service} to ${d.environment}: ${changes}`;
}

export function registerDeploy(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const deploy = program.command('deploy').description('deployments, for the delivery (DORA) metrics');

  withServerFlags(
    withDeploymentFlags(
      deploy
        .command('record')
        .description('record a deployment (run it in CI after deploying, in the git checkout)')
        .option('--service <name>', 'the service deployed'),
      { statusAndKind: true },
    ),
  )
    .addHelpText(
      'after',
      `
In a git checkout it sends the commits \`git log <prev>..<sha>\` (at most ${MAX_COMMITS.toLocaleString('en-US')}, newest first),
each with its committer date; <prev> is --prev, else the commit of the service's last successful
deployment to --env, else <sha> alone. A retry with the same service, env, sha and status counts once.

Example (GitHub Actions step after deploying; checkout with fetch-depth: 0):
  - run: npx shinrai deploy record --service checkout --env production --sha \${{ github.sha }}
    env: { SHINRAI_URL: https://shinrai.internal, SHINRAI_TOKEN: \${{ secrets.SHINRAI_TOKEN }} }`,
    )
    .action(async (flags: ServerFlags & DeploymentFlags) => {
      const result = await recordFromFlags(flags, io);
      io.out(flags.json ? JSON.stringify(result.deployment, null, 2) : recordedLine(result));
      setExit(0);
    });
}
