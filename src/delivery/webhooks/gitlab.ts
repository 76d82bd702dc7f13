/**
 * GitLab webhook events (pure) → delivery actions: `Deployment Hook` (a deployment's final status),
 * `Push Hook` (commits on the default branch), `Merge Request Hook` with action merge (the merge commit).
 */
import type { Change, DeploymentStatus } from '../model.js';
import {
  act,
  fail,
  firstLine,
  httpUrl,
  type Interpretation,
  idText,
  ignore,
  type Json,
  LIMITS,
  obj,
  type RepositoryServices,
  serviceOfRepository,
  sha,
  str,
  timeMs,
} from './payload.js';

/** GitLab deployment statuses that end a deployment, and ours for them. */
const FINAL_STATUSES: Readonly<Record<string, DeploymentStatus>> = {
  success: 'success',
  failed: 'failure',
};

/** The deployment id we store for GitLab's deployment: stable across redeliveries and status changes. */
export function gitlabDeploymentId(project: string, deploymentId: string): string {
  return `gitlab:${project}:${deploymentId}`;
}

/** Reads one GitLab event (`X-Gitlab-Event`) with its parsed JSON body. */
export function interpretGitlab(
  event: string,
  body: unknown,
  repositories: RepositoryServices,
): Interpretation {
  const payload = obj(body);
  if (!payload) return fail('the body is not a JSON object');
  switch (event) {
    case 'Deployment Hook':
      return deployment(payload, repositories);
    case 'Push Hook':
      return push(payload, repositories);
    case 'Merge Request Hook':
      return mergeRequest(payload, repositories);
    default:
      return ignore(`GitLab event "${event.slice(0, 60)}" is not one delivery reads`);
  }
}

function projectOf(payload: Json): { path?: string; name?: string; defaultBranch?: string } {
  const project = obj(payload.project);
  const path = str(project?.path_with_namespace, 500);
  const name = str(project?.name);
  const defaultBranch = str(project?.default_branch);
  return {
    ...(path ? { path } : {}),
    ...(name ? { name } : {}),
    ...(defaultBranch ? { defaultBranch } : {}),
  };
}

/** The full sha of the deployed commit: the end of `commit_url`, else the short sha. */
function deployedSha(payload: Json): string | undefined {
  const url = str(payload.commit_url, LIMITS.urlChars);
  const fromUrl = url ? sha(url.split('/').at(-1)) : undefined;
  return fromUrl ?? sha(payload.short_sha);
}

function deployment(payload: Json, repositories: RepositoryServices): Interpretation {
  const status = str(payload.status);
  if (!status) return fail('a Deployment Hook needs status');
  const ours = FINAL_STATUSES[status];
  if (status === 'canceled') return ignore('canceled: the deployment did not finish');
  if (!ours) return ignore(`${status.slice(0, 40)}: not finished yet`);
  const project = projectOf(payload);
  const deploymentId = idText(payload.deployment_id);
  const environment = str(payload.environment);
  const finishedAtMs = timeMs(payload.status_changed_at);
  const service = serviceOfRepository(repositories, project.path, project.name);
  if (!project.path || !deploymentId)
    return fail('a Deployment Hook needs project.path_with_namespace and deployment_id');
  if (!environment) return fail('the deployment names no environment');
  if (finishedAtMs === undefined) return fail('status_changed_at is not a timestamp');
  if (!service) return fail('the project has no name');
  return act({
    kind: 'deployment',
    deployment: {
      id: gitlabDeploymentId(project.path, deploymentId),
      service,
      environment,
      headSha: deployedSha(payload),
      finishedAtMs,
      status: ours,
      url: httpUrl(payload.deployable_url) ?? httpUrl(payload.environment_external_url),
    },
  });
}

const NO_COMMIT = /^0+$/;

function push(payload: Json, repositories: RepositoryServices): Interpretation {
  const project = projectOf(payload);
  const ref = str(payload.ref, 500);
  if (!ref) return fail('a Push Hook needs ref');
  if (typeof payload.after === 'string' && NO_COMMIT.test(payload.after)) return ignore(`${ref} was deleted`);
  if (!project.defaultBranch) return fail('a Push Hook needs project.default_branch');
  if (ref !== `refs/heads/${project.defaultBranch}`)
    return ignore(`a push to ${ref}, not to the default branch ${project.defaultBranch}`);
  const service = serviceOfRepository(repositories, project.path, project.name);
  if (!service) return fail('the project has no name');
  if (!Array.isArray(payload.commits)) return fail('a Push Hook needs commits');
  const changes: Change[] = [];
  for (const item of payload.commits.slice(0, LIMITS.commits)) {
    const commit = obj(item);
    const id = sha(commit?.id);
    const committedAtMs = timeMs(commit?.timestamp);
    if (!commit || !id || committedAtMs === undefined) continue;
    changes.push({
      sha: id,
      committedAtMs,
      author: str(obj(commit.author)?.name, LIMITS.authorChars),
      message: firstLine(commit.title) ?? firstLine(commit.message),
    });
  }
  if (!changes.length) return ignore('the push carries no commits');
  return act({ kind: 'changes', service, changes });
}

function mergeRequest(payload: Json, repositories: RepositoryServices): Interpretation {
  const attributes = obj(payload.object_attributes);
  if (!attributes) return fail('a Merge Request Hook needs object_attributes');
  if (attributes.action !== 'merge') return ignore('only a merged merge request is a change');
  const project = projectOf(payload);
  const target = str(attributes.target_branch);
  if (project.defaultBranch && target && target !== project.defaultBranch)
    return ignore(`merged into ${target}, not the default branch ${project.defaultBranch}`);
  // A fast-forward merge makes no merge commit: the source branch's last commit is what landed.
  const mergeSha = sha(attributes.merge_commit_sha) ?? sha(obj(attributes.last_commit)?.id);
  const mergedAtMs = timeMs(attributes.merged_at) ?? timeMs(attributes.updated_at);
  if (!mergeSha || mergedAtMs === undefined)
    return fail('a merged merge request needs merge_commit_sha (or last_commit.id) and updated_at');
  const service = serviceOfRepository(repositories, project.path, project.name);
  if (!service) return fail('the project has no name');
  const user = obj(payload.user);
  return act({
    kind: 'changes',
    service,
    changes: [
      {
        sha: mergeSha,
        committedAtMs: mergedAtMs,
        author: str(user?.username, LIMITS.authorChars) ?? str(user?.name, LIMITS.authorChars),
        message: firstLine(attributes.title),
      },
    ],
  });
}
