/**
 * A fake Datadog metrics query API for tests: a loopback HTTP server answering `GET /api/v1/query`
 * with the shapes Datadog documents — `{ status: "ok", series: [{ metric, pointlist: [[ms, value|null]],
 * interval, … }] }`, 403 `{ errors: [...] }` without valid `DD-API-KEY`/`DD-APPLICATION-KEY`, 400
 * for a query it cannot parse, 429 with the `X-RateLimit-*` headers, 5xx when told to. It evaluates
 * `<agg>:<metric>{<tag:value,…>|*}[.as_count()].rollup(<sum|avg>, <seconds>)` over points the test
 * adds; buckets start at multiples of the interval (each point stamps its interval's start), a
 * bucket without data inside a series' span is `null` (partial data), and, as Datadog does, a
 * range that would need more than 1,500 points a series is rolled up at a coarser interval.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake puts in error bodies: it must never reach a log, an API answer or a stored row. */
export const DATADOG_BODY_SECRET = 'DD-BODY-SECRET-9e41';

const MAX_POINTS = 1500;
const QUERY = /^(sum|avg|min|max):([\w.]+)\{([^{}]*)\}(\.as_count\(\))?\.rollup\((sum|avg),\s*(\d+)\)$/;

export interface DatadogRequest {
  readonly params: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly status: number;
}

interface Point {
  readonly tags: ReadonlySet<string>;
  readonly ms: number;
  readonly value: number;
}

export class FakeDatadog {
  readonly requests: DatadogRequest[] = [];
  private server: Server | undefined;
  private readonly metrics = new Map<string, Point[]>();
  private rateLimited: { count: number; resetSeconds: number } | undefined;
  private failing = 0;
  port = 0;

  constructor(private readonly keys: { readonly apiKey: string; readonly appKey: string }) {}

  /** Adds points of a count metric (value per point, e.g. requests in the 10 s the point stands for). */
  add(metric: string, tags: readonly string[], points: ReadonlyArray<readonly [number, number]>): void {
    const list = this.metrics.get(metric) ?? [];
    const tagSet = new Set(tags);
    for (const [ms, value] of points) list.push({ tags: tagSet, ms, value });
    this.metrics.set(metric, list);
  }

  /** The next `count` queries answer 429 with `X-RateLimit-Reset: <seconds>`. */
  rateLimit(count: number, resetSeconds: number): void {
    this.rateLimited = { count, resetSeconds };
  }

  /** The next `count` queries answer 503. */
  fail(count: number): void {
    this.failing = count;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        this.requests.push({ params: url.searchParams, headers: req.headers, status });
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (url.pathname !== '/api/v1/query' || req.method !== 'GET')
        return answer(404, { errors: ['Not found'] });
      if (
        req.headers['dd-api-key'] !== this.keys.apiKey ||
        req.headers['dd-application-key'] !== this.keys.appKey
      )
        return answer(403, { errors: ['Forbidden'] });
      if (this.rateLimited && this.rateLimited.count > 0) {
        this.rateLimited.count--;
        return answer(
          429,
          { errors: [`Rate limit of 1600 requests in 3600 seconds reached. ${DATADOG_BODY_SECRET}`] },
          {
            'x-ratelimit-limit': '1600',
            'x-ratelimit-period': '3600',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(this.rateLimited.resetSeconds),
            'x-ratelimit-name': 'query',
          },
        );
      }
      if (this.failing > 0) {
        this.failing--;
        return answer(503, { errors: [`Service unavailable ${DATADOG_BODY_SECRET}`] });
      }
      const from = url.searchParams.get('from');
      const to = url.searchParams.get('to');
      const query = url.searchParams.get('query') ?? '';
      if (!from || !to || !/^\d+$/.test(from) || !/^\d+$/.test(to) || Number(to) < Number(from))
        return answer(400, { errors: ['Invalid parameters: from and to must be seconds since the epoch'] });
      const parsed = QUERY.exec(query);
      if (!parsed)
        return answer(400, {
          errors: [`Error parsing query: unable to parse ${query} ${DATADOG_BODY_SECRET}`],
        });
      const [, spaceAgg, metric, scope, asCount, rollupAgg, seconds] = parsed as unknown as string[];
      const fromMs = Number(from) * 1000;
      const toMs = Number(to) * 1000;
      let intervalMs = Number(seconds) * 1000;
      if (intervalMs <= 0) return answer(400, { errors: ['Invalid rollup interval'] });
      // Datadog coarsens a rollup that would return too many points.
      while ((toMs - fromMs) / intervalMs > MAX_POINTS) intervalMs *= 2;
      const wanted = scope!.trim() === '*' ? [] : scope!.split(',').map((t) => t.trim());
      const points = (this.metrics.get(metric!) ?? []).filter(
        (p) => wanted.every((t) => p.tags.has(t)) && p.ms >= fromMs && p.ms <= toMs,
      );
      const base = {
        status: 'ok',
        res_type: 'time_series',
        resp_version: 1,
        query,
        message: '',
        from_date: fromMs,
        to_date: toMs,
        group_by: [],
      };
      if (!points.length) return answer(200, { ...base, series: [] });
      const buckets = new Map<number, number[]>();
      for (const p of points) {
        const start = Math.floor(p.ms / intervalMs) * intervalMs;
        const list = buckets.get(start) ?? [];
        list.push(p.value);
        buckets.set(start, list);
      }
      const starts = [...buckets.keys()].sort((a, b) => a - b);
      const first = starts[0]!;
      const last = starts[starts.length - 1]!;
      const pointlist: Array<[number, number | null]> = [];
      const reduce = (values: number[]) => {
        const sum = values.reduce((a, b) => a + b, 0);
        // Without .as_count(), a count metric is read as a rate per second, as Datadog does.
        const total = asCount ? sum : sum / (intervalMs / 1000);
        return rollupAgg === 'sum' || asCount ? total : total / values.length;
      };
      for (let start = first; start <= last; start += intervalMs) {
        const values = buckets.get(start);
        pointlist.push([start, values ? reduce(values) : null]);
      }
      answer(200, {
        ...base,
        series: [
          {
            metric,
            display_name: metric,
            expression: query,
            scope: scope!.trim(),
            tag_set: [],
            aggr: spaceAgg,
            interval: intervalMs / 1000,
            length: pointlist.length,
            start: first,
            end: last + intervalMs - 1000,
            query_index: 0,
            unit: null,
            pointlist,
          },
        ],
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** The ranges asked for (answered or not), [from, to] in ms. */
  ranges(): Array<readonly [number, number]> {
    return this.requests
      .filter((r) => r.status === 200)
      .map((r) => [Number(r.params.get('from')) * 1000, Number(r.params.get('to')) * 1000] as const);
  }
}
