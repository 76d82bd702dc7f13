/**
 * The public face of `platform/audit/`: the audit log. Services record each write on their own
 * transaction (`recordAudit`), adapters say who is writing (`actorOf`, `slackActor`, `cliActor`).
 */
export { actorOf, cliActor, type RequestLike, slackActor } from './actor.js';
export {
  applyChanges,
  auditChanges,
  diffFields,
  type FieldChanges,
  isSecretField,
  REDACTED,
  redact,
  SECRET_FIELD_ENDINGS,
} from './changes.js';
export { type AuditChange, type AuditEvent, type AuditScope, auditId, recordAudit } from './record.js';
export { auditRetentionRules } from './retention.js';
export { auditRoutes } from './routes.js';
export { type AuditFilter, exportAuditEvents, listAuditEvents, MAX_AUDIT_PAGE } from './store.js';
