/**
 * The Slack app's rows: incident ↔ channel (written by whoever creates the channel), requests
 * already acted on (Slack retries and replays do nothing twice, across restarts and replicas),
 * and channel messages recorded on a timeline (so edits, deletions and the pin reaction find them).
 */
import type { Db } from '../platform/db/index.js';

/** Rows in slack_seen older than this are pruned: Slack retries within minutes, replays are refused after 5. */
export const SEEN_KEEP_MS = 24 * 60 * 60 * 1000;

export interface IncidentChannel {
  readonly incidentId: string;
  readonly channelId: string;
  readonly channelName: string;
  readonly cardTs: string | null;
}

/**
 * Claims a request by its key; false when it was claimed before (a retry or a replay). The claim
 * commits before the request is acted on, so a replica that sees the same request again stops here.
 */
export async function claimRequest(db: Db, key: string, nowMs: number): Promise<boolean> {
  const result = await db.kysely
    .insertInto('slack_seen')
    .values({ key, seen_at: nowMs })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  return result !== undefined;
}

/** Gives a claim back when acting on the request failed, so Slack's retry may act. */
export async function releaseRequest(db: Db, key: string): Promise<void> {
  await db.kysely.deleteFrom('slack_seen').where('key', '=', key).execute();
}

export async function pruneSeen(db: Db, nowMs: number): Promise<void> {
  await db.kysely
    .deleteFrom('slack_seen')
    .where('seen_at', '<', nowMs - SEEN_KEEP_MS)
    .execute();
}

/** Records (or moves) the channel of an incident; the card's ts when it is known. */
export async function linkIncidentChannel(
  db: Db,
  link: { incidentId: string; channelId: string; channelName: string; cardTs?: string | null },
  nowMs: number,
): Promise<void> {
  await db.kysely
    .insertInto('slack_incident_channels')
    .values({
      incident_id: link.incidentId,
      channel_id: link.channelId,
      channel_name: link.channelName,
      card_ts: link.cardTs ?? null,
      created_at: nowMs,
      updated_at: nowMs,
    })
    .onConflict((oc) =>
      oc.column('incident_id').doUpdateSet({
        channel_id: link.channelId,
        channel_name: link.channelName,
        ...(link.cardTs !== undefined ? { card_ts: link.cardTs } : {}),
        updated_at: nowMs,
      }),
    )
    .execute();
}

/** The incident of a Slack channel. */
export function channelIncident(db: Db, channelId: string): Promise<IncidentChannel | undefined> {
  return findLink(db, 'channel_id', channelId);
}

/** The Slack channel of an incident. */
export function incidentChannel(db: Db, incidentId: string): Promise<IncidentChannel | undefined> {
  return findLink(db, 'incident_id', incidentId);
}

async function findLink(
  db: Db,
  column: 'channel_id' | 'incident_id',
  value: string,
): Promise<IncidentChannel | undefined> {
  const row = await db.kysely
    .selectFrom('slack_incident_channels')
    .selectAll()
    .where(column, '=', value)
    .executeTakeFirst();
  return row
    ? {
        incidentId: row.incident_id,
        channelId: row.channel_id,
        channelName: row.channel_name,
        cardTs: row.card_ts,
      }
    : undefined;
}

export async function recordMessage(
  db: Db,
  row: { channelId: string; messageTs: string; incidentId: string; eventId: string },
): Promise<void> {
  await db.kysely
    .insertInto('slack_messages')
    .values({
      channel_id: row.channelId,
      message_ts: row.messageTs,
      incident_id: row.incidentId,
      event_id: row.eventId,
    })
    .onConflict((oc) => oc.columns(['channel_id', 'message_ts']).doNothing())
    .execute();
}

export async function recordedMessage(
  db: Db,
  channelId: string,
  messageTs: string,
): Promise<{ incidentId: string; eventId: string } | undefined> {
  const row = await db.kysely
    .selectFrom('slack_messages')
    .select(['incident_id', 'event_id'])
    .where('channel_id', '=', channelId)
    .where('message_ts', '=', messageTs)
    .executeTakeFirst();
  return row ? { incidentId: row.incident_id, eventId: row.event_id } : undefined;
}

export async function forgetMessage(db: Db, channelId: string, messageTs: string): Promise<void> {
  await db.kysely
    .deleteFrom('slack_messages')
    .where('channel_id', '=', channelId)
    .where('message_ts', '=', messageTs)
    .execute();
}
