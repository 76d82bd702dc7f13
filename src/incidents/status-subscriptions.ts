/**
 * Status-page subscriptions (use cases over the database): subscribe (double opt-in: a pending row
 * and a confirmation mail with a single-use, expiring token of which only a hash is kept), confirm,
 * unsubscribe (an HMAC token in every mail; the row is deleted), and the notifier: a leader pass
 * that compares each recently changed incident's public face (the status page's own rule,
 * `announcedIncident`) with what subscribers were already mailed, and queues one notice per
 * confirmed subscriber in the same transaction that records it. Nothing private is ever read into
 * a mail, and no answer says whether an address is known. docs/email.md.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import { type Database, type Db, isUniqueViolation } from '../platform/db/index.js';
import { enqueueMail, type QueuedMail } from '../platform/mail-outbox.js';
import { markdownToText } from '../platform/markdown.js';
import { PeriodicTask } from '../platform/periodic.js';
import type { Catalog } from '../slo/index.js';
import type { Incident, TimelineEvent } from './service.js';
import { announcedIncident, impactOf, publicNameOf, publicStatusOf } from './status-page.js';
import type { Lang } from './status-page-i18n.js';
import { confirmationMail, type Notice, type NoticeKind, noticeMail } from './status-subscription-mail.js';

export interface StatusSubscriptionDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly catalog: () => Catalog;
  readonly config: Config['statusPage'];
  readonly severities?: readonly string[] | undefined;
  readonly isLeader: () => boolean;
  /** How often the notifier looks for public changes (ms). */
  readonly intervalMs: number;
  /** Called after mails were queued (to send them now rather than at the next tick). */
  readonly onQueued?: (() => void) | undefined;
}

/** How long a subscribe form stays usable after the page was served. */
export const FORM_TOKEN_TTL_MS = 12 * 3_600_000;
/** Incidents changed this long before the last pass are looked at again (commits land late). */
const RESCAN_MARGIN_MS = 5 * 60_000;
/** Pending subscriptions whose link expired this long ago are forgotten. */
const FORGET_PENDING_MS = 7 * 86_400_000;

const emailSchema = z.email().max(254);

