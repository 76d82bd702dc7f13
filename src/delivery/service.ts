/**
 * Delivery use cases over the database: record a deployment (idempotent by id; a later status
 * change updates it), record changes seen before a deployment (pushes), read deployments, and the
 * links between incidents and the deployments that caused them.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CauseInput, Incident, IncidentDeps } from '../incidents/index.js';
import { getIncident, listIncidents } from '../incidents/index.js';
import { type AuditScope, recordAudit } from '../platform/audit/index.js';
import type { Clock } from '../platform/clock.js';
import { type Database, type Db, type DeploymentTable, isUniqueViolation } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import type { ShinraiMetrics } from '../platform/metrics.js';
import type { Catalog } from '../slo/index.js';
import type {
  Change,
  Deployment,
  DeploymentSource,
  DeploymentStatus,
  GateAtDeploy,
  RecordDeploymentInput,
} from './model.js';
import {
  deploymentFromRow,
  deploymentToRow,
  linkChanges,
  pendingChangesUpTo,
  refreshFirstDeploymentsOf,
  shasOf,
  upsertChanges,
  upsertChangesOf,
} from './store.js';

/** The `delivery` settings the use cases read. */
export interface DeliverySettings {
  /** Service → its production environment; `*` for every other service (default `production`). */
  readonly production: Readonly<Record<string, string>>;
  readonly suspectWindowHours: number;
  readonly afterHours: number;
  /** 0: the latest benchmark table. */
  readonly benchmarkYear: number;
}

export interface DeliveryDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly catalog: () => Catalog;
  readonly settings: DeliverySettings;
  /** The zone periods are read in when a request names none (incidents.timeZone). */
  readonly defaultTimeZone: string;
  /** Incidents: causes are read from them (and an incident reference resolves through them). */
  readonly incidents: IncidentDeps;
  /** The gate's answer for a service now, stored with a deployment; undefined when it has none. */
  readonly gate?: ((service: string) => Promise<Omit<GateAtDeploy, 'atMs'> | undefined>) | undefined;
  readonly metrics?: ShinraiMetrics | undefined;
}

/** Most commits one deployment may list (a CI that sends more is cut off with a clear error). */
export const MAX_COMMITS_PER_DEPLOYMENT = 10_000;

export type StoredDeployment = Deployment & { readonly production: boolean; readonly changeCount: number };

export interface RecordOutcome {
  readonly deployment: StoredDeployment;
  readonly outcome: 'created' | 'updated' | 'unchanged';
}

/** The environment that counts as production for a service. */
export function productionEnvironment(
  settings: Pick<DeliverySettings, 'production'>,
  service: string,
): string {
  return settings.production[service] ?? settings.production['*'] ?? 'production';
}

/** Who records deployments; `audit` names the credential for the audit log. */
export interface DeploymentActor {
  readonly name: string;
  readonly source: DeploymentSource;
  readonly audit?: AuditScope | undefined;
}

/**
 * One audit event per call that changed something (a replayed batch changes nothing and records
 * nothing): a backfill of 1,000 deployments is one event listing their ids, not 1,000.
 */
async function auditDeployments(
  trx: Kysely<Database>,
  audit: AuditScope | undefined,
  outcomes: readonly RecordOutcome[],
  atMs: number,
): Promise<void> {
  const changed = outcomes.filter((o) => o.outcome !== 'unchanged');
  if (!audit || !changed.length) return;
  const single = outcomes.length === 1 ? changed[0] : undefined;
  await recordAudit(trx, audit, {
    action: 'deployment.record',
    targetType: single ? 'deployment' : 'deployment-batch',
    targetId: single ? single.deployment.id : `${changed.length} deployments`,
    after: single
      ? {
          outcome: single.outcome,
          service: single.deployment.service,
          environment: single.deployment.environment,
          status: single.deployment.status,
          version: single.deployment.version,
        }
      : {
          created: changed.filter((o) => o.outcome === 'created').map((o) => o.deployment.id),
          updated: changed.filter((o) => o.outcome === 'updated').map((o) => o.deployment.id),
        },
    atMs,
  });
}

/**
 * Records a deployment, or updates the one with the same id (a later status, finish or field).
 * Two requests racing to create the same id (a CI retry while the first is in flight) end as one
 * deployment: the loser of the insert runs again and finds it.
 */
