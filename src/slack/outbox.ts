/**
 * Every call to Slack about an incident goes through this durable outbox. Jobs are queued in the
 * transaction of the incident change that needs them (`IncidentDeps.onChange`: declared from the
 * API, the UI, Slack, an alert or Alertmanager alike) and run by the leader with the notification
 * outbox's retry schedule (`retryDecision`): a 429 waits at least its Retry-After, an outage backs
 * off, a job still failing after `giveUpHours` is given up and logged.
 *
 * Nothing is done twice across a crash: a job records each step Slack confirmed (channel created,
 * each invite, card posted, pinned, announced) before the next, and a step whose answer was lost
 * (the process died between Slack's 200 and our commit) is first looked for in Slack — the
 * channel by name among the bot's, a message by the idempotency key in its metadata — before it is
 * made again. The card update is "latest state wins": one row per incident whose version grows
 * with each change; the card is rendered from the incident as stored when the call is made, and
 * the row is done only if no change came in meanwhile.
 */
import type { KnownBlock, WebClient } from '@slack/web-api';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import {
  budgetImpact,
  getIncident,
  type Incident,
  type IncidentChange,
  type IncidentDeps,
} from '../incidents/index.js';
import type { Config } from '../platform/config.js';
import type { Database, Db, SlackOutboxTable } from '../platform/db/index.js';
import type { ShinraiMetrics } from '../platform/metrics.js';
import { retryDecision } from '../platform/outbox.js';
import { PeriodicTask } from '../platform/periodic.js';
import { CARD_TEXT, channelName, incidentCard, mention, nextChannelName } from './card.js';
import { describeSlackError, type SlackCallFailure } from './client.js';
import { incidentChannel, linkIncidentChannel } from './store.js';
import type { SlackLanguage } from './text.js';

/** Metadata event type on Shinrai's messages: its payload carries the call's idempotency key. */
export const MESSAGE_EVENT_TYPE = 'shinrai_message';
const BATCH_ROWS = 200;
const NAME_ATTEMPTS = 10;
/** Slack refuses an invite for these reasons whatever we do: the user is skipped, the job goes on. */
const UNINVITABLE = new Set([
  'user_not_found',
  'cant_invite_self',
  'cant_invite',
  'user_is_restricted',
  'user_is_ultra_restricted',
  'user_disabled',
  'is_archived',
  'not_allowed_token_type',
]);

type Kind = 'open' | 'card' | 'remind' | 'post';

/** Progress of a job: what Slack confirmed so far. */
interface JobState {
  channelId?: string;
  channelName?: string;
  /** A create was sent with this name and its answer is not recorded (look before creating again). */
  creating?: string;
  nameAttempt?: number;
  invited?: string[];
  cardTs?: string;
  pinned?: boolean;
  announced?: boolean;
  /** Keys of messages sent whose answer is not recorded (look in the channel before posting again). */
  posting?: string[];
  /** The commander the card job last invited. */
  ic?: string;
  reminded?: boolean;
  /** A `post` job's message (a scheduled report's summary): kept whole so the row is all it needs. */
  post?: { channel: string; text: string };
}

/** Queues the Slack calls an incident change needs, in the change's transaction. */
export async function queueIncidentCalls(trx: Kysely<Database>, change: IncidentChange): Promise<void> {
  const { incident, atMs } = change;
  if (change.kind === 'declared') {
    await insertJob(trx, `open:${incident.id}`, incident.id, 'open', atMs);
    return;
  }
  // One pending card update per incident: a change while one waits only raises its version.
  await trx
    .insertInto('slack_outbox')
    .values(jobRow(`card:${incident.id}`, incident.id, 'card', atMs))
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        version: sql`slack_outbox.version + 1`,
        // A finished row starts afresh; a waiting one keeps its schedule (a Retry-After is honoured).
        attempts: sql`CASE WHEN slack_outbox.done_at IS NULL AND slack_outbox.gave_up_at IS NULL THEN slack_outbox.attempts ELSE 0 END`,
        created_at: sql`CASE WHEN slack_outbox.done_at IS NULL AND slack_outbox.gave_up_at IS NULL THEN slack_outbox.created_at ELSE ${atMs} END`,
        next_attempt_at: sql`CASE WHEN slack_outbox.done_at IS NULL AND slack_outbox.gave_up_at IS NULL THEN slack_outbox.next_attempt_at ELSE ${atMs} END`,
        done_at: null,
        gave_up_at: null,
      }),
    )
    .execute();
}

