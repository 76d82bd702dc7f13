/**
 * A local NerdGraph (`POST /graphql`) answering NRQL TIMESERIES queries the way New Relic's docs
 * show: `{ data: { actor: { account: { nrql: { results: [{ beginTimeSeconds, endTimeSeconds,
 * count }] } } } } }`, GraphQL `errors` with HTTP 200 for NRQL it refuses (a syntax error, more
 * than 366 buckets, an account the key can't read), 429 with Retry-After for too many concurrent
 * requests, 503 while "down". It checks what NerdGraph checks: the `API-Key` header, the account,
 * and that the NRQL is the registered query plus `TIMESERIES 1 minute SINCE <ms> UNTIL <ms>`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake puts in its error bodies: it must never reach a log, an API answer or a row. */
export const NERDGRAPH_SECRET = 'NERDGRAPH-BODY-SECRET-5d1e';

export interface NrqlRequest {
  readonly nrql: string;
  readonly sinceMs: number;
  readonly untilMs: number;
}

export interface FakeNerdGraphOptions {
  readonly apiKey: string;
  readonly accountId: number;
  /** NRQL (as the spec writes it) → value of the minute starting at ms; undefined: no events (null). */
  readonly queries: Readonly<Record<string, (minuteMs: number) => number | null>>;
}

const RANGE = / TIMESERIES 1 minute SINCE (\d+) UNTIL (\d+)$/;

export class FakeNerdGraph {
  /** NRQL queries answered with results, in order. */
  readonly answered: NrqlRequest[] = [];
  /** Every request's API-Key header value (to check it was sent). */
  readonly keysSeen: string[] = [];
  /** 'up', 'down' (503), or answering 429 to the next `rateLimited` requests. */
  mode: 'up' | 'down' = 'up';
  rateLimited = 0;
  /** The next requests answer `data` with `errors` (a partial answer). */
  partial = 0;
  private server: Server | undefined;
  url = '';

  constructor(private readonly options: FakeNerdGraphOptions) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const send = (status: number, payload: unknown, headers: Record<string, string> = {}) =>
          res
            .writeHead(status, { 'content-type': 'application/json', ...headers })
            .end(JSON.stringify(payload));
        const graphQlError = (message: string, errorClass: string) =>
          send(200, {
            data: { actor: { account: { nrql: null } } },
            errors: [
              {
                message: `${message} ${NERDGRAPH_SECRET}`,
                extensions: { errorClass },
                path: ['actor', 'account', 'nrql'],
              },
            ],
          });
        if (req.method !== 'POST' || req.url !== '/graphql') return send(404, { error: NERDGRAPH_SECRET });
        const key = req.headers['api-key'];
        this.keysSeen.push(String(key));
        if (this.mode === 'down') return send(503, { error: `unavailable ${NERDGRAPH_SECRET}` });
        if (key !== this.options.apiKey) return graphQlError('Invalid API key', 'UNAUTHORIZED');
        // The concurrency limit is per user: a request that names no user is refused before it.
        if (this.rateLimited > 0) {
          this.rateLimited--;
          return send(
            429,
            { error: `too many concurrent requests ${NERDGRAPH_SECRET}` },
            { 'retry-after': '1' },
          );
        }
        let parsed: {
          query?: unknown;
          variables?: { accountId?: unknown; nrql?: unknown; timeout?: unknown };
        };
        try {
          parsed = JSON.parse(body);
        } catch {
          return send(400, { errors: [{ message: `invalid JSON ${NERDGRAPH_SECRET}` }] });
        }
        const { query, variables } = parsed;
        if (
          typeof query !== 'string' ||
          !/nrql\(query: \$nrql, timeout: \$timeout\) \{ results \}/.test(query)
        )
          return send(200, {
            errors: [
              {
                message: `Validation error ${NERDGRAPH_SECRET}`,
                extensions: { errorClass: 'INVALID_INPUT' },
              },
            ],
          });
        if (variables?.accountId !== this.options.accountId)
          return graphQlError(`Not authorized to query account ${String(variables?.accountId)}`, 'FORBIDDEN');
        const nrql = String(variables?.nrql ?? '');
        const range = RANGE.exec(nrql);
        const base = range ? nrql.slice(0, range.index) : nrql;
        const values = this.options.queries[base];
        if (!range || !values)
          return graphQlError('NRQL Syntax Error: Error at line 1 position 1', 'INVALID_INPUT');
        const sinceMs = Number(range[1]);
        const untilMs = Number(range[2]);
        const buckets = Math.ceil((untilMs - sinceMs) / 60_000);
        if (buckets > 366)
          return graphQlError('TIMESERIES supports a maximum of 366 buckets', 'INVALID_INPUT');
        if (sinceMs >= untilMs)
          return graphQlError("Your query's start time must be before its end time", 'INVALID_INPUT');
        const results = [];
        for (let ms = sinceMs; ms < untilMs; ms += 60_000)
          results.push({ beginTimeSeconds: ms / 1000, endTimeSeconds: ms / 1000 + 60, count: values(ms) });
        if (this.partial > 0) {
          this.partial--;
          return send(200, {
            data: { actor: { account: { nrql: { results: results.slice(0, 1) } } } },
            errors: [
              {
                message: `NRDB partial results ${NERDGRAPH_SECRET}`,
                extensions: { errorClass: 'SERVER_ERROR' },
              },
            ],
          });
        }
        this.answered.push({ nrql: base, sinceMs, untilMs });
        return send(200, { data: { actor: { account: { nrql: { results } } } } });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/graphql`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
