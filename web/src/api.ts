import type { paths } from './api-schema';

/**
 * The API client: every request carries the token pasted once (localStorage) as
 * `Authorization: Bearer`, or else the browser's SSO session cookie, whose writes also carry the
 * session's CSRF token (X-CSRF-Token, from whoami); problem+json answers become ApiError with
 * status, code and detail.
 */

const TOKEN_KEY = 'shinrai.token';

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  for (const listener of tokenListeners) listener();
}

const tokenListeners = new Set<() => void>();
export function onTokenChange(listener: () => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const token = getToken();
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  else if (method !== 'GET' && method !== 'HEAD') {
    const csrf = await sessionCsrfToken();
    if (csrf) headers['x-csrf-token'] = csrf;
  }
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!response.ok) throw await apiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

// ---- Single sign-on: the session cookie is the browser's; the page only learns its CSRF token ----

let csrfToken: Promise<string | null> | undefined;

/** The CSRF token of the browser's SSO session (null without one), asked of whoami once. */
function sessionCsrfToken(): Promise<string | null> {
  if (csrfToken) return csrfToken;
  const asked: Promise<string | null> = fetch('/api/v1/whoami', { headers: { accept: 'application/json' } })
    .then(async (response) =>
      response.ok ? (((await response.json()) as { csrfToken?: string }).csrfToken ?? null) : null,
    )
    .catch(() => null)
    .then((token) => {
      // Only a token is kept: "none" may be a failed request, so the next write asks again.
      if (token === null && csrfToken === asked) csrfToken = undefined;
      return token;
    });
  csrfToken = asked;
  return asked;
}

/** `GET /auth/config`: whether the server offers single sign-on. */
export type AuthConfig = Answer<'/auth/config', 'get'>;

/** Where the browser starts a sign-in that comes back to the current page. */
export function ssoLoginUrl(config: AuthConfig): string | null {
  if (!config.loginUrl) return null;
  return `${config.loginUrl}?return=${encodeURIComponent(location.pathname + location.search)}`;
}

/** Ends the SSO session, then goes to the provider's logout page when it has one (else reloads). */
export async function signOutOfSession(): Promise<void> {
  const csrf = await sessionCsrfToken();
  const response = await fetch('/auth/logout', {
    method: 'POST',
    headers: { accept: 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
  });
  csrfToken = undefined;
  if (!response.ok) throw await apiError(response);
  const { endSessionUrl } = (await response.json()) as { endSessionUrl: string | null };
  if (endSessionUrl) location.assign(endSessionUrl);
  else location.reload();
}

async function apiError(response: Response): Promise<ApiError> {
  let code = 'Error';
  let detail = response.statusText;
  try {
    const problem = (await response.json()) as { code?: string; detail?: string };
    code = problem.code ?? code;
    detail = problem.detail ?? detail;
  } catch {
    // Not problem+json (a proxy's page): keep the status text.
  }
  return new ApiError(response.status, code, detail);
}

/**
 * A file from the API (CSV, markdown) as a Blob. A plain link cannot carry the token header, so
 * the page fetches it with the token and offers the Blob (see `saveBlob`).
 */
export async function apiFile(path: string): Promise<Blob> {
  const token = getToken();
  const response = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw await apiError(response);
  return response.blob();
}

/**
 * Saves a Blob under a file name through a temporary `blob:` URL and an `<a download>`. The UI's
 * CSP allows it: a download is not a fetch (connect-src) and CSP does not restrict navigation.
 */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started from the click; the URL can go once this task is done.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

// ---- API shapes: derived from the types `npm run api:types` generates from /api/openapi.json ----
// Never copied by hand: a server change that breaks a page fails `npm run typecheck`.

/** The JSON body of one response object of the generated types. */
type Json<Response> = Response extends { content: { 'application/json': infer Body } } ? Body : never;

/** What `method path` answers with `status` (200 unless given), as the server's OpenAPI document says. */
type Answer<
  Path extends keyof paths,
  Method extends keyof paths[Path],
  Status extends number = 200,
> = paths[Path][Method] extends { responses: infer Responses }
  ? Status extends keyof Responses
    ? Json<Responses[Status]>
    : never
  : never;

/** The JSON body `method path` takes. */
type RequestBody<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  requestBody?: infer Body;
}
  ? Json<NonNullable<Body>>
  : never;

