/**
 * Appending to the audit log: one row per write, inserted on the writer's own transaction so the
 * event commits or rolls back with the change it describes.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { auditChanges, type FieldChanges } from './changes.js';

/** Who made a write and through what: one per request, Slack action or CLI run. */
export interface AuditScope {
  /** A person or machine name: the token's name, the SSO user, the Slack user, the OS user. */
  readonly actor: string;
  /** `token:<token id>`, `session:<subject>`, `slack:<user id>` or `cli:<os user>`. */
  readonly credential: string;
  /** The credential's role when it has one (Slack and the CLI act outside the API's roles). */
  readonly role: string | null;
  /** The client's address as the server sees it (request.ip, which honours server.trustProxy). */
  readonly clientAddress: string | null;
  readonly requestId: string | null;
  /** The teams owning the services the write touches (docs/audit.md); absent: none known. */
  readonly teams?: readonly string[] | undefined;
}

/** What one write changed. `before`/`after` are whole objects: only their changed fields are kept. */
export interface AuditChange {
  /** `incident.create`, `risk.update`, `silence.delete`, … (docs/audit.md lists them). */
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly before?: Readonly<Record<string, unknown>> | null | undefined;
  readonly after?: Readonly<Record<string, unknown>> | null | undefined;
  readonly atMs: number;
}

/** One row of the audit log as the API answers it. */
export interface AuditEvent {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly credential: string;
  readonly role: string | null;
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly changes: FieldChanges;
  readonly clientAddress: string | null;
  readonly requestId: string | null;
  /** The teams owning what the write touched; empty for none, and for events older than teams. */
  readonly teams: string[];
}

let sequence = 0;

/**
 * An id that sorts by time: 15 digits of milliseconds, a per-process sequence (so events of one
 * millisecond keep their order) and randomness (so two replicas never collide).
 */
export function auditId(atMs: number): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${String(Math.max(0, Math.trunc(atMs))).padStart(15, '0')}-${String(sequence).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
}

/**
 * Appends the event of one write on `trx`, the transaction of the write itself; a failure here
 * fails the write. Without a scope (a write the server makes on its own, e.g. an incident declared
 * by the alert rules) nothing is recorded.
 */
export async function recordAudit(
  trx: Kysely<Database>,
  scope: AuditScope | undefined,
  change: AuditChange,
): Promise<void> {
  if (!scope) return;
  await trx
    .insertInto('audit_events')
    .values({
      id: auditId(change.atMs),
      at: change.atMs,
      actor: scope.actor,
      credential: scope.credential,
      role: scope.role,
      action: change.action,
      target_type: change.targetType,
      target_id: change.targetId,
      changes: JSON.stringify(auditChanges(change.before, change.after)),
      client_address: scope.clientAddress,
      request_id: scope.requestId,
      teams: scope.teams?.length ? JSON.stringify([...new Set(scope.teams)].sort()) : null,
    })
    .execute();
}
