/** Calling a running Shinrai's API from CLI commands: the shared flags and one readable line per failure. */
import type { Command } from 'commander';
import { CliError } from './io.js';

export interface ServerFlags {
  server?: string;
  token?: string;
  json?: boolean;
}

export function withServerFlags(command: Command): Command {
  return command
    .option('--server <url>', 'Shinrai server (default: SHINRAI_URL or http://127.0.0.1:8420)')
    .option('--token <token>', 'API token (default: SHINRAI_TOKEN)')
    .option('--json', 'print JSON');
}

/** Calls the API; a problem+json answer becomes one readable line. */
export async function call(
  flags: ServerFlags,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  return (await callWithHeaders(flags, method, path, body)).body;
}

/** As `call`, with request headers to send (an Idempotency-Key) and the answer's status and headers. */
export async function callWithHeaders(
  flags: ServerFlags,
  method: string,
  path: string,
  body?: unknown,
  requestHeaders: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const base = (flags.server ?? process.env.SHINRAI_URL ?? 'http://127.0.0.1:8420').replace(/\/+$/, '');
  const token = flags.token ?? process.env.SHINRAI_TOKEN;
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...requestHeaders,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new CliError(
      `cannot reach ${base}: ${(error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`,
    );
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not Shinrai (a proxy's error page, another service on that port): say so, not a stack trace.
    throw new CliError(
      `${method} ${path}: ${response.status}, and the answer is not JSON: is ${base} a Shinrai server?`,
    );
  }
  if (!response.ok) {
    const detail =
      (json as { detail?: string } | undefined)?.detail ?? `${response.status} ${response.statusText}`;
    throw new CliError(`${method} ${path}: ${response.status} ${detail}`);
  }
  return { status: response.status, headers: response.headers, body: json };
}
