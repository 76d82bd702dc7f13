/**
 * How to reach one HTTP API (a Prometheus, Thanos, Mimir, Loki, Datadog, New Relic, CloudWatch…):
 * a URL with its credentials, headers and CA, and a vendor's keys (apiKey, appKey, accountId, region,
 * accessKeyId, secretAccessKey). Written inline in a DataSource's `connectionDetails` in a spec file on the server's disk,
 * or under `connections.<name>` in the configuration; a spec uploaded through the API may only name
 * a configured one (`connection: <name>`). Checked when specs load; secrets (environment
 * variables, files) are resolved only when a client is built from a trusted definition.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { expandEnv } from './env.js';

const secret = z.string().min(1);

const connectionSchema = z.strictObject({
  url: z
    .string()
    .regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL')
    .describe('base URL of the API (Prometheus: without /api/v1); a SaaS source has a default')
    .optional(),
  bearerToken: secret.optional(),
  bearerTokenFile: secret.optional(),
  basicAuth: z
    .strictObject({
      username: z.string().min(1),
      password: secret.optional(),
      passwordFile: secret.optional(),
    })
    .optional(),
  /** Extra request headers, e.g. `X-Scope-OrgID` for Mimir/Cortex tenants. */
  headers: z
    .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'is not a header name'), z.string())
    .optional(),
  /** PEM file of the CA that signed the server's certificate. */
  tlsCaFile: secret.optional(),
  /** Per-query timeout in seconds (default: the puller's). */
  timeoutSeconds: z.number().positive().max(600).optional(),
  // A vendor's keys and settings, as its API names them; each source says which it needs.
  /** Datadog API key, New Relic User key. */
  apiKey: secret.optional(),
  /** Datadog application key. */
  appKey: secret.optional(),
  /** New Relic account id. */
  accountId: z.union([secret, z.number().int().positive().transform(String)]).optional(),
  /** AWS region (CloudWatch). */
  region: secret.optional(),
  accessKeyId: secret.optional(),
  secretAccessKey: secret.optional(),
  /** AWS temporary credentials (with accessKeyId and secretAccessKey). */
  sessionToken: secret.optional(),
});

/** The vendor fields of a connection, passed to a source as `credentials` once expanded. */
export const CREDENTIAL_FIELDS = [
  'apiKey',
  'appKey',
  'accountId',
  'region',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
] as const;

export type ConnectionDetails = z.output<typeof connectionSchema>;

/** `connectionDetails: { connection: <name> }`: the connection configured under `connections.<name>`. */
export interface ConnectionRef {
  readonly connection: string;
}

export type ConnectionSpec = ConnectionDetails | ConnectionRef;

export function isConnectionRef(spec: ConnectionSpec | undefined): spec is ConnectionRef {
  return spec !== undefined && 'connection' in spec;
}

export type ParsedConnection<T = ConnectionSpec> =
  | { readonly ok: true; readonly details: T }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Names of configured connections (`connections.<name>`). */
export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** Where a spec uploaded through the API finds its connection instead of defining one. */
export const UPLOADED_CONNECTION_HINT =
  'a DataSource uploaded through the API may only name a connection configured on the server: ' +
  '`connectionDetails: { connection: <name> }` with connections.<name> in the config file, or refer ' +
  'with metricSourceRef to a DataSource in the spec directory on the server (specs.path)';

/**
 * Reads `connectionDetails`: a map, or (as in the OpenSLO examples) a list of one-key maps that
 * are merged; or `{ connection: <name> }` naming a configured connection. Secrets may be written
 * as `${ENV_VAR}`; they are expanded only when resolved. `uploaded`: the definition came over the
 * network, so only the by-name form is accepted.
 */
export function parseConnectionDetails(
  raw: unknown,
  options: { readonly uploaded?: boolean; readonly required?: readonly string[] } = {},
): ParsedConnection {
  let merged: unknown = raw;
  if (Array.isArray(raw)) {
    const out: Record<string, unknown> = {};
    for (const entry of raw) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        return {
          ok: false,
          problems: ['connectionDetails: a list must hold maps such as `- url: http://…`'],
        };
      Object.assign(out, entry);
    }
    merged = out;
  }
  if (merged === undefined || merged === null)
    return {
      ok: false,
      problems: ['connectionDetails: missing; give at least `url: http://prometheus:9090`'],
    };
  if (typeof merged === 'object' && 'connection' in merged) {
    const { connection, ...rest } = merged as Record<string, unknown>;
    if (typeof connection !== 'string' || !CONNECTION_NAME.test(connection))
      return {
        ok: false,
        problems: ['connectionDetails.connection: must be the name of a configured connection'],
      };
    if (Object.keys(rest).length)
      return {
        ok: false,
        problems: [
          `connectionDetails: give only \`connection: ${connection}\` (configured on the server), not ${Object.keys(rest).join(', ')}`,
        ],
      };
    return { ok: true, details: { connection } };
  }
  if (options.uploaded) return { ok: false, problems: [`connectionDetails: ${UPLOADED_CONNECTION_HINT}`] };
  const parsed = parseInlineConnection(merged);
  if (!parsed.ok) return parsed;
  const missing = (options.required ?? ['url']).filter(
    (field) => (parsed.details as Record<string, unknown>)[field] === undefined,
  );
  return missing.length
    ? { ok: false, problems: missing.map((field) => `connectionDetails.${field}: Required`) }
    : parsed;
}

