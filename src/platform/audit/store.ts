/** Reading the audit log: filtered, newest first, a page at a time (the cursor is the last id seen). */
import { sql } from 'kysely';
import type { Database, Db } from '../db/index.js';
import type { FieldChanges } from './changes.js';
import type { AuditEvent } from './record.js';

export interface AuditFilter {
  /** Exactly this actor. */
  readonly actor?: string | undefined;
  /** Actions starting with this (`incident` or `incident.` for every incident write). */
  readonly action?: string | undefined;
  readonly targetType?: string | undefined;
  readonly targetId?: string | undefined;
  /** At or after (ms). */
  readonly sinceMs?: number | undefined;
  /** Before (ms). */
  readonly untilMs?: number | undefined;
  /** Events touching what this team owns. */
  readonly team?: string | undefined;
  /** Events older than this id (the previous page's `nextCursor`). */
  readonly cursor?: string | undefined;
}

/** Most events one page answers. */
export const MAX_AUDIT_PAGE = 500;

/** One page of events, newest first; `nextCursor` is set when there may be more. */
export async function listAuditEvents(
  db: Db,
  filter: AuditFilter,
  limit: number,
): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
  let query = db.kysely.selectFrom('audit_events').selectAll().orderBy('id', 'desc');
  if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
  if (filter.action !== undefined) {
    query = query.where(
      sql<boolean>`${sql.ref('action')} LIKE ${likeEscaped(filter.action, '')} ESCAPE '\\'`,
    );
  }
  if (filter.targetType !== undefined) query = query.where('target_type', '=', filter.targetType);
  if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
  // A JSON list of names without quotes (team names are letters, digits, ".", "_" and "-").
  if (filter.team !== undefined)
    query = query.where(
      sql<boolean>`${sql.ref('teams')} LIKE ${likeEscaped(`"${filter.team}"`, '%')} ESCAPE '\\'`,
    );
  if (filter.sinceMs !== undefined) query = query.where('at', '>=', filter.sinceMs);
  if (filter.untilMs !== undefined) query = query.where('at', '<', filter.untilMs);
  if (filter.cursor !== undefined) query = query.where('id', '<', filter.cursor);
  const rows = await query.limit(limit + 1).execute();
  const page = rows.slice(0, limit).map(eventOf);
  return { events: page, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}

/** Every event the filter matches, newest first, read a page at a time (for the NDJSON export). */
export async function* exportAuditEvents(db: Db, filter: AuditFilter): AsyncGenerator<AuditEvent> {
  let cursor = filter.cursor;
  for (;;) {
    const page = await listAuditEvents(db, { ...filter, cursor }, MAX_AUDIT_PAGE);
    yield* page.events;
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
}

function eventOf(row: Database['audit_events']): AuditEvent {
  return {
    id: row.id,
    at: new Date(Number(row.at)).toISOString(),
    actor: row.actor,
    credential: row.credential,
    role: row.role,
    action: row.action,
    target: { type: row.target_type, id: row.target_id },
    changes: JSON.parse(row.changes) as FieldChanges,
    clientAddress: row.client_address,
    requestId: row.request_id,
    teams: row.teams ? (JSON.parse(row.teams) as string[]) : [],
  };
}

/** A LIKE pattern matching `text` literally, then anything; `before` is put in front (`%`: anywhere). */
function likeEscaped(text: string, before: string): string {
  return `${before}${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
