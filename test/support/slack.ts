/**
 * A fake Slack Web API for tests: a loopback HTTP server answering `POST /api/<method>` the way
 * Slack documents it — HTTP 200 with `{ ok: true, … }` or `{ ok: false, error: "<code>" }`, and
 * HTTP 429 with `Retry-After: <seconds>` and `{ ok: false, error: "ratelimited" }` when rate
 * limited. Arguments arrive form-encoded (what @slack/web-api sends; objects such as `blocks` and
 * `view` JSON-encoded inside fields) or as JSON; the token as `Authorization: Bearer`. It keeps
 * workspace state (users, channels with members, messages, pins, reactions, views), records every
 * call, and can be told to fail the next calls of a method. Plus `signSlackRequest`, which signs a
 * request body exactly as Slack signs what it sends to an app.
 *
 * Socket Mode: with an app-level token, `apps.connections.open` answers a `ws://` URL on the same
 * loopback port where a minimal WebSocket endpoint (RFC 6455 text frames, ping/pong, close) sends
 * `hello` and then the envelopes a test pushes (`{ envelope_id, type: events_api|slash_commands|
 * interactive, payload, accepts_response_payload, retry_attempt, retry_reason }`), and resolves
 * each with the app's acknowledgement `{ envelope_id, payload? }`.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const FAKE_TEAM_ID = 'T0FAKETEAM';
export const FAKE_BOT_USER_ID = 'U0FAKEBOT';
export const FAKE_BOT_ID = 'B0FAKEBOT';
export const FAKE_APP_ID = 'A0FAKEAPP';

/** One recorded Web API call. */
export interface SlackCall {
  readonly method: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly headers: IncomingHttpHeaders;
  /** The HTTP status and `error` code answered (`undefined` when ok). */
  readonly status: number;
  readonly error?: string | undefined;
}

export interface FakeUser {
  readonly id: string;
  readonly name: string;
  readonly realName?: string;
  readonly email?: string;
  /** IETF tag (`ja-JP`), returned only when the caller asks with include_locale. */
  readonly locale?: string;
  readonly tz?: string;
  readonly isBot?: boolean;
}

export interface FakeChannel {
  readonly id: string;
  name: string;
  readonly isPrivate: boolean;
  readonly created: number;
  readonly creator: string;
  readonly members: Set<string>;
}

export interface FakeMessage {
  readonly channel: string;
  readonly ts: string;
  text: string;
  blocks?: unknown;
  readonly user?: string | undefined;
  readonly botId?: string | undefined;
  readonly threadTs?: string | undefined;
  /** chat.postMessage `metadata` ({ event_type, event_payload }), returned by conversations.history. */
  readonly metadata?: unknown;
  /** chat.postEphemeral: only this user saw it. */
  readonly ephemeralTo?: string | undefined;
  edited?: boolean;
}

export interface FakeView {
  readonly id: string;
  view: Record<string, unknown>;
  hash: string;
  readonly triggerId?: string;
}

/** A failure to inject: a Slack error code (HTTP 200), a 429 with Retry-After, or another HTTP status. */
export type InjectedFailure =
  | { readonly error: string }
  | { readonly rateLimitedSeconds: number }
  | { readonly httpStatus: number };

/** Signs `body` as Slack does: `v0=` + hex HMAC-SHA256 of `v0:<ts>:<body>` with the signing secret. */
export function signSlackRequest(
  body: string,
  secret: string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const signature = createHmac('sha256', secret).update(`v0:${timestampSeconds}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${signature}`, 'x-slack-request-timestamp': String(timestampSeconds) };
}

/**
 * Sends `/shinrai <text>` from `user` in `channel` to a Shinrai at `baseUrl`, signed as Slack
 * signs a slash command; answers the HTTP response.
 */
