/**
 * One closed set of error codes, mapped to HTTP statuses in one exhaustive table. Services throw
 * AppError; the HTTP layer turns it into application/problem+json, the CLI into one line.
 */
export const ERROR_STATUS = {
  Invalid: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  RequestTimeout: 408,
  Conflict: 409,
  PayloadTooLarge: 413,
  UriTooLong: 414,
  UnsupportedMediaType: 415,
  RateLimited: 429,
  HeadersTooLarge: 431,
  Internal: 500,
  Unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A problem found in one part of the input (a line of a batch, a field of a body). */
export interface ProblemDetail {
  readonly line?: number;
  readonly field?: string;
  readonly message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: readonly ProblemDetail[] = [],
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const invalid = (message: string, errors: readonly ProblemDetail[] = []) =>
  new AppError('Invalid', message, errors);
export const notFound = (message: string) => new AppError('NotFound', message);
export const conflict = (message: string) => new AppError('Conflict', message);
export const forbidden = (message: string) => new AppError('Forbidden', message);
export const unauthorized = (message: string) => new AppError('Unauthorized', message);
