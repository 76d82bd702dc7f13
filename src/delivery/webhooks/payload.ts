/**
 * Webhook payload reading (pure): what a sender's event asks of delivery (a deployment, changes
 * seen, nothing), and total readers for untrusted JSON — every accessor answers undefined for a
 * value of the wrong shape instead of throwing, so no body can crash an interpreter.
 */
import type { Change, DeploymentKind, RecordDeploymentInput } from '../model.js';

/** A deployment as a webhook reports it: the same fields as `recordDeployment`'s input. */
export type WebhookDeployment = RecordDeploymentInput;

/** What one event asks for. */
export type WebhookAction =
  | { readonly kind: 'deployment'; readonly deployment: WebhookDeployment }
  | { readonly kind: 'changes'; readonly service: string; readonly changes: readonly Change[] }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'ping' };

/** An event read: the action, or why the body is not one the sender sends (a 400). */
export type Interpretation = { ok: true; action: WebhookAction } | { ok: false; error: string };

/** `delivery.repositories`: "owner/repo" (GitLab: path_with_namespace) → service. */
export type RepositoryServices = Readonly<Record<string, string>>;

export const LIMITS = {
  nameChars: 200,
  idChars: 300,
  shaChars: 100,
  urlChars: 2_000,
  authorChars: 200,
  messageChars: 500,
  fixes: 50,
  commits: 10_000,
} as const;

export const ignore = (reason: string): Interpretation => ({ ok: true, action: { kind: 'ignore', reason } });
export const fail = (error: string): Interpretation => ({ ok: false, error });
export const act = (action: WebhookAction): Interpretation => ({ ok: true, action });

export type Json = Record<string, unknown>;

/** The value when it is a JSON object (not an array, not null). */
export function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

/** A non-blank string of at most `maxChars`, trimmed; undefined otherwise (and for NUL). */
export function str(value: unknown, maxChars: number = LIMITS.nameChars): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '' || text.length > maxChars || text.includes('\u0000')) return undefined;
  return text;
}

/** A string or a number as text (GitHub and GitLab ids are numbers). */
export function idText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return str(value, LIMITS.idChars);
}

/** The first line of a commit message, cut to a readable length. */
export function firstLine(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const line = value.split('\n', 1)[0]!.trim();
  return str(
    line.length > LIMITS.messageChars ? `${line.slice(0, LIMITS.messageChars - 1)}…` : line,
    LIMITS.messageChars,
  );
}

/** A commit sha: hex, 4 to 64 characters, lower-cased. */
export function sha(value: unknown): string | undefined {
  return typeof value === 'string' && /^[0-9a-fA-F]{4,64}$/.test(value) ? value.toLowerCase() : undefined;
}

/** An http(s) URL (anything else — `javascript:`, a bare word — is left out). */
export function httpUrl(value: unknown): string | undefined {
  const text = str(value, LIMITS.urlChars);
  return text && /^https?:\/\/\S+$/i.test(text) ? text : undefined;
}

// Offsets as GitLab writes them in "2021-04-28 21:50:00 +0200" (and "… UTC").
const SPACED_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(Z|UTC|[+-]\d{2}:?\d{2})$/;

/**
 * Epoch ms of a timestamp with an explicit zone: ISO-8601 (`2019-05-15T15:20:55Z`,
 * `2011-12-12T14:27:31+02:00`) or GitLab's `2021-04-28 21:50:00 +0200` / `… UTC`. A time without a
 * zone is refused (its instant would be the server's guess).
 */
export function timeMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const spaced = SPACED_TIME.exec(value.trim());
  if (!spaced) return undefined;
  const [, date, time, zone] = spaced;
  const offset =
    zone === 'Z' || zone === 'UTC'
      ? 'Z'
      : zone!.includes(':')
        ? zone
        : `${zone!.slice(0, 3)}:${zone!.slice(3)}`;
  const ms = Date.parse(`${date}T${time}${offset}`);
  // Years 0001–9999 only: the same range every database column and JSON answer can carry.
  return Number.isFinite(ms) && ms >= -62_135_596_800_000 && ms <= 253_402_300_799_999 ? ms : undefined;
}

/** The service of a repository: its `delivery.repositories` entry, else the repository's own name. */
export function serviceOfRepository(
  repositories: RepositoryServices,
  fullName: string | undefined,
  name: string | undefined,
): string | undefined {
  if (fullName && Object.hasOwn(repositories, fullName)) return repositories[fullName];
  if (name) return name;
  return fullName?.split('/').at(-1) || undefined;
}

/** Incident references (`INC-12` or ids) from an untrusted list; non-strings are left out. */
export function fixesOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const refs = value
    .slice(0, LIMITS.fixes)
    .map((v) => str(v, 100))
    .filter((v): v is string => v !== undefined);
  return refs.length ? refs : undefined;
}

/** `hotfix` / `rollback` / `normal`, case-insensitive; undefined for anything else. */
export function kindOf(value: unknown): DeploymentKind | undefined {
  const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
  return text === 'hotfix' || text === 'rollback' || text === 'normal' ? text : undefined;
}
