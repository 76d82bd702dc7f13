/**
 * New Relic through NerdGraph (`POST /graphql`, `API-Key` header): runs an SLI's NRQL for a range
 * of minutes as `… SINCE <ms> UNTIL <ms> TIMESERIES 1 minute` and reads the buckets' values. There
 * is no official NerdGraph client on npm, so this is undici's `request` through the egress
 * dispatcher. Failures are classified from the HTTP status (401/403, 429 with Retry-After, 5xx) and
 * from NerdGraph's GraphQL `errors` (answered with HTTP 200); never quoted.
 */
import { type Agent, request } from 'undici';
import { describeStatus, describeUrl } from '../../../platform/remote-error.js';
import { retryAfterMs, sourceAgent, transportFailure } from '../http.js';
import {
  MINUTE_MS,
  type MinuteRange,
  type MinuteSeries,
  type SourceClient,
  type SourceConnection,
  type SourceFailureReason,
  SourceQueryError,
} from '../port.js';
import { rangedNrql } from './query.js';

/** The GraphQL document sent: the NRQL and the account travel as variables, never spliced in. */
export const NRQL_DOCUMENT =
  'query ShinraiMinutes($accountId: Int!, $nrql: Nrql!, $timeout: Seconds) { actor { account(id: $accountId) { nrql(query: $nrql, timeout: $timeout) { results } } } }';

export const DEFAULT_NERDGRAPH_URL = 'https://api.newrelic.com/graphql';

/** Keys of a TIMESERIES bucket that are not its value. */
const BUCKET_KEYS = new Set(['beginTimeSeconds', 'endTimeSeconds', 'facet']);

export class NewRelicClient implements SourceClient {
  private readonly dispatcher: Agent;
  private readonly url: string;
  private readonly shownUrl: string;
  private readonly apiKey: string;
  private readonly accountId: number;

  constructor(private readonly connection: SourceConnection) {
    const { apiKey, accountId } = connection.credentials;
    if (!apiKey) throw new Error('connectionDetails.apiKey (a New Relic User key) is required');
    if (!accountId || !/^\d{1,15}$/.test(accountId))
      throw new Error('connectionDetails.accountId must be the New Relic account id (a number)');
    this.apiKey = apiKey;
    this.accountId = Number(accountId);
    this.url = connection.url ?? DEFAULT_NERDGRAPH_URL;
    this.shownUrl = describeUrl(this.url);
    this.dispatcher = sourceAgent('newrelic', connection);
  }