/** A subscribe request's address, normalised (trimmed, lower case), or undefined when not one. */
export function normaliseAddress(raw: string): string | undefined {
  const address = raw.trim().toLowerCase();
  return emailSchema.safeParse(address).success ? address : undefined;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export type ConfirmResult = 'confirmed' | 'invalid';

export class StatusSubscriptions {
  private key: Buffer | undefined;
  private readonly loop: PeriodicTask<number>;

  constructor(private readonly deps: StatusSubscriptionDeps) {
    this.loop = new PeriodicTask(() => this.notify(), {
      intervalMs: deps.intervalMs,
      log: deps.log,
      failure: 'status subscriptions: a notifier pass failed; it runs again at the next tick',
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One notifier pass (leader only): the number of mails queued. Never rejects. */
  cycle(): Promise<number | null> {
    return this.loop.runNow();
  }

  private url(path: string): string {
    return `${this.deps.config.publicUrl}${path}`;
  }

  /** The HMAC key of form and unsubscribe tokens: made once, kept in the database for every replica. */
  private async hmacKey(): Promise<Buffer> {
    if (this.key) return this.key;
    const db = this.deps.db.kysely;
    await db
      .insertInto('mail_state')
      .values({ name: 'hmac_key', value: randomBytes(32).toString('hex') })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db
      .selectFrom('mail_state')
      .select('value')
      .where('name', '=', 'hmac_key')
      .executeTakeFirstOrThrow();
    this.key = Buffer.from(row.value, 'hex');
    return this.key;
  }

  private async mac(purpose: string, value: string): Promise<string> {
    return createHmac('sha256', await this.hmacKey())
      .update(`${purpose}\u0000${value}`)
      .digest('base64url');
  }

  /** A token for the subscribe form served now (not per visitor: the page is cached). */
  async formToken(): Promise<string> {
    const issuedAtMs = String(this.deps.clock.now());
    return `${issuedAtMs}.${await this.mac('form', issuedAtMs)}`;
  }

  /** Whether a subscribe form's token is ours and fresh. */
  async checkFormToken(token: string): Promise<boolean> {
    const match = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return false;
    const issuedAtMs = Number(match[1]);
    const ageMs = this.deps.clock.now() - issuedAtMs;
    if (ageMs < -60_000 || ageMs > FORM_TOKEN_TTL_MS) return false;
    return safeEqual(match[2]!, await this.mac('form', match[1]!));
  }

  private async unsubscribeToken(subscriberId: string): Promise<string> {
    return `${subscriberId}.${await this.mac('unsubscribe', subscriberId)}`;
  }

  /**
   * Subscribes an address (already normalised): a confirmation mail to a new or pending address,
   * within `subscribePerAddressPerHour`; nothing for a confirmed one. The caller answers the same
   * whatever happened here, so nobody learns whether an address is known.
   */
  async subscribe(address: string, lang: Lang): Promise<'mailed' | 'silent'> {
    const { db, clock, config } = this.deps;
    const nowMs = clock.now();
    const token = randomBytes(32).toString('base64url');
    const hash = sha256(token);
    const expiresAtMs = nowMs + config.confirmHours * 3_600_000;
    try {
      const mailed = await db.kysely.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('status_subscribers')
          .selectAll()
          .where('address', '=', address)
          .executeTakeFirst();
        let id: string;
        if (!row) {
          id = randomUUID();
          await trx
            .insertInto('status_subscribers')
            .values({
              id,
              address,
              language: lang,
              state: 'pending',
              confirm_hash: hash,
              confirm_expires_at: expiresAtMs,
              created_at: nowMs,
              confirmed_at: null,
              window_start_at: nowMs,
              window_count: 1,
            })
            .execute();
        } else {
          if (row.state === 'confirmed') return false;
          const windowOver = nowMs - Number(row.window_start_at) >= 3_600_000;
          const count = windowOver ? 0 : Number(row.window_count);
          if (count >= config.subscribePerAddressPerHour) return false;
          id = row.id;
          await trx
            .updateTable('status_subscribers')
            .set({
              language: lang,
              confirm_hash: hash,
              confirm_expires_at: expiresAtMs,
              window_start_at: windowOver ? nowMs : Number(row.window_start_at),
              window_count: count + 1,
            })
            .where('id', '=', id)
            .execute();
        }
        const message = confirmationMail({
          lang,
          title: config.title,
          confirmUrl: this.url(`/status/confirm?token=${token}`),
          hours: config.confirmHours,
        });
        await enqueueMail(
          trx,
          [{ id: `status-confirm:${id}:${hash.slice(0, 16)}`, kind: 'status-confirm', to: address, message }],
          nowMs,
        );
        return true;
      });
      if (mailed) this.deps.onQueued?.();
      return mailed ? 'mailed' : 'silent';
    } catch (error) {
      // The same address subscribed twice at once: the other request's mail is the one.
      if (isUniqueViolation(error)) return 'silent';
      throw error;
    }
  }

  /** Uses a confirmation token: once, before it expires. */
  async confirm(token: string): Promise<ConfirmResult> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return 'invalid';
    const nowMs = this.deps.clock.now();
    const result = await this.deps.db.kysely
      .updateTable('status_subscribers')
      .set({ state: 'confirmed', confirm_hash: null, confirm_expires_at: null, confirmed_at: nowMs })
      .where('confirm_hash', '=', sha256(token))
      .where('confirm_expires_at', '>', nowMs)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? 'confirmed' : 'invalid';
  }

  /** Uses an unsubscribe token: the subscriber is forgotten. Unknown but well-signed tokens are done already. */
  async unsubscribe(token: string): Promise<'unsubscribed' | 'invalid'> {
    const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match || !safeEqual(match[2]!, await this.mac('unsubscribe', match[1]!))) return 'invalid';
    await this.deps.db.kysely.deleteFrom('status_subscribers').where('id', '=', match[1]!).execute();
    return 'unsubscribed';
  }

  /** The notifier pass: queues notices for public changes since the last pass. */
  private async notify(): Promise<number | null> {
    if (!this.deps.isLeader()) return null;
    const { db, clock } = this.deps;
    const nowMs = clock.now();
    const cursorRow = await db.kysely
      .selectFrom('mail_state')
      .select('value')
      .where('name', '=', 'status_scan_cursor')
      .executeTakeFirst();
    // The first pass ever only records what is public already: subscribers hear of changes, not history.
    const baseline = cursorRow === undefined;
    const sinceMs = baseline ? undefined : Number(cursorRow.value) - RESCAN_MARGIN_MS;
    let query = db.kysely.selectFrom('incidents').select('incident').orderBy('number');
    if (sinceMs !== undefined) query = query.where('updated_at', '>=', sinceMs);
    const incidents = (await query.execute()).map((r) => JSON.parse(r.incident) as Incident);
    const catalog = this.deps.catalog();
    // Read before any transaction: on SQLite a transaction holds the only connection.
    await this.hmacKey();
    let queued = 0;
    for (const incident of incidents) {
      const timeline = (
        await db.kysely
          .selectFrom('incident_events')
          .select('event')
          .where('incident_id', '=', incident.id)
          .orderBy('seq')
          .execute()
      ).map((r) => JSON.parse(r.event) as TimelineEvent);
      queued += await this.notifyIncident(catalog, incident, timeline, nowMs, baseline);
    }
    await db.kysely
      .insertInto('mail_state')
      .values({ name: 'status_scan_cursor', value: String(nowMs) })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: String(nowMs) }))
      .execute();
    await db.kysely
      .deleteFrom('status_subscribers')
      .where('state', '=', 'pending')
      .where('confirm_expires_at', '<', nowMs - FORGET_PENDING_MS)
      .execute();
    if (queued) this.deps.onQueued?.();
    return queued;
  }

  private async notifyIncident(
    catalog: Catalog,
    incident: Incident,
    timeline: readonly TimelineEvent[],
    nowMs: number,
    baseline: boolean,
  ): Promise<number> {
    const announced = announcedIncident(catalog, { incident, timeline });
    if (!announced) return 0;
    const status = publicStatusOf(incident.status);
    return this.deps.db.kysely.transaction().execute(async (trx) => {
      const state = await trx
        .selectFrom('status_mail_incidents')
        .selectAll()
        .where('incident_id', '=', incident.id)
        .executeTakeFirst();
      const before = new Set<string>(state ? (JSON.parse(state.announced) as string[]) : []);
      const fresh = announced.updates.filter((e) => !before.has(e.id));
      const resolvedNow = status === 'resolved' && !(state && Number(state.resolved));
      if (!fresh.length && !resolvedNow) return 0;
      const ids = announced.updates.map((e) => e.id);
      const values = {
        announced: JSON.stringify(ids),
        resolved: status === 'resolved' ? 1 : 0,
        updated_at: nowMs,
      };
      await trx
        .insertInto('status_mail_incidents')
        .values({ incident_id: incident.id, ...values })
        .onConflict((oc) => oc.column('incident_id').doUpdateSet(values))
        .execute();
      if (baseline) return 0;
      const kind: NoticeKind = resolvedNow ? 'resolved' : before.size === 0 ? 'opened' : 'updated';
      const notice: Notice = {
        kind,
        components: announced.services.map(publicNameOf),
        impact: impactOf(incident.severity, this.deps.severities),
        status,
        updates: [...fresh]
          .sort((a, b) => b.atMs - a.atMs)
          .map((e) => ({ atMs: e.atMs, text: markdownToText(e.text) })),
      };
      const noticeKey = sha256(`${fresh.map((e) => e.id).join(',')}|${resolvedNow}`).slice(0, 16);
      return this.queueNotice(trx, incident.id, noticeKey, notice, nowMs);
    });
  }

  private async queueNotice(
    trx: Kysely<Database>,
    incidentId: string,
    noticeKey: string,
    notice: Notice,
    nowMs: number,
  ): Promise<number> {
    const { config } = this.deps;
    const subscribers = await trx
      .selectFrom('status_subscribers')
      .select(['id', 'address', 'language'])
      .where('state', '=', 'confirmed')
      .execute();
    const mails: QueuedMail[] = [];
    for (const subscriber of subscribers) {
      const lang: Lang = subscriber.language === 'ja' ? 'ja' : 'en';
      const token = await this.unsubscribeToken(subscriber.id);
      mails.push({
        id: `status-notice:${incidentId}:${noticeKey}:${subscriber.id}`,
        kind: 'status-notice',
        to: subscriber.address,
        message: noticeMail({
          lang,
          title: config.title,
          timeZone: config.timeZone,
          notice,
          statusUrl: this.url(`/status?lang=${lang}`),
          unsubscribeUrl: this.url(`/status/unsubscribe?token=${token}`),
        }),
      });
    }
    return enqueueMail(trx, mails, nowMs);
  }
}
