/** The `alerts` and `alert_events` tables. */
import type { Kysely } from 'kysely';
import type { Database } from '../platform/db/index.js';
import type { AlertChange, StoredAlert } from './evaluate.js';

export async function readAlerts(
  db: Kysely<Database>,
  only: { readonly active?: boolean; readonly fingerprint?: string } = {},
): Promise<Map<string, StoredAlert>> {
  // Narrowed in SQL: most stored alerts are inactive, and parsing each one's JSON was the read's cost.
  const rows = await db
    .selectFrom('alerts')
    .select('alert')
    .$if(only.active === true, (q) => q.where('phase', '<>', 'inactive'))
    .$if(only.fingerprint !== undefined, (q) => q.where('fingerprint', '=', only.fingerprint!))
    .execute();
  return new Map(rows.map((r) => JSON.parse(r.alert) as StoredAlert).map((a) => [a.fingerprint, a]));
}

/** Writes the changes of one step (in the caller's transaction, with the statuses that caused them). */
export async function writeAlertChanges(
  trx: Kysely<Database>,
  changes: readonly AlertChange[],
  atMs: number,
): Promise<void> {
  for (const { alert, transition } of changes) {
    const row = {
      fingerprint: alert.fingerprint,
      slo_id: alert.sloId,
      rule: alert.rule,
      phase: alert.state.phase,
      pending_since: alert.state.pendingSinceMs,
      fired_at: alert.state.firedAtMs,
      resolved_at: alert.resolvedAtMs,
      alert: JSON.stringify(alert),
      updated_at: atMs,
    };
    const { fingerprint: _, ...update } = row;
    await trx
      .insertInto('alerts')
      .values(row)
      .onConflict((oc) => oc.column('fingerprint').doUpdateSet(update))
      .execute();
    if (transition)
      await trx
        .insertInto('alert_events')
        .values({
          fingerprint: alert.fingerprint,
          at: atMs,
          transition,
          details: JSON.stringify({ burnRates: alert.burnRates, labels: alert.labels }),
        })
        .onConflict((oc) => oc.columns(['fingerprint', 'at', 'transition']).doNothing())
        .execute();
  }
}

export interface AlertEvent {
  readonly at: string;
  readonly transition: string;
  readonly burnRates: Readonly<Record<string, number | null>>;
}

export async function alertEvents(
  db: Kysely<Database>,
  fingerprint: string,
  limit = 100,
): Promise<AlertEvent[]> {
  const rows = await db
    .selectFrom('alert_events')
    .selectAll()
    .where('fingerprint', '=', fingerprint)
    .orderBy('at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    at: new Date(Number(r.at)).toISOString(),
    transition: r.transition,
    burnRates: (JSON.parse(r.details) as { burnRates: Record<string, number | null> }).burnRates,
  }));
}
