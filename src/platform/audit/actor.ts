/**
 * Who is writing, in one place: the audit scope of an API request, a Slack action or a CLI run.
 * SSO sessions add `kind`/`subject`/`email` to the principal; this is the one function that reads
 * them, so a change of the principal's shape is adjusted here.
 */
import { userInfo } from 'node:os';
import type { AuditScope } from './record.js';

/** The principal as the HTTP layer sets it (tokens today; SSO sessions add kind and subject). */
interface PrincipalLike {
  readonly tokenId: string;
  readonly name: string;
  readonly role: string;
  readonly kind?: 'token' | 'session' | undefined;
  readonly subject?: string | undefined;
  readonly email?: string | undefined;
}

/** What actorOf reads of a Fastify request. */
export interface RequestLike {
  readonly principal?: PrincipalLike | undefined;
  readonly ip: string;
  readonly id: string;
  /** The teams owning what the request's write touches, as the server found them. */
  readonly auditTeams?: readonly string[] | undefined;
}

/** The audit scope of an API request: its principal (or "anonymous"), address and request id. */
export function actorOf(request: RequestLike): AuditScope {
  const principal = request.principal;
  const credential = !principal
    ? 'anonymous'
    : principal.kind === 'session'
      ? `session:${principal.subject ?? principal.tokenId}`
      : `token:${principal.tokenId}`;
  return {
    actor: principal
      ? principal.kind === 'session' && principal.email
        ? principal.email
        : principal.name
      : 'anonymous',
    credential,
    role: principal?.role ?? null,
    clientAddress: request.ip || null,
    requestId: request.id || null,
    ...(request.auditTeams?.length ? { teams: request.auditTeams } : {}),
  };
}

/** The audit scope of a Slack action: the Slack user, named when Slack told us the name. */
export function slackActor(user: { readonly id: string; readonly name?: string | undefined }): AuditScope {
  return {
    actor: user.name || user.id,
    credential: `slack:${user.id}`,
    role: null,
    clientAddress: null,
    requestId: null,
  };
}

/** The audit scope of a CLI command that writes to the database directly: the OS user running it. */
export function cliActor(): AuditScope {
  let user = 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (some containers): the environment may still name the user.
    user = process.env.USER || process.env.LOGNAME || user;
  }
  return { actor: user, credential: `cli:${user}`, role: null, clientAddress: null, requestId: null };
}