export async function recordDeployment(
  deps: DeliveryDeps,
  input: RecordDeploymentInput,
  actor: DeploymentActor,
): Promise<RecordOutcome> {
  const [outcome] = await recordDeployments(deps, [input], actor, { idsRequired: false });
  return outcome!;
}

/**
 * Records many deployments in one transaction (a backfill, or CI sending a batch): all or none —
 * a bad item rejects the batch, naming its index, and nothing is written. Ids make the batch
 * idempotent: sent again, it changes nothing.
 */
export async function recordDeployments(
  deps: DeliveryDeps,
  inputs: readonly RecordDeploymentInput[],
  actor: DeploymentActor,
  options: { readonly idsRequired?: boolean } = {},
): Promise<RecordOutcome[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      const prepared = await prepareAll(deps, inputs, options);
      const results = await deps.db.kysely.transaction().execute(async (trx) => {
        const nowMs = deps.clock.now();
        let out = await writeNew(trx, deps.db.dialect, prepared, actor, nowMs);
        if (!out) {
          out = [];
          for (const p of prepared) out.push(await write(trx, deps.db.dialect, p, actor, nowMs));
        }
        await auditDeployments(trx, actor.audit, out, nowMs);
        return out;
      });
      for (const [index, result] of results.entries()) countRecorded(deps, prepared[index]!, result);
      return results;
    } catch (error) {
      if (attempt >= 2 || inputs.some((i) => i.id === undefined) || !isUniqueViolation(error)) throw error;
    }
  }
}

/**
 * Checks and prepares every input before the transaction: one read of which ids exist, and the
 * gate asked once per service.
 */
async function prepareAll(
  deps: DeliveryDeps,
  inputs: readonly RecordDeploymentInput[],
  options: { readonly idsRequired?: boolean },
): Promise<Prepared[]> {
  const where = (index: number) => (inputs.length > 1 ? `deployments[${index}]: ` : '');
  for (const [index, input] of inputs.entries()) {
    if (options.idsRequired !== false && input.id === undefined)
      throw new AppError('Invalid', `deployments[${index}]: every deployment of a batch needs an id`, [
        { field: `deployments.${index}.id`, message: 'required in a batch' },
      ]);
    checkInput(input, where(index));
  }
  const ids = inputs.map((input) => input.id ?? randomUUID());
  const known = new Map<string, string>();
  const given = [...new Set(inputs.flatMap((input) => (input.id === undefined ? [] : [input.id])))];
  for (let i = 0; i < given.length; i += 500)
    for (const row of await deps.db.kysely
      .selectFrom('deployments')
      .select(['id', 'status'])
      .where('id', 'in', given.slice(i, i + 500))
      .execute())
      known.set(row.id, row.status);
  // The gate's answer is asked for once, when the deployment is first recorded: later status
  // changes keep the answer of the time it shipped.
  const gates = new Map<string, Promise<GateAtDeploy | undefined>>();
  const gateOf = (service: string) => {
    let answer = gates.get(service);
    if (!answer) {
      answer = deps.gate
        ? deps.gate(service).then(
            (a) => (a ? { ...a, atMs: deps.clock.now() } : undefined),
            () => undefined,
          )
        : Promise.resolve(undefined);
      gates.set(service, answer);
    }
    return answer;
  };
  const prepared: Prepared[] = [];
  for (const [index, input] of inputs.entries()) {
    const id = ids[index]!;
    const previousStatus = known.get(id);
    prepared.push({
      input,
      id,
      production: input.environment === productionEnvironment(deps.settings, input.service),
      fixes: input.fixes?.length ? await resolveIncidents(deps, input.fixes) : [],
      previousStatus,
      gate: previousStatus === undefined ? await gateOf(input.service) : undefined,
    });
  }
  return prepared;
}

/**
 * A batch of deployments that are all new, each listing its commits (or none and no head): written
 * set-wise — one insert each for the changes, the deployments and the links, and one pass over the
 * first deployments — instead of six statements per deployment. Undefined when the batch is not
 * such a batch (an update, a repeated id, a head to resolve), or an id appeared since it was
 * prepared: the caller writes it one by one.
 */
