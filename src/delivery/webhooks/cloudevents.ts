/**
 * The generic deployment webhook (pure): plain JSON with the fields of POST /api/v1/deployments, or
 * a CloudEvent 1.0 (structured `application/cloudevents+json`, or binary mode with `ce-*` headers)
 * whose `data` holds them — Argo CD notifications and any other tool that can send JSON. CDEvents'
 * `service.deployed` / `upgraded` / `rolledback` events are read as well.
 */
import { createHash } from 'node:crypto';
import type { Change, DeploymentStatus } from '../model.js';
import {
  act,
  fail,
  firstLine,
  fixesOf,
  httpUrl,
  type Interpretation,
  ignore,
  type Json,
  kindOf,
  LIMITS,
  obj,
  sha,
  str,
  timeMs,
} from './payload.js';

export const CLOUDEVENTS_JSON = 'application/cloudevents+json';
export const CLOUDEVENTS_BATCH_JSON = 'application/cloudevents-batch+json';

/** Status words deploy tools use (Argo CD's phases included), lower-cased → ours; null: not final. */
const STATUS_WORDS: Readonly<Record<string, DeploymentStatus | null>> = {
  success: 'success',
  succeeded: 'success',
  successful: 'success',
  deployed: 'success',
  failure: 'failure',
  failed: 'failure',
  error: 'failure',
  errored: 'failure',
  rolled_back: 'rolled_back',
  rolledback: 'rolled_back',
  'rolled-back': 'rolled_back',
  running: null,
  pending: null,
  queued: null,
  in_progress: null,
  started: null,
  progressing: null,
  terminating: null,
};

export interface GenericRequest {
  /** The media type, lower-cased, without parameters. */
  readonly mediaType: string | undefined;
  readonly header: (name: string) => string | undefined;
  readonly body: unknown;
}

export interface GenericInterpretation {
  readonly interpretation: Interpretation;
  /** What makes a redelivery of this event recognisable: CloudEvents `source` + `id`, or an Idempotency-Key. */
  readonly deliveryKey?: string | undefined;
}

interface CloudEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly timeMs?: number | undefined;
  readonly data: unknown;
}

/** Reads one request to the generic webhook. */
export function interpretGeneric(request: GenericRequest): GenericInterpretation {
  if (request.mediaType === CLOUDEVENTS_BATCH_JSON)
    return { interpretation: fail('CloudEvents batch mode is not supported: send one event per request') };
  const idempotencyKey = str(request.header('idempotency-key'), LIMITS.idChars);
  const event = cloudEventOf(request);
  if (event === undefined) {
    const data = obj(request.body);
    if (!data) return { interpretation: fail('the body is not a JSON object') };
    return {
      interpretation: deploymentOf(data, { id: idempotencyKey, strict: true }),
      deliveryKey: idempotencyKey,
    };
  }
  if (!event.ok) return { interpretation: fail(event.error) };
  const { id, source, type } = event.event;
  const deliveryKey = `${source}\n${id}`;
  // The deployment's id when the data names none: the same event again is the same deployment.
  const derivedId = `webhook:${createHash('sha256').update(deliveryKey).digest('hex').slice(0, 32)}`;
  const cdevent = /^dev\.cdevents\.service\.(deployed|upgraded|rolledback)\.\d/.exec(type);
  if (cdevent) return { interpretation: cdeventOf(event.event, cdevent[1]!, derivedId), deliveryKey };
  if (type.startsWith('dev.cdevents.'))
    return { interpretation: ignore(`CDEvents type ${type.slice(0, 80)} is not a deployment`), deliveryKey };
  const data = obj(event.event.data);
  if (!data) return { interpretation: ignore('the event carries no JSON object as data'), deliveryKey };
  if (data.service === undefined && data.status === undefined)
    return {
      interpretation: ignore(`event type ${type.slice(0, 80)} names no service and no status`),
      deliveryKey,
    };
  return {
    interpretation: deploymentOf(data, {
      id: idempotencyKey ?? derivedId,
      defaultFinishedAtMs: event.event.timeMs,
      strict: false,
    }),
    deliveryKey,
  };
}

/** The CloudEvent in the request (undefined when it is plain JSON), or why it is not a valid one. */
function cloudEventOf(
  request: GenericRequest,
): { ok: true; event: CloudEvent } | { ok: false; error: string } | undefined {
  const binary = request.header('ce-specversion');
  if (binary !== undefined) {
    return checkEvent({
      specversion: binary,
      id: request.header('ce-id'),
      source: request.header('ce-source'),
      type: request.header('ce-type'),
      time: request.header('ce-time'),
      data: request.body,
    });
  }
  const body = obj(request.body);
  if (request.mediaType === CLOUDEVENTS_JSON || (body && typeof body.specversion === 'string')) {
    if (!body) return { ok: false, error: 'a structured CloudEvent is a JSON object' };
    if (body.data_base64 !== undefined && body.data === undefined)
      return { ok: false, error: 'data_base64 is not read: send data as JSON' };
    return checkEvent(body);
  }
  return undefined;
}

