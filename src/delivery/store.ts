/**
 * Deployments and changes in the database: rows ↔ records, and the writes a recorded deployment
 * makes (its row, its changes, the first production deployment of each change) in one transaction.
 */
import { type Kysely, sql } from 'kysely';
import type { ChangeTable, Database, Db, DeploymentTable } from '../platform/db/index.js';
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
  await upsertChangesOf(
    trx,
    [...unique.values()].map((change) => ({ service, change })),
    recordedAtMs,
  );
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

export async function shasOf(trx: Kysely<Database>, deploymentId: string): Promise<string[]> {
  const rows = await trx
    .selectFrom('deployment_changes')
    .select('sha')
    .where('deployment_id', '=', deploymentId)
    .execute();
  return rows.map((r) => r.sha);
}

/** A change of a service, by key. */
export interface ChangeKey {
  readonly service: string;
  readonly sha: string;
}

/**
 * Sets each change's first successful production deployment from the deployments that contain it,
 * recomputed for the given changes (so a status change of a deployment moves it either way), of
 * one service or many (a batch): one read of the deployments containing the changes and one
 * UPDATE … FROM (VALUES …) per INSERT_CHUNK changes, touching only the rows whose first
 * deployment differs. From the changes to their deployments (deployment_changes_by_sha, then the
 * primary key): a CROSS JOIN keeps that order on SQLite, whose planner, without statistics, would
 * otherwise walk every production deployment of the service.
 */
export async function refreshFirstDeploymentsOf(
  trx: Kysely<Database>,
  dialect: Db['dialect'],
  keys: readonly ChangeKey[],
): Promise<void> {
  const unique = [...new Map(keys.map((k) => [`${k.service}\n${k.sha}`, k])).values()];
  for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
    const chunk = unique.slice(i, i + INSERT_CHUNK);
    const services = [...new Set(chunk.map((k) => k.service))];
    const firsts = await trx
      .selectFrom('deployment_changes as dc')
      .crossJoin('deployments as d')
      .whereRef('d.id', '=', 'dc.deployment_id')
      .select(['dc.sha', 'd.service', 'd.id', 'd.finished_at'])
      .where('dc.sha', 'in', [...new Set(chunk.map((k) => k.sha))])
      .where('d.service', 'in', services)
      .where('d.production', '=', 1)
      .where('d.status', '=', 'success')
      .orderBy('d.finished_at')
      .orderBy('d.id')
      .execute();
    const first = new Map<string, { id: string; atMs: number }>();
    for (const row of firsts) {
      const key = `${row.service}\n${row.sha}`;
      if (!first.has(key)) first.set(key, { id: row.id, atMs: Number(row.finished_at) });
    }
    const values = chunk.map((k) => {
      const want = first.get(`${k.service}\n${k.sha}`);
      return sql`(${k.service}, ${k.sha}, ${want?.id ?? null}, ${want?.atMs ?? null})`;
    });
    if (dialect === 'postgres')
      await sql`UPDATE changes AS c SET first_deployment_id = v.id, first_deployed_at = v.at::bigint
        FROM (VALUES ${sql.join(values)}) AS v(service, sha, id, at)
        WHERE c.service = v.service AND c.sha = v.sha
          AND (c.first_deployment_id IS DISTINCT FROM v.id OR c.first_deployed_at IS DISTINCT FROM v.at::bigint)`.execute(
        trx,
      );
    else
      await sql`UPDATE changes SET first_deployment_id = v.column3, first_deployed_at = v.column4
        FROM (VALUES ${sql.join(values)}) AS v
        WHERE changes.service = v.column1 AND changes.sha = v.column2
          AND (changes.first_deployment_id IS NOT v.column3 OR changes.first_deployed_at IS NOT v.column4)`.execute(
        trx,
      );
  }
}

/** upsertChanges for changes of many services (already one per service and sha). */
export async function upsertChangesOf(
  trx: Kysely<Database>,
  changes: readonly { readonly service: string; readonly change: Change }[],
  recordedAtMs: number,
): Promise<void> {
  const rows: ChangeTable[] = changes.map(({ service, change: c }) => ({
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