async function writeNew(
  trx: Kysely<Database>,
  dialect: Db['dialect'],
  prepared: readonly Prepared[],
  actor: { readonly name: string; readonly source: DeploymentSource },
  nowMs: number,
): Promise<RecordOutcome[] | undefined> {
  const ids = prepared.map((p) => p.id);
  if (
    prepared.length < 2 ||
    new Set(ids).size !== ids.length ||
    prepared.some(
      (p) => p.previousStatus !== undefined || (!p.input.commits?.length && p.input.headSha !== undefined),
    )
  )
    return undefined;
  for (let i = 0; i < ids.length; i += 500) {
    const existing = await trx
      .selectFrom('deployments')
      .select('id')
      .where('id', 'in', ids.slice(i, i + 500))
      .executeTakeFirst();
    if (existing) return undefined;
  }
  const changes = new Map<string, { service: string; change: Change }>();
  const links: { deployment_id: string; sha: string }[] = [];
  const firstKeys: { service: string; sha: string }[] = [];
  const rows: DeploymentTable[] = [];
  const out: RecordOutcome[] = [];
  for (const p of prepared) {
    const { input } = p;
    // Within one deployment a repeated sha keeps its last listing; across deployments the first
    // recorded wins (as recording them one by one would).
    const own = new Map((input.commits ?? []).map((c) => [c.sha, c]));
    for (const [sha, change] of own) {
      const key = `${input.service}\n${sha}`;
      if (!changes.has(key)) changes.set(key, { service: input.service, change });
      links.push({ deployment_id: p.id, sha });
      if (p.production) firstKeys.push({ service: input.service, sha });
    }
    const next = newDeployment(p, actor, nowMs);
    rows.push(deploymentToRow(next, p.production, own.size));
    out.push({
      deployment: { ...next, production: p.production, changeCount: own.size },
      outcome: 'created',
    });
  }
  await upsertChangesOf(trx, [...changes.values()], nowMs);
  for (let i = 0; i < rows.length; i += 200)
    await trx
      .insertInto('deployments')
      .values(rows.slice(i, i + 200))
      .execute();
  for (let i = 0; i < links.length; i += 500)
    await trx
      .insertInto('deployment_changes')
      .values(links.slice(i, i + 500))
      .execute();
  if (firstKeys.length) await refreshFirstDeploymentsOf(trx, dialect, firstKeys);
  return out;
}

