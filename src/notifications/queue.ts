/** The one way into `notification_outbox` for writers: alerts, incident announcements, scheduled reports. */
import type { Kysely } from 'kysely';
import type { Database } from '../platform/db/index.js';

/**
 * Queues one webhook delivery (in the caller's transaction), due at once. The id is the delivery's
 * idempotency key: queueing the same id again is a no-op, so a retried transaction sends once.
 */
export async function queueWebhook(
  trx: Kysely<Database>,
  message: {
    readonly id: string;
    readonly target: string;
    /** What the delivery is about (an alert's fingerprint, `incident:<id>`, `report:<schedule>`). */
    readonly fingerprint: string;
    readonly transition: string;
    readonly payload: unknown;
  },
  atMs: number,
): Promise<void> {
  await trx
    .insertInto('notification_outbox')
    .values({
      id: message.id,
      target: message.target,
      fingerprint: message.fingerprint,
      transition: message.transition,
      payload: JSON.stringify(message.payload),
      created_at: atMs,
      attempts: 0,
      next_attempt_at: atMs,
      delivered_at: null,
      gave_up_at: null,
      last_error: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