/** Reads an inline connection (a spec file on disk, the configuration). */
export function parseInlineConnection(merged: unknown): ParsedConnection<ConnectionDetails> {
  const result = connectionSchema.safeParse(merged);
  if (!result.success)
    return {
      ok: false,
      problems: result.error.issues.map((issue) => {
        const path = ['connectionDetails', ...issue.path.map(String)].join('.');
        if (issue.code === 'unrecognized_keys')
          return `${path}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (known: ${Object.keys(connectionSchema.shape).join(', ')})`;
        // A bad record key (a header name) carries its reason one level down.
        const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
        return `${path}: ${inner ?? issue.message}`;
      }),
    };
  const details = result.data;
  const problems: string[] = [];
  if (details.bearerToken && details.bearerTokenFile)
    problems.push('connectionDetails: give bearerToken or bearerTokenFile, not both');
  if (details.basicAuth && (details.bearerToken || details.bearerTokenFile))
    problems.push('connectionDetails: give basicAuth or a bearer token, not both');
  if (details.basicAuth && !details.basicAuth.password === !details.basicAuth.passwordFile)
    problems.push('connectionDetails.basicAuth: give exactly one of password or passwordFile');
  return problems.length ? { ok: false, problems } : { ok: true, details };
}

/** A connection ready to use: secrets read, headers built. */
export interface ResolvedConnection {
  /** Base URL without a trailing slash; undefined when the connection gives none (a SaaS default). */
  readonly url: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM text of the CA to trust, when one is configured. */
  readonly ca?: string | undefined;
  readonly timeoutMs?: number | undefined;
  /** The vendor fields given (CREDENTIAL_FIELDS), expanded. */
  readonly credentials: Readonly<Record<string, string>>;
}

export interface SecretSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

const defaultSources: SecretSources = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
};

/** Expands `${VAR}` and reads secret files; throws an Error naming what is missing. */
export function resolveConnection(
  details: ConnectionDetails,
  sources: SecretSources = defaultSources,
): ResolvedConnection {
  const expand = (value: string, field: string) => {
    const expanded = expandEnv(value, sources.env);
    if (!expanded.ok)
      throw new Error(`${field} uses \${${expanded.missing}}, which is not set in the environment`);
    return expanded.value;
  };
  const file = (path: string, field: string) => {
    try {
      return sources.readFile(expand(path, field)).trim();
    } catch (error) {
      // The code only: the message of a file error can quote more than the path.
      throw new Error(
        `${field}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
  };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(details.headers ?? {}))
    headers[name] = expand(value, `headers.${name}`);
  if (details.bearerToken) headers.authorization = `Bearer ${expand(details.bearerToken, 'bearerToken')}`;
  if (details.bearerTokenFile)
    headers.authorization = `Bearer ${file(details.bearerTokenFile, 'bearerTokenFile')}`;
  if (details.basicAuth) {
    const { username, password, passwordFile } = details.basicAuth;
    const secretValue = password
      ? expand(password, 'basicAuth.password')
      : file(passwordFile!, 'basicAuth.passwordFile');
    headers.authorization = `Basic ${Buffer.from(`${expand(username, 'basicAuth.username')}:${secretValue}`).toString('base64')}`;
  }
  const credentials: Record<string, string> = {};
  for (const field of CREDENTIAL_FIELDS) {
    const value = details[field];
    if (value !== undefined) credentials[field] = expand(value, field);
  }
  return {
    url: details.url === undefined ? undefined : expand(details.url, 'url').replace(/\/+$/, ''),
    headers,
    credentials,
    ca: details.tlsCaFile ? file(details.tlsCaFile, 'tlsCaFile') : undefined,
    timeoutMs: details.timeoutSeconds === undefined ? undefined : details.timeoutSeconds * 1000,
  };
}
