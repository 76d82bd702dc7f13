/**
 * Incident use cases over the database: declare, change (status, severity, milestones, fields),
 * add notes, read with the timeline. Every change and its timeline event commit in one transaction.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { type AuditScope, recordAudit } from '../platform/audit/index.js';
import type { Clock } from '../platform/clock.js';
import { type Database, type Db, isUniqueViolation } from '../platform/db/index.js';
import { AppError, type ProblemDetail } from '../platform/errors.js';
import type { Catalog } from '../slo/index.js';
import {
  canMove,
  DEFAULT_SEVERITIES,
  type IncidentStatus,
  MILESTONES,
  type Milestones,
  milestoneOf,
  milestoneProblems,
  parseReference,
  reference,
  type Severity,
  type SeverityScale,
} from './model.js';
import { SYSTEM_EVENT_TEXT } from './timeline-text.js';

export interface Incident {
  readonly id: string;
  readonly number: number;
  readonly reference: string;
  readonly title: string;
  readonly summary: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly services: readonly string[];
  readonly slos: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly rootCause?: string | undefined;
  readonly drill: boolean;
  readonly runbooks: readonly string[];
  readonly milestones: Milestones;
  /** Role → person: commander, communications, operations, scribe, or any custom role. */
  readonly roles?: Readonly<Record<string, string>> | undefined;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** Alerts already on the timeline (Alertmanager resends notifications), newest last. */
  readonly alertKeys?: readonly string[] | undefined;
  /** What caused it, as confirmed by a person: a deployment (id) or a commit (sha). */
  readonly causedBy?: IncidentCause | undefined;
}

/** A confirmed cause: only these count in the delivery metrics (a suggestion is not a cause). */
export interface IncidentCause {
  readonly deployment?: string | undefined;
  readonly commit?: string | undefined;
  readonly confirmedBy: string;
  readonly confirmedAtMs: number;
}

/** What a person names as the cause: exactly one of a deployment id or a commit sha. */
export type CauseInput = { readonly deployment: string } | { readonly commit: string };

export type EventKind =
  | 'declared'
  | 'status'
  | 'severity'
  | 'milestone'
  | 'field'
  | 'role'
  | 'note'
  | 'alert';

export interface TimelineEvent {
  readonly id: string;
  readonly atMs: number;
  readonly kind: EventKind;
  /** Where it came from: api, cli, alertmanager, alert. */
  readonly source: string;
  readonly actor: string;
  readonly text: string;
  readonly starred: boolean;
  readonly public: boolean;
}

export interface IncidentDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** The configured severities (SEV1–SEV4 when not given). */
  readonly severities?: SeverityScale | undefined;
  /** The loaded specs: an incident declared from an alert links its SLO's runbook. */
  readonly catalog?: (() => Catalog) | undefined;
  /**
   * Called inside the transaction of every declaration and change, from every path (API, UI, CLI,
   * Slack, alerts, Alertmanager): what it writes commits or rolls back with the change itself (a
   * transactional outbox; the Slack app queues its channel and card calls here).
   */
  readonly onChange?: ((trx: Kysely<Database>, change: IncidentChange) => Promise<void>) | undefined;
  /**
   * Called once the change has committed (never for a rolled-back one): a nudge, e.g. to make the
   * queued Slack calls now rather than at the outbox's next tick. Must not throw.
   */
  readonly afterCommit?: ((change: IncidentChange) => void) | undefined;
  /**
   * Checks a cause before it is stored (the deployment or commit must be known) and returns it in
   * its stored form (a commit sha in full); throws AppError otherwise. Without it, any cause is kept.
   */
  readonly checkCause?: ((cause: CauseInput, incident: Incident) => Promise<CauseInput>) | undefined;
}

/** What `IncidentDeps.onChange` hears: the incident as stored after the change. */
export interface IncidentChange {
  readonly kind: 'declared' | 'changed';
  readonly incident: Incident;
  readonly atMs: number;
}

