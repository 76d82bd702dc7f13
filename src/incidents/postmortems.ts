/** Postmortem use cases over the database: draft from incidents, list, read, edit and move status. */
import { createHash, randomUUID } from 'node:crypto';
import { type AuditScope, recordAudit } from '../platform/audit/index.js';
import type { PostmortemTable } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import type { Catalog } from '../slo/index.js';
import { listActionItems } from './action-item-service.js';
import { type PolicyBreach, policyBreaches, publishBlockers } from './action-items.js';
import { budgetImpact } from './impact.js';
import type { WriteUpOptions } from './language.js';
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

/** A postmortem as the audit log keeps it: its markdown (up to 500 kB) as a digest and length. */
function audited(p: Postmortem): Record<string, unknown> {
  const digest = createHash('sha256').update(p.markdown).digest('hex').slice(0, 16);
  return {
    status: p.status,
    incidents: p.incidents,
    markdown: `sha256:${digest} (${p.markdown.length} chars)`,
  };
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

/** Drafts a postmortem covering the incidents (the first names it), in the language asked for. */
export async function createPostmortem(
  deps: IncidentDeps,
  catalog: Catalog,
  refs: readonly string[],
  options: WriteUpOptions = {},
  audit?: AuditScope,
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
    markdown: draftPostmortem(covered, options),
    created_at: nowMs,
    updated_at: nowMs,
  };
  const created = fromRow(row);
  await deps.db.kysely.transaction().execute(async (trx) => {
    await trx.insertInto('postmortems').values(row).execute();
    await recordAudit(trx, audit, {
      action: 'postmortem.create',
      targetType: 'postmortem',
      targetId: row.id,
      after: audited(created),
      atMs: nowMs,
    });
  });
  return created;
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

/** The budget-policy breaches of the incidents a postmortem covers (consumed > 20% of a budget). */
export async function postmortemBreaches(
  deps: IncidentDeps,
  catalog: Catalog,
  postmortem: Pick<Postmortem, 'incidents'>,
): Promise<PolicyBreach[]> {
  const breaches: PolicyBreach[] = [];
  for (const ref of postmortem.incidents) {
    const { incident } = await getIncident(deps, ref);
    breaches.push(...policyBreaches(incident.reference, await budgetImpact(deps, catalog, incident)));
  }
  return breaches;
}

/**
 * Edits the markdown or moves the status; a published postmortem is final. Publishing needs a P0
 * action item when a covered incident consumed more than 20% of a budget.
 */
export async function changePostmortem(
  deps: IncidentDeps,
  catalog: Catalog,
  id: string,
  change: { markdown?: string | undefined; status?: PostmortemStatus | undefined },
  audit?: AuditScope,
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
  if (change.status === 'published' && current.status !== 'published') {
    const blockers = publishBlockers(
      await postmortemBreaches(deps, catalog, current),
      await listActionItems(deps, { postmortemId: id }),
    );
    if (blockers.length)
      throw new AppError(
        'Conflict',
        `the error-budget policy needs a P0 action item before publishing: ${blockers.join('; ')}`,
        blockers.map((message) => ({ field: 'actionItems', message })),
      );
  }
  const next: Postmortem = {
    ...current,
    markdown: change.markdown ?? current.markdown,
    status: change.status ?? current.status,
    updatedAtMs: deps.clock.now(),
  };
  await deps.db.kysely.transaction().execute(async (trx) => {
    await trx
      .updateTable('postmortems')
      .set({ markdown: next.markdown, status: next.status, updated_at: next.updatedAtMs })
      .where('id', '=', id)
      .execute();
    await recordAudit(trx, audit, {
      action: 'postmortem.update',
      targetType: 'postmortem',
      targetId: id,
      before: audited(current),
      after: audited(next),
      atMs: next.updatedAtMs,
    });
  });
  return next;
}
