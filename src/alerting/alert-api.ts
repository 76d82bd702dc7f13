/**
 * Use cases behind the alert and silence routes: reads of the live alerts and their events,
 * silences made and ended, feedback on a firing. The routes call these, never the tables.
 */
import { type AuditScope, recordAudit } from '../platform/audit/index.js';
import type { Db } from '../platform/db/index.js';
import type { AlertRule, Catalog, SloDefinition } from '../slo/index.js';
import type { StoredAlert } from './evaluate.js';
import { giveFeedback } from './quality-service.js';
import { createSilence, expireSilence, readSilences, type Silence } from './silences.js';
import { alertEvents, readAlerts } from './store.js';

export interface AlertRouteDeps {
  readonly db: Db;
  readonly now: () => number;
  readonly catalog: () => Catalog;
  /** The alert rules the live path uses for an SLO. */
  readonly rulesFor: (slo: SloDefinition) => readonly AlertRule[];
  /** The live path's low-traffic guard, applied to backtests too. */
  readonly minEvents?: number | undefined;
}

/** The live alerts by fingerprint. */
export function listAlerts(
  deps: Pick<AlertRouteDeps, 'db'>,
  only: { readonly active?: boolean } = {},
): Promise<Map<string, StoredAlert>> {
  return readAlerts(deps.db.kysely, only);
}

/** One stored alert by its fingerprint (id); undefined when there is none. */
export async function getAlert(
  deps: Pick<AlertRouteDeps, 'db'>,
  fingerprint: string,
): Promise<StoredAlert | undefined> {
  return (await readAlerts(deps.db.kysely, { fingerprint })).get(fingerprint);
}

/** One alert's transitions, oldest first. */
export function listAlertEvents(deps: Pick<AlertRouteDeps, 'db'>, fingerprint: string) {
  return alertEvents(deps.db.kysely, fingerprint);
}

/** The silences not yet ended at `nowMs`. */
export function listSilences(deps: Pick<AlertRouteDeps, 'db'>, nowMs: number): Promise<Silence[]> {
  return readSilences(deps.db.kysely, nowMs);
}

/** Stores a new silence (audited on the same transaction when `audit` says who). */
export function addSilence(
  deps: Pick<AlertRouteDeps, 'db'>,
  input: Parameters<typeof createSilence>[1],
  nowMs: number,
  audit?: AuditScope,
): Promise<Silence> {
  return deps.db.kysely.transaction().execute(async (trx) => {
    const silence = await createSilence(trx, input, nowMs);
    await recordAudit(trx, audit, {
      action: 'silence.create',
      targetType: 'silence',
      targetId: silence.id,
      after: { ...silence },
      atMs: nowMs,
    });
    return silence;
  });
}

/** Ends a current silence now; false when there is none with that id. */
export function endSilence(
  deps: Pick<AlertRouteDeps, 'db'>,
  id: string,
  nowMs: number,
  audit?: AuditScope,
): Promise<boolean> {
  return deps.db.kysely.transaction().execute(async (trx) => {
    if (!(await expireSilence(trx, id, nowMs))) return false;
    await recordAudit(trx, audit, {
      action: 'silence.delete',
      targetType: 'silence',
      targetId: id,
      before: { ended: false },
      after: { ended: true, endsAtMs: nowMs },
      atMs: nowMs,
    });
    return true;
  });
}

/** Records a verdict on an alert's last firing. */
export function judgeFiring(
  deps: Pick<AlertRouteDeps, 'db'>,
  alert: StoredAlert,
  feedback: Parameters<typeof giveFeedback>[2],
  nowMs: number,
  audit?: AuditScope,
) {
  return deps.db.kysely.transaction().execute(async (trx) => {
    const given = await giveFeedback(trx, alert, feedback, nowMs);
    await recordAudit(trx, audit, {
      action: 'alert.feedback',
      targetType: 'alert',
      targetId: alert.fingerprint,
      after: { firedAtMs: given.firedAtMs, verdict: feedback.verdict, note: feedback.note },
      atMs: nowMs,
    });
    return given;
  });
}