  async fetchMinutes(query: string, range: MinuteRange): Promise<MinuteSeries[]> {
    const timeoutMs = this.connection.timeoutMs;
    const body = JSON.stringify({
      query: NRQL_DOCUMENT,
      variables: {
        accountId: this.accountId,
        nrql: rangedNrql(query, range.fromMs, range.toMs),
        // NRDB stops a little before we give up on the HTTP answer, so its own timeout is what we
        // see; NerdGraph's synchronous NRQL takes at most 120 s.
        timeout: Math.min(120, Math.max(1, Math.floor(timeoutMs / 1000) - 1)),
      },
    });
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: {
          ...this.connection.headers,
          'api-key': this.apiKey,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.statusCode;
      headers = response.headers;
      text = await response.body.text();
    } catch (error) {
      throw transportFailure(error, this.shownUrl, timeoutMs);
    }
    return parseNerdGraph(status, headers, text, this.shownUrl, range, Date.now());
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** How long a 429 asks to wait: `Retry-After` (seconds or a date) or `X-RateLimit-Reset` (epoch s). */
export function newRelicRetryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): number | undefined {
  const asked = retryAfterMs(headers['retry-after'], nowMs);
  if (asked !== undefined) return asked;
  const value = headers['x-ratelimit-reset'];
  const reset = (Array.isArray(value) ? value[0] : value)?.trim();
  if (reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - nowMs);
  return undefined;
}

/** A GraphQL error's class in NerdGraph's words (`extensions.errorClass`), when it is one word. */
function errorClassOf(error: unknown): string | undefined {
  const cls = (error as { extensions?: { errorClass?: unknown } } | null)?.extensions?.errorClass;
  return typeof cls === 'string' && /^[A-Z][A-Z_]{0,39}$/.test(cls) ? cls : undefined;
}

/** What NerdGraph's `errors` mean for retrying; the remote message is read, never repeated. */
function classifyGraphQlErrors(errors: readonly unknown[]): { reason: SourceFailureReason; words: string } {
  const classes = errors.map(errorClassOf);
  const messages = errors.map((e) => String((e as { message?: unknown } | null)?.message ?? ''));
  const any = (cls: readonly string[], pattern: RegExp) =>
    classes.some((c) => c !== undefined && cls.includes(c)) || messages.some((m) => pattern.test(m));
  const cls = classes.find((c) => c !== undefined);
  const named = cls ? ` (${cls})` : '';
  if (any(['TOO_MANY_REQUESTS', 'RATE_LIMITED'], /rate limit|too many requests/i))
    return { reason: 'rate_limited', words: `rate limited${named}` };
  if (
    any(['UNAUTHORIZED', 'UNAUTHENTICATED', 'FORBIDDEN'], /not authorized|api key|unauthori[sz]ed|forbidden/i)
  )
    return { reason: 'unauthorized', words: `refused the credentials or the account${named}` };
  if (any(['TIMEOUT'], /timed out|timeout/i))
    return { reason: 'timeout', words: `the NRQL query timed out${named}` };
  if (
    any(
      ['SERVER_ERROR', 'INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE'],
      /something went wrong|overload|unavailable/i,
    )
  )
    return { reason: 'unavailable', words: `could not answer${named}` };
  return {
    reason: 'bad_query',
    words: `refused the query${named}; run spec.nrql in New Relic's query builder to see why`,
  };
}

/**
 * Reads a NerdGraph answer to the NRQL query (exported for tests of odd answers): one series per
 * facet (one without FACET), each bucket filed under its `beginTimeSeconds`, buckets whose value is
 * null (no events for an average, a percentile) left out. Partial answers (`data` with `errors`)
 * are failures: a chunk is stored whole or not at all.
 */
export function parseNerdGraph(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
  shownUrl: string,
  range: MinuteRange,
  nowMs: number,
): MinuteSeries[] {
  const answered = describeStatus(status);
  const fail = (reason: SourceFailureReason, message: string, waitMs?: number): never => {
    throw new SourceQueryError(reason, message, status, waitMs);
  };
  if (status === 401 || status === 403) fail('unauthorized', `${shownUrl} refused the API key (${answered})`);
  if (status === 429)
    fail('rate_limited', `${shownUrl} answered ${answered}`, newRelicRetryAfterMs(headers, nowMs));
  if (status >= 500) fail('unavailable', `${shownUrl} answered ${answered}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    fail('bad_response', `${shownUrl} answered ${answered} with a body that is not JSON`);
  }
  const body = json as {
    errors?: unknown;
    data?: { actor?: { account?: { nrql?: { results?: unknown } | null } | null } | null } | null;
  } | null;
  if (body && Array.isArray(body.errors) && body.errors.length) {
    const { reason, words } = classifyGraphQlErrors(body.errors);
    fail(
      reason,
      `${shownUrl} (NerdGraph) ${words}`,
      reason === 'rate_limited' ? newRelicRetryAfterMs(headers, nowMs) : undefined,
    );
  }
  if (status !== 200) fail(status === 400 ? 'bad_query' : 'bad_response', `${shownUrl} answered ${answered}`);
  const results = body?.data?.actor?.account?.nrql?.results;
  if (!Array.isArray(results))
    fail('bad_response', `${shownUrl} answered ${answered} with JSON that is not a NerdGraph NRQL result`);
  const series = new Map<
    string,
    { labels: Record<string, string>; points: Array<readonly [number, number]> }
  >();
  for (const row of results as unknown[]) {
    if (row === null || typeof row !== 'object')
      fail('bad_response', `${shownUrl}: an NRQL result row is not an object`);
    const bucket = row as Record<string, unknown>;
    const begin = bucket.beginTimeSeconds;
    if (typeof begin !== 'number' || !Number.isFinite(begin))
      fail('bad_response', `${shownUrl}: an NRQL result has no beginTimeSeconds (is TIMESERIES missing?)`);
    const value = bucketValue(bucket, shownUrl);
    const facet = facetLabels(bucket.facet);
    const key = JSON.stringify(facet);
    let s = series.get(key);
    if (!s) {
      s = { labels: facet, points: [] };
      series.set(key, s);
    }
    const minuteMs = Math.floor((begin as number) / 60) * MINUTE_MS;
    if (value === undefined || minuteMs < range.fromMs || minuteMs >= range.toMs) continue;
    s.points.push([minuteMs, value]);
  }
  return [...series.values()];
}

/** The one value of a bucket: a number, or the one number of an object (`percentile`: {"95": 0.3}). */
function bucketValue(bucket: Record<string, unknown>, shownUrl: string): number | undefined {
  const values: Array<number | null> = [];
  for (const [key, value] of Object.entries(bucket)) {
    if (BUCKET_KEYS.has(key) || typeof value === 'string') continue; // facet attributes are strings
    if (value === null || typeof value === 'number') values.push(value);
    else if (typeof value === 'object') {
      const inner = Object.values(value as Record<string, unknown>);
      if (inner.length === 1 && (inner[0] === null || typeof inner[0] === 'number'))
        values.push(inner[0] as number | null);
      else values.push(Number.NaN);
    }
  }
  if (values.length !== 1)
    throw new SourceQueryError(
      'bad_query',
      `${shownUrl}: the NRQL returns ${values.length} values a minute; an SLI's query must SELECT exactly one aggregate`,
    );
  const [value] = values;
  return value === null || value === undefined || !Number.isFinite(value) ? undefined : value;
}

function facetLabels(facet: unknown): Record<string, string> {
  if (facet === undefined || facet === null) return {};
  if (Array.isArray(facet)) return Object.fromEntries(facet.map((v, i) => [`facet${i}`, String(v)]));
  return { facet: String(facet) };
}
