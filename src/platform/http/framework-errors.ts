/**
 * Errors raised before a route runs — by Node's HTTP parser (malformed requests, oversized headers,
 * timeouts), by Fastify's router (a URL that does not decode, an over-long parameter) or for a
 * method a path does not have — answered as application/problem+json like every other error.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, type ErrorCode } from '../errors.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

/** Longest path parameter the router matches (names and ids are far shorter). */
export const MAX_PARAM_CHARS = 200;

/** Longest request target (path and query) a route sees; longer ones are a 414. */
export const MAX_URL_CHARS = 8192;

/**
 * Node's `clientError`: the request never became a Fastify request, so the answer is written to
 * the socket by hand. `onAnswer` counts it (the metrics see no route for it).
 */
export function clientErrorHandler(onAnswer: (status: number) => void) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [code, detail]: [ErrorCode, string] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['RequestTimeout', 'the request was not received in time']
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? ['HeadersTooLarge', 'the request line and headers are larger than 16 KB']
          : ['Invalid', `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`];
    const problem = toProblem(new AppError(code, detail));
    const body = JSON.stringify(problem);
    onAnswer(problem.status);
    if (socket.writable)
      socket.write(
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
      );
    socket.destroy();
  };
}

/** Fastify's router errors (FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH, …) as one of our codes. */
export function routerError(error: Error & { code?: string; statusCode?: number }): AppError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new AppError(
        'Invalid',
        'the URL is not valid: a % must start a percent-encoded byte such as %20',
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('UriTooLong', 'a path segment of the URL is too long');
    default:
      return new AppError(
        'Internal',
        'an unexpected error occurred; the request id identifies it in the server log',
      );
  }
}

/**
 * The routes' methods by path pattern, to tell "no such path" (404) from "no such method on this
 * path" (405 with Allow). Patterns are Fastify's: `:name` is one segment, `*` the rest.
 */
export class RouteMethods {
  private readonly routes: Array<{ readonly pattern: RegExp; readonly methods: readonly string[] }> = [];

  add(url: string, method: string | readonly string[]): void {
    // The UI's catch-all claims every GET path; it says nothing about the API's methods.
    if (url === '/*' || url === '*') return;
    const source = url
      .split('/')
      .map((segment) =>
        segment === '*'
          ? '.*'
          : segment.startsWith(':')
            ? '[^/]+'
            : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    this.routes.push({ pattern: new RegExp(`^${source}/?$`), methods: [method].flat() });
  }

  /** Methods some route has for this path, sorted; empty when no route has the path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes)
      if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}