/** True only when A and B are the same type: checks that a list kept here names every value of a schema enum. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function sameValues<_Check extends true>(): void {}

/**
 * T without the index signature a loose server schema gives it (`[key: string]: unknown`): reading
 * a field the server does not declare is then a type error rather than `unknown`.
 */
type Declared<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

type SloAnswer = Answer<'/api/v1/slos', 'get'>[number];
export type SloStatus = Declared<SloAnswer['status'][number]>;
export type Slo = Omit<SloAnswer, 'status'> & { status: SloStatus[] };
export type PolicyStep = NonNullable<SloStatus['policy']>;
export type SloHistory = Answer<'/api/v1/slos/{id}/history', 'get'>;
export type HistoryPoint = SloHistory['points'][number];
export type SloSpec = Answer<'/api/v1/slos/{id}/spec', 'get'>;

export type Alert = Answer<'/api/v1/alerts', 'get'>[number];
export type AlertDetail = Answer<'/api/v1/alerts/{id}', 'get'>;
export type Silence = Answer<'/api/v1/silences', 'get'>[number];
export type AlertFeedback = Answer<'/api/v1/alerts/{id}/feedback', 'post'>;

const DEFAULT_SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
// The generated types are made from a server with default settings, so they carry its default scale.
sameValues<Same<(typeof DEFAULT_SEVERITIES)[number], RequestBody<'/api/v1/incidents', 'post'>['severity']>>();
/** The default severity scale; a server may configure its own (incidents.severities). */
export const SEVERITIES: readonly string[] = DEFAULT_SEVERITIES;

/** The severities this server takes, from the enum its OpenAPI document gives for declaring. */
export async function serverSeverities(): Promise<readonly string[]> {
  const doc = await api<{
    paths?: Record<
      string,
      Record<
        string,
        {
          requestBody?: {
            content?: Record<string, { schema?: { properties?: Record<string, { enum?: string[] }> } }>;
          };
        }
      >
    >;
  }>('/api/openapi.json');
  const names =
    doc.paths?.['/api/v1/incidents']?.post?.requestBody?.content?.['application/json']?.schema?.properties
      ?.severity?.enum;
  return names?.length ? names : SEVERITIES;
}

export type Incident = Answer<'/api/v1/incidents', 'get'>[number];
export type TimelineEvent = IncidentDetail['timeline'][number];
export type IncidentDetail = Answer<'/api/v1/incidents/{ref}', 'get'>;

export const STATUSES = [
  'triage',
  'investigating',
  'identified',
  'monitoring',
  'resolved',
  'closed',
  'cancelled',
] as const;
sameValues<Same<(typeof STATUSES)[number], Incident['status']>>();
export const OPEN_STATUSES: readonly Incident['status'][] = [
  'triage',
  'investigating',
  'identified',
  'monitoring',
];
export const MILESTONES = [
  'impactStartedAt',
  'detectedAt',
  'acknowledgedAt',
  'mitigatedAt',
  'resolvedAt',
] as const;

export type ActionItem = Answer<'/api/v1/action-items', 'get'>[number];
export const ACTION_CATEGORIES = [
  'investigate',
  'mitigate',
  'repair',
  'detect',
  'mitigate-future',
  'prevent',
] as const;
sameValues<Same<(typeof ACTION_CATEGORIES)[number], ActionItem['category']>>();
export const ACTION_PRIORITIES = ['P0', 'P1', 'P2'] as const;
sameValues<Same<(typeof ACTION_PRIORITIES)[number], ActionItem['priority']>>();
export const ACTION_STATUSES = ['open', 'done', 'skipped'] as const;
sameValues<Same<(typeof ACTION_STATUSES)[number], ActionItem['status']>>();

export type Postmortem = Answer<'/api/v1/postmortems/{id}', 'get'>;
export type MarkdownPreview = Answer<'/api/v1/markdown/preview', 'post'>;

export type Service = Answer<'/api/v1/services', 'get'>[number];

/** `GET /api/v1/gate?service=`: may this service ship now. */
export type GateAnswer = Answer<'/api/v1/gate', 'get'>;
export type GateDecision = GateAnswer['decision'];
export type GateOverride = Answer<'/api/v1/gate/overrides', 'get'>[number];