export interface Actor {
  readonly name: string;
  readonly source: string;
  /** Who to write in the audit log (a person's request, Slack action or CLI run); none for the server's own writes. */
  readonly audit?: AuditScope | undefined;
}

/** An incident as the audit log compares it: without the fields every write touches. */
function audited(incident: Incident): Record<string, unknown> {
  const { updatedAtMs: _updated, alertKeys: _alerts, ...fields } = incident;
  return fields;
}

export interface DeclareInput {
  readonly title: string;
  readonly severity: Severity;
  readonly summary?: string | undefined;
  readonly services?: readonly string[] | undefined;
  readonly slos?: readonly string[] | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly drill?: boolean | undefined;
  readonly runbooks?: readonly string[] | undefined;
  readonly milestones?: Milestones | undefined;
}

export interface ChangeInput {
  readonly status?: IncidentStatus | undefined;
  readonly severity?: Severity | undefined;
  readonly title?: string | undefined;
  readonly summary?: string | undefined;
  readonly rootCause?: string | undefined;
  readonly services?: readonly string[] | undefined;
  readonly slos?: readonly string[] | undefined;
  /** Milestones to set (a number) or clear (null). */
  readonly milestones?: Partial<Record<keyof Milestones, number | null>> | undefined;
  /** Labels to set, or remove (null). */
  readonly labels?: Readonly<Record<string, string | null>> | undefined;
  /** Roles to assign (a person) or free (null); the timeline keeps every assignment. */
  readonly roles?: Readonly<Record<string, string | null>> | undefined;
  /** The confirmed cause (a deployment or a commit), or null to remove it. */
  readonly causedBy?: CauseInput | null | undefined;
}

const MAX_NUMBER_RETRIES = 5;
/** First key of the PostgreSQL lock that serialises incident numbering (the second: the schema). */
const INCIDENT_NUMBER_LOCK = 0x1c1d;

export async function declareIncident(
  deps: IncidentDeps,
  input: DeclareInput,
  actor: Actor,
): Promise<Incident> {
  const nowMs = deps.clock.now();
  checkSeverity(deps, input.severity);
  const milestones: Milestones = { detectedAt: nowMs, ...input.milestones };
  checkMilestones(milestones);
  // Two declarations at once would pick the same number: on PostgreSQL they take turns (a
  // transaction lock held to commit); on SQLite transactions run one at a time. The unique column
  // and a retry stay as the backstop.
  for (let attempt = 0; ; attempt++) {
    try {
      const declared = await deps.db.kysely.transaction().execute(async (trx) => {
        if (deps.db.dialect === 'postgres')
          await sql`SELECT pg_advisory_xact_lock(${INCIDENT_NUMBER_LOCK}, hashtext(current_schema()))`.execute(
            trx,
          );
        const row = await trx
          .selectFrom('incidents')
          .select((eb) => eb.fn.max('number').as('last'))
          .executeTakeFirst();
        const number = Number(row?.last ?? 0) + 1;
        const incident: Incident = {
          id: randomUUID(),
          number,
          reference: reference(number),
          title: input.title,
          summary: input.summary ?? '',
          severity: input.severity,
          status: 'investigating',
          services: [...(input.services ?? [])],
          slos: [...(input.slos ?? [])],
          labels: { ...input.labels },
          drill: input.drill ?? false,
          runbooks: [...(input.runbooks ?? [])],
          milestones,
          createdAtMs: nowMs,
          updatedAtMs: nowMs,
        };
        await trx
          .insertInto('incidents')
          .values({
            id: incident.id,
            number,
            title: incident.title,
            severity: incident.severity,
            status: incident.status,
            incident: JSON.stringify(incident),
            created_at: nowMs,
            updated_at: nowMs,
          })
          .execute();
        await addEvent(trx, incident.id, nowMs, {
          kind: 'declared',
          actor,
          text: SYSTEM_EVENT_TEXT.declared(incident.severity, incident.title),
        });
        await recordAudit(trx, actor.audit, {
          action: 'incident.create',
          targetType: 'incident',
          targetId: incident.reference,
          after: audited(incident),
          atMs: nowMs,
        });
        await deps.onChange?.(trx, { kind: 'declared', incident, atMs: nowMs });
        return incident;
      });
      deps.afterCommit?.({ kind: 'declared', incident: declared, atMs: nowMs });
      return declared;
    } catch (error) {
      if (attempt >= MAX_NUMBER_RETRIES || !isUniqueViolation(error)) throw error;
    }
  }
}