/** A deployment recorded for the first time. */
function newDeployment(p: Prepared, actor: { readonly source: DeploymentSource }, nowMs: number): Deployment {
  const { input } = p;
  return {
    id: p.id,
    service: input.service,
    environment: input.environment,
    ...(input.version === undefined ? {} : { version: input.version }),
    ...(input.headSha === undefined ? {} : { headSha: input.headSha }),
    ...(input.startedAtMs === undefined ? {} : { startedAtMs: input.startedAtMs }),
    finishedAtMs: input.finishedAtMs,
    status: input.status,
    kind: input.kind ?? 'normal',
    ...(input.url === undefined ? {} : { url: input.url }),
    fixes: p.fixes,
    source: actor.source,
    ...(p.gate ? { gate: p.gate } : {}),
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
}

/** What a deployment needs read or asked before its transaction. */
interface Prepared {
  readonly input: RecordDeploymentInput;
  readonly id: string;
  readonly production: boolean;
  readonly fixes: readonly string[];
  /** The stored status before this record, when the deployment was known. */
  readonly previousStatus?: string | undefined;
  readonly gate?: GateAtDeploy | undefined;
}

function checkInput(input: RecordDeploymentInput, where: string): void {
  if (input.startedAtMs !== undefined && input.startedAtMs > input.finishedAtMs)
    throw new AppError('Invalid', `${where}startedAt is after finishedAt`, [
      { field: 'startedAt', message: 'after finishedAt' },
    ]);
  if ((input.commits?.length ?? 0) > MAX_COMMITS_PER_DEPLOYMENT)
    throw new AppError(
      'Invalid',
      `${where}a deployment lists at most ${MAX_COMMITS_PER_DEPLOYMENT} commits`,
      [{ field: 'commits', message: `more than ${MAX_COMMITS_PER_DEPLOYMENT}` }],
    );
}

async function write(
  trx: Kysely<Database>,
  dialect: Db['dialect'],
  p: Prepared,
  actor: { readonly name: string; readonly source: DeploymentSource },
  nowMs: number,
): Promise<RecordOutcome> {
  const { input, id, production, fixes, gate } = p;
  const stored = await trx.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  const before = stored ? deploymentFromRow(stored) : undefined;
  if (before && (before.service !== input.service || before.environment !== input.environment))
    throw new AppError(
      'Conflict',
      `deployment ${JSON.stringify(id)} is of ${before.service} to ${before.environment}; an id names one deployment`,
      [{ field: 'id', message: 'already used for another service or environment' }],
    );
  const next: Deployment = {
    id,
    service: input.service,
    environment: input.environment,
    ...(input.version === undefined ? pick(before, 'version') : { version: input.version }),
    ...(input.headSha === undefined ? pick(before, 'headSha') : { headSha: input.headSha }),
    ...(input.startedAtMs === undefined ? pick(before, 'startedAtMs') : { startedAtMs: input.startedAtMs }),
    finishedAtMs: input.finishedAtMs,
    status: input.status,
    kind: input.kind ?? before?.kind ?? 'normal',
    ...(input.url === undefined ? pick(before, 'url') : { url: input.url }),
    fixes: input.fixes === undefined ? (before?.fixes ?? []) : fixes,
    source: before?.source ?? actor.source,
    ...(before?.gate ? { gate: before.gate } : gate ? { gate } : {}),
    createdAtMs: before?.createdAtMs ?? nowMs,
    updatedAtMs: nowMs,
  };

  let shas: string[] = [];
  if (input.commits?.length) {
    await upsertChanges(trx, input.service, input.commits, nowMs);
    shas = input.commits.map((c) => c.sha);
  } else if (input.headSha !== undefined && !before) {
    shas = await pendingChangesUpTo(trx, input.service, input.headSha);
  }
  const changeCount = shas.length
    ? await linkChanges(trx, id, shas, before === undefined)
    : (before?.changeCount ?? 0);

  if (before && changeCount === before.changeCount && sameDeployment(before, next))
    return { deployment: before, outcome: 'unchanged' };
  const row = deploymentToRow(next, production, changeCount);
  if (before) {
    const { id: _id, created_at: _created, ...changes } = row;
    await trx.updateTable('deployments').set(changes).where('id', '=', id).execute();
  } else {
    await trx.insertInto('deployments').values(row).execute();
  }
  // Which deployment first shipped each change moves when this one ships, fails or is re-timed.
  const affected =
    before && (before.status !== next.status || before.finishedAtMs !== next.finishedAtMs)
      ? await shasOf(trx, id)
      : shas;
  if (production && affected.length)
    await refreshFirstDeploymentsOf(
      trx,
      dialect,
      affected.map((sha) => ({ service: input.service, sha })),
    );
  return { deployment: { ...next, production, changeCount }, outcome: before ? 'updated' : 'created' };
}

/** /metrics: a new deployment, or a recorded one whose status changed. */
function countRecorded(deps: DeliveryDeps, p: Prepared, result: RecordOutcome): void {
  const { input } = p;
  const statusChanged =
    result.outcome === 'created' || (p.previousStatus !== undefined && p.previousStatus !== input.status);
  if (result.outcome === 'unchanged' || !statusChanged) return;
  deps.metrics?.deployments.inc({
    service: input.service,
    environment: input.environment,
    status: input.status,
  });
  if (p.production && input.status === 'rolled_back')
    deps.metrics?.deploymentFailures.inc({ service: input.service, reason: 'rolled_back' });
}

function pick<K extends 'version' | 'headSha' | 'startedAtMs' | 'url'>(
  d: Deployment | undefined,
  key: K,
): Partial<Pick<Deployment, K>> {
  return d && d[key] !== undefined ? ({ [key]: d[key] } as Partial<Pick<Deployment, K>>) : {};
}

function sameDeployment(a: Deployment, b: Deployment): boolean {
  return (
    a.version === b.version &&
    a.headSha === b.headSha &&
    a.startedAtMs === b.startedAtMs &&
    a.finishedAtMs === b.finishedAtMs &&
    a.status === b.status &&
    a.kind === b.kind &&
    a.url === b.url &&
    JSON.stringify(a.fixes) === JSON.stringify(b.fixes)
  );
}

/** Incident references (INC-12) or ids → ids; an unknown one is a clear error. */
async function resolveIncidents(deps: DeliveryDeps, refs: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const { incident } = await getIncident(deps.incidents, ref).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'NotFound')
        throw new AppError('Invalid', `fixes: no incident ${JSON.stringify(ref)}`, [
          { field: 'fixes', message: `no incident ${JSON.stringify(ref)}` },
        ]);
      throw error;
    });
    if (!ids.includes(incident.id)) ids.push(incident.id);
  }
  return ids;
}

