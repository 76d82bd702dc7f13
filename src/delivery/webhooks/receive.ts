/**
 * Receiving a deployment webhook (use cases): authenticate as the sender signs, read the event,
 * act once per delivery (a redelivery is answered, not repeated), record through the delivery
 * service. Framework-free: routes.ts hands in the headers and the raw body.
 */
import { AppError, invalid, notFound, unauthorized } from '../../platform/errors.js';
import type { Change, DeploymentSource } from '../model.js';
import { interpretGeneric } from './cloudevents.js';
import { interpretGithub } from './github.js';
import { interpretGitlab } from './gitlab.js';
import {
  type Interpretation,
  LIMITS,
  obj,
  type RepositoryServices,
  str,
  type WebhookDeployment,
} from './payload.js';
import type { SeenDeliveries, WebhookSender } from './store.js';
import { bearerToken, tokenMatches, verifyHmac } from './verify.js';

/** The header of the generic webhook's HMAC alternative to a bearer token. */
export const SIGNATURE_HEADER = 'x-shinrai-signature-256';

export interface WebhookDeps {
  /** delivery.github.secret, delivery.gitlab.token, delivery.webhook.token: a webhook without one is off (404). */
  readonly secrets: {
    readonly github?: string | undefined;
    readonly gitlab?: string | undefined;
    readonly webhook?: string | undefined;
  };
  /** delivery.repositories: "owner/repo" (GitLab: path_with_namespace) → service. */
  readonly repositories: RepositoryServices;
  readonly recordDeployment: (
    input: WebhookDeployment,
    actor: { readonly name: string; readonly source: DeploymentSource },
  ) => Promise<{
    readonly deployment: { readonly id: string };
    readonly outcome: 'created' | 'updated' | 'unchanged';
  }>;
  readonly recordChanges: (input: {
    readonly service: string;
    readonly changes: readonly Change[];
  }) => Promise<{ readonly recorded: number }>;
  readonly seen: SeenDeliveries;
  readonly now: () => number;
}

/** One request as the route received it. */
export interface WebhookRequest {
  /** A request header by its lower-case name (the first value when repeated). */
  readonly header: (name: string) => string | undefined;
  /** The media type, lower-cased, without parameters. */
  readonly mediaType: string | undefined;
  /** The body exactly as it arrived: signatures are over these bytes. */
  readonly rawBody: Buffer;
}

export type WebhookResult =
  | {
      readonly result: 'recorded';
      readonly event: string;
      readonly deployment: string;
      readonly outcome: 'created' | 'updated' | 'unchanged';
    }
  | {
      readonly result: 'recorded';
      readonly event: string;
      readonly service: string;
      readonly changes: number;
    }
  | { readonly result: 'duplicate'; readonly event: string }
  | { readonly result: 'ignored'; readonly event: string; readonly reason: string }
  | { readonly result: 'pong'; readonly event: string };

export interface WebhookAnswer {
  /** 200 acted on (or a redelivery of what was), 202 accepted and ignored, with the reason. */
  readonly status: 200 | 202;
  readonly body: WebhookResult;
}

