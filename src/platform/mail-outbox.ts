/**
 * The durable mail outbox: every mail (a status-page confirmation or notice, later a scheduled
 * report) is a row queued in the transaction of what caused it, keyed by its logical mail id (a
 * repeat enqueue is a no-op), and sent by the leader with the shared retry schedule
 * (`retryDecision`). A row is claimed (`sending_at`, committed) before its SMTP transaction and
 * marked sent after it: a process killed in between leaves a claimed row, which is sent once more
 * when its lease ends and given up if that is interrupted too, so a mail goes out at most twice
 * and is never lost to an outage. docs/email.md.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Database, Db, MailOutboxTable } from './db/index.js';
import type { MailMessage, SendOutcome } from './mail.js';
import { retryDecision } from './outbox.js';
import { PeriodicTask } from './periodic.js';

/** A mail to queue. */
export interface QueuedMail {
  /** The logical mail id: the same mail is queued once whatever retries or replicas do. */
  readonly id: string;
  /** What produced it (`status-confirm`, `status-notice`, `report`…): for logs and metrics. */
  readonly kind: string;
  readonly to: string;
  readonly message: MailMessage;
}

/** Queues mails in the caller's transaction; returns how many were new. */
export async function enqueueMail(
  db: Kysely<Database>,
  mails: readonly QueuedMail[],
  atMs: number,
): Promise<number> {
  let added = 0;
  for (const mail of mails) {
    const row = await db
      .insertInto('mail_outbox')
      .values({
        id: mail.id,
        kind: mail.kind,
        recipient: mail.to,
        message: JSON.stringify(mail.message),
        created_at: atMs,
        attempts: 0,
        next_attempt_at: atMs,
        sending_at: null,
        sent_at: null,
        gave_up_at: null,
        last_error: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) added++;
  }
  return added;
}

/** Sends one mail (a Mailer in production). */
export interface MailSender {
  send(mailId: string, to: string, message: MailMessage): Promise<SendOutcome>;
}

export interface MailOutboxDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly sender: MailSender;
  readonly isLeader: () => boolean;
  readonly intervalMs: number;
  readonly giveUpHours: number;
  /** A claimed row whose send did not finish within this is the work of a dead process. */
  readonly leaseMs: number;
  /** First retry delay (default 2 s). */
  readonly baseBackoffMs?: number | undefined;
  readonly onOutcome?: ((kind: string, outcome: 'sent' | 'failed' | 'gave-up') => void) | undefined;
  /**
   * Called after the SMTP server took a mail and before it is marked sent: a test injects a
   * failure here to stand for a process killed at that point.
   */
  readonly afterSend?: ((mailId: string) => Promise<void>) | undefined;
}

export interface MailOutboxSummary {
  readonly sent: number;
  readonly failed: number;
  readonly gaveUp: number;
}

/** Written on a row found claimed by a process that did not finish: its outcome is unknown. */
export const INTERRUPTED = 'sending was interrupted; the mail may have been sent (sent once more)';
const BATCH_ROWS = 200;

export class MailOutbox {
  private readonly loop: PeriodicTask<MailOutboxSummary>;

  constructor(private readonly deps: MailOutboxDeps) {
    this.loop = new PeriodicTask(() => this.sendDue(), {
      intervalMs: deps.intervalMs,
      log: deps.log,
      failure: 'mail outbox: a pass failed; queued mail stays queued',
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass (leader only). Never rejects; a call during a pass returns that pass. */
  cycle(): Promise<MailOutboxSummary | null> {
    return this.loop.runNow();
  }

  private async sendDue(): Promise<MailOutboxSummary | null> {
    if (!this.deps.isLeader()) return null;
    const { db, clock } = this.deps;
    const nowMs = clock.now();
    const rows = await db.kysely
      .selectFrom('mail_outbox')
      .selectAll()
      .where('sent_at', 'is', null)
      .where('gave_up_at', 'is', null)
      .where('next_attempt_at', '<=', nowMs)
      .orderBy('created_at')
      .orderBy('id')
      .limit(BATCH_ROWS)
      .execute();
    const counts = { sent: 0, failed: 0, gaveUp: 0 };
    for (const row of rows) {
      const outcome = await this.sendOne(row, nowMs);
      if (outcome) counts[outcome]++;
    }
    return counts;
  }

  private async sendOne(
    row: MailOutboxTable,
    nowMs: number,
  ): Promise<'sent' | 'failed' | 'gaveUp' | undefined> {
    const { db, log } = this.deps;
    const attempts = Number(row.attempts) + 1;
    let lastError = row.last_error;
    if (row.sending_at !== null) {
      // Claimed by a pass that did not finish: still running elsewhere, or its process died.
      if (Number(row.sending_at) + this.deps.leaseMs > nowMs) return undefined;
      if (row.last_error === INTERRUPTED)
        return this.giveUp(row, attempts, nowMs, 'sending was interrupted twice; not sent a third time');
      lastError = INTERRUPTED;
      log.warn({ mail: row.id, kind: row.kind }, `mail ${row.id}: ${INTERRUPTED}`);
    }
    // The claim commits before anything is sent; a competing pass that claimed it first wins.
    const claimed = await db.kysely
      .updateTable('mail_outbox')
      .set({ sending_at: nowMs, attempts, last_error: lastError })
      .where('id', '=', row.id)
      .where('sent_at', 'is', null)
      .where('gave_up_at', 'is', null)
      .where((eb) =>
        row.sending_at === null ? eb('sending_at', 'is', null) : eb('sending_at', '=', row.sending_at),
      )
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return undefined;
    const outcome = await this.deps.sender.send(row.id, row.recipient, JSON.parse(row.message));
    if (outcome.ok) {
      await this.deps.afterSend?.(row.id);
      await db.kysely
        .updateTable('mail_outbox')
        .set({ sent_at: this.deps.clock.now(), sending_at: null, message: '{}', last_error: null })
        .where('id', '=', row.id)
        .execute();
      this.deps.onOutcome?.(row.kind, 'sent');
      return 'sent';
    }
    if (outcome.permanent)
      return this.giveUp(row, attempts, nowMs, `refused by the server: ${outcome.error}`);
    const decision = retryDecision(
      { giveUpHours: this.deps.giveUpHours, baseBackoffMs: this.deps.baseBackoffMs },
      { attempts, createdAtMs: Number(row.created_at) },
      nowMs,
    );
    if (decision.giveUp) return this.giveUp(row, attempts, nowMs, outcome.error);
    await db.kysely
      .updateTable('mail_outbox')
      .set({ sending_at: null, next_attempt_at: nowMs + decision.retryInMs, last_error: outcome.error })
      .where('id', '=', row.id)
      .execute();
    log.warn(
      { mail: row.id, kind: row.kind, attempts, retryInMs: decision.retryInMs },
      `mail not sent: ${outcome.error}`,
    );
    this.deps.onOutcome?.(row.kind, 'failed');
    return 'failed';
  }

  private async giveUp(
    row: MailOutboxTable,
    attempts: number,
    nowMs: number,
    error: string,
  ): Promise<'gaveUp'> {
    await this.deps.db.kysely
      .updateTable('mail_outbox')
      .set({ gave_up_at: nowMs, sending_at: null, attempts, message: '{}', last_error: error })
      .where('id', '=', row.id)
      .execute();
    // The mail id and kind only: the recipient's address stays out of the logs.
    this.deps.log.error({ mail: row.id, kind: row.kind, attempts }, `mail given up (bounced): ${error}`);
    this.deps.onOutcome?.(row.kind, 'gave-up');
    return 'gaveUp';
  }
}