function checkEvent(attributes: Json): { ok: true; event: CloudEvent } | { ok: false; error: string } {
  if (attributes.specversion !== '1.0')
    return {
      ok: false,
      error: `CloudEvents specversion must be "1.0", not ${JSON.stringify(attributes.specversion)}`,
    };
  const id = str(attributes.id, LIMITS.idChars);
  const source = str(attributes.source, LIMITS.urlChars);
  const type = str(attributes.type, LIMITS.idChars);
  if (!id || !source || !type) return { ok: false, error: 'a CloudEvent needs id, source and type' };
  const timeMsValue = attributes.time === undefined ? undefined : timeMs(attributes.time);
  if (attributes.time !== undefined && timeMsValue === undefined)
    return { ok: false, error: 'the CloudEvent time is not an RFC 3339 timestamp' };
  return { ok: true, event: { id, source, type, timeMs: timeMsValue, data: attributes.data } };
}

/**
 * The deployment in a JSON object with POST /api/v1/deployments' fields. `strict`: plain JSON sent
 * to us, so a missing field is a 400; in a CloudEvent an unfinished status is only ignored.
 */
function deploymentOf(
  data: Json,
  options: { id: string | undefined; defaultFinishedAtMs?: number | undefined; strict: boolean },
): Interpretation {
  const statusWord = typeof data.status === 'string' ? data.status.trim().toLowerCase() : undefined;
  if (statusWord === undefined) return fail('status is missing (success, failure or rolled_back)');
  if (!Object.hasOwn(STATUS_WORDS, statusWord))
    return fail(`status "${statusWord.slice(0, 40)}" is not success, failure or rolled_back`);
  const status = STATUS_WORDS[statusWord];
  if (status === null || status === undefined) return ignore(`${statusWord}: not finished yet`);

  const service = str(data.service);
  const environment = str(data.environment);
  const finishedAtMs = data.finishedAt === undefined ? options.defaultFinishedAtMs : timeMs(data.finishedAt);
  const startedAtMs = data.startedAt === undefined ? undefined : timeMs(data.startedAt);
  const errors: string[] = [];
  if (!service) errors.push('service (1–200 characters)');
  if (!environment) errors.push('environment (1–200 characters)');
  if (finishedAtMs === undefined) errors.push('finishedAt (an RFC 3339 timestamp)');
  if (data.startedAt !== undefined && startedAtMs === undefined)
    errors.push('startedAt (an RFC 3339 timestamp)');
  if (data.kind !== undefined && kindOf(data.kind) === undefined)
    errors.push('kind (normal, hotfix or rollback)');
  if (data.headSha !== undefined && sha(data.headSha) === undefined)
    errors.push('headSha (a hex commit sha)');
  if (data.url !== undefined && httpUrl(data.url) === undefined) errors.push('url (an http or https URL)');
  if (data.id !== undefined && str(data.id, LIMITS.idChars) === undefined)
    errors.push('id (1–300 characters)');
  const commits = commitsOf(data.commits);
  if (!commits.ok) errors.push(commits.error);
  if (errors.length || !service || !environment || finishedAtMs === undefined || !commits.ok)
    return fail(`missing or invalid: ${errors.join(', ')}`);
  if (startedAtMs !== undefined && startedAtMs > finishedAtMs) return fail('startedAt is after finishedAt');
  return act({
    kind: 'deployment',
    deployment: {
      id: str(data.id, LIMITS.idChars) ?? options.id,
      service,
      environment,
      version: str(data.version),
      headSha: sha(data.headSha),
      commits: commits.commits,
      startedAtMs,
      finishedAtMs,
      status,
      kind: kindOf(data.kind),
      url: httpUrl(data.url),
      fixes: fixesOf(data.fixes),
    },
  });
}

function commitsOf(value: unknown): { ok: true; commits?: Change[] } | { ok: false; error: string } {
  if (value === undefined || value === null) return { ok: true };
  if (!Array.isArray(value) || value.length > LIMITS.commits)
    return { ok: false, error: `commits (a list of at most ${LIMITS.commits} {sha, timestamp})` };
  const commits: Change[] = [];
  for (const [i, item] of value.entries()) {
    const commit = obj(item);
    const id = sha(commit?.sha);
    const committedAtMs = timeMs(commit?.timestamp);
    if (!commit || !id || committedAtMs === undefined)
      return { ok: false, error: `commits[${i}] (sha and an RFC 3339 timestamp)` };
    commits.push({
      sha: id,
      committedAtMs,
      author: str(commit.author, LIMITS.authorChars),
      message: firstLine(commit.message),
    });
  }
  return { ok: true, commits };
}

/** CDEvents `service.deployed|upgraded|rolledback`: the service, environment and artifact deployed. */
function cdeventOf(event: CloudEvent, verb: string, derivedId: string): Interpretation {
  const data = obj(event.data);
  const subject = obj(data?.subject);
  const content = obj(subject?.content);
  const subjectId = str(subject?.id, LIMITS.idChars);
  const service = subjectId?.split('/').filter(Boolean).at(-1);
  const environment = str(obj(content?.environment)?.id);
  const finishedAtMs = timeMs(obj(data?.context)?.timestamp) ?? event.timeMs;
  if (!service || !environment || finishedAtMs === undefined)
    return fail('a CDEvents service event needs subject.id, subject.content.environment.id and a timestamp');
  return act({
    kind: 'deployment',
    deployment: {
      id: derivedId,
      service: service.slice(0, LIMITS.nameChars),
      environment,
      version: str(content?.artifactId),
      finishedAtMs,
      status: 'success',
      kind: verb === 'rolledback' ? 'rollback' : undefined,
    },
  });
}
