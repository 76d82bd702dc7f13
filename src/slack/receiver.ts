/**
 * A Bolt Receiver on Shinrai's Fastify server: Slack's commands, interactions and events arrive at
 * `/api/v1/integrations/slack/{commands,interactions,events}`, go through the server's error
 * handling, rate limits and /metrics, and are handed to the Bolt App. Every request is verified
 * with Bolt's `verifySlackRequest` (HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing
 * secret, constant-time compare, a timestamp at most five minutes old) — plus, here, at most five
 * minutes ahead — and refused with 401 otherwise. Each request is claimed by its id (event_id,
 * trigger_id, view id + hash…) in the database before it is acted on, so Slack's retries
 * (`X-Slack-Retry-Num`) and replays do nothing twice, across restarts and replicas.
 *
 * Bolt is given the request only after verification and answers within the request (Bolt's
 * `processBeforeResponse`): when Slack gets its 200, the incident has changed.
 */
import type { App as BoltApp, Receiver, ReceiverEvent } from '@slack/bolt';
import { verifySlackRequest } from '@slack/bolt';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import type { ShinraiMetrics } from '../platform/metrics.js';
import { claimRequest, releaseRequest } from './store.js';

export const SLACK_PATH = '/api/v1/integrations/slack';
const KINDS = ['commands', 'interactions', 'events'] as const;
type Kind = (typeof KINDS)[number];
const MAX_SKEW_SECONDS = 5 * 60;

export interface FastifyReceiverDeps {
  readonly signingSecret: string;
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
}

type Body = Record<string, unknown>;

/** The kind of a request from its body (Socket Mode envelopes carry no URL path). */
export function kindOf(body: Body): Kind {
  if (typeof body.command === 'string') return 'commands';
  if (body.type === 'event_callback' || typeof body.event_id === 'string') return 'events';
  return 'interactions';
}

/** The key a request is acted on once by; undefined when it carries none (then it is not deduplicated). */
export function requestKey(kind: Kind, body: Body): string | undefined {
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  if (kind === 'events') {
    const id = text(body.event_id);
    return id && `event:${id}`;
  }
  if (kind === 'commands') {
    const trigger = text(body.trigger_id);
    return trigger && `command:${trigger}`;
  }
  const view = body.view as Body | undefined;
  if (body.type === 'view_submission' && view) {
    const id = text(view.id);
    return id && `view:${id}:${text(view.hash) ?? ''}`;
  }
  const trigger = text(body.trigger_id);
  const actions = Array.isArray(body.actions) ? (body.actions as Body[]) : [];
  const actionTs = text(actions[0]?.action_ts);
  return trigger ? `interaction:${trigger}:${actionTs ?? ''}` : undefined;
}

export class FastifyReceiver implements Receiver {
  private bolt: BoltApp | undefined;

  constructor(private readonly deps: FastifyReceiverDeps) {}

  init(app: BoltApp): void {
    this.bolt = app;
  }

  /** Nothing to start: the routes live on Shinrai's server, which listens by itself. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** The routes, in a scope whose parsers keep the raw body the signature covers. */
  routes(): (app: FastifyInstance) => Promise<void> {
    return async (server) => {
      await server.register(async (scope) => {
        scope.removeContentTypeParser(['application/json', 'application/x-www-form-urlencoded']);
        scope.addContentTypeParser(
          ['application/json', 'application/x-www-form-urlencoded'],
          { parseAs: 'string' },
          (_request, body, done) => done(null, body),
        );
        for (const kind of KINDS)
          scope.post(
            `${SLACK_PATH}/${kind}`,
            { config: { minRole: 'public' }, schema: { hide: true } },
            async (request, reply) => {
              const answer = await this.handle(kind, request.headers, request.body);
              if (answer.status === 200 && answer.body !== undefined)
                return reply
                  .status(200)
                  .type('application/json; charset=utf-8')
                  .send(JSON.stringify(answer.body));
              return reply.status(answer.status).send();
            },
          );
      });
    };
  }

