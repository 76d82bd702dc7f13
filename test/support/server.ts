/** Starts a real Shinrai (in-process) on a free loopback port for API tests. */
import pino from 'pino';
import { type RunningShinrai, startShinrai } from '../../src/app.js';
import { createToken, type Role } from '../../src/platform/auth/tokens.js';
import type { Clock } from '../../src/platform/clock.js';
import { loadConfig } from '../../src/platform/config.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export interface TestServer {
  readonly shinrai: RunningShinrai;
  readonly database: TestDatabase;
  token(role: Role): Promise<string>;
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies in tests are checked by assertions
export type JsonBody = any;

/** Reads a response body as JSON for assertions. */
export async function json(response: Response | Promise<Response>): Promise<JsonBody> {
  return (await response).json();
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export async function startTestServer(
  dialect: 'sqlite' | 'postgres',
  options: {
    /** The spec directory; without it, every spec arrives through the API. */
    specs?: string;
    /** A config file (YAML), for what only a file may set (connections, notificationTargets). */
    configFile?: string;
    clock?: Clock;
    anonymousRead?: boolean;
    tickSeconds?: number;
    /** More settings as `section.key` → value (e.g. `prometheus.url`). */
    config?: Record<string, unknown>;
    /** Share another server's database (a second replica); it is then not dropped on close. */
    database?: TestDatabase;
    /** Where the server logs (default: nowhere), for tests of what logs say and never say. */
    log?: pino.Logger;
  },
): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase(dialect));
  const ownsDatabase = options.database === undefined;
  const config = loadConfig({
    file: options.configFile,
    flags: {
      'db.url': database.url,
      'server.port': 0,
      'specs.path': options.specs,
      'specs.watch': false,
      'auth.anonymousRead': options.anonymousRead ?? false,
      // Tests drive evaluation with evaluator.tick(); the timer is effectively off.
      'evaluator.tickSeconds': options.tickSeconds ?? 3600,
      'log.level': 'silent',
      // Suites fire hundreds of calculator/backtest calls in seconds; test/http-errors.test.ts
      // checks the limits with low values of its own.
      'rateLimit.expensivePerMinute': 1_000_000,
      'rateLimit.anonymousPerMinute': 1_000_000,
      ...options.config,
    },
  });
  const shinrai = await startShinrai(config, {
    clock: options.clock,
    log: options.log ?? pino({ level: 'silent' }),
  });
  let tokens = 0;
  return {
    shinrai,
    database,
    token: async (role) => (await createToken(shinrai.ctx, { name: `${role}-${++tokens}`, role })).token,
    request: (method, path, { token, body, headers } = {}) =>
      fetch(`${shinrai.url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      await shinrai.stop();
      if (ownsDatabase) await database.drop();
    },
  };
}
