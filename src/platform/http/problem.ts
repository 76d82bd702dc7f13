/** RFC 9457 problem details: every API error has this shape and `application/problem+json`. */
import { type AppError, ERROR_STATUS, type ErrorCode, type ProblemDetail } from '../errors.js';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly instance?: string | undefined;
  readonly requestId?: string | undefined;
  readonly errors?: readonly ProblemDetail[] | undefined;
}

const TITLES: Record<ErrorCode, string> = {
  Invalid: 'Invalid request',
  Unauthorized: 'Authentication required',
  Forbidden: 'Not allowed',
  NotFound: 'Not found',
  MethodNotAllowed: 'Method not allowed',
  NotAcceptable: 'Not acceptable',
  RequestTimeout: 'Request timeout',
  Conflict: 'Conflict',
  PayloadTooLarge: 'Payload too large',
  UriTooLong: 'URI too long',
  UnsupportedMediaType: 'Unsupported media type',
  RateLimited: 'Too many requests',
  HeadersTooLarge: 'Request headers too large',
  Internal: 'Internal error',
  Unavailable: 'Service unavailable',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function toProblem(error: AppError, context: { instance?: string; requestId?: string } = {}): Problem {
  return {
    type: `https://shinrai.dev/problems/${error.code.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
    title: TITLES[error.code],
    status: ERROR_STATUS[error.code],
    code: error.code,
    detail: error.message,
    instance: context.instance,
    requestId: context.requestId,
    errors: error.errors.length ? error.errors : undefined,
  };
}

/** Maps an HTTP status Fastify or a plugin chose to our closed set of codes. */
export function codeForStatus(status: number): ErrorCode {
  const found = (Object.entries(ERROR_STATUS) as [ErrorCode, number][]).find(([, s]) => s === status);
  if (found) return found[0];
  return status >= 500 ? 'Internal' : 'Invalid';
}
