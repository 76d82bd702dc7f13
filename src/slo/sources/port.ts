/**
 * The seam between the pull loop and the systems SLIs are read from. A source (Prometheus, Loki,
 * Datadog, New Relic, CloudWatch…) is one folder under `slo/sources/` that exports one `SliSource`:
 * how to turn an OpenSLO metric source into a per-minute query, and how to run that query for a
 * range of minutes. Everything else — plans, cursors, chunking, retries, backoff, leadership,
 * "no data since T", `/metrics` — is the pull loop's (`puller.ts`) and the same for every source.
 * See docs/sources.md ("Adding a source").
 */
import type { Egress } from '../../platform/egress.js';
import type { MetricSource } from '../model.js';

export const MINUTE_MS = 60_000;

/**
 * One series of per-minute values: `[start of the minute (ms), value]`. A source converts its own
 * convention (Prometheus stamps the end of the window, CloudWatch the start of the period) to this.
 */
export interface MinuteSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** The minutes starting in [fromMs, toMs): both whole minutes, toMs − fromMs ≤ maxChunkMinutes. */
export interface MinuteRange {
  readonly fromMs: number;
  readonly toMs: number;
}

export type SourceFailureReason =
  /** Connection refused/reset, DNS: the source could not be reached. */
  | 'unreachable'
  /** The server's certificate could not be verified: retrying won't help. */
  | 'tls'
  | 'timeout'
  /** 5xx: the source is overloaded or restarting. */
  | 'unavailable'
  /** 429 (or a vendor's rate-limit answer): retried after the wait the source asks for. */
  | 'rate_limited'
  /** The source refused the query (syntax, too many points): retrying won't help. */
  | 'bad_query'
  /** 401/403: credentials. */
  | 'unauthorized'
  /** Not the answer the source's API documents. */
  | 'bad_response'
  /** The egress policy refused the address (egress.allow): retrying won't help. */
  | 'egress';

const RETRYABLE: ReadonlySet<SourceFailureReason> = new Set([
  'unreachable',
  'timeout',
  'unavailable',
  'rate_limited',
]);

/**
 * A failed query, classified so the loop knows what is worth retrying. The message is a summary
 * (status, reason, scheme://host:port — platform/remote-error.ts), never a remote body or a secret.
 */
export class SourceQueryError extends Error {
  constructor(
    readonly reason: SourceFailureReason,
    message: string,
    readonly status?: number | undefined,
    /** How long the source asked us to wait (Retry-After, X-RateLimit-Reset), when it said. */
    readonly retryAfterMs?: number | undefined,
  ) {
    super(message);
    this.name = 'SourceQueryError';
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.reason);
  }
}

/** A connection ready to use (platform/connections.ts resolves secrets and builds headers). */
export interface SourceConnection {
  /** Base URL without a trailing slash; the source's documented default when the spec gave none. */
  readonly url: string | undefined;
  /** Headers to send (auth, tenant), already expanded. */
  readonly headers: Readonly<Record<string, string>>;
  /** PEM text of the CA to trust, when one is configured. */
  readonly ca?: string | undefined;
  readonly timeoutMs: number;
  /** Vendor credentials and settings (apiKey, appKey, accountId, region, accessKeyId…), expanded. */
  readonly credentials: Readonly<Record<string, string>>;
  /** Every outbound call goes through it (egress.allow). */
  readonly egress: Egress;
}

export interface SourceClient {
  /**
   * Per-minute values of one planned query for the minutes in `range`. A minute without a value
   * is left out (no data), never reported as 0. Throws SourceQueryError.
   */
  fetchMinutes(query: string, range: MinuteRange): Promise<MinuteSeries[]>;
  close(): Promise<void>;
}

/**
 * Minute queries one query answers together: each member's answer is the grouped answer's series
 * whose `label` has the member's value — the same series and numbers its own query gives.
 */
export interface QueryGroup {
  readonly query: string;
  readonly label: string;
  /** Member query → the value of `label` on its series. */
  readonly members: ReadonlyMap<string, string>;
}

/** The per-minute query of one metric source, or why the SLI cannot be read from this source. */
export type PlannedQuery = { readonly query: string } | { readonly problem: string };

export interface SliSource {
  /** Short name in logs, `/metrics` labels and data states: `prometheus`, `loki`, `datadog`. */
  readonly kind: string;
  /** The OpenSLO DataSource `type` values this source reads, lower case (`prometheus`). */
  readonly types: readonly string[];
  /** Most minutes one query may span (Prometheus: 10,000; a vendor's documented limit). */
  readonly maxChunkMinutes: number;
  /** Connection fields a DataSource of this type must give (checked when specs load). */
  readonly requiredConnection: readonly string[];
  /** Where the API is when a DataSource gives no `url` (Datadog's US1 site); undefined: url required. */
  defaultUrl?(credentials: Readonly<Record<string, string>>): string | undefined;
  /**
   * The query whose per-minute values are the metric source's count (or value) per minute.
   * `counter`: the SLI's `counter: true` — the metric is a cumulative counter.
   * Pure: the result is part of the plan hash, so a change of text reloads the SLI's minutes.
   */
  minuteQuery(metric: MetricSource, options: { readonly counter: boolean }): PlannedQuery;
  /**
   * Optional: which of these minute queries one query can answer together (at most `maxMembers`
   * each), when the numbers are provably the same. Queries in no group run as written.
   */
  groupQueries?(queries: readonly string[], maxMembers: number): QueryGroup[];
  /** Builds a client (may import a vendor SDK lazily). Throws an Error naming what is missing. */
  connect(connection: SourceConnection): Promise<SourceClient>;
}

/** The query text of a metric source's spec under one of `keys` (`query`, `promql`, `logql`…). */
export function specText(metric: MetricSource, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = metric.spec[key];
    if (typeof value === 'string' && value.trim()) return value.trim();
  }
  return undefined;
}
