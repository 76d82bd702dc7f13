/**
 * The API client: every request carries the token pasted once (localStorage) as
 * `Authorization: Bearer`; problem+json answers become ApiError with status, code and detail.
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
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!response.ok) throw await apiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
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

// ---- API shapes (as in /api/openapi.json) ----

export interface PolicyStep {
  below: number;
  action: string;
  gate: 'allow' | 'warn' | 'deny';
}

export interface SloStatus {
  id: string;
  service: string;
  slo: string;
  objective?: string;
  displayName?: string;
  target: number;
  window: string;
  sli: number | null;
  budget: { unit: 'events' | 'minutes'; total: number; consumed: number; remaining: number };
  burnRates: Record<string, number | null>;
  exhaustionAt: string | null;
  dataSufficient: boolean;
  evaluatedAt: string;
  stale: boolean;
  /** Present while this SLO cannot be evaluated: why, and since when (the figures are the last good ones). */
  error?: { reason: string; since: string };
  period?: { start: string; end: string };
  policy?: PolicyStep | null;
}

export interface Slo {
  id: string;
  name: string;
  displayName?: string;
  description?: string;
  service: string;
  labels: Record<string, string[]>;
  owner?: string;
  journey?: string;
  runbookUrl?: string;
  budgetingMethod: string;
  window: string;
  objectives: { key: string; displayName?: string; target: number }[];
  status: SloStatus[];
}

export interface HistoryPoint {
  ts: string;
  sli: number | null;
  remaining: number | null;
  burnRates: Record<string, number | null>;
}

export interface SloSpec {
  id: string;
  file: string;
  line: number;
  yaml: string | null;
  policy: PolicyStep[];
  rules: {
    name: string;
    tier: string;
    severity: string;
    conditions: { longWindow: string; shortWindow: string | null; factor: number; op: string }[];
  }[];
}

export interface Alert {
  id: string;
  slo: string;
  service: string;
  rule: string;
  tier: 'page' | 'ticket';
  severity: string;
  state: 'inactive' | 'pending' | 'firing';
  observation: string;
  pendingSince: string | null;
  firedAt: string | null;
  resolvedAt: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  burnRates: Record<string, number | null>;
  silencedBy: string[];
}

export interface AlertDetail extends Alert {
  events: { at: string; transition: string; burnRates: Record<string, number | null> }[];
}

export interface Silence {
  id: string;
  matchers: { label: string; value: string; regex?: boolean }[];
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: string;
  createdAt: string;
}

/** The default severity scale; a server may configure its own (incidents.severities). */
export const SEVERITIES: readonly string[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];

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
export const STATUSES = [
  'triage',
  'investigating',
  'identified',
  'monitoring',
  'resolved',
  'closed',
  'cancelled',
] as const;
export const OPEN_STATUSES: readonly string[] = ['triage', 'investigating', 'identified', 'monitoring'];
export const MILESTONES = [
  'impactStartedAt',
  'detectedAt',
  'acknowledgedAt',
  'mitigatedAt',
  'resolvedAt',
] as const;

