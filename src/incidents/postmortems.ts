/** Postmortem use cases over the database: draft from incidents, list, read, edit and move status. */
import { randomUUID } from 'node:crypto';
import type { PostmortemTable } from '../platform/db/schema.js';
import { AppError } from '../platform/errors.js';
import type { Catalog } from '../slo/model.js';
import { budgetImpact } from './impact.js';
import {
  type CoveredIncident,
  canMovePostmortem,
  draftPostmortem,
  type PostmortemStatus,
} from './postmortem.js';
import { getIncident, type IncidentDeps } from './service.js';

export interface Postmortem {
  readonly id: string;
  readonly status: PostmortemStatus;
  /** References of the incidents it covers. */
  readonly incidents: readonly string[];
  readonly markdown: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

function fromRow(row: PostmortemTable): Postmortem {
  return {
    id: row.id,
    status: row.status as PostmortemStatus,
    incidents: JSON.parse(row.incidents) as string[],
    markdown: row.markdown,
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

/** Drafts a postmortem covering the incidents (the first names it). */
export async function createPostmortem(
  deps: IncidentDeps,
  catalog: Catalog,
  refs: readonly string[],
): Promise<Postmortem> {
  const covered: CoveredIncident[] = [];
  for (const ref of refs) {
    const { incident, timeline } = await getIncident(deps, ref);
    if (covered.some((c) => c.incident.id === incident.id)) continue;
    covered.push({ incident, timeline, impact: await budgetImpact(deps, catalog, incident) });
  }
  const nowMs = deps.clock.now();
  const row: PostmortemTable = {
    id: randomUUID(),
    status: 'draft',
    incidents: JSON.stringify(covered.map((c) => c.incident.reference)),
    markdown: draftPostmortem(covered),
    created_at: nowMs,
    updated_at: nowMs,
  };
  await deps.db.kysely.insertInto('postmortems').values(row).execute();
  return fromRow(row);
}

export async function listPostmortems(deps: IncidentDeps): Promise<Postmortem[]> {
  const rows = await deps.db.kysely
    .selectFrom('postmortems')
    .selectAll()
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(fromRow);
}

export async function getPostmortem(deps: IncidentDeps, id: string): Promise<Postmortem> {
  const row = await deps.db.kysely
    .selectFrom('postmortems')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError('NotFound', `no postmortem with id ${JSON.stringify(id)}`);
  return fromRow(row);
}

/** Edits the markdown or moves the status; a published postmortem is final. */
export async function changePostmortem(
  deps: IncidentDeps,
  id: string,
  change: { markdown?: string | undefined; status?: PostmortemStatus | undefined },
): Promise<Postmortem> {
  const current = await getPostmortem(deps, id);
  if (current.status === 'published' && (change.markdown !== undefined || change.status !== undefined))
    throw new AppError('Conflict', 'a published postmortem is final; write a follow-up instead');
  if (
    change.status !== undefined &&
    change.status !== current.status &&
    !canMovePostmortem(current.status, change.status)
  )
    throw new AppError('Conflict', `a postmortem in ${current.status} cannot move to ${change.status}`, [
      { field: 'status', message: `not allowed from ${current.status}` },
    ]);
  const next: Postmortem = {
    ...current,
    markdown: change.markdown ?? current.markdown,
    status: change.status ?? current.status,
    updatedAtMs: deps.clock.now(),
  };
  await deps.db.kysely
    .updateTable('postmortems')
    .set({ markdown: next.markdown, status: next.status, updated_at: next.updatedAtMs })
    .where('id', '=', id)
    .execute();
  return next;
}