export async function changeIncident(
  deps: IncidentDeps,
  ref: string,
  change: ChangeInput,
  actor: Actor,
): Promise<Incident> {
  const nowMs = deps.clock.now();
  // A named cause is checked before the transaction: the check reads other tables (and SQLite has
  // one connection, which the transaction holds).
  const checkedCause =
    change.causedBy === undefined || change.causedBy === null || !deps.checkCause
      ? change.causedBy
      : await deps.checkCause(change.causedBy, await findIncident(deps.db.kysely, ref));
  const changed = await deps.db.kysely.transaction().execute(async (trx) => {
    const current = await findIncident(trx, ref, deps.db.dialect);
    const events: Array<{ kind: EventKind; text: string }> = [];
    let next: Incident = { ...current };
    if (change.status !== undefined && change.status !== current.status) {
      if (!canMove(current.status, change.status))
        throw new AppError(
          'Conflict',
          `${current.reference} is ${current.status} and cannot move to ${change.status}`,
          [{ field: 'status', message: `not allowed from ${current.status}` }],
        );
      const stamp = milestoneOf(change.status);
      const milestones = { ...next.milestones };
      if (stamp && milestones[stamp] === undefined) milestones[stamp] = nowMs;
      next = { ...next, status: change.status, milestones };
      events.push({ kind: 'status', text: SYSTEM_EVENT_TEXT.status(current.status, change.status) });
    }
    if (change.severity !== undefined && change.severity !== current.severity) {
      checkSeverity(deps, change.severity);
      next = { ...next, severity: change.severity };
      events.push({
        kind: 'severity',
        text: SYSTEM_EVENT_TEXT.severity(current.severity, change.severity),
      });
    }
    if (change.milestones) {
      const milestones = { ...next.milestones };
      for (const [name, value] of Object.entries(change.milestones) as Array<
        [keyof Milestones, number | null]
      >) {
        if (value === null) delete milestones[name];
        else milestones[name] = value;
        events.push({
          kind: 'milestone',
          text:
            value === null
              ? SYSTEM_EVENT_TEXT.milestoneCleared(name)
              : SYSTEM_EVENT_TEXT.milestoneSet(name, value),
        });
      }
      next = { ...next, milestones };
    }
    for (const field of ['title', 'summary', 'rootCause'] as const) {
      const value = change[field];
      if (value !== undefined && value !== current[field]) {
        next = { ...next, [field]: value };
        events.push({ kind: 'field', text: SYSTEM_EVENT_TEXT.fieldChanged(field) });
      }
    }
    for (const field of ['services', 'slos'] as const) {
      const value = change[field];
      if (value !== undefined && JSON.stringify(value) !== JSON.stringify(current[field])) {
        next = { ...next, [field]: [...value] };
        events.push({ kind: 'field', text: SYSTEM_EVENT_TEXT.listSet(field, value) });
      }
    }
    if (change.labels) {
      const labels: Record<string, string> = { ...next.labels };
      for (const [key, value] of Object.entries(change.labels)) {
        if ((value ?? undefined) === labels[key]) continue;
        if (value === null) delete labels[key];
        else labels[key] = value;
        events.push({
          kind: 'field',
          text: value === null ? SYSTEM_EVENT_TEXT.labelRemoved(key) : SYSTEM_EVENT_TEXT.labelSet(key, value),
        });
      }
      next = { ...next, labels };
    }
    if (change.roles) {
      const roles: Record<string, string> = { ...(next.roles ?? {}) };
      for (const [role, person] of Object.entries(change.roles)) {
        const before = roles[role];
        if ((person ?? undefined) === before) continue;
        if (person === null) delete roles[role];
        else roles[role] = person;
        events.push({
          kind: 'role',
          text:
            person === null
              ? SYSTEM_EVENT_TEXT.roleLeft(role, before)
              : SYSTEM_EVENT_TEXT.roleTaken(role, person, before),
        });
      }
      next = { ...next, roles };
    }
    if (checkedCause !== undefined) {
      const cause = checkedCause;
      const same =
        cause === null
          ? current.causedBy === undefined
          : current.causedBy !== undefined &&
            ('deployment' in cause
              ? cause.deployment === current.causedBy.deployment
              : cause.commit === current.causedBy.commit);
      if (!same) {
        const { causedBy: _dropped, ...rest } = next;
        next =
          cause === null
            ? rest
            : { ...rest, causedBy: { ...cause, confirmedBy: actor.name, confirmedAtMs: nowMs } };
        events.push({
          kind: 'field',
          text:
            cause === null
              ? SYSTEM_EVENT_TEXT.causeCleared()
              : 'deployment' in cause
                ? SYSTEM_EVENT_TEXT.causedByDeployment(cause.deployment)
                : SYSTEM_EVENT_TEXT.causedByCommit(cause.commit),
        });
      }
    }
    checkMilestones(next.milestones);
    if (!events.length) return current;
    next = { ...next, updatedAtMs: nowMs };
    await trx
      .updateTable('incidents')
      .set({
        title: next.title,
        severity: next.severity,
        status: next.status,
        incident: JSON.stringify(next),
        updated_at: nowMs,
      })
      .where('id', '=', next.id)
      .execute();
    for (const event of events) await addEvent(trx, next.id, nowMs, { ...event, actor });
    await recordAudit(trx, actor.audit, {
      action:
        next.status === 'resolved' && current.status !== 'resolved' ? 'incident.resolve' : 'incident.update',
      targetType: 'incident',
      targetId: next.reference,
      before: audited(current),
      after: audited(next),
      atMs: nowMs,
    });
    await deps.onChange?.(trx, { kind: 'changed', incident: next, atMs: nowMs });
    return next;
  });
  deps.afterCommit?.({ kind: 'changed', incident: changed, atMs: nowMs });
  return changed;
}

