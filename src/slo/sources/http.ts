/**
 * What every HTTP-speaking source shares: a failed request in safe words, and how long a rate
 * limit asks to wait. Messages name the kind of failure and scheme://host:port, never the
 * exception's own text (which can quote a URL with credentials) or a remote body.
 */
import type { Agent } from 'undici';
import { describeTransportError } from '../../platform/remote-error.js';
import { type SourceConnection, SourceQueryError } from './port.js';

/**
 * The connection's dispatcher: egress-checked (`egress.allow`, after DNS), its CA, the
 * connection's timeout for headers and body, kept-alive connections between pulls.
 */
export function sourceAgent(kind: string, connection: SourceConnection): Agent {
  return connection.egress.agent(kind, {
    connect: connection.ca ? { ca: connection.ca } : {},
    keepAliveTimeout: 30_000,
    headersTimeout: connection.timeoutMs,
    bodyTimeout: connection.timeoutMs,
  });
}

/** A request that got no HTTP answer, classified: egress, timeout, tls or unreachable. */
export function transportFailure(error: unknown, shownUrl: string, timeoutMs: number): SourceQueryError {
  const failure = describeTransportError(error, timeoutMs);
  if (failure.kind === 'egress') return new SourceQueryError('egress', failure.message);
  if (failure.kind === 'timeout')
    return new SourceQueryError('timeout', `${shownUrl} did not answer within ${timeoutMs / 1000} s`);
  if (failure.kind === 'tls')
    return new SourceQueryError('tls', `${shownUrl}: ${failure.message}; set tlsCaFile`);
  return new SourceQueryError('unreachable', `${shownUrl} unreachable: ${failure.message}`);
}

/** `Retry-After` in ms (platform/remote-error.ts): every HTTP source reads it the same way. */
export { retryAfterMs } from '../../platform/remote-error.js';
