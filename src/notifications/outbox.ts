/**
 * The durable notification outbox. A notification is inserted in the transaction of the alert
 * transition that caused it (so a committed transition is never lost and a rolled-back one never
 * sent), then delivered by the leader with retries and exponential backoff until the receiver
 * answers 2xx. Each carries an idempotency key; per alert and target they go out in order (a
 * `resolved` never overtakes its `firing`). Delivery is at least once: receivers drop repeats by key.
 */
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type Agent, request } from 'undici';
import type { AlertChange, StoredAlert } from '../alerting/index.js';
import type { Clock } from '../platform/clock.js';
import type { Database, Db, NotificationOutboxTable } from '../platform/db/index.js';
import type { Egress } from '../platform/egress.js';
import { expandEnv } from '../platform/env.js';
import { retryDecision } from '../platform/outbox.js';
import { PeriodicTask } from '../platform/periodic.js';
import { describeStatus, describeTransportError, retryAfterMs } from '../platform/remote-error.js';
import { announcementBody, type IncidentAnnouncement, isAnnouncement } from './announcements.js';
import { formatRequest } from './formats.js';
import { queueWebhook } from './queue.js';
import type { DeliveryTarget } from './targets.js';

/** What a webhook receives (JSON). */
export interface WebhookPayload {
  readonly version: 1;
  /** The idempotency key, also sent as the `Idempotency-Key` header. */
  readonly id: string;
  readonly status: 'firing' | 'resolved';
  readonly at: string;
  readonly alert: {
    readonly id: string;
    readonly slo: string;
    readonly service: string;
    readonly rule: string;
    readonly tier: string;
    readonly severity: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly burnRates: Readonly<Record<string, number | null>>;
    readonly firedAt: string | null;
    readonly resolvedAt: string | null;
  };
  /** The SLO's state when the notification was made, for people reading it. */
  readonly context?:
    | {
        readonly budgetRemaining?: number | null | undefined;
        readonly exhaustionAt?: string | null | undefined;
        readonly runbookUrl?: string | undefined;
        readonly sloUrl?: string | undefined;
      }
    | undefined;
}

export function notificationId(
  fingerprint: string,
  transition: string,
  atMs: number,
  target: string,
): string {
  return `shr-${fingerprint}-${transition}-${atMs}-${target}`;
}

/** The body of one notification about `alert`. */
export function payloadFor(
  alert: StoredAlert,
  status: 'firing' | 'resolved',
  id: string,
  atMs: number,
  context?: WebhookPayload['context'],
): WebhookPayload {
  return {
    version: 1,
    id,
    status,
    at: new Date(atMs).toISOString(),
    alert: {
      id: alert.fingerprint,
      slo: alert.sloId,
      service: alert.service,
      rule: alert.rule,
      tier: alert.tier,
      severity: alert.severity,
      labels: alert.labels,
      annotations: alert.annotations,
      burnRates: alert.burnRates,
      firedAt: alert.lastFiredAtMs === null ? null : new Date(alert.lastFiredAtMs).toISOString(),
      resolvedAt: alert.resolvedAtMs === null ? null : new Date(alert.resolvedAtMs).toISOString(),
    },
    ...(context ? { context } : {}),
  };
}

/**
 * Inserts the notifications of one step's alert changes (in the caller's transaction). `targetsOf`
 * says which targets an alert notifies; resolutions go only where the rule notifies on resolve.
 */
export async function enqueueNotifications(
  trx: Kysely<Database>,
  changes: readonly AlertChange[],
  targetsOf: (change: AlertChange) => {
    readonly targets: readonly string[];
    readonly notifyResolved: boolean;
    readonly context?: WebhookPayload['context'];
  },
  atMs: number,
): Promise<number> {
  let queued = 0;
  for (const change of changes) {
    const { alert, transition } = change;
    if (transition !== 'firing' && transition !== 'resolved') continue;
    const { targets, notifyResolved, context } = targetsOf(change);
    if (transition === 'resolved' && !notifyResolved) continue;
    for (const target of targets) {
      const id = notificationId(alert.fingerprint, transition, atMs, target);
      const payload = payloadFor(alert, transition, id, atMs, context);
      await queueWebhook(trx, { id, target, fingerprint: alert.fingerprint, transition, payload }, atMs);
      queued++;
    }
  }
  return queued;
}

export interface DeliveryConfig {
  readonly intervalSeconds: number;
  readonly giveUpHours: number;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number | undefined;
  /** First retry delay (default 2 s), doubling per attempt up to `maxBackoffMs` (default 10 min). */
  readonly baseBackoffMs?: number | undefined;
  readonly maxBackoffMs?: number | undefined;
}

