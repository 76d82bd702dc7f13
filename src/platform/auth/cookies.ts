/**
 * Pure: the session cookie's wire format and the return path after sign-in. Hand-written rather
 * than a plugin: two cookies, read on every request, with attributes that must not drift.
 */

/** The cookies of a `Cookie` header; a malformed pair is skipped, the first of a repeated name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const name = pair.slice(0, at).trim();
    let value = pair.slice(at + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (!name || cookies.has(name)) continue;
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      // A value that is not valid percent-encoding is no value of ours.
    }
  }
  return cookies;
}

export interface CookieOptions {
  /** Seconds until the browser drops it; 0 deletes it now; undefined: until the browser closes. */
  readonly maxAgeSeconds?: number | undefined;
  readonly secure: boolean;
  /** Default `/`. */
  readonly path?: string;
}

/** A `Set-Cookie` value: always HttpOnly and SameSite=Lax (sent on the provider's redirect back, not on cross-site writes). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path ?? '/'}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (options.secure) parts.push('Secure');
  if (options.maxAgeSeconds !== undefined) {
    parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`);
    if (options.maxAgeSeconds <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  }
  return parts.join('; ');
}

/**
 * Where to send the browser after sign-in: a path on this server, never another site. Anything
 * that is not a plain absolute path (`//evil`, `/\evil`, `https://…`, control characters,
 * `/auth/…` which would loop) becomes `/`.
 */
export function safeReturnPath(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 2000) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  // Browsers drop tabs and newlines from URLs and read "\" as "/": "/\t/evil" is "//evil" to them.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return '/';
  let url: URL;
  try {
    url = new URL(raw, 'http://shinrai.invalid');
  } catch {
    return '/';
  }
  if (url.origin !== 'http://shinrai.invalid') return '/';
  if (url.pathname === '/auth' || url.pathname.startsWith('/auth/')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