  /** Verifies, parses, deduplicates and processes one request; the answer for Slack. */
  private async handle(
    kind: Kind,
    headers: Record<string, string | string[] | undefined>,
    raw: unknown,
  ): Promise<{ status: number; body?: unknown }> {
    const { metrics, clock, db, log } = this.deps;
    const count = (outcome: string) => metrics.slackRequests.inc({ kind, outcome });
    const rawBody = typeof raw === 'string' ? raw : '';
    const signature = headerOf(headers, 'x-slack-signature');
    const timestamp = Number(headerOf(headers, 'x-slack-request-timestamp'));
    const nowMs = clock.now();
    let verified = false;
    if (signature && Number.isInteger(timestamp) && timestamp - nowMs / 1000 <= MAX_SKEW_SECONDS) {
      try {
        verifySlackRequest({
          signingSecret: this.deps.signingSecret,
          body: rawBody,
          headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
          nowMilliseconds: nowMs,
        });
        verified = true;
      } catch {
        verified = false;
      }
    }
    if (!verified) {
      count('unauthorized');
      log.warn({ kind }, 'slack: refused a request that is not signed by Slack (bad or stale signature)');
      throw new AppError(
        'Unauthorized',
        'the request is not signed by Slack: X-Slack-Signature and X-Slack-Request-Timestamp (within 5 minutes) are required',
      );
    }
    // Slack checks a command URL's certificate with a signed `ssl_check=1` form: answer 200.
    if (kind === 'commands' && new URLSearchParams(rawBody).has('ssl_check')) return { status: 200 };
    const body = parseBody(kind, rawBody);
    if (!body) {
      count('invalid');
      throw new AppError('Invalid', `the ${kind} request body is not what Slack sends`);
    }
    if (kind === 'events' && body.type === 'url_verification') {
      count('ok');
      return { status: 200, body: { challenge: String(body.challenge ?? '') } };
    }
    if (body.type === 'app_rate_limited') {
      count('ok');
      log.warn('slack: Slack reports that it stopped sending events for a while (app_rate_limited)');
      return { status: 200 };
    }
    const key = requestKey(kind, body);
    if (key && !(await claimRequest(db, key, nowMs))) {
      count('duplicate');
      return { status: 200 };
    }
    const bolt = this.bolt;
    if (!bolt) throw new AppError('Unavailable', 'the Slack app is starting');
    let response: unknown;
    let acked = false;
    const retryNum = Number(headerOf(headers, 'x-slack-retry-num'));
    const event: ReceiverEvent = {
      body,
      ...(Number.isInteger(retryNum) ? { retryNum } : {}),
      ...(headerOf(headers, 'x-slack-retry-reason')
        ? { retryReason: headerOf(headers, 'x-slack-retry-reason') }
        : {}),
      ack: async (answer?: unknown) => {
        if (acked) return;
        acked = true;
        response = answer;
      },
    };
    try {
      await bolt.processEvent(event);
    } catch (error) {
      count('error');
      if (key) await releaseRequest(db, key).catch(() => {});
      log.error({ kind, err: summarise(error) }, 'slack: a request failed');
      throw new AppError('Internal', 'the Slack request failed; Slack may retry it');
    }
    count('ok');
    if (response === undefined || response === '') return { status: 200 };
    return { status: 200, body: typeof response === 'string' ? { text: response } : response };
  }
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const id = z.string().min(1).max(255);
const text = z.string().max(100_000);
/** A message as events carry it (the new one of an edit, the old one of a deletion). */
const messageShape = z.looseObject({
  type: z.string().optional(),
  subtype: z.string().optional(),
  text: text.optional(),
  ts: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
});
/** What an Events API request must look like to reach Bolt (which reads these fields unchecked). */
const eventsShape = z.union([
  z.looseObject({ type: z.literal('url_verification'), challenge: z.string().max(1000) }),
  z.looseObject({ type: z.literal('app_rate_limited') }),
  z.looseObject({
    type: z.literal('event_callback'),
    event_id: id,
    team_id: z.string().optional(),
    authorizations: z.array(z.looseObject({})).optional(),
    event: z.looseObject({
      type: id,
      subtype: z.string().optional(),
      channel: z.union([z.string(), z.looseObject({})]).optional(),
      user: z.union([z.string(), z.looseObject({})]).optional(),
      text: text.optional(),
      ts: z.string().optional(),
      deleted_ts: z.string().optional(),
      event_ts: z.string().optional(),
      thread_ts: z.string().optional(),
      bot_id: z.string().optional(),
      reaction: z.string().optional(),
      item: z
        .looseObject({
          type: z.string().optional(),
          channel: z.string().optional(),
          ts: z.string().optional(),
        })
        .optional(),
      message: messageShape.optional(),
      previous_message: messageShape.optional(),
    }),
  }),
]);
const userShape = z.looseObject({ id });
const viewValue = z.looseObject({
  value: text.nullable().optional(),
  selected_option: z.looseObject({ value: z.string() }).nullable().optional(),
  selected_options: z
    .array(z.looseObject({ value: z.string() }))
    .nullable()
    .optional(),
  selected_user: z.string().nullable().optional(),
});
const viewShape = z.looseObject({
  id,
  callback_id: z.string(),
  hash: z.string().optional(),
  private_metadata: z.string().optional(),
  state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), viewValue)) }).optional(),
});
const interactionsShape = z.union([
  z.looseObject({
    type: z.literal('view_submission'),
    user: userShape,
    view: viewShape.extend({
      state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), viewValue)) }),
    }),
  }),
  z.looseObject({ type: z.literal('view_closed'), user: userShape, view: viewShape }),
  z.looseObject({
    type: z.literal('block_actions'),
    user: userShape,
    trigger_id: z.string().optional(),
    actions: z.array(
      z.looseObject({ action_id: id, type: z.string().optional(), action_ts: z.string().optional() }),
    ),
    channel: z.looseObject({ id }).optional(),
    message: messageShape.optional(),
    view: viewShape.optional(),
  }),
  z.looseObject({
    type: z.enum(['shortcut', 'message_action']),
    user: userShape,
    callback_id: z.string(),
    trigger_id: z.string(),
  }),
]);
const commandsShape = z.looseObject({
  command: z.string().regex(/^\/[\w-]{1,32}$/),
  user_id: id,
  channel_id: id,
  trigger_id: id,
  text: text.default(''),
  team_id: z.string().optional(),
});

/**
 * Commands: form fields; interactions: the JSON in the `payload` field; events: JSON — each
 * checked against the shape Slack sends before Bolt (which reads fields without checking) sees it.
 */
function parseBody(kind: Kind, raw: string): Body | undefined {
  let value: unknown;
  try {
    if (kind === 'events') value = JSON.parse(raw);
    else {
      const form = Object.fromEntries(new URLSearchParams(raw));
      value = kind === 'commands' ? form : JSON.parse(form.payload ?? '');
    }
  } catch {
    return undefined;
  }
  const shape = kind === 'events' ? eventsShape : kind === 'commands' ? commandsShape : interactionsShape;
  const parsed = shape.safeParse(value);
  return parsed.success ? (parsed.data as Body) : undefined;
}

/** An error in a few safe words: its name and code, never a message that may quote a body. */
function summarise(error: unknown): { name?: string; code?: string; message?: string } {
  const e = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  return {
    name: typeof e.name === 'string' ? e.name : undefined,
    code: typeof e.code === 'string' ? e.code : undefined,
    message: error instanceof AppError ? error.message : undefined,
  };
}