export async function addNote(
  deps: IncidentDeps,
  ref: string,
  note: { text: string; starred?: boolean | undefined; public?: boolean | undefined },
  actor: Actor,
): Promise<TimelineEvent> {
  const nowMs = deps.clock.now();
  return deps.db.kysely.transaction().execute(async (trx) => {
    const incident = await findIncident(trx, ref, deps.db.dialect);
    await trx.updateTable('incidents').set({ updated_at: nowMs }).where('id', '=', incident.id).execute();
    const event = await addEvent(trx, incident.id, nowMs, {
      kind: 'note',
      actor,
      text: note.text,
      starred: note.starred,
      public: note.public,
    });
    await recordAudit(trx, actor.audit, {
      action: 'incident.note',
      targetType: 'incident',
      targetId: incident.reference,
      after: { event: event.id, text: event.text, starred: event.starred, public: event.public },
      atMs: nowMs,
    });
    return event;
  });
}

/** Stars an event (it makes the postmortem timeline) or marks it public (it shows on the status page). */
export async function markEvent(
  deps: IncidentDeps,
  ref: string,
  eventId: string,
  flags: { starred?: boolean | undefined; public?: boolean | undefined },
  audit?: AuditScope,
): Promise<TimelineEvent> {
  return deps.db.kysely.transaction().execute(async (trx) => {
    const incident = await findIncident(trx, ref, deps.db.dialect);
    const row = await trx
      .selectFrom('incident_events')
      .select('event')
      .where('incident_id', '=', incident.id)
      .where('id', '=', eventId)
      .executeTakeFirst();
    if (!row)
      throw new AppError(
        'NotFound',
        `${incident.reference} has no timeline event ${JSON.stringify(eventId)}`,
      );
    const current = JSON.parse(row.event) as TimelineEvent;
    const next: TimelineEvent = {
      ...current,
      starred: flags.starred ?? current.starred,
      public: flags.public ?? current.public,
    };
    await trx
      .updateTable('incident_events')
      .set({ event: JSON.stringify(next) })
      .where('id', '=', eventId)
      .execute();
    const nowMs = deps.clock.now();
    await trx.updateTable('incidents').set({ updated_at: nowMs }).where('id', '=', incident.id).execute();
    await recordAudit(trx, audit, {
      action: 'incident.event.update',
      targetType: 'incident-event',
      targetId: `${incident.reference}/${eventId}`,
      before: { starred: current.starred, public: current.public },
      after: { starred: next.starred, public: next.public },
      atMs: nowMs,
    });
    return next;
  });
}