export interface Incident {
  id: string;
  reference: string;
  title: string;
  summary: string;
  severity: string;
  status: (typeof STATUSES)[number];
  services: string[];
  slos: string[];
  labels: Record<string, string>;
  rootCause?: string;
  drill: boolean;
  runbooks: string[];
  milestones: Partial<Record<(typeof MILESTONES)[number], string>>;
  roles: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface TimelineEvent {
  id: string;
  at: string;
  kind: string;
  source: string;
  actor: string;
  text: string;
  starred: boolean;
  public: boolean;
}

export interface IncidentDetail extends Incident {
  timeline: TimelineEvent[];
  budgetImpact: {
    slo: string;
    from: string;
    to: string;
    unit: 'events' | 'minutes';
    consumed: number;
    shareOfBudget: number | null;
  }[];
  requiresPostmortem: boolean;
  suggestedImpactStart: { slo: string; impactStartedAt: string | null }[];
  catchUp: string;
}

export const ACTION_CATEGORIES = [
  'investigate',
  'mitigate',
  'repair',
  'detect',
  'mitigate-future',
  'prevent',
] as const;
export const ACTION_PRIORITIES = ['P0', 'P1', 'P2'] as const;
export const ACTION_STATUSES = ['open', 'done', 'skipped'] as const;

export interface ActionItem {
  id: string;
  title: string;
  category: (typeof ACTION_CATEGORIES)[number];
  priority: (typeof ACTION_PRIORITIES)[number];
  owner?: string | null;
  dueDate?: string | null;
  status: (typeof ACTION_STATUSES)[number];
  ticketUrl?: string | null;
  overdue?: boolean;
  postmortemId: string;
  createdAt: string;
  updatedAt: string;
}

export interface Postmortem {
  id: string;
  status: 'draft' | 'in-review' | 'published';
  incidents: string[];
  markdown: string;
  html: string;
  createdAt: string;
  updatedAt: string;
  /** Present once the action-item API is on the server. */
  actionItems?: ActionItem[];
}

export type GateDecision = 'allow' | 'warn' | 'deny';

export interface Service {
  name: string;
  displayName?: string;
  description?: string;
  owner?: string;
  slos: string[];
}

export interface GateOverride {
  id: string;
  service: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  revokedBy?: string;
  active: boolean;
}

/** `GET /api/v1/gate?service=`: may this service ship now. */
export interface GateAnswer {
  service: string;
  /** allow and warn: go ahead; deny: stop. */
  decision: GateDecision;
  /** What the policy alone says, before an override. */
  policyDecision: GateDecision;
  /** One line for a CI log (English, from the server). */
  summary: string;
  reasons: {
    /** An evaluation target: an SLO id, or `slo/objective`. */
    slo: string;
    decision: GateDecision;
    remaining: number | null;
    step?: PolicyStep;
    /** What the answer rests on, for wording it here in the page's language. */
    basis: 'no-data' | 'policy-step' | 'no-step' | 'no-policy' | 'no-policy-exhausted';
    /** Why the budget figure may not be current. */
    doubt?: 'not-evaluated' | 'stale' | 'data' | 'error';
    /** The same in English, for a CI log. */
    message: string;
  }[];
  override?: GateOverride;
  at: string;
}

export interface RiskEstimate {
  ettdMinutes: number;
  ettrMinutes: number;
  impact: number;
  ettfDays: number;
}

export type RiskStatus = 'open' | 'accepted' | 'mitigated';

/** `GET /api/v1/risks`: the catalog ranked by bad minutes a year, and each SLO's total. */
export interface RiskAnalysis {
  tooBigShare: number;
  risks: {
    name: string;
    service: string;
    description?: string;
    status: RiskStatus;
    factors: string[];
    /** As written. */
    estimate: RiskEstimate;
    /** With the factors applied: what the figures use. */
    effective: RiskEstimate;
    incidentsPerYear: number;
    badMinutesPerYear: number;
    shares: { slo: string; yearlyBudgetMinutes: number; share: number; tooBig: boolean }[];
    tooBig: boolean;
    /** Where it is written, file:line (absent on older servers). */
    source?: string;
    /** Written through the API, so PATCH /api/v1/risks/{name} may change it. */
    managed?: boolean;
    /** Action items that name this risk, any status (absent on older servers). */
    actionItems?: {
      id: string;
      postmortemId: string;
      title: string;
      priority: string;
      status: string;
      owner?: string;
      dueDate?: string;
      /** What finishing it saves a year; null when not estimated. */
      savedMinutesPerYear: number | null;
    }[];
  }[];
  slos: {
    slo: string;
    service: string;
    target: number;
    yearlyBudgetMinutes: number;
    /** The risks not mitigated that consume this budget. */
    risks: string[];
    badMinutesPerYear: number;
    share: number;
    achievable: boolean;
  }[];
}

export type RiskRow = RiskAnalysis['risks'][number];

/** `GET /api/v1/backlog`: per service, ranked by budget minutes a year saved. */
export interface ServiceBacklog {
  service: string;
  entries: {
    service: string;
    kind: 'action-item' | 'risk';
    title: string;
    risk?: string;
    actionItem?: string;
    priority?: string;
    owner?: string;
    dueDate?: string;
    status: string;
    /** null: not estimated. */
    savedMinutesPerYear: number | null;
  }[];
}

/** `GET /api/v1/risks/calibration`: a risk's estimate beside what its incidents measured. */
export interface RiskCalibration {
  risk: string;
  service: string;
  incidents: string[];
  estimate: RiskEstimate;
  measured: { ttdMinutes: number | null; ttrMinutes: number | null; tbfDays: number | null };
  suggested: RiskEstimate;
  badMinutesPerYear: { estimated: number; measured: number };
  /** The spec lines to paste; empty when nothing changes. */
  specUpdate: string;
}
