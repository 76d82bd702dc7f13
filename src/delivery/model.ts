/**
 * Deployments and changes (pure): the records the delivery metrics are computed from. Nothing here
 * does I/O; storage, webhooks and the API build on these types.
 */

/** How a deployment ended. `failure`: the deployment job failed and nothing reached production. */
export const DEPLOYMENT_STATUSES = ['success', 'failure', 'rolled_back'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** `hotfix` and `rollback` are unplanned work (rework); `normal` is planned. */
export const DEPLOYMENT_KINDS = ['normal', 'hotfix', 'rollback'] as const;
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

/** Where a deployment was recorded from. */
export const DEPLOYMENT_SOURCES = ['api', 'cli', 'gate', 'github', 'gitlab', 'webhook'] as const;
export type DeploymentSource = (typeof DEPLOYMENT_SOURCES)[number];

/** A change (commit) that a deployment shipped. */
export interface Change {
  readonly sha: string;
  readonly committedAtMs: number;
  readonly author?: string | undefined;
  readonly message?: string | undefined;
}

/** The gate's answer for the service when the deployment was recorded. */
export interface GateAtDeploy {
  readonly decision: 'allow' | 'warn' | 'deny';
  readonly summary: string;
  readonly atMs: number;
}

export interface Deployment {
  readonly id: string;
  readonly service: string;
  readonly environment: string;
  readonly version?: string | undefined;
  readonly headSha?: string | undefined;
  readonly startedAtMs?: number | undefined;
  readonly finishedAtMs: number;
  readonly status: DeploymentStatus;
  readonly kind: DeploymentKind;
  readonly url?: string | undefined;
  /** Incidents (ids) this deployment was shipped to fix: makes it rework and can end their recovery. */
  readonly fixes: readonly string[];
  readonly source: DeploymentSource;
  readonly gate?: GateAtDeploy | undefined;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** What the delivery metrics need of a production deployment. */
export interface DeploymentFact {
  readonly id: string;
  readonly service: string;
  readonly finishedAtMs: number;
  readonly status: DeploymentStatus;
  readonly kind: DeploymentKind;
  /** Incident ids this deployment fixes. */
  readonly fixes: readonly string[];
}

/** A confirmed link: the incident was caused by the deployment (directly, or by a commit it shipped first). */
export interface CauseLink {
  readonly incidentId: string;
  readonly deploymentId: string;
  /** Impact start of the incident (or detection, or creation when neither is set). */
  readonly impactStartedAtMs: number;
  /** Resolution time of the incident; undefined while it is open. */
  readonly resolvedAtMs?: number | undefined;
}

/** A change with the finish of the first successful production deployment that contained it. */
export interface DeployedChange {
  /**
   * Service and sha are not read by the metrics (lead time is per change, over the scope); the
   * metrics service leaves them out: reading millions of them costs more than the rest of the row.
   */
  readonly service?: string | undefined;
  readonly sha?: string | undefined;
  readonly committedAtMs: number;
  readonly firstDeployedAtMs: number;
}

/** A deployment as CI, the CLI or a webhook reports it (what `recordDeployment` takes). */
export interface RecordDeploymentInput {
  readonly id?: string | undefined;
  readonly service: string;
  readonly environment: string;
  readonly version?: string | undefined;
  readonly headSha?: string | undefined;
  readonly commits?: readonly Change[] | undefined;
  readonly startedAtMs?: number | undefined;
  readonly finishedAtMs: number;
  readonly status: DeploymentStatus;
  readonly kind?: DeploymentKind | undefined;
  readonly url?: string | undefined;
  /** Incidents (references such as INC-12, or ids) the deployment was shipped to fix. */
  readonly fixes?: readonly string[] | undefined;
}
