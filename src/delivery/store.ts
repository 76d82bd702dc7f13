/**
 * Deployments and changes in the database: rows ↔ records, and the writes a recorded deployment
 * makes (its row, its changes, the first production deployment of each change) in one transaction.
 */
import type { Kysely } from 'kysely';
import type { ChangeTable, Database, DeploymentTable } from '../platform/db/index.js';
import type {
  Change,
  Deployment,
  DeploymentKind,
  DeploymentSource,
  DeploymentStatus,
  GateAtDeploy,
} from './model.js';

/** Rows per insert statement: SQLite allows 32,766 bound values, PostgreSQL 65,535. */
const INSERT_CHUNK = 500;

export function deploymentFromRow(
  row: DeploymentTable,
): Deployment & { production: boolean; changeCount: number } {
  return {
    id: row.id,
    service: row.service,
    environment: row.environment,
    production: Number(row.production) === 1,
    ...(row.version === null ? {} : { version: row.version }),
    ...(row.head_sha === null ? {} : { headSha: row.head_sha }),
    ...(row.started_at === null ? {} : { startedAtMs: Number(row.started_at) }),
    finishedAtMs: Number(row.finished_at),
    status: row.status as DeploymentStatus,
    kind: row.kind as DeploymentKind,
    ...(row.url === null ? {} : { url: row.url }),
    fixes: JSON.parse(row.fixes) as string[],
    source: row.source as DeploymentSource,
    ...(row.gate === null ? {} : { gate: JSON.parse(row.gate) as GateAtDeploy }),
    changeCount: Number(row.change_count),
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

export function deploymentToRow(d: Deployment, production: boolean, changeCount: number): DeploymentTable {
  return {
    id: d.id,
    service: d.service,
    environment: d.environment,
    production: production ? 1 : 0,
    status: d.status,
    kind: d.kind,
    version: d.version ?? null,
    head_sha: d.headSha ?? null,
    url: d.url ?? null,
    source: d.source,
    started_at: d.startedAtMs ?? null,
    finished_at: d.finishedAtMs,
    fixes: JSON.stringify(d.fixes),
    gate: d.gate ? JSON.stringify(d.gate) : null,
    change_count: changeCount,
    created_at: d.createdAtMs,
    updated_at: d.updatedAtMs,
  };
}

/**
 * Records changes of a service; a change already known keeps what was recorded first (its commit
 * time does not move when a later push or deployment repeats it).
 */
export async function upsertChanges(
  trx: Kysely<Database>,
  service: string,
  changes: readonly Change[],
  recordedAtMs: number,
): Promise<void> {
  const unique = new Map(changes.map((c) => [c.sha, c]));
  const rows: ChangeTable[] = [...unique.values()].map((c) => ({
    service,
    sha: c.sha,
    committed_at: c.committedAtMs,
    author: c.author ?? null,
    message: c.message ?? null,
    recorded_at: recordedAtMs,
    first_deployment_id: null,
    first_deployed_at: null,
  }));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK)
    await trx
      .insertInto('changes')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.columns(['service', 'sha']).doNothing())
      .execute();
}

/**
 * Links the changes to the deployment (idempotent) and returns how many it now has. `isNew`: the
 * deployment is being inserted in this transaction, so it had no links and the count is the
 * distinct shas (one statement less per recorded deployment).
 */
