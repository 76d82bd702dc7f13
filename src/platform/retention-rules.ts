/**
 * Retention rules of the tables that only grow with use (docs/retention.md): delivered or given-up
 * rows of the three outboxes, and alerts inactive for a long time with their events and verdicts.
 * Each rule deletes through an index, in batches (src/platform/retention.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from './db/index.js';
import { cutoffMs, deleteExpired, type RetentionRule, type RetentionSettings } from './retention.js';

/** The outboxes: each has an index led by its "done" column, then its "gave up" column. */
const OUTBOXES = [
  { table: 'notification_outbox', done: 'delivered_at', gaveUp: 'gave_up_at' },
  { table: 'slack_outbox', done: 'done_at', gaveUp: 'gave_up_at' },
  { table: 'mail_outbox', done: 'sent_at', gaveUp: 'gave_up_at' },
] as const;

/** Alerts per statement when deleting the inactive ones. */
const ALERT_CHUNK = 500;

export function platformRetentionRules(settings: RetentionSettings, nowMs: number): RetentionRule[] {
  const rules: RetentionRule[] = [];
  const outboxBefore = cutoffMs(nowMs, settings.outboxDays);
  if (outboxBefore !== null)
    for (const outbox of OUTBOXES)
      rules.push({
        name: outbox.table,
        apply: async (run) => {
          // Pending rows (neither column set) are never touched.
          const more = await deleteExpired(run, {
            table: outbox.table,
            column: outbox.done,
            cutoffMs: outboxBefore,
          });
          if (more)
            await deleteExpired(run, {
              table: outbox.table,
              column: outbox.gaveUp,
              cutoffMs: outboxBefore,
              equal: { [outbox.done]: null },
            });
        },
      });
  const alertsBefore = cutoffMs(nowMs, settings.resolvedAlertsDays);
  if (alertsBefore !== null)
    rules.push({
      name: 'alerts',
      apply: async (run) => {
        const kysely: Kysely<Database> = run.db.kysely;
        // An alert's row is its live state: only one inactive (resolved or cancelled) since before
        // the cutoff goes, after its events and verdicts (all older than its last change).
        const inactive = await kysely
          .selectFrom('alerts')
          .select(['fingerprint', 'updated_at'])
          .where('phase', '=', 'inactive')
          .execute();
        // Which alerts have old events or verdicts at all: one read of each table (small: a row
        // per transition or verdict) instead of a query per alert.
        const withOld = async (table: 'alert_events' | 'alert_feedback', column: 'at' | 'fired_at') =>
          new Set(
            (
              await kysely
                .selectFrom(table)
                .select('fingerprint')
                .where(column, '<', alertsBefore)
                .groupBy('fingerprint')
                .execute()
            ).map((r) => r.fingerprint),
          );
        const oldEvents = await withOld('alert_events', 'at');
        const oldVerdicts = await withOld('alert_feedback', 'fired_at');
        const expired: string[] = [];
        for (const alert of inactive) {
          const fingerprint = alert.fingerprint;
          if (oldEvents.has(fingerprint)) {
            const more = await deleteExpired(run, {
              table: 'alert_events',
              column: 'at',
              cutoffMs: alertsBefore,
              equal: { fingerprint },
            });
            if (!more) return;
          }
          if (oldVerdicts.has(fingerprint))
            await deleteExpired(run, {
              table: 'alert_feedback',
              column: 'fired_at',
              cutoffMs: alertsBefore,
              equal: { fingerprint },
            });
          if (Number(alert.updated_at) < alertsBefore) expired.push(fingerprint);
        }
        for (let i = 0; i < expired.length; i += ALERT_CHUNK) {
          // The conditions again: an alert that went pending meanwhile stays.
          const result = await kysely
            .deleteFrom('alerts')
            .where('fingerprint', 'in', expired.slice(i, i + ALERT_CHUNK))
            .where('phase', '=', 'inactive')
            .where('updated_at', '<', alertsBefore)
            .executeTakeFirst();
          run.count('alerts', Number(result.numDeletedRows));
        }
      },
    });
  return rules;
}