/** `GET /api/v1/risks`: the catalog ranked by bad minutes a year, and each SLO's total. */
export type RiskAnalysis = Answer<'/api/v1/risks', 'get'>;
export type RiskRow = RiskAnalysis['risks'][number];
export type RiskEstimate = RiskRow['estimate'];
export type RiskStatus = RiskRow['status'];

/** `GET /api/v1/backlog`: per service, ranked by budget minutes a year saved. */
export type ServiceBacklog = Answer<'/api/v1/backlog', 'get'>[number];

/** `GET /api/v1/risks/calibration`: a risk's estimate beside what its incidents measured. */
export type RiskCalibration = Answer<'/api/v1/risks/calibration', 'get'>[number];

// ---- Delivery (issue 17) ----

/** `GET /api/v1/deployments`: deployments, newest first, with failure links and budget impact. */
export type DeploymentList = Answer<'/api/v1/deployments', 'get'>;
export type Deployment = DeploymentList['deployments'][number];
export type DeploymentBudget = Deployment['budget'][number];
export const DEPLOYMENT_STATUSES = ['success', 'failure', 'rolled_back'] as const;
sameValues<Same<(typeof DEPLOYMENT_STATUSES)[number], Deployment['status']>>();
export const DEPLOYMENT_KINDS = ['normal', 'hotfix', 'rollback'] as const;
sameValues<Same<(typeof DEPLOYMENT_KINDS)[number], Deployment['kind']>>();

/** `GET /api/v1/delivery/metrics`: the five DORA metrics with their levels and weekly points. */
export type DeliveryMetrics = Answer<'/api/v1/delivery/metrics', 'get'>;
export type DeliveryLevel = DeliveryMetrics['leadTime']['level'];

// ---- Who the caller is (the UI hides writes from viewers) ----

/** `GET /api/v1/whoami`: the token's name and role; both null for an anonymous reader. */
export type Whoami = Answer<'/api/v1/whoami', 'get'>;

/** True when the caller may write: an editor or admin token (a viewer or an anonymous reader may not). */
export function mayWrite(who: Pick<Whoami, 'role'>): boolean {
  return who.role === 'editor' || who.role === 'admin';
}

// ---- An incident's cause (issue 17) ----

/** `GET /api/v1/incidents/{ref}/suspects`: suggested causes, each a deployment with a reason. */
export type Suspect = Answer<'/api/v1/incidents/{ref}/suspects', 'get'>['suspects'][number];
export type CausedBy = NonNullable<IncidentDetail['causedBy']>;
/** `GET /api/v1/deployments/{id}`: one deployment with failure links and budget impact. */
export type DeploymentDetail = Answer<'/api/v1/deployments/{id}', 'get'>;

// ---- The audit log (issue 20) ----

export type AuditPage = Answer<'/api/v1/audit', 'get'>;
export type AuditEvent = AuditPage['events'][number];

/** Only an admin may read the audit log; the UI hides it from everyone else. */
export function mayAudit(who: Pick<Whoami, 'role'>): boolean {
  return who.role === 'admin';
}

// ---- Administration (issue 20): teams, API tokens and people ----

/** `GET /api/v1/teams`: each team and the services it owns. */
export type Team = Answer<'/api/v1/teams', 'get'>[number];
/** `GET /api/v1/auth/tokens`: a token without its secret. */
export type ApiToken = Answer<'/api/v1/auth/tokens', 'get'>[number];
/** `POST /api/v1/auth/tokens`: the new token, with its secret this once. */
export type CreatedToken = Answer<'/api/v1/auth/tokens', 'post', 201>;
export type NewToken = RequestBody<'/api/v1/auth/tokens', 'post'>;
export const ROLES = ['viewer', 'editor', 'admin'] as const;
sameValues<Same<(typeof ROLES)[number], ApiToken['role']>>();

/**
 * `GET /api/v1/auth/people`: a role an admin assigned to a person. Written here, not generated:
 * the people routes exist only on a server with single sign-on, and the types are generated from
 * one with default settings (src/platform/http/auth-routes.ts is the source).
 */
export interface PersonAssignment {
  person: string;
  role: (typeof ROLES)[number];
  teams: string[];
  assignedBy: string;
  assignedAt: string;
}
