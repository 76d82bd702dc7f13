/**
 * Pure: the before/after of what a write changed (only the changed fields), with secrets
 * replaced by "[redacted]" before anything reaches the audit log.
 */

export const REDACTED = '[redacted]';

/** The changed fields of one write: `after` applied over `before`'s object gives the new one. */
export interface FieldChanges {
  readonly before: Readonly<Record<string, unknown>>;
  readonly after: Readonly<Record<string, unknown>>;
}

type Plain = Readonly<Record<string, unknown>>;

/**
 * The top-level fields that differ between `before` and `after` (deep comparison). A field only in
 * `before` appears in `after` as null (removed); a field only in `after` appears in `before` as
 * null (added): a top-level null and an absent field mean the same. Unchanged fields are absent
 * from both. A missing object counts as `{}`.
 */
export function diffFields(before: Plain | null | undefined, after: Plain | null | undefined): FieldChanges {
  const from = before ?? {};
  const to = after ?? {};
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    const was = from[key];
    const is = to[key];
    if (sameValue(was, is)) continue;
    b[key] = was === undefined ? null : was;
    a[key] = is === undefined ? null : is;
  }
  return { before: b, after: a };
}

/** Applies a diff's `after` to the object it was taken from: the inverse `diffFields` promises. */
export function applyChanges(
  before: Plain | null | undefined,
  changes: FieldChanges,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...before };
  for (const [key, value] of Object.entries(changes.after)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

function sameValue(x: unknown, y: unknown): boolean {
  const absent = (v: unknown) => v === undefined || v === null;
  if (absent(x) || absent(y)) return absent(x) && absent(y);
  return canonical(x) === canonical(y);
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Plain).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
      : v,
  );
}

/**
 * Field names whose values are secrets wherever they appear: tokens and their hashes, passwords,
 * signing secrets, API keys, Authorization headers, webhook URLs (a Slack or Teams webhook URL is
 * itself the credential) and any value a config marks `secret`.
 */
export const SECRET_FIELD_ENDINGS = [
  'token',
  'tokens',
  'hash',
  'secret',
  'secrets',
  'password',
  'passwd',
  'authorization',
  'apikey',
  'credential',
  'credentials',
  'signature',
  'webhookurl',
  'privatekey',
  'cookie',
] as const;

/** Whether a field of this name holds a secret: its name, case and `_`/`-` aside, ends like one. */
export function isSecretField(name: string): boolean {
  const plain = name.toLowerCase().replace(/[_.-]/g, '');
  return SECRET_FIELD_ENDINGS.some((ending) => plain.endsWith(ending));
}

/** An API token in clear (`shr_<id>_<secret>`) anywhere in a string. */
const CLEAR_TOKEN = /shr_[a-z0-9]{12}_[A-Za-z0-9_-]{20,}/g;
/** A bearer credential written out, e.g. in a copied header. */
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi;

/**
 * A copy of `value` with secrets replaced: every field named like a secret (isSecretField), any
 * clear API token or "Bearer …" inside a string, and the user-info and query of URLs (where
 * signed URLs carry their signature).
 */
export function redact(value: unknown, key?: string): unknown {
  if (key !== undefined && isSecretField(key) && value !== null && value !== undefined) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value as Plain).map(([k, v]) => [k, redact(v, k)]));
  return value;
}

function redactText(text: string): string {
  let out = text.replace(BEARER, `Bearer ${REDACTED}`).replace(CLEAR_TOKEN, REDACTED);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(out)) {
    try {
      const url = new URL(out);
      if (url.username || url.password || url.search) {
        url.username = url.username ? 'redacted' : '';
        url.password = '';
        if (url.search) url.search = '?redacted';
        out = url.toString();
      }
    } catch {
      // Not a URL after all: the text stays as it is.
    }
  }
  return out;
}

/** The stored changes of a write: the changed fields of `before` → `after`, secrets redacted. */
export function auditChanges(
  before: Plain | null | undefined,
  after: Plain | null | undefined,
): FieldChanges {
  const changes = diffFields(before, after);
  return { before: redact(changes.before) as Plain, after: redact(changes.after) as Plain };
}
