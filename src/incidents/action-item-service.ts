/** Action-item use cases over the database: add to a postmortem, change, and list with filters. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type AuditScope, recordAudit } from '../platform/audit/index.js';
import type { ActionItemTable, Database } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import {
  type ActionItem,
  type ActionItemCategory,
  type ActionItemPriority,
  type ActionItemStatus,
  isOverdue,
  type RiskEffect,
} from './action-items.js';
import type { IncidentDeps } from './service.js';

export interface ActionItemInput {
  readonly title: string;
  readonly category: ActionItemCategory;
  readonly priority: ActionItemPriority;
  readonly owner?: string | undefined;
  readonly dueDate?: string | undefined;
  readonly status?: ActionItemStatus | undefined;
  readonly ticketUrl?: string | undefined;
  readonly risk?: string | undefined;
  readonly riskEffect?: RiskEffect | undefined;
}

/** Fields to change; null clears an optional one. */
export interface ActionItemChange {
  readonly title?: string | undefined;
  readonly category?: ActionItemCategory | undefined;
  readonly priority?: ActionItemPriority | undefined;
  readonly owner?: string | null | undefined;
  readonly dueDate?: string | null | undefined;
  readonly status?: ActionItemStatus | undefined;
  readonly ticketUrl?: string | null | undefined;
  readonly risk?: string | null | undefined;
  readonly riskEffect?: RiskEffect | null | undefined;
}

export interface ActionItemFilter {
  readonly postmortemId?: string | undefined;
  readonly status?: ActionItemStatus | undefined;
  readonly owner?: string | undefined;
  /** Only open items due before this date (YYYY-MM-DD). */
  readonly overdueOn?: string | undefined;
}

function toRow(item: ActionItem): ActionItemTable {
  return {
    id: item.id,
    postmortem_id: item.postmortemId,
    status: item.status,
    priority: item.priority,
    owner: item.owner ?? null,
    due_date: item.dueDate ?? null,
    item: JSON.stringify(item),
    created_at: item.createdAtMs,
    updated_at: item.updatedAtMs,
  };
}

/** An action item as the audit log compares it: without the time every write stamps. */
function audited(item: ActionItem): Record<string, unknown> {
  const { updatedAtMs: _updated, ...fields } = item;
  return fields;
}

const fromRow = (row: Pick<ActionItemTable, 'item'>) => JSON.parse(row.item) as ActionItem;

export async function createActionItem(
  deps: IncidentDeps,
  postmortemId: string,
  input: ActionItemInput,
  audit?: AuditScope,
): Promise<ActionItem> {
  const postmortem = await deps.db.kysely
    .selectFrom('postmortems')
    .select('id')
    .where('id', '=', postmortemId)
    .executeTakeFirst();
  if (!postmortem) throw new AppError('NotFound', `no postmortem with id ${JSON.stringify(postmortemId)}`);
  const nowMs = deps.clock.now();
  const status = input.status ?? 'open';
  const item: ActionItem = {
    id: randomUUID(),
    postmortemId,
    title: input.title,
    category: input.category,
    priority: input.priority,
    owner: input.owner,
    dueDate: input.dueDate,
    status,
    ticketUrl: input.ticketUrl,
    risk: input.risk,
    riskEffect: input.riskEffect,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
    closedAtMs: status === 'open' ? undefined : nowMs,
  };
  await deps.db.kysely.transaction().execute(async (trx) => {
    await trx.insertInto('action_items').values(toRow(item)).execute();
    await recordAudit(trx, audit, {
      action: 'action-item.create',
      targetType: 'action-item',
      targetId: item.id,
      after: audited(item),
      atMs: nowMs,
    });
  });
  return item;
}

export async function getActionItem(deps: IncidentDeps, id: string): Promise<ActionItem> {
  return readItem(deps.db.kysely, id);
}

/** The item by id; with `lock` its row stays locked for the transaction on PostgreSQL. */
async function readItem(db: Kysely<Database>, id: string, lock = false): Promise<ActionItem> {
  let query = db.selectFrom('action_items').select('item').where('id', '=', id);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError('NotFound', `no action item with id ${JSON.stringify(id)}`);
  return fromRow(row);
}

export async function changeActionItem(
  deps: IncidentDeps,
  id: string,
  change: ActionItemChange,
  audit?: AuditScope,
): Promise<ActionItem> {
  const nowMs = deps.clock.now();
  return deps.db.kysely.transaction().execute(async (trx) => {
    const current = await readItem(trx, id, deps.db.dialect === 'postgres');
    const optional = (value: string | null | undefined, before: string | undefined) =>
      value === undefined ? before : (value ?? undefined);
    const status = change.status ?? current.status;
    const next: ActionItem = {
      ...current,
      title: change.title ?? current.title,
      category: change.category ?? current.category,
      priority: change.priority ?? current.priority,
      owner: optional(change.owner, current.owner),
      dueDate: optional(change.dueDate, current.dueDate),
      ticketUrl: optional(change.ticketUrl, current.ticketUrl),
      risk: optional(change.risk, current.risk),
      riskEffect: change.riskEffect === undefined ? current.riskEffect : (change.riskEffect ?? undefined),
      status,
      // Closing stamps the time once; reopening clears it.
      closedAtMs: status === 'open' ? undefined : current.status === 'open' ? nowMs : current.closedAtMs,
      updatedAtMs: nowMs,
    };
    const { id: _, ...row } = toRow(next);
    await trx.updateTable('action_items').set(row).where('id', '=', id).execute();
    await recordAudit(trx, audit, {
      action: 'action-item.update',
      targetType: 'action-item',
      targetId: id,
      before: audited(current),
      after: audited(next),
      atMs: nowMs,
    });
    return next;
  });
}

export async function listActionItems(
  deps: IncidentDeps,
  filter: ActionItemFilter = {},
): Promise<ActionItem[]> {
  let query = deps.db.kysely.selectFrom('action_items').select('item').orderBy('created_at').orderBy('id');
  if (filter.postmortemId !== undefined) query = query.where('postmortem_id', '=', filter.postmortemId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.owner !== undefined) query = query.where('owner', '=', filter.owner);
  if (filter.overdueOn !== undefined)
    query = query.where('status', '=', 'open').where('due_date', '<', filter.overdueOn);
  const items = (await query.execute()).map(fromRow);
  const today = filter.overdueOn;
  return today === undefined ? items : items.filter((i) => isOverdue(i, today));
}
