/**
 * A fake Grafana Loki for tests: a loopback HTTP server answering `GET /loki/api/v1/query_range`
 * the way Loki's HTTP API documents it — a `matrix` for metric queries (`[<seconds>, "<value>"]`
 * samples, no sample where a range holds no line), `streams` for log queries, plain-text 400s for
 * parse errors and limits (11,000 points a series, the query length), 401 without the tenant or
 * the token, 429 with Retry-After when told to. It evaluates the LogQL the tests use:
 * `[sum(]count_over_time(<selector> <line filters> [<range>])[)]`. A real Loki cannot run here:
 * Debian's `loki` package is a genetics program, and no registry ships Grafana Loki's binary.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake puts in error bodies: it must never reach a log, an API answer or a stored row. */
export const LOKI_BODY_SECRET = 'LOKI-BODY-SECRET-71c3';

export interface LokiRequest {
  readonly path: string;
  readonly params: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly status: number;
}

interface Line {
  readonly labels: Readonly<Record<string, string>>;
  readonly ms: number;
  readonly text: string;
}

const MAX_POINTS = 11_000;
const MAX_QUERY_LENGTH_MS = 721 * 3600_000;
const QUERY =
  /^\s*(sum\s*\(\s*)?count_over_time\s*\(\s*(\{[^{}]*\})((?:\s*(?:\|=|!=)\s*"(?:[^"\\]|\\.)*")*)\s*\[\s*(\d+)([smh])\s*\]\s*\)\s*(\))?\s*$/;

export class FakeLoki {
  readonly requests: LokiRequest[] = [];
  private server: Server | undefined;
  private readonly byMinute = new Map<number, Line[]>();
  private rateLimited: { count: number; retryAfterSeconds: number } | undefined;
  private failing = 0;
  port = 0;

  constructor(private readonly auth: { readonly tenant: string; readonly token: string }) {}

  /** Stores log lines (timestamps must not fall on a whole minute: (t − 1m, t] is then unambiguous). */
  push(labels: Record<string, string>, entries: ReadonlyArray<readonly [number, string]>): void {
    for (const [ms, text] of entries) {
      // The range (t − 1m, t] ending at minute boundary t holds the lines of minute ⌊(ms − 1) / 1m⌋.
      const key = Math.floor((ms - 1) / 60_000);
      const list = this.byMinute.get(key) ?? [];
      list.push({ labels, ms, text });
      this.byMinute.set(key, list);
    }
  }

  /** The next `count` queries answer 429 Too Many Requests with `Retry-After: <seconds>`. */
  rateLimit(count: number, retryAfterSeconds: number): void {
    this.rateLimited = { count, retryAfterSeconds };
  }

  /** The next `count` queries answer 503 (a querier restarting). */
  fail(count: number): void {
    this.failing = count;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const answer = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
        this.requests.push({ path: url.pathname, params: url.searchParams, headers: req.headers, status });
        res.writeHead(status, { 'content-type': type, ...headers }).end(body);
      };
      const text = (status: number, body: string, headers?: Record<string, string>) =>
        answer(status, 'text/plain; charset=utf-8', `${body}\n`, headers);
      if (url.pathname !== '/loki/api/v1/query_range' || req.method !== 'GET')
        return text(404, '404 page not found');
      // Multi-tenant Loki answers 401 "no org id" without X-Scope-OrgID; the token is a gateway's.
      if (req.headers['x-scope-orgid'] !== this.auth.tenant) return text(401, 'no org id');
      if (req.headers.authorization !== `Bearer ${this.auth.token}`) return text(401, 'unauthorized');
      if (this.rateLimited && this.rateLimited.count > 0) {
        this.rateLimited.count--;
        return text(429, `too many outstanding requests ${LOKI_BODY_SECRET}`, {
          'retry-after': String(this.rateLimited.retryAfterSeconds),
        });
      }
      if (this.failing > 0) {
        this.failing--;
        return text(503, `querier shutting down ${LOKI_BODY_SECRET}`);
      }
      const query = url.searchParams.get('query') ?? '';
      const startMs = parseTime(url.searchParams.get('start'));
      const endMs = parseTime(url.searchParams.get('end'));
      const stepMs = parseStep(url.searchParams.get('step'));
      if (startMs === undefined || endMs === undefined || stepMs === undefined || endMs < startMs)
        return text(400, 'invalid start, end or step');
      if (endMs - startMs > MAX_QUERY_LENGTH_MS)
        return text(400, 'the query time range exceeds the limit (query length: too long, limit: 30d1h)');
      if ((endMs - startMs) / stepMs + 1 > MAX_POINTS)
        return text(
          400,
          'exceeded maximum resolution of 11,000 points per timeseries. Try increasing the value of the step parameter',
        );
      if (query.trim().startsWith('{'))
        return answer(
          200,
          'application/json',
          JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [] } }),
        );
      const parsed = QUERY.exec(query);
      if (!parsed || Boolean(parsed[1]) !== Boolean(parsed[6]))
        return text(
          400,
          `parse error at line 1, col 1: syntax error: unexpected IDENTIFIER in ${query} ${LOKI_BODY_SECRET}`,
        );
      const selector = parseSelector(parsed[2]!);
      const filters = [...(parsed[3] ?? '').matchAll(/(\|=|!=)\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => ({
        keep: m[1] === '|=',
        text: JSON.parse(`"${m[2]}"`) as string,
      }));
      const rangeMs = Number(parsed[4]) * { s: 1000, m: 60_000, h: 3600_000 }[parsed[5] as 's' | 'm' | 'h'];
      if (rangeMs !== 60_000) return text(400, 'this fake evaluates [1m] ranges only');
      const summed = Boolean(parsed[1]);
      const series = new Map<string, { metric: Record<string, string>; values: Array<[number, string]> }>();
      for (let t = startMs; t <= endMs; t += stepMs) {
        if (t % 60_000 !== 0) return text(400, 'this fake evaluates whole minutes only');
        const counts = new Map<string, { labels: Record<string, string>; count: number }>();
        for (const line of this.byMinute.get(t / 60_000 - 1) ?? []) {
          if (!Object.entries(selector).every(([k, v]) => line.labels[k] === v)) continue;
          if (!filters.every((f) => line.text.includes(f.text) === f.keep)) continue;
          const labels = summed ? {} : { ...line.labels };
          const key = JSON.stringify(Object.entries(labels).sort());
          const entry = counts.get(key) ?? { labels, count: 0 };
          entry.count++;
          counts.set(key, entry);
        }
        for (const [key, { labels, count }] of counts) {
          const s = series.get(key) ?? { metric: labels, values: [] };
          s.values.push([t / 1000, String(count)]);
          series.set(key, s);
        }
      }
      answer(
        200,
        'application/json',
        JSON.stringify({
          status: 'success',
          data: {
            resultType: 'matrix',
            result: [...series.values()],
            stats: { summary: { execTime: 0.001 } },
          },
        }),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops listening (connections refused) until start() again, on the same port. */
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** The query ranges asked for, as [start, end] in ms. */
  ranges(): Array<readonly [number, number]> {
    return this.requests
      .filter((r) => r.status === 200)
      .map((r) => [parseTime(r.params.get('start'))!, parseTime(r.params.get('end'))!] as const);
  }
}

/** Loki's time parameters: nanoseconds since the epoch, or (with a dot) seconds. */
function parseTime(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d{19}$/.test(value)) return Number(BigInt(value) / 1_000_000n);
  const seconds = Number(value);
  return Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined;
}

function parseStep(value: string | null): number | undefined {
  if (value === null) return undefined;
  const duration = /^(\d+)([smh])$/.exec(value);
  if (duration)
    return Number(duration[1]) * { s: 1000, m: 60_000, h: 3600_000 }[duration[2] as 's' | 'm' | 'h'];
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

function parseSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_]\w*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}
