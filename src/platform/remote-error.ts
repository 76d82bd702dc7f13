/**
 * Short, safe words for what went wrong with a remote system (pure): a status and its reason, a
 * transport failure by kind, a URL without credentials, path or query. Remote bodies, header
 * values and credentials never reach what these return, so the result may be stored, logged and
 * shown to any viewer.
 */
import { STATUS_CODES } from 'node:http';
import { egressRefusal } from './egress.js';

/** `HTTP 503 Service Unavailable`. */
export function describeStatus(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `HTTP ${status} ${reason}` : `HTTP ${status}`;
}

/** `https://host:port` of a URL: no user, password, path or query (any could carry a secret). */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return 'an invalid URL';
  }
}

const CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
};

const TLS_CODE = /CERT|SIGNATURE|SELF_SIGNED|ERR_TLS|ISSUER|ERR_SSL/;

export type TransportFailure = {
  readonly kind: 'egress' | 'timeout' | 'tls' | 'unreachable';
  readonly message: string;
};

/**
 * What a failed request's exception means, in a few words: "connection refused", "timeout after
 * 30 s", "TLS certificate not trusted (…)", or the egress refusal. Never the exception's own
 * message, which may quote a URL or a header.
 */
export function describeTransportError(error: unknown, timeoutMs?: number): TransportFailure {
  const refusal = egressRefusal(error);
  if (refusal) return { kind: 'egress', message: refusal.message };
  const err = (error ?? {}) as { name?: string; code?: string; cause?: { name?: string; code?: string } };
  const names = [err.name, err.cause?.name];
  const codes = [err.code, err.cause?.code].filter((c): c is string => typeof c === 'string');
  if (
    names.some(
      (n) =>
        n === 'TimeoutError' || n === 'AbortError' || n === 'HeadersTimeoutError' || n === 'BodyTimeoutError',
    ) ||
    codes.some((c) => c === 'UND_ERR_HEADERS_TIMEOUT' || c === 'UND_ERR_BODY_TIMEOUT')
  )
    return {
      kind: 'timeout',
      message: timeoutMs === undefined ? 'timeout' : `timeout after ${timeoutMs / 1000} s`,
    };
  const tls = codes.find((c) => TLS_CODE.test(c));
  if (tls) return { kind: 'tls', message: `TLS certificate not trusted (${tls})` };
  for (const code of codes) {
    const words = CODES[code];
    if (words) return { kind: 'unreachable', message: words };
  }
  const code = codes.find((c) => /^[A-Z0-9_]{2,40}$/.test(c));
  return { kind: 'unreachable', message: code ? `connection failed (${code})` : 'connection failed' };
}

/**
 * `Retry-After` (RFC 9110: delay-seconds or an HTTP date) in ms from `nowMs`; undefined when absent
 * or unreadable. A header given twice counts by its first value. (The same reading as the SLI
 * sources' in `slo/sources/http.ts`, here for the floors above `slo/` — the notification outbox.)
 */
export function retryAfterMs(
  value: string | readonly string[] | undefined,
  nowMs: number,
): number | undefined {
  const first = Array.isArray(value) ? value[0] : (value as string | undefined);
  const text = first?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
