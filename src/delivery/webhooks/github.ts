/**
 * GitHub webhook events (pure) → delivery actions: `deployment_status` (a deployment's final state),
 * `push` (commits on the default branch), `pull_request` closed and merged (the merge commit), `ping`.
 */
import type { Change, DeploymentStatus } from '../model.js';
import {
  act,
  fail,
  firstLine,
  fixesOf,
  httpUrl,
  type Interpretation,
  idText,
  ignore,
  type Json,
  kindOf,
  LIMITS,
  obj,
  type RepositoryServices,
  serviceOfRepository,
  sha,
  str,
  timeMs,
} from './payload.js';

/** GitHub deployment states that end a deployment, and ours for them. */
const FINAL_STATES: Readonly<Record<string, DeploymentStatus>> = {
  success: 'success',
  failure: 'failure',
  error: 'failure',
};

/** States that say nothing final yet: answered 202, recorded when the final state arrives. */
const PENDING_STATES = new Set(['pending', 'queued', 'in_progress', 'waiting']);

/** The deployment id we store for GitHub's deployment: stable across redeliveries and status changes. */
export function githubDeploymentId(repository: string, deploymentId: string): string {
  return `github:${repository}:${deploymentId}`;
}

/** Reads one GitHub event (`X-GitHub-Event`) with its parsed JSON body. */
export function interpretGithub(
  event: string,
  body: unknown,
  repositories: RepositoryServices,
): Interpretation {
  const payload = obj(body);
  if (!payload) return fail('the body is not a JSON object');
  switch (event) {
    case 'ping':
      return act({ kind: 'ping' });
    case 'deployment_status':
      return deploymentStatus(payload, repositories);
    case 'push':
      return push(payload, repositories);
    case 'pull_request':
      return pullRequest(payload, repositories);
    default:
      return ignore(`GitHub event "${event.slice(0, 60)}" is not one delivery reads`);
  }
}

function repositoryOf(payload: Json): { fullName?: string; name?: string; defaultBranch?: string } {
  const repository = obj(payload.repository);
  return {
    ...optional('fullName', str(repository?.full_name)),
    ...optional('name', str(repository?.name)),
    ...optional('defaultBranch', str(repository?.default_branch)),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** A deployment's `payload` is any JSON the deployer chose; a string holding JSON is read too. */
function deploymentPayload(value: unknown): Json {
  if (typeof value === 'string' && value.trim().startsWith('{') && value.length <= 100_000) {
    try {
      return obj(JSON.parse(value)) ?? {};
    } catch {
      return {};
    }
  }
  return obj(value) ?? {};
}

function deploymentStatus(payload: Json, repositories: RepositoryServices): Interpretation {
  const status = obj(payload.deployment_status);
  const deployment = obj(payload.deployment);
  const state = str(status?.state);
  if (!status || !deployment || !state)
    return fail('a deployment_status event needs deployment_status.state and deployment');
  if (state === 'inactive') return ignore('inactive: a later deployment superseded this one');
  if (PENDING_STATES.has(state)) return ignore(`${state}: not finished yet`);
  const ours = FINAL_STATES[state];
  if (!ours) return ignore(`deployment state "${state.slice(0, 40)}" is not one delivery reads`);

  const repo = repositoryOf(payload);
  const deploymentId = idText(deployment.id);
  const finishedAtMs = timeMs(status.created_at) ?? timeMs(status.updated_at);
  const environment = str(status.environment) ?? str(deployment.environment);
  const extra = deploymentPayload(deployment.payload);
  const service = str(extra.service) ?? serviceOfRepository(repositories, repo.fullName, repo.name);
  if (!repo.fullName || !deploymentId)
    return fail('a deployment_status event needs repository.full_name and deployment.id');
  if (finishedAtMs === undefined) return fail('deployment_status.created_at is not a timestamp');
  if (!environment) return fail('the deployment names no environment');
  if (!service) return fail('the deployment names no service and its repository no name');
  const startedAtMs = timeMs(deployment.created_at);
  return act({
    kind: 'deployment',
    deployment: {
      id: githubDeploymentId(repo.fullName, deploymentId),
      service,
      environment,
      version: str(extra.version) ?? str(deployment.ref),
      headSha: sha(deployment.sha),
      startedAtMs: startedAtMs !== undefined && startedAtMs <= finishedAtMs ? startedAtMs : undefined,
      finishedAtMs,
      status: ours,
      kind: kindOf(extra.kind),
      url: httpUrl(status.log_url) ?? httpUrl(status.target_url) ?? httpUrl(status.environment_url),
      fixes: fixesOf(extra.fixes),
    },
  });
}

function push(payload: Json, repositories: RepositoryServices): Interpretation {
  const repo = repositoryOf(payload);
  const ref = str(payload.ref, 500);
  if (!ref) return fail('a push event needs ref');
  if (payload.deleted === true) return ignore(`${ref} was deleted`);
  if (!repo.defaultBranch) return fail('a push event needs repository.default_branch');
  if (ref !== `refs/heads/${repo.defaultBranch}`)
    return ignore(`a push to ${ref}, not to the default branch ${repo.defaultBranch}`);
  const service = serviceOfRepository(repositories, repo.fullName, repo.name);
  if (!service) return fail('the repository has no name');
  if (!Array.isArray(payload.commits)) return fail('a push event needs commits');
  const changes: Change[] = [];
  for (const item of payload.commits.slice(0, LIMITS.commits)) {
    const commit = obj(item);
    const id = sha(commit?.id);
    const committedAtMs = timeMs(commit?.timestamp);
    // A commit without a sha or time says nothing about lead time; the others still count.
    if (!commit || !id || committedAtMs === undefined) continue;
    const author = obj(commit.author);
    changes.push({
      sha: id,
      committedAtMs,
      author: str(author?.username, LIMITS.authorChars) ?? str(author?.name, LIMITS.authorChars),
      message: firstLine(commit.message),
    });
  }
  if (!changes.length) return ignore('the push carries no commits');
  return act({ kind: 'changes', service, changes });
}

function pullRequest(payload: Json, repositories: RepositoryServices): Interpretation {
  const pr = obj(payload.pull_request);
  if (!pr) return fail('a pull_request event needs pull_request');
  if (payload.action !== 'closed' || pr.merged !== true)
    return ignore('only a merged pull request is a change');
  const repo = repositoryOf(payload);
  const base = str(obj(pr.base)?.ref);
  if (repo.defaultBranch && base && base !== repo.defaultBranch)
    return ignore(`merged into ${base}, not the default branch ${repo.defaultBranch}`);
  const mergeSha = sha(pr.merge_commit_sha);
  const mergedAtMs = timeMs(pr.merged_at);
  if (!mergeSha || mergedAtMs === undefined)
    return fail('a merged pull request needs merge_commit_sha and merged_at');
  const service = serviceOfRepository(repositories, repo.fullName, repo.name);
  if (!service) return fail('the repository has no name');
  return act({
    kind: 'changes',
    service,
    changes: [
      {
        sha: mergeSha,
        committedAtMs: mergedAtMs,
        author:
          str(obj(pr.merged_by)?.login, LIMITS.authorChars) ?? str(obj(pr.user)?.login, LIMITS.authorChars),
        message: firstLine(pr.title),
      },
    ],
  });
}