/** POST /api/v1/integrations/github */
export async function receiveGithub(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookAnswer> {
  const secret = deps.secrets.github;
  if (!secret) throw notFound('the GitHub webhook is off: set delivery.github.secret to turn it on');
  if (!verifyHmac(secret, request.rawBody, request.header('x-hub-signature-256')))
    throw unauthorized(
      'X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of the body under the webhook secret (delivery.github.secret)',
    );
  const event = str(request.header('x-github-event'), 100);
  if (!event) throw invalid('X-GitHub-Event is missing');
  const body = parseBody(request, { formPayload: true });
  const sender = str(obj(obj(body)?.sender)?.login, LIMITS.authorChars);
  return act(
    deps,
    'github',
    sender ? `github:${sender}` : 'github',
    event,
    interpretGithub(event, body, deps.repositories),
    str(request.header('x-github-delivery'), LIMITS.idChars),
  );
}

/** POST /api/v1/integrations/gitlab */
export async function receiveGitlab(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookAnswer> {
  const secret = deps.secrets.gitlab;
  if (!secret) throw notFound('the GitLab webhook is off: set delivery.gitlab.token to turn it on');
  if (!tokenMatches(secret, request.header('x-gitlab-token')))
    throw unauthorized(
      'X-Gitlab-Token is missing or is not the webhook secret token (delivery.gitlab.token)',
    );
  const event = str(request.header('x-gitlab-event'), 100);
  if (!event) throw invalid('X-Gitlab-Event is missing');
  const body = parseBody(request, { formPayload: false });
  const user =
    str(obj(obj(body)?.user)?.username, LIMITS.authorChars) ??
    str(obj(body)?.user_username, LIMITS.authorChars);
  // Idempotency-Key (GitLab 17.4+) stays the same across GitLab's retries of one delivery;
  // X-Gitlab-Event-UUID identifies the event on older versions.
  const deliveryId =
    str(request.header('idempotency-key'), LIMITS.idChars) ??
    str(request.header('x-gitlab-event-uuid'), LIMITS.idChars);
  return act(
    deps,
    'gitlab',
    user ? `gitlab:${user}` : 'gitlab',
    event,
    interpretGitlab(event, body, deps.repositories),
    deliveryId,
  );
}

/** POST /api/v1/integrations/deployments: plain JSON or a CloudEvent. */
export async function receiveGeneric(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookAnswer> {
  const secret = deps.secrets.webhook;
  if (!secret) throw notFound('the deployment webhook is off: set delivery.webhook.token to turn it on');
  const signature = request.header(SIGNATURE_HEADER);
  const authentic =
    signature !== undefined
      ? verifyHmac(secret, request.rawBody, signature)
      : tokenMatches(secret, bearerToken(request.header('authorization')));
  if (!authentic)
    throw unauthorized(
      'send the webhook token (delivery.webhook.token) as Authorization: Bearer <token>, or sign the body: X-Shinrai-Signature-256: sha256=<hex HMAC-SHA256 of the body under the token>',
    );
  const body = parseBody(request, { formPayload: false });
  const { interpretation, deliveryKey } = interpretGeneric({
    mediaType: request.mediaType,
    header: request.header,
    body,
  });
  const type = str(obj(body)?.type, 100) ?? str(request.header('ce-type'), 100) ?? 'deployment';
  return act(deps, 'webhook', 'webhook', type, interpretation, deliveryKey);
}

/** Acts on an interpretation once per delivery id. */
async function act(
  deps: WebhookDeps,
  sender: WebhookSender,
  actorName: string,
  event: string,
  interpretation: Interpretation,
  deliveryId: string | undefined,
): Promise<WebhookAnswer> {
  if (!interpretation.ok) throw invalid(interpretation.error);
  const action = interpretation.action;
  if (action.kind === 'ignore')
    return { status: 202, body: { result: 'ignored', event, reason: action.reason } };
  if (action.kind === 'ping') return { status: 200, body: { result: 'pong', event } };
  if (deliveryId !== undefined && !(await deps.seen.claim(sender, deliveryId, deps.now())))
    return { status: 200, body: { result: 'duplicate', event } };
  try {
    if (action.kind === 'deployment') {
      const recorded = await deps.recordDeployment(action.deployment, { name: actorName, source: sender });
      return {
        status: 200,
        body: { result: 'recorded', event, deployment: recorded.deployment.id, outcome: recorded.outcome },
      };
    }
    const recorded = await deps.recordChanges({ service: action.service, changes: action.changes });
    return {
      status: 200,
      body: { result: 'recorded', event, service: action.service, changes: recorded.recorded },
    };
  } catch (error) {
    // Not acted on: the sender's retry (or a manual redelivery) must be able to act.
    if (deliveryId !== undefined) await deps.seen.release(sender, deliveryId).catch(() => {});
    throw error;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON of the raw body. GitHub may be set to send `application/x-www-form-urlencoded` with the
 * JSON in the `payload` field; the signature still covers the raw form body.
 */
function parseBody(request: WebhookRequest, options: { formPayload: boolean }): unknown {
  let text: string;
  try {
    text = UTF8.decode(request.rawBody);
  } catch {
    throw invalid('the body is not UTF-8 text');
  }
  if (options.formPayload && request.mediaType === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null)
      throw invalid('a form-encoded GitHub delivery carries its JSON in the payload field');
    text = payload;
  }
  if (text.trim() === '') throw invalid('the body is empty: send the event as JSON');
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalid(`the body is not JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}