export interface DeliveryDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly config: DeliveryConfig;
  readonly isLeader: () => boolean;
  /** Deliverable targets by name (from the loaded specs). */
  readonly targets: () => ReadonlyMap<string, DeliveryTarget>;
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Every delivery goes through it (egress.allow). */
  readonly egress: Egress;
  readonly onOutcome?: ((target: string, outcome: 'delivered' | 'failed' | 'gave-up') => void) | undefined;
  /** Firing alerts with their targets, for re-sending to Alertmanagers. */
  readonly firing?:
    | (() => Promise<Array<{ targets: readonly string[]; payload: WebhookPayload }>>)
    | undefined;
}

export interface DeliverySummary {
  readonly delivered: number;
  readonly failed: number;
  readonly gaveUp: number;
  /** Notifications still waiting after this cycle. */
  readonly waiting: number;
}

/** Rows read per cycle: enough for a burst of alerts, bounded so one cycle stays short. */
const BATCH_ROWS = 500;
const CONCURRENCY = 4;
/** The longest a receiver's Retry-After holds a target back (a bigger one is read as this). */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** Why a request was not taken, and how long the receiver asked us to wait (429/503 Retry-After). */
interface SendFailure {
  readonly error: string;
  readonly retryAfterMs?: number | undefined;
}

export class NotificationDeliverer {
  private readonly loop: PeriodicTask<DeliverySummary>;
  private lastRefreshMs = Number.NEGATIVE_INFINITY;
  /**
   * Targets that answered 429/503 with Retry-After, until when: their other notifications wait too
   * (without counting an attempt) instead of hitting a receiver that asked for quiet.
   */
  private readonly pausedUntil = new Map<string, number>();
  /** Made on first use and closed by stop(), so a stopped deliverer holds no sockets. */
  private dispatcher: Agent | undefined;

