/**
 * Which database failures mean "not now" rather than "wrong": the server answers them with 503 and
 * Retry-After (clients and exporters retry those; many drop a 500), never with the driver's message,
 * which can name the host.
 */

/** Network errors of a database connection (errno codes, on the error or its cause). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * The database cannot be reached or went away: a connection that fails or drops (node-postgres
 * says "Connection terminated…"), PostgreSQL's connection exceptions (class 08), shutting down or
 * starting (57P01–57P03), out of connections or disk (class 53), or SQLite's I/O and disk-full errors.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 3; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (CONNECTION_CODES.has(code) || /^(08|53)/.test(code) || /^57P0[123]$/.test(code)) return true;
      if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL') return true;
    }
    if (
      typeof message === 'string' &&
      /^Connection terminated|^timeout exceeded when trying to connect/.test(message)
    )
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** How long to ask a client to wait before retrying a request the database could not serve. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
