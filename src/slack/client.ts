/**
 * The Slack Web API client: the official `@slack/web-api` WebClient with Slack's base URL from
 * `slack.apiUrl`, every connection made through the egress policy (an undici dispatcher that
 * checks the address after DNS resolution), no retries of its own (the outbox retries, honouring
 * Retry-After) and no logging of its own (its messages may quote request details).
 */
import {
  type FetchFunction,
  type Logger,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type WebClientOptions,
} from '@slack/web-api';
import { type Agent, fetch as undiciFetch } from 'undici';
import type { Egress } from '../platform/egress.js';
import { describeStatus, describeTransportError } from '../platform/remote-error.js';

/** Slack's own base URL, the default of `slack.apiUrl`. */
export const SLACK_API_URL = 'https://slack.com/api/';

export interface SlackApiOptions {
  /** Base URL of the Web API, ending in `/` (`slack.apiUrl`). */
  readonly apiUrl: string;
  readonly egress: Egress;
  /** Per call; the default is 10 s. */
  readonly timeoutMs?: number | undefined;
}

/** A logger that says nothing: the SDK's debug and warning lines may quote arguments and bodies. */
const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

/**
 * WebClient options (for our own clients and for Bolt's `clientOptions`) sharing one egress-checked
 * dispatcher; `close()` releases its connections.
 */
export class SlackApi {
  readonly options: WebClientOptions;
  /** The egress-checked undici dispatcher (Socket Mode's WebSocket connects through it too). */
  readonly dispatcher: Agent;

  constructor(readonly settings: SlackApiOptions) {
    this.dispatcher = settings.egress.agent('slack');
    const dispatcher = this.dispatcher;
    // The SDK calls fetch(url, init); undici's fetch takes the dispatcher that enforces egress.allow.
    const fetch: FetchFunction = (url, init) =>
      undiciFetch(url, {
        ...(init as Parameters<typeof undiciFetch>[1]),
        dispatcher,
      }) as unknown as ReturnType<FetchFunction>;
    this.options = {
      slackApiUrl: settings.apiUrl,
      fetch,
      logger: quiet,
      logLevel: LogLevel.ERROR,
      // A 429 is handed back at once (WebAPIRateLimitedError with retryAfter) for the outbox to schedule.
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: settings.timeoutMs ?? 10_000,
      // A method name never sends the token to another host.
      allowAbsoluteUrls: false,
    };
  }

  /** A WebClient calling with `token` (the bot token, or a user token Bolt hands over). */
  client(token?: string): WebClient {
    return new WebClient(token, this.options);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

export type SlackCallFailure =
  | { readonly kind: 'rate_limited'; readonly retryAfterSeconds: number; readonly message: string }
  | { readonly kind: 'platform'; readonly error: string; readonly message: string }
  | { readonly kind: 'http'; readonly status: number; readonly message: string }
  | { readonly kind: 'transport'; readonly message: string }
  | { readonly kind: 'unknown'; readonly message: string };

const SLACK_ERROR_CODE = /^[a-z0-9_]{1,80}$/;

/**
 * What a failed Web API call means, in one line safe to log, store and show: Slack's error code
 * (`channel_not_found`), "rate limited, retry after 30 s", an HTTP status, or the transport
 * failure. Never the SDK's message, which may quote the URL or the response body.
 */
export function describeSlackError(method: string, error: unknown): SlackCallFailure {
  if (error instanceof WebAPIRateLimitedError)
    return {
      kind: 'rate_limited',
      retryAfterSeconds: error.retryAfter,
      message: `slack ${method}: rate limited, retry after ${error.retryAfter} s`,
    };
  if (error instanceof WebAPIPlatformError) {
    const code = SLACK_ERROR_CODE.test(error.data.error) ? error.data.error : 'error';
    return { kind: 'platform', error: code, message: `slack ${method}: ${code}` };
  }
  if (error instanceof WebAPIHTTPError)
    return {
      kind: 'http',
      status: error.statusCode,
      message: `slack ${method}: ${describeStatus(error.statusCode)}`,
    };
  if (error instanceof WebAPIRequestError)
    return {
      kind: 'transport',
      message: `slack ${method}: ${describeTransportError(error.original).message}`,
    };
  return { kind: 'unknown', message: `slack ${method}: ${describeTransportError(error).message}` };
}
