/**
 * Webhook authentication (pure, constant-time): GitHub's `X-Hub-Signature-256` HMAC over the raw
 * body, GitLab's `X-Gitlab-Token`, and the generic webhook's bearer token or HMAC header.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** `sha256=<hex>` of HMAC-SHA256(secret, body), as GitHub (and our generic webhook) sign. */
export function hmacSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Whether `header` is the `sha256=` HMAC of the raw body under `secret`. Compared in constant time
 * (lengths first: timingSafeEqual needs equal lengths, and the length of a valid signature is public).
 */
export function verifyHmac(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(hmacSignature(secret, body), 'utf8');
  const given = Buffer.from(header.trim().toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Whether a shared token equals the configured one, in constant time whatever its length: both are
 * hashed first, so neither the content nor the length of the secret leaks through timing.
 */
export function tokenMatches(secret: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(secret), digest(given));
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}
