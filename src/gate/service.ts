/**
 * Deploy-gate use cases: the answer for a service from the stored statuses and the SLOs' policies,
 * and overrides — recorded with who, why and until when, revoked but never deleted (audit).
 */
import { randomUUID } from 'node:crypto';
import { type AuditScope, recordAudit } from '../platform/audit/index.js';
import type { Clock } from '../platform/clock.js';
import type { Db, GateOverrideTable } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import type { Catalog } from '../slo/index.js';
import { evaluationTargets, isStale, listStatuses } from '../slo/index.js';
import { decideGate, type GateAnswer, type GateDoubt, type GateOverride, isActive } from './decide.js';

export interface GateDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly catalog: () => Catalog;
  readonly tickSeconds: number;
}

/** Longest override: an exception, not a way to switch the policy off. */
export const MAX_OVERRIDE_MS = 7 * 86_400_000;

function fromRow(row: GateOverrideTable): GateOverride {
  return {
    id: row.id,
    service: row.service,
    reason: row.reason,
    createdBy: row.created_by,
    createdAtMs: Number(row.created_at),
    expiresAtMs: Number(row.expires_at),
    ...(row.revoked_at === null
      ? {}
      : { revokedAtMs: Number(row.revoked_at), revokedBy: row.revoked_by ?? '' }),
  };
}

function checkService(catalog: Catalog, service: string): void {
  if (!catalog.services.some((s) => s.name === service) && !catalog.slos.some((s) => s.service === service))
    throw new AppError('NotFound', `no service ${JSON.stringify(service)} in the loaded specs`);
}

export async function gateFor(deps: GateDeps, service: string): Promise<GateAnswer> {
  const catalog = deps.catalog();
  checkService(catalog, service);
  const nowMs = deps.clock.now();
  const statuses = await listStatuses(deps.db);
  const slos = evaluationTargets(catalog)
    .filter((t) => t.slo.service === service)
    .map((t) => {
      const status = statuses.get(t.id);
      const doubt: GateDoubt | undefined = !status
        ? { code: 'not-evaluated', text: 'not evaluated yet' }
        : status.error
          ? { code: 'error', text: `cannot be evaluated since ${status.error.since}: ${status.error.reason}` }
          : isStale(status.evaluatedAt, nowMs, deps.tickSeconds)
            ? { code: 'stale', text: `status is stale (evaluated ${status.evaluatedAt})` }
            : status.data && status.data.state !== 'ok'
              ? { code: 'data', text: `data is ${status.data.state}` }
              : undefined;
      return {
        id: t.id,
        steps: t.slo.shinrai.errorBudgetPolicy,
        remaining: status && status.sli !== null ? status.budget.remaining : null,
        doubt,
      };
    });
  return decideGate(service, slos, await listOverrides(deps, { service, activeOnly: true }), nowMs);
}

export async function createOverride(
  deps: GateDeps,
  input: { service: string; reason: string; expiresAtMs: number },
  actor: string,
  audit?: AuditScope,
): Promise<GateOverride> {
  checkService(deps.catalog(), input.service);
  const nowMs = deps.clock.now();
  if (!(input.expiresAtMs > nowMs))
    throw new AppError('Invalid', 'an override must expire in the future', [
      { field: 'expiresAt', message: 'not in the future' },
    ]);
  if (input.expiresAtMs - nowMs > MAX_OVERRIDE_MS)
    throw new AppError('Invalid', 'an override lasts at most 7 days: change the policy for anything longer', [
      { field: 'expiresAt', message: 'more than 7 days ahead' },
    ]);
  const row: GateOverrideTable = {
    id: randomUUID(),
    service: input.service,
    reason: input.reason,
    created_by: actor,
    created_at: nowMs,
    expires_at: input.expiresAtMs,
    revoked_at: null,
    revoked_by: null,
  };
  const created = fromRow(row);
  await deps.db.kysely.transaction().execute(async (trx) => {
    await trx.insertInto('gate_overrides').values(row).execute();
    await recordAudit(trx, audit, {
      action: 'gate.override.create',
      targetType: 'gate-override',
      targetId: row.id,
      after: { ...created },
      atMs: nowMs,
    });
  });
  return created;
}

export async function listOverrides(
  deps: Pick<GateDeps, 'db' | 'clock'>,
  filter: { service?: string | undefined; activeOnly?: boolean | undefined },
): Promise<GateOverride[]> {
  let query = deps.db.kysely
    .selectFrom('gate_overrides')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id');
  if (filter.service !== undefined) query = query.where('service', '=', filter.service);
  const nowMs = deps.clock.now();
  if (filter.activeOnly) query = query.where('revoked_at', 'is', null).where('expires_at', '>', nowMs);
  return (await query.execute()).map(fromRow).filter((o) => !filter.activeOnly || isActive(o, nowMs));
}

/** Ends an override now; the record stays for audit. Revoking twice is a no-op. */
export async function revokeOverride(
  deps: GateDeps,
  id: string,
  actor: string,
  audit?: AuditScope,
): Promise<GateOverride> {
  return deps.db.kysely.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('gate_overrides').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('NotFound', `no gate override with id ${JSON.stringify(id)}`);
    if (row.revoked_at !== null) return fromRow(row);
    const nowMs = deps.clock.now();
    await trx
      .updateTable('gate_overrides')
      .set({ revoked_at: nowMs, revoked_by: actor })
      .where('id', '=', id)
      .execute();
    const revoked = fromRow({ ...row, revoked_at: nowMs, revoked_by: actor });
    await recordAudit(trx, audit, {
      action: 'gate.override.revoke',
      targetType: 'gate-override',
      targetId: id,
      before: { ...fromRow(row) },
      after: { ...revoked },
      atMs: nowMs,
    });
    return revoked;
  });
}