export function sendSlashCommand(
  baseUrl: string,
  secret: string,
  command: { readonly user: string; readonly channel: string; readonly text: string },
): Promise<Response> {
  const body = new URLSearchParams({
    command: '/shinrai',
    text: command.text,
    user_id: command.user,
    channel_id: command.channel,
    team_id: FAKE_TEAM_ID,
    trigger_id: `trigger.${command.user}.${Date.now()}.${Math.random().toString(36).slice(2)}`,
  }).toString();
  return fetch(`${baseUrl}/api/v1/integrations/slack/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, secret) },
    body,
  });
}

const CHANNEL_NAME = /^[a-z0-9_\-\p{L}\p{N}]+$/u;

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly users = new Map<string, FakeUser>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages: FakeMessage[] = [];
  /** `<channel> <ts>` of pinned messages. */
  readonly pins = new Set<string>();
  /** `<channel> <ts> <name>` → users who reacted. */
  readonly reactions = new Map<string, Set<string>>();
  readonly views = new Map<string, FakeView>();
  /** Trigger ids already used (each opens one view, within 3 s in Slack: here, once). */
  private readonly usedTriggers = new Set<string>();
  private readonly failures = new Map<string, InjectedFailure[]>();
  private server: Server | undefined;
  private sequence = 0;
  private readonly sockets = new Set<Socket>();
  private readonly pendingAcks = new Map<string, (ack: Record<string, unknown>) => void>();
  /** Resolved when a Socket Mode client has connected (and got its hello). */
  private connected: { promise: Promise<void>; resolve: () => void } = deferred();
  port = 0;

  constructor(
    readonly botToken: string = 'xoxb-fake-token',
    /** The app-level token `apps.connections.open` accepts (Socket Mode). */
    readonly appToken: string = 'xapp-fake-token',
  ) {
    this.addUser({ id: FAKE_BOT_USER_ID, name: 'shinrai', realName: 'Shinrai', isBot: true });
  }

  /** The base URL to give `slack.apiUrl` (ends in `/api/`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  addUser(user: FakeUser): FakeUser {
    this.users.set(user.id, user);
    return user;
  }

  /** Creates a channel as if someone made it in Slack (the bot is not a member unless listed). */
  addChannel(name: string, members: readonly string[] = [], isPrivate = false): FakeChannel {
    const channel: FakeChannel = {
      id: this.nextId(isPrivate ? 'G' : 'C'),
      name,
      isPrivate,
      created: Math.floor(Date.now() / 1000),
      creator: members[0] ?? 'U0SOMEONE',
      members: new Set(members),
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** The next `count` calls of `method` fail this way (then it answers normally again). */
  failNext(method: string, failure: InjectedFailure, count = 1): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < count; i++) list.push(failure);
    this.failures.set(method, list);
  }

  /** Forgets the failures still queued (for one method, or all). */
  clearFailures(method?: string): void {
    if (method) this.failures.delete(method);
    else this.failures.clear();
  }

  /** Calls of one method, oldest first. */
  callsOf(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Messages posted in a channel (not ephemeral ones), oldest first. */
  messagesIn(channel: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && !m.ephemeralTo);
  }

  channelByName(name: string): FakeChannel | undefined {
    return [...this.channels.values()].find((c) => c.name === name);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const method = url.pathname.startsWith('/api/') ? url.pathname.slice('/api/'.length) : '';
        const args = parseArgs(req.headers['content-type'] ?? '', Buffer.concat(chunks).toString('utf8'));
        for (const [key, value] of url.searchParams) args[key] ??= value;
        const answer = (
          status: number,
          body: Record<string, unknown>,
          headers: Record<string, string> = {},
        ) => {
          this.calls.push({
            method,
            args,
            headers: req.headers,
            status,
            error: body.ok === false ? String(body.error) : undefined,
          });
          res
            .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
            .end(JSON.stringify(body));
        };
        if (req.method !== 'POST' && req.method !== 'GET')
          return answer(405, { ok: false, error: 'method_not_allowed' });
        const token =
          /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ??
          (typeof args.token === 'string' ? args.token : undefined);
        if (!token) return answer(200, { ok: false, error: 'not_authed' });
        if (method === 'apps.connections.open') {
          if (token === this.botToken) return answer(200, { ok: false, error: 'not_allowed_token_type' });
          if (token !== this.appToken) return answer(200, { ok: false, error: 'invalid_auth' });
        } else if (token !== this.botToken) return answer(200, { ok: false, error: 'invalid_auth' });
        const failure = this.failures.get(method)?.shift();
        if (failure) {
          if ('rateLimitedSeconds' in failure)
            return answer(
              429,
              { ok: false, error: 'ratelimited' },
              { 'retry-after': String(failure.rateLimitedSeconds) },
            );
          if ('httpStatus' in failure) return answer(failure.httpStatus, { ok: false, error: 'fatal_error' });
          return answer(200, { ok: false, error: failure.error });
        }
        const handler = this.handlers[method];
        if (!handler) return answer(200, { ok: false, error: 'unknown_method' });
        const result = handler(args);
        return answer(200, result);
      });
    });
    this.server.on('upgrade', (req, socket: Socket) => this.upgrade(req.url ?? '', req.headers, socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Waits until a Socket Mode client is connected. */
  socketConnected(): Promise<void> {
    return this.connected.promise;
  }

  /**
   * Sends a Socket Mode envelope to every connected client; resolves with the app's
   * acknowledgement (`payload` is the response of a slash command or an interaction, if any).
   */
  sendEnvelope(
    type: 'events_api' | 'slash_commands' | 'interactive',
    payload: Record<string, unknown>,
    options: { envelopeId?: string; retryAttempt?: number } = {},
  ): Promise<Record<string, unknown>> {
    const envelopeId = options.envelopeId ?? `env-${this.nextId('E')}`;
    const acked = new Promise<Record<string, unknown>>((resolve) =>
      this.pendingAcks.set(envelopeId, resolve),
    );
    const frame = JSON.stringify({
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: type !== 'events_api',
      retry_attempt: options.retryAttempt ?? 0,
      retry_reason: options.retryAttempt ? 'timeout' : '',
    });
    for (const socket of this.sockets) socket.write(encodeFrame(0x1, Buffer.from(frame)));
    return acked;
  }

  private upgrade(url: string, headers: IncomingHttpHeaders, socket: Socket): void {
    const key = headers['sec-websocket-key'];
    if (!url.startsWith('/link/') || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => this.sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let frame = decodeFrame(buffer); frame; frame = decodeFrame(buffer)) {
        buffer = buffer.subarray(frame.size);
        if (frame.opcode === 0x8) {
          socket.end(encodeFrame(0x8, Buffer.alloc(0)));
          this.sockets.delete(socket);
          return;
        }
        if (frame.opcode === 0x9) socket.write(encodeFrame(0xa, frame.data));
        if (frame.opcode !== 0x1) continue;
        const message = JSON.parse(frame.data.toString('utf8')) as Record<string, unknown>;
        const envelopeId = String(message.envelope_id ?? '');
        this.pendingAcks.get(envelopeId)?.(message);
        this.pendingAcks.delete(envelopeId);
      }
    });
    socket.write(
      encodeFrame(
        0x1,
        Buffer.from(
          JSON.stringify({
            type: 'hello',
            num_connections: this.sockets.size,
            debug_info: { host: 'fake-socket-mode', approximate_connection_time: 18060 },
            connection_info: { app_id: FAKE_APP_ID },
          }),
        ),
      ),
    );
    this.connected.resolve();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private nextId(prefix: string): string {
    this.sequence++;
    return `${prefix}0${String(this.sequence).padStart(8, '0')}`;
  }

  private nextTs(): string {
    this.sequence++;
    return `${Math.floor(Date.now() / 1000)}.${String(this.sequence).padStart(6, '0')}`;
  }

  private channelJson(channel: FakeChannel): Record<string, unknown> {
    return {
      id: channel.id,
      name: channel.name,
      is_channel: !channel.isPrivate,
      is_group: channel.isPrivate,
      is_im: false,
      is_mpim: false,
      is_private: channel.isPrivate,
      created: channel.created,
      creator: channel.creator,
      is_archived: false,
      is_general: false,
      unlinked: 0,
      name_normalized: channel.name,
      is_shared: false,
      is_ext_shared: false,
      is_org_shared: false,
      pending_shared: [],
      is_pending_ext_shared: false,
      is_member: channel.members.has(FAKE_BOT_USER_ID),
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      previous_names: [],
      num_members: channel.members.size,
    };
  }

  private userJson(user: FakeUser, includeLocale: boolean): Record<string, unknown> {
    const realName = user.realName ?? user.name;
    return {
      id: user.id,
      team_id: FAKE_TEAM_ID,
      name: user.name,
      deleted: false,
      real_name: realName,
      tz: user.tz ?? 'Asia/Tokyo',
      tz_label: 'Japan Standard Time',
      tz_offset: 32_400,
      profile: {
        real_name: realName,
        display_name: user.name,
        real_name_normalized: realName,
        display_name_normalized: user.name,
        ...(user.email ? { email: user.email } : {}),
        team: FAKE_TEAM_ID,
      },
      is_admin: false,
      is_owner: false,
      is_bot: user.isBot ?? false,
      is_app_user: false,
      updated: 1_700_000_000,
      ...(includeLocale ? { locale: user.locale ?? 'en-US' } : {}),
    };
  }

  private messageJson(message: FakeMessage): Record<string, unknown> {
    return {
      type: 'message',
      ts: message.ts,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.user ? { user: message.user } : {}),
      ...(message.botId ? { bot_id: message.botId, app_id: FAKE_APP_ID } : {}),
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      team: FAKE_TEAM_ID,
    };
  }

  private findChannel(args: Record<string, unknown>): FakeChannel | undefined {
    const id = String(args.channel ?? '');
    return (
      this.channels.get(id) ?? [...this.channels.values()].find((c) => `#${c.name}` === id || c.name === id)
    );
  }

  private viewJson(view: FakeView): Record<string, unknown> {
    return {
      id: view.id,
      team_id: FAKE_TEAM_ID,
      type: 'modal',
      blocks: [],
      private_metadata: '',
      callback_id: '',
      state: { values: {} },
      hash: view.hash,
      clear_on_close: false,
      notify_on_close: false,
      root_view_id: view.id,
      previous_view_id: null,
      app_id: FAKE_APP_ID,
      external_id: '',
      bot_id: FAKE_BOT_ID,
      ...view.view,
    };
  }

  private readonly handlers: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    'apps.connections.open': () => ({
      ok: true,
      url: `ws://127.0.0.1:${this.port}/link/?ticket=${this.nextId('T')}&app_id=${FAKE_APP_ID}`,
    }),
    'auth.test': () => ({
      ok: true,
      url: 'https://fake-workspace.slack.com/',
      team: 'Fake Workspace',
      user: 'shinrai',
      team_id: FAKE_TEAM_ID,
      user_id: FAKE_BOT_USER_ID,
      bot_id: FAKE_BOT_ID,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (!channel.members.has(FAKE_BOT_USER_ID)) return { ok: false, error: 'not_in_channel' };
      if (!args.text && !args.blocks && !args.attachments) return { ok: false, error: 'no_text' };
      const message: FakeMessage = {
        channel: channel.id,
        ts: this.nextTs(),
        text: String(args.text ?? ''),
        blocks: args.blocks,
        botId: FAKE_BOT_ID,
        threadTs: typeof args.thread_ts === 'string' ? args.thread_ts : undefined,
        metadata: args.metadata,
      };
      this.messages.push(message);
      return { ok: true, channel: channel.id, ts: message.ts, message: this.messageJson(message) };
    },
    'chat.update': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const message = this.messages.find(
        (m) => m.channel === channel.id && m.ts === args.ts && !m.ephemeralTo,
      );
      if (!message) return { ok: false, error: 'message_not_found' };
      if (message.botId !== FAKE_BOT_ID) return { ok: false, error: 'cant_update_message' };
      if (args.text !== undefined) message.text = String(args.text);
      if (args.blocks !== undefined) message.blocks = args.blocks;
      message.edited = true;
      return {
        ok: true,
        channel: channel.id,
        ts: message.ts,
        text: message.text,
        message: this.messageJson(message),
      };
    },
    'chat.postEphemeral': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const user = String(args.user ?? '');
      if (!this.users.has(user)) return { ok: false, error: 'user_not_found' };
      if (!channel.members.has(user)) return { ok: false, error: 'user_not_in_channel' };
      const message: FakeMessage = {
        channel: channel.id,
        ts: this.nextTs(),
        text: String(args.text ?? ''),
        blocks: args.blocks,
        botId: FAKE_BOT_ID,
        ephemeralTo: user,
      };
      this.messages.push(message);
      return { ok: true, message_ts: message.ts };
    },
    'chat.getPermalink': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const ts = String(args.message_ts ?? '');
      if (!this.messages.some((m) => m.channel === channel.id && m.ts === ts))
        return { ok: false, error: 'message_not_found' };
      return {
        ok: true,
        channel: channel.id,
        permalink: `https://fake-workspace.slack.com/archives/${channel.id}/p${ts.replace('.', '')}`,
      };
    },
    'pins.add': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const ts = String(args.timestamp ?? '');
      if (!this.messages.some((m) => m.channel === channel.id && m.ts === ts))
        return { ok: false, error: 'message_not_found' };
      const key = `${channel.id} ${ts}`;
      if (this.pins.has(key)) return { ok: false, error: 'already_pinned' };
      this.pins.add(key);
      return { ok: true };
    },
    'conversations.create': (args) => {
      const name = String(args.name ?? '');
      if (!name) return { ok: false, error: 'invalid_name_required' };
      if (name.length > 80) return { ok: false, error: 'invalid_name_maxlength' };
      if (!CHANNEL_NAME.test(name) || name !== name.toLowerCase())
        return { ok: false, error: 'invalid_name_specials' };
      if (/^[-_]+$/.test(name)) return { ok: false, error: 'invalid_name_punctuation' };
      if (this.channelByName(name)) return { ok: false, error: 'name_taken' };
      const isPrivate = args.is_private === true || args.is_private === 'true';
      const channel = this.addChannel(name, [FAKE_BOT_USER_ID], isPrivate);
      return { ok: true, channel: this.channelJson(channel) };
    },
    'conversations.invite': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (!channel.members.has(FAKE_BOT_USER_ID)) return { ok: false, error: 'not_in_channel' };
      const users = String(args.users ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
      if (!users.length) return { ok: false, error: 'no_user' };
      if (users.includes(FAKE_BOT_USER_ID)) return { ok: false, error: 'cant_invite_self' };
      const unknown = users.find((u) => !this.users.has(u));
      if (unknown) return { ok: false, error: 'user_not_found' };
      // Slack refuses the whole call when one of the users is already a member.
      if (users.some((u) => channel.members.has(u))) return { ok: false, error: 'already_in_channel' };
      for (const user of users) channel.members.add(user);
      return { ok: true, channel: this.channelJson(channel) };
    },
    'conversations.join': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (channel.isPrivate) return { ok: false, error: 'method_not_supported_for_channel_type' };
      if (channel.members.has(FAKE_BOT_USER_ID))
        return {
          ok: true,
          channel: this.channelJson(channel),
          warning: 'already_in_channel',
          response_metadata: { warnings: ['already_in_channel'] },
        };
      channel.members.add(FAKE_BOT_USER_ID);
      return { ok: true, channel: this.channelJson(channel) };
    },
    'conversations.history': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (channel.isPrivate && !channel.members.has(FAKE_BOT_USER_ID))
        return { ok: false, error: 'not_in_channel' };
      const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
      const limit = Math.min(Number(args.limit ?? 100) || 100, 999);
      const messages = this.messagesIn(channel.id)
        .filter((m) => !m.threadTs)
        .reverse()
        .slice(0, limit)
        .map((m) => ({
          ...this.messageJson(m),
          ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
        }));
      return { ok: true, messages, has_more: false, pin_count: 0, response_metadata: { next_cursor: '' } };
    },
    'conversations.list': () => ({
      ok: true,
      channels: [...this.channels.values()].map((c) => this.channelJson(c)),
      response_metadata: { next_cursor: '' },
    }),
    'conversations.info': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      return { ok: true, channel: this.channelJson(channel) };
    },
    'views.open': (args) => {
      const trigger = String(args.trigger_id ?? '');
      if (!trigger) return { ok: false, error: 'invalid_arguments' };
      if (this.usedTriggers.has(trigger)) return { ok: false, error: 'expired_trigger_id' };
      const spec = args.view;
      if (!spec || typeof spec !== 'object') return { ok: false, error: 'invalid_arguments' };
      this.usedTriggers.add(trigger);
      const view: FakeView = {
        id: this.nextId('V'),
        view: spec as Record<string, unknown>,
        hash: `${Math.floor(Date.now() / 1000)}.${this.sequence}`,
        triggerId: trigger,
      };
      this.views.set(view.id, view);
      return { ok: true, view: this.viewJson(view) };
    },
    'views.update': (args) => {
      const view = this.views.get(String(args.view_id ?? ''));
      if (!view) return { ok: false, error: 'not_found' };
      if (args.hash !== undefined && args.hash !== view.hash) return { ok: false, error: 'hash_conflict' };
      const spec = args.view;
      if (!spec || typeof spec !== 'object') return { ok: false, error: 'invalid_arguments' };
      view.view = spec as Record<string, unknown>;
      view.hash = `${Math.floor(Date.now() / 1000)}.${this.nextTs()}`;
      return { ok: true, view: this.viewJson(view) };
    },
    'users.info': (args) => {
      const user = this.users.get(String(args.user ?? ''));
      if (!user) return { ok: false, error: 'user_not_found' };
      const includeLocale = args.include_locale === true || args.include_locale === 'true';
      return { ok: true, user: this.userJson(user, includeLocale) };
    },
    'users.lookupByEmail': (args) => {
      const email = String(args.email ?? '').toLowerCase();
      const user = [...this.users.values()].find((u) => u.email?.toLowerCase() === email);
      if (!user) return { ok: false, error: 'users_not_found' };
      return { ok: true, user: this.userJson(user, false) };
    },
    'reactions.add': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const key = `${channel.id} ${String(args.timestamp ?? '')} ${String(args.name ?? '')}`;
      const users = this.reactions.get(key) ?? new Set<string>();
      if (users.has(FAKE_BOT_USER_ID)) return { ok: false, error: 'already_reacted' };
      users.add(FAKE_BOT_USER_ID);
      this.reactions.set(key, users);
      return { ok: true };
    },
    'reactions.remove': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const key = `${channel.id} ${String(args.timestamp ?? '')} ${String(args.name ?? '')}`;
      if (!this.reactions.get(key)?.delete(FAKE_BOT_USER_ID)) return { ok: false, error: 'no_reaction' };
      return { ok: true };
    },
    'reactions.get': (args) => {
      const channel = this.findChannel(args);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const ts = String(args.timestamp ?? '');
      const message = this.messages.find((m) => m.channel === channel.id && m.ts === ts && !m.ephemeralTo);
      if (!message) return { ok: false, error: 'message_not_found' };
      const reactions = [...this.reactions.entries()]
        .filter(([key, users]) => key.startsWith(`${channel.id} ${ts} `) && users.size)
        .map(([key, users]) => ({ name: key.split(' ')[2], users: [...users], count: users.size }));
      return {
        ok: true,
        type: 'message',
        channel: channel.id,
        message: { ...this.messageJson(message), ...(reactions.length ? { reactions } : {}) },
      };
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** One unmasked server frame (FIN set). */
function encodeFrame(opcode: number, data: Buffer): Buffer {
  const length = data.length;
  const head =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(length)]);
  return Buffer.concat([head, data]);
}

function bigLength(length: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(length));
  return buffer;
}

/** The first whole client frame in `buffer` (clients mask their frames), or undefined. */
function decodeFrame(buffer: Buffer): { opcode: number; data: Buffer; size: number } | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = buffer[0]! & 0x0f;
  const masked = (buffer[1]! & 0x80) !== 0;
  let length = buffer[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buffer.length < offset + length) return undefined;
  const data = Buffer.from(buffer.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < data.length; i++) data[i]! ^= buffer[maskOffset + (i % 4)]!;
  return { opcode, data, size: offset + length };
}

/** Form fields (objects JSON-encoded inside them, as the SDK sends) or a JSON body, as one map. */
function parseArgs(contentType: string, body: string): Record<string, unknown> {
  if (!body) return {};
  if (contentType.includes('application/json')) {
    try {
      const parsed = JSON.parse(body) as unknown;
      return parsed && typeof parsed === 'object' ? { ...(parsed as Record<string, unknown>) } : {};
    } catch {
      return {};
    }
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if ((value.startsWith('{') || value.startsWith('[')) && value.length > 1) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        // plain text that starts with a brace
      }
    }
    args[key] = value;
  }
  return args;
}