/**
 * Changes the text of a note (a chat message edited where it was written) or removes it (deleted
 * there). Only notes: the record of changes, alerts and declarations is never rewritten.
 */
export async function reviseNote(
  deps: IncidentDeps,
  ref: string,
  eventId: string,
  change: { readonly text: string } | { readonly remove: true },
): Promise<TimelineEvent | undefined> {
  return deps.db.kysely.transaction().execute(async (trx) => {
    const incident = await findIncident(trx, ref, deps.db.dialect);
    const row = await trx
      .selectFrom('incident_events')
      .select('event')
      .where('incident_id', '=', incident.id)
      .where('id', '=', eventId)
      .executeTakeFirst();
    if (!row) return undefined;
    const current = JSON.parse(row.event) as TimelineEvent;
    if (current.kind !== 'note')
      throw new AppError('Conflict', `only notes can be edited or removed, not ${current.kind} events`);
    await trx
      .updateTable('incidents')
      .set({ updated_at: deps.clock.now() })
      .where('id', '=', incident.id)
      .execute();
    if ('remove' in change) {
      await trx.deleteFrom('incident_events').where('id', '=', eventId).execute();
      return undefined;
    }
    const next: TimelineEvent = { ...current, text: change.text };
    await trx
      .updateTable('incident_events')
      .set({ event: JSON.stringify(next) })
      .where('id', '=', eventId)
      .execute();
    return next;
  });
}

const MAX_ALERT_KEYS = 1000;

/** Adds alert lines to the timeline, each once (by key); returns how many were new. */
export async function addAlertEntries(
  deps: IncidentDeps,
  ref: string,
  entries: ReadonlyArray<{ key: string; text: string }>,
  actor: Actor,
): Promise<number> {
  const nowMs = deps.clock.now();
  return deps.db.kysely.transaction().execute(async (trx) => {
    const incident = await findIncident(trx, ref, deps.db.dialect);
    const seen = new Set(incident.alertKeys ?? []);
    const fresh = entries.filter((e) => !seen.has(e.key));
    if (!fresh.length) return 0;
    const alertKeys = [...(incident.alertKeys ?? []), ...fresh.map((e) => e.key)].slice(-MAX_ALERT_KEYS);
    const next: Incident = { ...incident, alertKeys, updatedAtMs: nowMs };
    await trx
      .updateTable('incidents')
      .set({ incident: JSON.stringify(next), updated_at: nowMs })
      .where('id', '=', incident.id)
      .execute();
    for (const e of fresh) await addEvent(trx, incident.id, nowMs, { kind: 'alert', actor, text: e.text });
    return fresh.length;
  });
}

/** The open incident carrying this label value, if any (open incidents are few: filtered here). */
export async function findOpenByLabel(
  deps: IncidentDeps,
  label: string,
  value: string,
): Promise<Incident | undefined> {
  return (await listIncidents(deps, { open: true })).find((i) => i.labels[label] === value);
}