  constructor(private readonly deps: DeliveryDeps) {
    this.loop = new PeriodicTask(() => this.deliverDue(), {
      intervalMs: deps.config.intervalSeconds * 1000,
      log: deps.log,
      failure: 'notification delivery failed; pending notifications stay queued',
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    await dispatcher?.close();
  }

  /** One delivery pass (leader only). Never rejects; a call during a pass returns that pass. */
  cycle(): Promise<DeliverySummary | null> {
    return this.loop.runNow();
  }

  private async deliverDue(): Promise<DeliverySummary | null> {
    if (!this.deps.isLeader()) return null;
    const { db, clock } = this.deps;
    const nowMs = clock.now();
    const pending = await db.kysely
      .selectFrom('notification_outbox')
      .selectAll()
      .where('delivered_at', 'is', null)
      .where('gave_up_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(BATCH_ROWS)
      .execute();
    // Only the oldest undelivered notification of each alert and target may go: order is kept.
    const heads = new Map<string, NotificationOutboxTable>();
    for (const row of pending) {
      const key = `${row.fingerprint}\u0000${row.target}`;
      if (!heads.has(key)) heads.set(key, row);
    }
    const due = [...heads.values()].filter(
      (row) => Number(row.next_attempt_at) <= nowMs && (this.pausedUntil.get(row.target) ?? 0) <= nowMs,
    );
    const counts = { delivered: 0, failed: 0, gaveUp: 0 };
    const worker = async () => {
      for (let row = due.shift(); row; row = due.shift()) counts[await this.deliver(row, nowMs)]++;
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await this.refreshAlertmanagers(nowMs);
    return { ...counts, waiting: pending.length - counts.delivered - counts.gaveUp };
  }

  private async deliver(
    row: NotificationOutboxTable,
    nowMs: number,
  ): Promise<'delivered' | 'failed' | 'gaveUp'> {
    const { db, log, config } = this.deps;
    const target = this.deps.targets().get(row.target);
    let failure: SendFailure | undefined;
    if (!target) failure = { error: `no deliverable target named ${row.target} in the loaded specs` };
    else failure = await this.post(target, row);
    if (failure === undefined) {
      await db.kysely
        .updateTable('notification_outbox')
        .set({ delivered_at: nowMs, attempts: Number(row.attempts) + 1, last_error: null })
        .where('id', '=', row.id)
        .execute();
      this.deps.onOutcome?.(row.target, 'delivered');
      return 'delivered';
    }
    const { error } = failure;
    const attempts = Number(row.attempts) + 1;
    const waitMs =
      failure.retryAfterMs === undefined ? 0 : Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MS);
    const decision = retryDecision(config, { attempts, createdAtMs: Number(row.created_at) }, nowMs, waitMs);
    if (decision.giveUp) {
      await db.kysely
        .updateTable('notification_outbox')
        .set({ gave_up_at: nowMs, attempts, last_error: error })
        .where('id', '=', row.id)
        .execute();
      log.error({ notification: row.id, target: row.target, attempts }, `notification given up: ${error}`);
      this.deps.onOutcome?.(row.target, 'gave-up');
      return 'gaveUp';
    }
    if (waitMs > 0)
      this.pausedUntil.set(row.target, Math.max(this.pausedUntil.get(row.target) ?? 0, nowMs + waitMs));
    // The receiver's Retry-After is a floor under the usual backoff, never a way to go sooner.
    const backoffMs = decision.retryInMs;
    await db.kysely
      .updateTable('notification_outbox')
      .set({ attempts, next_attempt_at: nowMs + Math.round(backoffMs), last_error: error })
      .where('id', '=', row.id)
      .execute();
    log.warn(
      { notification: row.id, target: row.target, attempts, retryInMs: Math.round(backoffMs) },
      `notification not delivered: ${error}`,
    );
    this.deps.onOutcome?.(row.target, 'failed');
    return 'failed';
  }

  /** Sends one notification; undefined when the receiver took it, else why not. */
  private async post(target: DeliveryTarget, row: NotificationOutboxTable): Promise<SendFailure | undefined> {
    const payload = JSON.parse(row.payload) as WebhookPayload | IncidentAnnouncement;
    return this.send(target, payload, row.id);
  }

  /** Formats a payload for the target's kind and posts it. */
  private async send(
    target: DeliveryTarget,
    payload: WebhookPayload | IncidentAnnouncement,
    idempotencyKey: string,
  ): Promise<SendFailure | undefined> {
    const env = this.deps.env ?? process.env;
    const baseUrl = expandEnv(target.url, env);
    const field = (key: 'url' | 'secret') =>
      target.configured
        ? `notificationTargets.${target.name}.${key}`
        : `shinrai.dev/${key} of ${target.name}`;
    if (!baseUrl.ok) return { error: `${field('url')} uses \${${baseUrl.missing}}, which is not set` };
    if (isAnnouncement(payload) && target.kind === 'alertmanager')
      return { error: `${target.name} is an Alertmanager, which takes alerts, not incident announcements` };
    const { url, body } = isAnnouncement(payload)
      ? {
          url: baseUrl.value,
          body: announcementBody(target.kind as 'webhook' | 'slack' | 'teams', payload, target.language),
        }
      : formatRequest(target.kind, baseUrl.value, payload, this.deps.clock.now(), {
          language: target.language,
        });
    const timestamp = Math.floor(this.deps.clock.now() / 1000).toString();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
      'user-agent': 'shinrai',
      'x-shinrai-timestamp': timestamp,
    };
    if (target.secret) {
      const secret = expandEnv(target.secret, env);
      if (!secret.ok) return { error: `${field('secret')} uses \${${secret.missing}}, which is not set` };
      headers['x-shinrai-signature'] = `sha256=${signature(secret.value, timestamp, body)}`;
    }
    const timeoutMs = this.deps.config.timeoutMs ?? 10_000;
    this.dispatcher ??= this.deps.egress.agent('notifications');
    const dispatcher = this.dispatcher;
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher,
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Read and dropped: a receiver's body is never stored, logged or shown (it may echo secrets).
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) return undefined;
      const asksToWait = response.statusCode === 429 || response.statusCode === 503;
      return {
        error: `${target.name} answered ${describeStatus(response.statusCode)}`,
        retryAfterMs: asksToWait
          ? retryAfterMs(response.headers['retry-after'], this.deps.clock.now())
          : undefined,
      };
    } catch (error) {
      const failure = describeTransportError(error, timeoutMs);
      return {
        error:
          failure.kind === 'egress'
            ? `${target.name}: ${failure.message}`
            : `${target.name} unreachable: ${failure.message}`,
      };
    }
  }

  /**
   * Alertmanager resolves an alert that is not sent again within its validity, so every firing
   * alert routed to an Alertmanager is re-sent each cycle (at most once a minute). Idempotent.
   */
  private async refreshAlertmanagers(nowMs: number): Promise<void> {
    if (!this.deps.firing || nowMs - this.lastRefreshMs < 60_000) return;
    const targets = [...this.deps.targets().values()].filter((t) => t.kind === 'alertmanager');
    if (!targets.length) return;
    this.lastRefreshMs = nowMs;
    const firing = await this.deps.firing();
    for (const target of targets) {
      const payloads = firing.filter((f) => f.targets.includes(target.name)).map((f) => f.payload);
      for (const payload of payloads) {
        const failure = await this.send(target, payload, payload.id);
        if (failure)
          this.deps.log.warn(
            { target: target.name, alert: payload.alert.id },
            `alert refresh failed: ${failure.error}`,
          );
      }
    }
  }
}

/** HMAC-SHA256 over `<timestamp>.<body>`, hex: what receivers recompute to trust a notification. */
export function signature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}