/** Changes seen before any deployment (a push to the deployed branch): their commit times. */
export async function recordChanges(
  deps: Pick<DeliveryDeps, 'db' | 'clock'>,
  input: { readonly service: string; readonly changes: readonly Change[] },
): Promise<{ recorded: number }> {
  if (input.changes.length > MAX_COMMITS_PER_DEPLOYMENT)
    throw new AppError('Invalid', `at most ${MAX_COMMITS_PER_DEPLOYMENT} changes at once`);
  if (!input.changes.length) return { recorded: 0 };
  await deps.db.kysely
    .transaction()
    .execute((trx) => upsertChanges(trx, input.service, input.changes, deps.clock.now()));
  return { recorded: new Set(input.changes.map((c) => c.sha)).size };
}

export async function getDeployment(deps: Pick<DeliveryDeps, 'db'>, id: string): Promise<StoredDeployment> {
  const row = await deps.db.kysely
    .selectFrom('deployments')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError('NotFound', `no deployment ${JSON.stringify(id)}`);
  return deploymentFromRow(row);
}

export interface DeploymentFilter {
  readonly services?: readonly string[] | undefined;
  readonly environment?: string | undefined;
  readonly production?: boolean | undefined;
  readonly statuses?: readonly DeploymentStatus[] | undefined;
  readonly fromMs?: number | undefined;
  readonly toMs?: number | undefined;
  /** Keyset cursor: deployments that finished before this one (finishedAtMs, id). */
  readonly before?: { readonly finishedAtMs: number; readonly id: string } | undefined;
  readonly limit: number;
}