export async function linkChanges(
  trx: Kysely<Database>,
  deploymentId: string,
  shas: readonly string[],
  isNew = false,
): Promise<number> {
  const unique = [...new Set(shas)];
  for (let i = 0; i < unique.length; i += INSERT_CHUNK)
    await trx
      .insertInto('deployment_changes')
      .values(unique.slice(i, i + INSERT_CHUNK).map((sha) => ({ deployment_id: deploymentId, sha })))
      .onConflict((oc) => oc.columns(['deployment_id', 'sha']).doNothing())
      .execute();
  if (isNew) return unique.length;
  const row = await trx
    .selectFrom('deployment_changes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('deployment_id', '=', deploymentId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The changes a deployment of `headSha` shipped when it listed none: the changes of the service
 * recorded (by pushes) up to and including `headSha` that no successful production deployment has
 * shipped yet. Nothing when `headSha` was never recorded.
 */
export async function pendingChangesUpTo(
  trx: Kysely<Database>,
  service: string,
  headSha: string,
): Promise<string[]> {
  const head = await trx
    .selectFrom('changes')
    .select(['recorded_at', 'committed_at'])
    .where('service', '=', service)
    .where('sha', '=', headSha)
    .executeTakeFirst();
  if (!head) return [];
  const rows = await trx
    .selectFrom('changes')
    .select('sha')
    .where('service', '=', service)
    .where('first_deployment_id', 'is', null)
    .where('recorded_at', '<=', Number(head.recorded_at))
    .where('committed_at', '<=', Number(head.committed_at))
    .execute();
  return [...new Set([headSha, ...rows.map((r) => r.sha)])];
}

/**
 * Sets each change's first successful production deployment from the deployments that contain it
 * (recomputed for the given changes, so a status change of a deployment moves it either way).
 */
export async function refreshFirstDeployments(
  trx: Kysely<Database>,
  service: string,
  shas: readonly string[],
): Promise<void> {
  const unique = [...new Set(shas)];
  for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
    const chunk = unique.slice(i, i + INSERT_CHUNK);
    // From the changes to their deployments (deployment_changes_by_sha, then the primary key): a
    // CROSS JOIN keeps that order on SQLite, whose planner, without statistics, would otherwise walk
    // every production deployment of the service; PostgreSQL plans it like the inner join it is.
    const firsts = await trx
      .selectFrom('deployment_changes as dc')
      .crossJoin('deployments as d')
      .whereRef('d.id', '=', 'dc.deployment_id')
      .select(['dc.sha', 'd.id', 'd.finished_at'])
      .where('dc.sha', 'in', chunk)
      .where('d.service', '=', service)
      .where('d.production', '=', 1)
      .where('d.status', '=', 'success')
      .orderBy('d.finished_at')
      .orderBy('d.id')
      .execute();
    const first = new Map<string, { id: string; finishedAtMs: number }>();
    for (const row of firsts)
      if (!first.has(row.sha)) first.set(row.sha, { id: row.id, finishedAtMs: Number(row.finished_at) });
    // One update per distinct answer (usually one: every change of a new deployment is first
    // shipped by it), touching only the rows whose first deployment differs from it.
    const groups = new Map<string, { id: string | null; atMs: number | null; shas: string[] }>();
    for (const sha of chunk) {
      const want = first.get(sha);
      const key = want ? `${want.finishedAtMs} ${want.id}` : '';
      const group = groups.get(key);
      if (group) group.shas.push(sha);
      else groups.set(key, { id: want?.id ?? null, atMs: want?.finishedAtMs ?? null, shas: [sha] });
    }
    for (const { id, atMs, shas: groupShas } of groups.values())
      await trx
        .updateTable('changes')
        .set({ first_deployment_id: id, first_deployed_at: atMs })
        .where('service', '=', service)
        .where('sha', 'in', groupShas)
        .where((eb) =>
          id === null || atMs === null
            ? eb.or([eb('first_deployment_id', 'is not', null), eb('first_deployed_at', 'is not', null)])
            : eb.or([
                eb('first_deployment_id', 'is', null),
                eb('first_deployment_id', '<>', id),
                eb('first_deployed_at', 'is', null),
                eb('first_deployed_at', '<>', atMs),
              ]),
        )
        .execute();
  }
}

export async function shasOf(trx: Kysely<Database>, deploymentId: string): Promise<string[]> {
  const rows = await trx
    .selectFrom('deployment_changes')
    .select('sha')
    .where('deployment_id', '=', deploymentId)
    .execute();
  return rows.map((r) => r.sha);
}