/**
 * Queues one message to a channel that is not about an incident (a scheduled report's summary), in
 * the caller's transaction; posted once like every other call (`post:<id>` is its idempotency key).
 * Returns whether it was new.
 */
export async function queueSlackPost(
  trx: Kysely<Database>,
  post: { readonly id: string; readonly channel: string; readonly text: string },
  atMs: number,
): Promise<boolean> {
  const row = jobRow(`post:${post.id}`, '', 'post', atMs);
  const inserted = await trx
    .insertInto('slack_outbox')
    .values({ ...row, state: JSON.stringify({ post: { channel: post.channel, text: post.text } }) })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

function jobRow(id: string, incidentId: string, kind: Kind, atMs: number): SlackOutboxTable {
  return {
    id,
    incident_id: incidentId,
    kind,
    version: 1,
    state: '{}',
    created_at: atMs,
    attempts: 0,
    next_attempt_at: atMs,
    done_at: null,
    gave_up_at: null,
    last_error: null,
  };
}

async function insertJob(
  db: Kysely<Database>,
  id: string,
  incidentId: string,
  kind: Kind,
  atMs: number,
): Promise<boolean> {
  const inserted = await db
    .insertInto('slack_outbox')
    .values(jobRow(id, incidentId, kind, atMs))
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Minutes without a status update before the IC is reminded, by severity (`*`: the rest). */
export type UpdateIntervals = Readonly<Record<string, number>>;

export function updateIntervalMinutes(intervals: UpdateIntervals, severity: string): number {
  return intervals[severity] ?? intervals['*'] ?? 30;
}

/**
 * When the incident last had a status update: its declaration, a status or severity change, or a
 * note written on purpose (API, UI, `/shinrai note`) — not channel chatter recorded on the timeline.
 */
export function lastStatusUpdateMs(
  timeline: ReadonlyArray<{ id: string; kind: string; atMs: number }>,
  chatterIds: ReadonlySet<string>,
): number | undefined {
  let last: number | undefined;
  for (const event of timeline) {
    const counts =
      event.kind === 'declared' ||
      event.kind === 'status' ||
      event.kind === 'severity' ||
      (event.kind === 'note' && !chatterIds.has(event.id));
    if (counts && (last === undefined || event.atMs > last)) last = event.atMs;
  }
  return last;
}

class SlackCallError extends Error {
  constructor(readonly failure: SlackCallFailure) {
    super(failure.message);
  }
}

export interface SlackOutboxDeps {
  readonly incidents: IncidentDeps;
  readonly client: WebClient;
  readonly config: Config['slack'];
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
  readonly isLeader: () => boolean;
  readonly intervalMs: number;
  readonly giveUpHours: number;
  readonly updateIntervals: UpdateIntervals;
  /** First retry delay (default 2 s). */
  readonly baseBackoffMs?: number | undefined;
}

export interface SlackOutboxSummary {
  readonly done: number;
  readonly failed: number;
  readonly waiting: number;
}

type Outcome = 'done' | 'waiting' | 'again';

export class SlackOutbox {
  private readonly loop: PeriodicTask<SlackOutboxSummary>;
  private botUserId: string | undefined;
  private lastReminderScanMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: SlackOutboxDeps) {
    this.loop = new PeriodicTask(() => this.deliverDue(), {
      intervalMs: deps.intervalMs,
      log: deps.log,
      failure: 'slack outbox: a pass failed; queued Slack calls stay queued',
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass (leader only): due jobs, then the reminder scan. Never rejects. */
  cycle(): Promise<SlackOutboxSummary | null> {
    return this.loop.runNow();
  }

  private get db(): Db {
    return this.deps.incidents.db;
  }

  private get now(): number {
    return this.deps.incidents.clock.now();
  }

  private async deliverDue(): Promise<SlackOutboxSummary | null> {
    if (!this.deps.isLeader()) return null;
    await this.scanForReminders();
    const nowMs = this.now;
    const rows = await this.db.kysely
      .selectFrom('slack_outbox')
      .selectAll()
      .where('done_at', 'is', null)
      .where('gave_up_at', 'is', null)
      .where('next_attempt_at', '<=', nowMs)
      .orderBy('created_at')
      .orderBy('id')
      .limit(BATCH_ROWS)
      .execute();
    const order: Record<string, number> = { open: 0, card: 1, remind: 2 };
    rows.sort((a, b) => (order[a.kind] ?? 3) - (order[b.kind] ?? 3));
    const counts = { done: 0, failed: 0, waiting: 0 };
    // One at a time: Slack's limits are per method and workspace, and a 429 should stop the burst.
    for (const row of rows) {
      const outcome = await this.run(row);
      if (outcome === 'done') counts.done++;
      else if (outcome === 'waiting') counts.waiting++;
      else counts.failed++;
    }
    return counts;
  }

  private async run(row: SlackOutboxTable): Promise<Outcome> {
    const state = JSON.parse(row.state) as JobState;
    try {
      const finished =
        row.kind === 'open'
          ? await this.open(row, state)
          : row.kind === 'card'
            ? await this.card(row, state)
            : row.kind === 'post'
              ? await this.post(row, state)
              : await this.remind(row, state);
      if (finished === 'waiting') return 'waiting';
      const updated = await this.db.kysely
        .updateTable('slack_outbox')
        .set({ done_at: this.now, attempts: Number(row.attempts) + 1, last_error: null })
        .where('id', '=', row.id)
        .where('version', '=', row.version)
        .executeTakeFirst();
      // A change came in during the update: the row stays for the newer state.
      return Number(updated.numUpdatedRows) > 0 ? 'done' : 'again';
    } catch (error) {
      if (!(error instanceof SlackCallError)) throw error;
      await this.failed(row, error.failure);
      return 'again';
    }
  }

  private async failed(row: SlackOutboxTable, failure: SlackCallFailure): Promise<void> {
    const nowMs = this.now;
    const attempts = Number(row.attempts) + 1;
    const retryAfterMs = failure.kind === 'rate_limited' ? failure.retryAfterSeconds * 1000 : 0;
    const decision = retryDecision(
      { giveUpHours: this.deps.giveUpHours, baseBackoffMs: this.deps.baseBackoffMs },
      { attempts, createdAtMs: Number(row.created_at) },
      nowMs,
      retryAfterMs,
    );
    if (decision.giveUp) {
      await this.db.kysely
        .updateTable('slack_outbox')
        .set({ gave_up_at: nowMs, attempts, last_error: failure.message })
        .where('id', '=', row.id)
        .execute();
      this.deps.log.error({ job: row.id, attempts }, `slack outbox: given up: ${failure.message}`);
      return;
    }
    await this.db.kysely
      .updateTable('slack_outbox')
      .set({ attempts, next_attempt_at: nowMs + decision.retryInMs, last_error: failure.message })
      .where('id', '=', row.id)
      .execute();
    this.deps.log.warn(
      { job: row.id, attempts, retryInMs: decision.retryInMs },
      `slack outbox: will retry: ${failure.message}`,
    );
  }

  private async save(row: SlackOutboxTable, state: JobState): Promise<void> {
    await this.db.kysely
      .updateTable('slack_outbox')
      .set({ state: JSON.stringify(state) })
      .where('id', '=', row.id)
      .execute();
  }

  /** One Web API call, counted; a failure becomes a SlackCallError carrying its safe description. */
  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.deps.metrics.slackApiCalls.inc({ method, outcome: 'ok' });
      return result;
    } catch (error) {
      const failure = describeSlackError(method, error);
      this.deps.metrics.slackApiCalls.inc({
        method,
        outcome: failure.kind === 'rate_limited' ? 'rate_limited' : 'error',
      });
      throw new SlackCallError(failure);
    }
  }

  private platformError(error: unknown): string | undefined {
    return error instanceof SlackCallError && error.failure.kind === 'platform'
      ? error.failure.error
      : undefined;
  }

  private async incident(id: string): Promise<Incident | undefined> {
    try {
      return (await getIncident(this.deps.incidents, id)).incident;
    } catch {
      return undefined;
    }
  }

  private get language(): SlackLanguage {
    return this.deps.config.language;
  }

  private async renderCard(
    incident: Incident,
  ): Promise<{ text: string; blocks: Array<Record<string, unknown>> }> {
    const deps = this.deps.incidents;
    let impact: Awaited<ReturnType<typeof budgetImpact>> = [];
    try {
      if (deps.catalog) impact = await budgetImpact(deps, deps.catalog(), incident);
    } catch (error) {
      this.deps.log.warn(
        { err: { name: (error as Error)?.name } },
        'slack card: budget impact not available',
      );
    }
    const uiUrl = this.deps.config.uiUrl;
    return incidentCard({
      incident,
      impact,
      severities: deps.severities?.names ?? ['SEV1', 'SEV2', 'SEV3', 'SEV4'],
      extraRoles: this.deps.config.roles,
      url: uiUrl ? `${uiUrl.replace(/\/+$/, '')}/incidents/${incident.reference}` : undefined,
      language: this.language,
    });
  }

  /** The channel, invites, the pinned card and the announcement, each step once. */
  private async open(row: SlackOutboxTable, state: JobState): Promise<Outcome> {
    const incident = await this.incident(row.incident_id);
    if (!incident) return 'done';
    const client = this.deps.client;
    if (!state.channelId) {
      // An incident already linked to a channel (declared in one, or linked by hand) keeps it.
      const linked = await incidentChannel(this.db, incident.id);
      if (linked) {
        state.channelId = linked.channelId;
        state.channelName = linked.channelName;
        if (linked.cardTs) state.cardTs = linked.cardTs;
        await this.save(row, state);
      } else await this.createChannel(row, state, incident);
    }
    const channel = state.channelId!;
    // Invites: the commander and the configured responders, one call each (Slack refuses a whole
    // list when one of them is already in the channel).
    const ic = slackIdOf(incident.roles?.commander);
    const wanted = [...new Set([...(ic ? [ic] : []), ...this.deps.config.responders])];
    for (const user of wanted) {
      if (state.invited?.includes(user)) continue;
      try {
        await this.call('conversations.invite', () => client.conversations.invite({ channel, users: user }));
      } catch (error) {
        const code = this.platformError(error);
        if (code === 'already_in_channel') {
          // fine: they are there
        } else if (code && UNINVITABLE.has(code)) {
          this.deps.log.warn({ incident: incident.reference, user }, `slack: cannot invite: ${code}`);
        } else throw error;
      }
      state.invited = [...(state.invited ?? []), user];
      if (user === ic) state.ic = ic;
      await this.save(row, state);
    }
    if (!state.cardTs) {
      const card = await this.renderCard(incident);
      const post = () => this.postOnce(row, state, channel, `card:${incident.id}`, card);
      try {
        state.cardTs = await post();
      } catch (error) {
        if (this.platformError(error) !== 'not_in_channel') throw error;
        await this.call('conversations.join', () => client.conversations.join({ channel }));
        state.cardTs = await post();
      }
      await linkIncidentChannel(
        this.db,
        {
          incidentId: incident.id,
          channelId: channel,
          channelName: state.channelName!,
          cardTs: state.cardTs,
        },
        this.now,
      );
      await this.save(row, state);
    }
    if (!state.pinned) {
      try {
        await this.call('pins.add', () => client.pins.add({ channel, timestamp: state.cardTs! }));
      } catch (error) {
        if (this.platformError(error) !== 'already_pinned') throw error;
      }
      state.pinned = true;
      await this.save(row, state);
    }
    const broadcast = this.deps.config.broadcastChannel;
    if (broadcast && !state.announced) {
      const text = CARD_TEXT[this.language].announce(
        incident.reference,
        incident.severity,
        escapeText(incident.title),
        channel,
      );
      const post = () => this.postOnce(row, state, broadcast, `announce:${incident.id}`, { text });
      try {
        await post();
      } catch (error) {
        if (this.platformError(error) !== 'not_in_channel') throw error;
        await this.call('conversations.join', () => client.conversations.join({ channel: broadcast }));
        await post();
      }
      state.announced = true;
      await this.save(row, state);
    }
    return 'done';
  }

  private async createChannel(row: SlackOutboxTable, state: JobState, incident: Incident): Promise<void> {
    const client = this.deps.client;
    const base = channelName(this.deps.config.channelPrefix, incident.number, incident.title);
    if (state.creating) {
      const found = await this.findOwnChannel(state.creating);
      if (found) return this.created(row, state, incident, found, state.creating);
    }
    for (let attempt = state.nameAttempt ?? 0; attempt < NAME_ATTEMPTS; attempt++) {
      const name = nextChannelName(base, attempt);
      state.creating = name;
      state.nameAttempt = attempt;
      await this.save(row, state);
      try {
        const created = await this.call('conversations.create', () => client.conversations.create({ name }));
        const id = created.channel?.id;
        if (!id)
          throw new SlackCallError({ kind: 'unknown', message: 'slack conversations.create: no channel id' });
        return this.created(row, state, incident, id, created.channel?.name ?? name);
      } catch (error) {
        if (this.platformError(error) !== 'name_taken') throw error;
      }
    }
    throw new SlackCallError({
      kind: 'platform',
      error: 'name_taken',
      message: `slack conversations.create: name_taken (${base} and ${NAME_ATTEMPTS - 1} more)`,
    });
  }

  private async created(
    row: SlackOutboxTable,
    state: JobState,
    incident: Incident,
    id: string,
    name: string,
  ): Promise<void> {
    state.channelId = id;
    state.channelName = name;
    delete state.creating;
    await linkIncidentChannel(
      this.db,
      { incidentId: incident.id, channelId: id, channelName: name },
      this.now,
    );
    await this.save(row, state);
  }

  /** A channel with this name that the bot created (a create whose answer was lost), if any. */
  private async findOwnChannel(name: string): Promise<string | undefined> {
    const client = this.deps.client;
    this.botUserId ??= (await this.call('auth.test', () => client.auth.test())).user_id;
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const list = await this.call('conversations.list', () =>
        client.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 1000,
          ...(cursor ? { cursor } : {}),
        }),
      );
      const found = list.channels?.find((c) => c.name === name && c.creator === this.botUserId);
      if (found?.id) return found.id;
      cursor = list.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /**
   * Posts a message once: its idempotency key rides in the message metadata, and a post whose
   * answer was lost is looked for in the channel's recent history before posting again.
   */
  private async postOnce(
    row: SlackOutboxTable,
    state: JobState,
    channel: string,
    key: string,
    message: { text: string; blocks?: Array<Record<string, unknown>> },
  ): Promise<string> {
    const client = this.deps.client;
    if (state.posting?.includes(key)) {
      const history = await this.call('conversations.history', () =>
        client.conversations.history({ channel, limit: 100, include_all_metadata: true }),
      );
      const found = history.messages?.find(
        (m) =>
          m.metadata?.event_type === MESSAGE_EVENT_TYPE &&
          (m.metadata.event_payload as Record<string, unknown> | undefined)?.key === key,
      );
      if (found?.ts) {
        state.posting = state.posting.filter((k) => k !== key);
        return found.ts;
      }
    } else {
      state.posting = [...(state.posting ?? []), key];
      await this.save(row, state);
    }
    const posted = await this.call('chat.postMessage', () =>
      client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as unknown as KnownBlock[] } : {}),
        metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { key } },
        unfurl_links: false,
      }),
    );
    state.posting = (state.posting ?? []).filter((k) => k !== key);
    if (!posted.ts) throw new SlackCallError({ kind: 'unknown', message: 'slack chat.postMessage: no ts' });
    return posted.ts;
  }

  /** The card updated in place from the incident as stored now (and a new commander invited). */
  private async card(row: SlackOutboxTable, state: JobState): Promise<Outcome> {
    const link = await incidentChannel(this.db, row.incident_id);
    if (!link?.cardTs) {
      const opening = await this.db.kysely
        .selectFrom('slack_outbox')
        .select('id')
        .where('id', '=', `open:${row.incident_id}`)
        .where('done_at', 'is', null)
        .where('gave_up_at', 'is', null)
        .executeTakeFirst();
      // The card is posted by the open job (from the latest state); an incident without a channel has no card.
      return opening ? 'waiting' : 'done';
    }
    const incident = await this.incident(row.incident_id);
    if (!incident) return 'done';
    const card = await this.renderCard(incident);
    const client = this.deps.client;
    await this.call('chat.update', () =>
      client.chat.update({
        channel: link.channelId,
        ts: link.cardTs!,
        text: card.text,
        blocks: card.blocks as unknown as KnownBlock[],
      }),
    );
    const ic = slackIdOf(incident.roles?.commander);
    if (ic && ic !== state.ic) {
      try {
        await this.call('conversations.invite', () =>
          client.conversations.invite({ channel: link.channelId, users: ic }),
        );
      } catch (error) {
        const code = this.platformError(error);
        if (code !== 'already_in_channel' && !(code && UNINVITABLE.has(code))) throw error;
      }
      state.ic = ic;
      await this.save(row, state);
    }
    return 'done';
  }

  /** A `post` job: its message, once (joining a public channel the bot is not in yet). */
  private async post(row: SlackOutboxTable, state: JobState): Promise<Outcome> {
    const message = state.post;
    if (!message) return 'done';
    const send = () => this.postOnce(row, state, message.channel, row.id, { text: message.text });
    try {
      await send();
    } catch (error) {
      if (this.platformError(error) !== 'not_in_channel') throw error;
      await this.call('conversations.join', () =>
        this.deps.client.conversations.join({ channel: message.channel }),
      );
      await send();
    }
    return 'done';
  }

  private async remind(row: SlackOutboxTable, state: JobState): Promise<Outcome> {
    if (state.reminded) return 'done';
    const link = await incidentChannel(this.db, row.incident_id);
    const incident = await this.incident(row.incident_id);
    if (!link || !incident) return 'done';
    const ic = incident.roles?.commander;
    const minutes = updateIntervalMinutes(this.deps.updateIntervals, incident.severity);
    const text = CARD_TEXT[this.language].remind(ic ? mention(ic) : '<!here>', minutes);
    await this.postOnce(row, state, link.channelId, row.id, { text });
    state.reminded = true;
    await this.save(row, state);
    return 'done';
  }

  /**
   * Queues a reminder for each open incident with a channel that has had no status update for its
   * severity's interval; once per interval of silence (the key names the interval).
   */
  private async scanForReminders(): Promise<void> {
    const nowMs = this.now;
    if (nowMs - this.lastReminderScanMs < 60_000) return;
    this.lastReminderScanMs = nowMs;
    const rows = await this.db.kysely
      .selectFrom('slack_incident_channels')
      .innerJoin('incidents', 'incidents.id', 'slack_incident_channels.incident_id')
      .select(['incidents.id as id', 'incidents.severity as severity'])
      .where('incidents.status', 'in', ['triage', 'investigating', 'identified', 'monitoring'])
      .where('slack_incident_channels.card_ts', 'is not', null)
      .execute();
    for (const { id, severity } of rows) {
      const intervalMs = updateIntervalMinutes(this.deps.updateIntervals, severity) * 60_000;
      const { timeline } = await getIncident(this.deps.incidents, id);
      const chatter = await this.db.kysely
        .selectFrom('slack_messages')
        .select('event_id')
        .where('incident_id', '=', id)
        .execute();
      const last = lastStatusUpdateMs(timeline, new Set(chatter.map((c) => c.event_id)));
      if (last === undefined || nowMs - last < intervalMs) continue;
      const quietIntervals = Math.floor((nowMs - last) / intervalMs);
      await insertJob(this.db.kysely, `remind:${id}:${last}:${quietIntervals}`, id, 'remind', nowMs);
    }
  }
}

function slackIdOf(holder: string | undefined): string | undefined {
  return holder ? /\(([UW][A-Z0-9]{2,})\)$/.exec(holder)?.[1] : undefined;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