/** Deployments, newest first. */
export async function listDeployments(
  deps: Pick<DeliveryDeps, 'db'>,
  filter: DeploymentFilter,
): Promise<StoredDeployment[]> {
  let query = deps.db.kysely.selectFrom('deployments').selectAll();
  if (filter.services) {
    if (!filter.services.length) return [];
    query = query.where('service', 'in', [...filter.services]);
  }
  if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
  if (filter.production !== undefined) query = query.where('production', '=', filter.production ? 1 : 0);
  if (filter.statuses) query = query.where('status', 'in', [...filter.statuses]);
  if (filter.fromMs !== undefined) query = query.where('finished_at', '>=', filter.fromMs);
  if (filter.toMs !== undefined) query = query.where('finished_at', '<', filter.toMs);
  if (filter.before) {
    const { finishedAtMs, id } = filter.before;
    query = query.where((eb) =>
      eb.or([
        eb('finished_at', '<', finishedAtMs),
        eb.and([eb('finished_at', '=', finishedAtMs), eb('id', '<', id)]),
      ]),
    );
  }
  const rows = await query.orderBy('finished_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(deploymentFromRow);
}

/** The next production deployment (reaching production) of the service after each given one. */
export async function nextProductionDeployments(
  deps: Pick<DeliveryDeps, 'db'>,
  deployments: readonly StoredDeployment[],
): Promise<Map<string, StoredDeployment>> {
  const out = new Map<string, StoredDeployment>();
  for (const d of deployments) {
    if (!d.production) continue;
    const row = await deps.db.kysely
      .selectFrom('deployments')
      .selectAll()
      .where('service', '=', d.service)
      .where('production', '=', 1)
      .where('status', 'in', ['success', 'rolled_back'])
      .where((eb) =>
        eb.or([
          eb('finished_at', '>', d.finishedAtMs),
          eb.and([eb('finished_at', '=', d.finishedAtMs), eb('id', '>', d.id)]),
        ]),
      )
      .orderBy('finished_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (row) out.set(d.id, deploymentFromRow(row));
  }
  return out;
}

/** Services of a team: those whose spec (the service's, or one of its SLOs') names the team as owner. */
export function servicesOfTeam(catalog: Catalog, team: string): string[] {
  const services = new Set<string>();
  for (const s of catalog.services) if (s.shinrai?.owner === team) services.add(s.name);
  for (const slo of catalog.slos) if (slo.shinrai.owner === team) services.add(slo.service);
  return [...services].sort();
}

/** A confirmed cause resolved to the deployment it names (a commit: the first production deployment that shipped it). */
export interface ResolvedCause {
  readonly incident: Incident;
  readonly deploymentId: string;
}

/** Incidents with a confirmed cause, each resolved to a deployment (causes naming unknown commits are left out). */
export async function confirmedCauses(deps: DeliveryDeps): Promise<ResolvedCause[]> {
  const incidents = (await listIncidents(deps.incidents, {})).filter(
    (i) => i.causedBy && i.status !== 'cancelled' && !i.drill,
  );
  const out: ResolvedCause[] = [];
  for (const incident of incidents) {
    const cause = incident.causedBy!;
    if (cause.deployment !== undefined) out.push({ incident, deploymentId: cause.deployment });
    else if (cause.commit !== undefined) {
      const row = await deps.db.kysely
        .selectFrom('changes')
        .select('first_deployment_id')
        .where('sha', '=', cause.commit)
        .where('first_deployment_id', 'is not', null)
        .orderBy('first_deployed_at')
        .executeTakeFirst();
      if (row?.first_deployment_id) out.push({ incident, deploymentId: row.first_deployment_id });
    }
  }
  return out;
}

/**
 * Checks a cause before an incident stores it: the deployment must exist; a commit must be a
 * recorded change (an abbreviated sha is completed when it names exactly one).
 */
export async function checkCause(deps: Pick<DeliveryDeps, 'db'>, cause: CauseInput): Promise<CauseInput> {
  if ('deployment' in cause) {
    await getDeployment(deps, cause.deployment).catch((error: unknown) => {
      throw error instanceof AppError && error.code === 'NotFound'
        ? new AppError('Invalid', `causedBy: no deployment ${JSON.stringify(cause.deployment)}`, [
            { field: 'causedBy.deployment', message: 'no such deployment' },
          ])
        : error;
    });
    return cause;
  }
  const sha = cause.commit.toLowerCase();
  // Shas are stored in lower-case hex: a prefix is the range [sha, sha + 'z'], which the sha index answers.
  const rows = await deps.db.kysely
    .selectFrom('changes')
    .select('sha')
    .where('sha', '>=', sha)
    .where('sha', '<=', `${sha}z`)
    .groupBy('sha')
    .limit(2)
    .execute();
  if (rows.length === 0)
    throw new AppError('Invalid', `causedBy: no recorded change ${JSON.stringify(cause.commit)}`, [
      { field: 'causedBy.commit', message: 'no recorded change with this sha' },
    ]);
  if (rows.length > 1)
    throw new AppError('Invalid', `causedBy: ${JSON.stringify(cause.commit)} names more than one change`, [
      { field: 'causedBy.commit', message: 'ambiguous: give more of the sha' },
    ]);
  return { commit: rows[0]!.sha };
}

/**
 * The suggested cause of an incident: the last production deployment of an affected service that
 * finished before the impact started (or detection, or declaration), within the suspect window.
 */
export async function suspects(deps: DeliveryDeps, ref: string): Promise<StoredDeployment[]> {
  const { incident } = await getIncident(deps.incidents, ref);
  const startMs =
    incident.milestones.impactStartedAt ?? incident.milestones.detectedAt ?? incident.createdAtMs;
  const services = [...incident.services];
  for (const slo of deps.catalog().slos) if (incident.slos.includes(slo.id)) services.push(slo.service);
  const out: StoredDeployment[] = [];
  for (const service of [...new Set(services)].sort()) {
    const [last] = await listDeployments(deps, {
      services: [service],
      production: true,
      statuses: ['success', 'rolled_back'],
      fromMs: startMs - deps.settings.suspectWindowHours * 3_600_000,
      toMs: startMs + 1,
      limit: 1,
    });
    if (last) out.push(last);
  }
  return out.sort((a, b) => b.finishedAtMs - a.finishedAtMs);
}

/** Counts a newly confirmed cause on /metrics when it names a production deployment (or a commit one shipped). */
export async function countConfirmedCause(
  deps: Pick<DeliveryDeps, 'db'>,
  metrics: ShinraiMetrics,
  cause: { readonly deployment?: string | undefined; readonly commit?: string | undefined },
): Promise<void> {
  let query = deps.db.kysely.selectFrom('deployments').select('service').where('production', '=', 1);
  if (cause.deployment !== undefined) query = query.where('id', '=', cause.deployment);
  else if (cause.commit !== undefined)
    query = query.where('id', 'in', (eb) =>
      eb
        .selectFrom('changes')
        .select('first_deployment_id')
        .where('sha', '=', cause.commit!)
        .where('first_deployment_id', 'is not', null)
        .$narrowType<{ first_deployment_id: string }>(),
    );
  else return;
  const row = await query.limit(1).executeTakeFirst();
  if (row) metrics.deploymentFailures.inc({ service: row.service, reason: 'incident' });
}
