/**
 * How to reach one Prometheus (or Thanos, Mimir, VictoriaMetrics): the OpenSLO `DataSource`
 * `connectionDetails` of a `prometheus` data source, checked when specs load and resolved
 * (environment variables, secret files) when the puller starts using it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { expandEnv } from '../platform/env.js';

/** The data source type the puller reads (compared case-insensitively, as OpenSLO writes `Prometheus`). */
export const PROMETHEUS_TYPE = 'prometheus';

export function isPrometheusType(type: string | undefined): boolean {
  return type?.toLowerCase() === PROMETHEUS_TYPE;
}

const secret = z.string().min(1);

const connectionSchema = z.strictObject({
  url: z
    .string()
    .regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL')
    .describe('base URL of the Prometheus HTTP API, without /api/v1'),
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
});

export type ConnectionDetails = z.output<typeof connectionSchema>;

export type ParsedConnection =
  | { readonly ok: true; readonly details: ConnectionDetails }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Reads `connectionDetails`: a map, or (as in the OpenSLO examples) a list of one-key maps that
 * are merged. Secrets may be written as `${ENV_VAR}`; they are expanded only when resolved.
 */
export function parseConnectionDetails(raw: unknown): ParsedConnection {
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
  /** Base URL without a trailing slash. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM text of the CA to trust, when one is configured. */
  readonly ca?: string | undefined;
  readonly timeoutMs?: number | undefined;
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
      throw new Error(`${field}: cannot read ${path}: ${(error as Error).message}`);
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
  return {
    url: expand(details.url, 'url').replace(/\/+$/, ''),
    headers,
    ca: details.tlsCaFile ? file(details.tlsCaFile, 'tlsCaFile') : undefined,
    timeoutMs: details.timeoutSeconds === undefined ? undefined : details.timeoutSeconds * 1000,
  };
}
