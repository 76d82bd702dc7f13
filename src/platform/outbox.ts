/**
 * Pure: when a durable outbox tries a failed item again. Shared by the notification outbox and the
 * Slack call outbox, so both back off the same way: exponential from a base, capped, with jitter,
 * never sooner than the remote asked (Retry-After), and given up after a deadline counted from
 * when the item was queued.
 */

export interface RetryPolicy {
  /** First retry delay (default 2 s), doubling per attempt up to `maxBackoffMs` (default 10 min). */
  readonly baseBackoffMs?: number | undefined;
  readonly maxBackoffMs?: number | undefined;
  /** An item still failing this long after it was queued is given up. */
  readonly giveUpHours: number;
}

export type RetryDecision =
  | { readonly giveUp: true }
  | { readonly giveUp: false; readonly retryInMs: number };

/**
 * After failed attempt number `attempts` (1 = the first), at `nowMs`, of an item queued at
 * `createdAtMs`: give up, or try again in `retryInMs` (at least `retryAfterMs` when the remote said so).
 */
export function retryDecision(
  policy: RetryPolicy,
  item: { readonly attempts: number; readonly createdAtMs: number },
  nowMs: number,
  retryAfterMs = 0,
  random: () => number = Math.random,
): RetryDecision {
  if (nowMs - item.createdAtMs >= policy.giveUpHours * 3_600_000) return { giveUp: true };
  const base = policy.baseBackoffMs ?? 2_000;
  const backoffMs =
    Math.min(base * 2 ** Math.max(0, item.attempts - 1), policy.maxBackoffMs ?? 600_000) *
    (0.5 + random() / 2);
  return { giveUp: false, retryInMs: Math.round(Math.max(backoffMs, retryAfterMs)) };
}
