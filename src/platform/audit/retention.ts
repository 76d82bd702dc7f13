/** The retention rule of the audit log: events older than `retention.auditDays` go, in batches. */
import { cutoffMs, deleteExpired, type RetentionRule, type RetentionSettings } from '../retention.js';

export function auditRetentionRules(settings: RetentionSettings, nowMs: number): RetentionRule[] {
  const before = cutoffMs(nowMs, settings.auditDays);
  if (before === null) return [];
  return [
    {
      name: 'audit_events',
      apply: async (run) => {
        await deleteExpired(run, { table: 'audit_events', column: 'at', cutoffMs: before });
      },
    },
  ];
}