export async function getIncident(
  deps: IncidentDeps,
  ref: string,
): Promise<{ incident: Incident; timeline: TimelineEvent[] }> {
  const incident = await findIncident(deps.db.kysely, ref);
  const rows = await deps.db.kysely
    .selectFrom('incident_events')
    .select('event')
    .where('incident_id', '=', incident.id)
    .orderBy('seq')
    .execute();
  return { incident, timeline: rows.map((r) => JSON.parse(r.event) as TimelineEvent) };
}

export async function listIncidents(deps: IncidentDeps, filter: { open?: boolean }): Promise<Incident[]> {
  let query = deps.db.kysely.selectFrom('incidents').select('incident').orderBy('number', 'desc');
  if (filter.open) query = query.where('status', 'not in', ['resolved', 'closed', 'cancelled']);
  return (await query.execute()).map((r) => JSON.parse(r.incident) as Incident);
}

/**
 * The incident by reference or id. With `lockFor: 'postgres'` the row is locked for the rest of the
 * transaction, so concurrent changes take turns instead of overwriting each other (SQLite runs
 * one write transaction at a time anyway).
 */
async function findIncident(db: Kysely<Database>, ref: string, lockFor?: Db['dialect']): Promise<Incident> {
  const number = parseReference(ref);
  let query = db
    .selectFrom('incidents')
    .select('incident')
    .where((eb) =>
      number === undefined ? eb('id', '=', ref) : eb.or([eb('number', '=', number), eb('id', '=', ref)]),
    );
  if (lockFor === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row)
    throw new AppError('NotFound', `no incident ${JSON.stringify(ref)} (use a reference such as INC-42)`);
  return JSON.parse(row.incident) as Incident;
}

async function addEvent(
  trx: Kysely<Database>,
  incidentId: string,
  atMs: number,
  e: {
    kind: EventKind;
    actor: Actor;
    text: string;
    starred?: boolean | undefined;
    public?: boolean | undefined;
  },
): Promise<TimelineEvent> {
  const event: TimelineEvent = {
    id: randomUUID(),
    atMs,
    kind: e.kind,
    source: e.actor.source,
    actor: e.actor.name,
    text: e.text,
    starred: e.starred ?? false,
    public: e.public ?? false,
  };
  // Writers of one incident hold its row (findIncident locks it), so max + 1 is free.
  const last = await trx
    .selectFrom('incident_events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
  await trx
    .insertInto('incident_events')
    .values({
      id: event.id,
      incident_id: incidentId,
      seq: Number(last?.seq ?? 0) + 1,
      at: atMs,
      kind: event.kind,
      event: JSON.stringify(event),
    })
    .execute();
  return event;
}

/** The configured severities (the default SEV1–SEV4 scale when none were given). */
export function severityScale(deps: Pick<IncidentDeps, 'severities'>): SeverityScale {
  return deps.severities ?? DEFAULT_SEVERITIES;
}

function checkSeverity(deps: IncidentDeps, severity: Severity): void {
  const { names } = severityScale(deps);
  if (!names.includes(severity))
    throw new AppError('Invalid', `severity must be one of ${names.join(', ')} (incidents.severities)`, [
      { field: 'severity', message: `${JSON.stringify(severity)} is not a configured severity` },
    ]);
}

function checkMilestones(milestones: Milestones): void {
  const problems: ProblemDetail[] = milestoneProblems(milestones).map((p) => ({
    field: `milestones.${p.field}`,
    message: p.message,
  }));
  for (const name of Object.keys(milestones))
    if (!(MILESTONES as readonly string[]).includes(name))
      problems.push({ field: `milestones.${name}`, message: 'is not a milestone' });
  if (problems.length)
    throw new AppError(
      'Invalid',
      `milestones out of order: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
      problems,
    );
}
