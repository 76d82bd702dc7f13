/**
 * Webhook deliveries already acted on (delivery_webhook_deliveries): a redelivered GitHub or GitLab
 * event, or a CloudEvent sent twice, counts once — across restarts and replicas.
 */
import type { Db } from '../../platform/db/index.js';

/** Rows older than this are pruned: GitHub lets a delivery be redelivered for 3 days, GitLab retries within hours. */
export const DELIVERIES_KEEP_MS = 30 * 24 * 60 * 60 * 1000;

/** Sender names in the table. */
export type WebhookSender = 'github' | 'gitlab' | 'webhook';

export interface SeenDeliveries {
  /** Claims a delivery; false when it was claimed before (a redelivery). */
  claim(sender: WebhookSender, deliveryId: string, nowMs: number): Promise<boolean>;
  /** Gives a claim back when acting on the delivery failed, so the sender's retry may act. */
  release(sender: WebhookSender, deliveryId: string): Promise<void>;
}

/** How often claiming also deletes rows older than DELIVERIES_KEEP_MS. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** The seen-deliveries table of a database; claims prune old rows now and then (no timer to wire). */
export function seenDeliveries(db: Db): SeenDeliveries {
  let prunedAtMs = Number.NEGATIVE_INFINITY;
  return {
    async claim(sender, deliveryId, nowMs) {
      if (nowMs - prunedAtMs >= PRUNE_EVERY_MS) {
        prunedAtMs = nowMs;
        await pruneDeliveries(db, nowMs);
      }
      const row = await db.kysely
        .insertInto('delivery_webhook_deliveries')
        .values({ sender, delivery_id: deliveryId, received_at: nowMs })
        .onConflict((oc) => oc.columns(['sender', 'delivery_id']).doNothing())
        .returning('delivery_id')
        .executeTakeFirst();
      return row !== undefined;
    },
    async release(sender, deliveryId) {
      await db.kysely
        .deleteFrom('delivery_webhook_deliveries')
        .where('sender', '=', sender)
        .where('delivery_id', '=', deliveryId)
        .execute();
    },
  };
}

/** Deletes deliveries older than DELIVERIES_KEEP_MS; run it now and then (e.g. hourly). */
export async function pruneDeliveries(db: Db, nowMs: number): Promise<number> {
  const result = await db.kysely
    .deleteFrom('delivery_webhook_deliveries')
    .where('received_at', '<', nowMs - DELIVERIES_KEEP_MS)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
