/**
 * The Slack app (inbound): a Bolt App whose listeners are thin adapters over the incident
 * service — the `/shinrai` slash command, the declare modal, and the Events API (messages in an
 * incident channel → timeline, edits and deletions, the pin reaction → starred, joiners →
 * ephemeral catch-up). HTTP mode through `FastifyReceiver` on Shinrai's server, or Socket Mode
 * (Bolt's SocketModeReceiver over the app-level token) for servers without public ingress.
 * Every Slack user acts with the Shinrai role `slack.users` maps them to, and an editor with teams
 * (the entry's, or those an admin assigned to their e-mail) changes only its teams' incidents.
 */
import { App as BoltApp, type Logger as BoltLogger, LogLevel, SocketModeReceiver } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import {
  type Actor,
  addNote,
  budgetImpact,
  type CatchUpWriter,
  catchUpSummary,
  changeIncident,
  declareIncident,
  getIncident,
  type Incident,
  type IncidentDeps,
  incidentFromAlert,
  incidentTouches,
  markEvent,
  reviseNote,
} from '../incidents/index.js';
import { slackActor } from '../platform/audit/index.js';
import {
  assignmentFor,
  canWrite,
  type Owners,
  type Role,
  roleAllows,
  servicesOfSlos,
} from '../platform/auth/index.js';
import type { Config } from '../platform/config.js';
import type { Egress } from '../platform/egress.js';
import { AppError } from '../platform/errors.js';
import type { ShinraiMetrics } from '../platform/metrics.js';
import { listStatuses } from '../slo/index.js';
import { registerCardActions } from './card-actions.js';
import { describeSlackError, SlackApi } from './client.js';
import { FastifyReceiver, kindOf, requestKey, SLACK_PATH } from './receiver.js';
import { slackUserGrant } from './roles.js';
import {
  channelIncident,
  claimRequest,
  forgetMessage,
  pruneSeen,
  recordedMessage,
  recordMessage,
  releaseRequest,
} from './store.js';
import {
  escapeSlack,
  languageOf,
  parseSlashCommand,
  SLACK_TEXT,
  type SlackLanguage,
  type SlackText,
} from './text.js';

export const DECLARE_CALLBACK = 'shinrai_declare';
const PERSON_CACHE_MS = 10 * 60 * 1000;
const MAX_OPTIONS = 100;
/** How long a catch-up waits for the LLM's wording before answering with the facts (Slack allows 3 s). */
const LLM_BUDGET_MS = 2000;

export interface SlackAppDeps {
  readonly config: Config['slack'];
  /** Who owns each service (docs/api.md#teams); absent, a Slack editor may change every team's incidents. */
  readonly owners?: (() => Owners) | undefined;
  readonly incidents: IncidentDeps & { readonly timeZone?: string | undefined };
  readonly catchUpWriter?: CatchUpWriter | undefined;
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
  readonly egress: Egress;
  /** Suggested causes of an incident (delivery): the last production deployment before its impact. */
  readonly suspects?:
    | ((
        incidentId: string,
      ) => Promise<
        ReadonlyArray<{ id: string; service: string; version?: string | undefined; finishedAtMs: number }>
      >)
    | undefined;
}

/** A Slack user as Shinrai sees them. */
export interface SlackPerson {
  readonly id: string;
  readonly name: string;
  readonly email?: string | undefined;
  readonly locale?: string | undefined;
  readonly isBot: boolean;
}

/**
 * How a Slack user is written in an incident role: their name with their ID, `Alice Example
 * (U0123ABCD)`, so the card can mention and invite them and people read a name.
 */
export function slackRoleHolder(person: Pick<SlackPerson, 'id' | 'name'>): string {
  return `${person.name} (${person.id})`;
}

/** The Slack user ID inside a role holder written by `slackRoleHolder`, if any. */
export function slackUserIdOf(holder: string): string | undefined {
  return /\(([UW][A-Z0-9]{2,})\)$/.exec(holder)?.[1];
}

/** Is Shinrai's Slack app configured at all? */
export function slackEnabled(config: Config['slack']): boolean {
  return config.botToken !== '';
}

export class SlackApp {
  readonly api: SlackApi;
  readonly bolt: BoltApp;
  private readonly receiver: FastifyReceiver | undefined;
  private readonly people = new Map<string, { person: SlackPerson; atMs: number }>();
  private started = false;
  /** The outbox of calls to Slack; card presses nudge it (set by the composition root). */
  outbox: { cycle(): Promise<unknown> } | undefined;

  constructor(
    readonly deps: SlackAppDeps,
    platform: { db: IncidentDeps['db']; clock: IncidentDeps['clock'] },
  ) {
    const { config } = deps;
    this.api = new SlackApi({ apiUrl: config.apiUrl, egress: deps.egress });
    const logger = quietLogger();
    if (config.socketMode) {
      // Our own receiver rather than Bolt's default, to give it the egress-checked dispatcher (the
      // WebSocket and apps.connections.open go through egress.allow) and slack.apiUrl.
      const receiver = new SocketModeReceiver({
        appToken: config.appToken,
        dispatcher: this.api.dispatcher,
        logger,
        installerOptions: { clientOptions: { ...this.api.options } },
      });
      this.bolt = new BoltApp({
        authorize: this.authorizer(),
        receiver,
        clientOptions: this.api.options,
        logger,
      });
      // Envelopes are redelivered until acknowledged: act once per request id, as in HTTP mode.
      this.bolt.use(async ({ body, next }) => {
        const kind = kindOf(body as Record<string, unknown>);
        const key = requestKey(kind, body as Record<string, unknown>);
        if (key && !(await claimRequest(platform.db, key, platform.clock.now()))) {
          deps.metrics.slackRequests.inc({ kind, outcome: 'duplicate' });
          return;
        }
        try {
          await next();
          deps.metrics.slackRequests.inc({ kind, outcome: 'ok' });
        } catch (error) {
          deps.metrics.slackRequests.inc({ kind, outcome: 'error' });
          if (key) await releaseRequest(platform.db, key).catch(() => {});
          throw error;
        }
      });
    } else {
      this.receiver = new FastifyReceiver({
        signingSecret: config.signingSecret,
        db: platform.db,
        clock: platform.clock,
        log: deps.log,
        metrics: deps.metrics,
      });
      this.bolt = new BoltApp({
        authorize: this.authorizer(),
        receiver: this.receiver,
        clientOptions: this.api.options,
        logger,
      });
    }
    // A listener's failure reaches the receiver (which answers 500 and lets Slack retry).
    this.bolt.error(async (error) => {
      throw error;
    });
    this.register();
  }

  /**
   * The bot's identity for Bolt (which skips the bot's own messages by it): auth.test once, on the
   * first request rather than at start (so a start without Slack works), kept when it succeeds
   * and asked again after a failure. (Bolt's own `token` option without token verification calls
   * auth.test on every request.)
   */
  private authorizer(): () => Promise<{ botToken: string; botId?: string; botUserId?: string }> {
    const token = this.deps.config.botToken;
    let identity: Promise<{ botId?: string; botUserId?: string }> | undefined;
    return async () => {
      identity ??= this.api
        .client(token)
        .auth.test()
        .then((result) => {
          this.deps.metrics.slackApiCalls.inc({ method: 'auth.test', outcome: 'ok' });
          return { botId: result.bot_id, botUserId: result.user_id };
        });
      try {
        return { botToken: token, ...(await identity) };
      } catch (error) {
        identity = undefined;
        const failure = describeSlackError('auth.test', error);
        this.deps.metrics.slackApiCalls.inc({
          method: 'auth.test',
          outcome: failure.kind === 'rate_limited' ? 'rate_limited' : 'error',
        });
        throw new AppError('Unavailable', failure.message);
      }
    };
  }

  /** Where requests arrive, for the log and /readyz. */
  get mode(): 'http' | 'socket' {
    return this.receiver ? 'http' : 'socket';
  }

  /** The routes on Shinrai's server (none in Socket Mode). */
  routes(): (app: import('fastify').FastifyInstance) => Promise<void> {
    return this.receiver ? this.receiver.routes() : async () => {};
  }

  /** Socket Mode connects to Slack here; HTTP mode has nothing to start. */
  async start(): Promise<void> {
    if (this.mode === 'socket') await this.bolt.start();
    this.started = true;
    this.deps.log.info(
      { mode: this.mode },
      this.mode === 'http'
        ? `Slack app: receiving commands, interactions and events at ${SLACK_PATH}/{commands,interactions,events}`
        : 'Slack app: connected in Socket Mode',
    );
  }

  async stop(): Promise<void> {
    if (this.started && this.mode === 'socket') await this.bolt.stop().catch(() => {});
    await this.api.close();
  }

  /** What /readyz shows. */
  readiness(): { mode: 'http' | 'socket'; path?: string; started: boolean } {
    return { mode: this.mode, ...(this.mode === 'http' ? { path: SLACK_PATH } : {}), started: this.started };
  }

  /** Removes old idempotency keys (called from a periodic task). */
  prune(nowMs: number): Promise<void> {
    return pruneSeen(this.deps.incidents.db, nowMs);
  }

  private get db() {
    return this.deps.incidents.db;
  }

  private register(): void {
    const bolt = this.bolt;
    bolt.command('/shinrai', async ({ command, ack, client }) => {
      const reply = await this.onCommand(client, {
        userId: command.user_id,
        channelId: command.channel_id,
        text: command.text ?? '',
        triggerId: command.trigger_id,
      });
      await ack(reply);
    });
    bolt.view(DECLARE_CALLBACK, async ({ ack, body, view, client }) => {
      const errors = await this.onDeclareSubmit(client, body.user.id, view);
      await ack(errors ? { response_action: 'errors', errors } : undefined);
    });
    bolt.event('message', async ({ event, client }) => {
      await this.onMessage(client, event as unknown as Record<string, unknown>);
    });
    bolt.event('reaction_added', async ({ event, client }) => {
      await this.onReaction(client, event as unknown as Record<string, unknown>, true);
    });
    bolt.event('reaction_removed', async ({ event, client }) => {
      await this.onReaction(client, event as unknown as Record<string, unknown>, false);
    });
    bolt.event('member_joined_channel', async ({ event, client }) => {
      await this.onJoin(client, event.user, event.channel);
    });
    registerCardActions(bolt, this);
  }

  /** The Slack user (name, e-mail, locale) — users.info, cached for a few minutes. */
  async person(client: WebClient, userId: string): Promise<SlackPerson> {
    const nowMs = this.deps.incidents.clock.now();
    const cached = this.people.get(userId);
    if (cached && nowMs - cached.atMs < PERSON_CACHE_MS) return cached.person;
    try {
      const info = await client.users.info({ user: userId, include_locale: true });
      this.deps.metrics.slackApiCalls.inc({ method: 'users.info', outcome: 'ok' });
      const user = info.user;
      const person: SlackPerson = {
        id: userId,
        name: user?.real_name || user?.profile?.real_name || user?.name || userId,
        email: user?.profile?.email,
        locale: user?.locale,
        isBot: user?.is_bot ?? false,
      };
      this.people.set(userId, { person, atMs: nowMs });
      return person;
    } catch (error) {
      const failure = describeSlackError('users.info', error);
      this.deps.metrics.slackApiCalls.inc({
        method: 'users.info',
        outcome: failure.kind === 'rate_limited' ? 'rate_limited' : 'error',
      });
      this.deps.log.warn({ user: userId }, failure.message);
      // Without the profile the user is known by ID only (an e-mail mapping cannot apply).
      return { id: userId, name: userId, isBot: false };
    }
  }

  private roleOf(person: SlackPerson): Role | undefined {
    return slackUserGrant(this.deps.config.users, person.id, person.email)?.role;
  }

  /**
   * A Slack user's teams: those of their `slack.users` entry, else those an admin assigned to
   * their e-mail address in Shinrai (PUT /api/v1/auth/people), else none (every team, as before).
   */
  private async teamsOf(person: SlackPerson): Promise<readonly string[]> {
    const grant = slackUserGrant(this.deps.config.users, person.id, person.email);
    if (grant?.teams?.length) return grant.teams;
    const email = person.email?.trim().toLowerCase();
    if (!email) return [];
    const assigned = await assignmentFor(this.deps.incidents, { subject: '', email });
    return assigned?.teams ?? [];
  }

  /**
   * Undefined when the user may; otherwise the message to show them. `touches` gives the services
   * the action changes (an incident's, an alert's): an editor with teams may change only its own.
   */
  async refusal(
    person: SlackPerson,
    needed: Role,
    t: SlackText,
    touches?: () => Promise<readonly string[]>,
  ): Promise<string | undefined> {
    const role = this.roleOf(person);
    if (!role) return t.unmapped;
    if (!roleAllows(role, needed)) return t.forbidden(role, needed);
    const owners = this.deps.owners;
    if (needed === 'viewer' || role !== 'editor' || !owners || !touches) return undefined;
    const teams = await this.teamsOf(person);
    if (!teams.length) return undefined;
    const decision = canWrite({ role, teams }, await touches(), owners());
    if (decision.ok) return undefined;
    const team = decision.team;
    return team
      ? t.teamForbidden(team.owners.join(' / '), team.service, team.teams.join(', '))
      : decision.error;
  }

  /** The services an incident touches (its own and its SLOs'); none when it is gone (the action says so). */
  async incidentServices(ref: string): Promise<string[]> {
    const touched = await incidentTouches(this.deps.incidents, ref);
    if (!touched) return [];
    const catalog = this.deps.incidents.catalog?.();
    return [...touched.services, ...(catalog ? servicesOfSlos(catalog, touched.slos) : [])];
  }

  actor(person: SlackPerson): Actor {
    const name = slackRoleHolder(person);
    return {
      name,
      source: 'slack',
      audit: { ...slackActor({ id: person.id, name }), role: this.roleOf(person) ?? null },
    };
  }

  private async onCommand(
    client: WebClient,
    input: { userId: string; channelId: string; text: string; triggerId: string },
  ): Promise<{ response_type: 'ephemeral' | 'in_channel'; text: string } | undefined> {
    const person = await this.person(client, input.userId);
    const language = languageOf(person.locale);
    const t = SLACK_TEXT[language];
    const severities = this.deps.incidents.severities?.names ?? ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
    const command = parseSlashCommand(input.text, severities);
    const ephemeral = (text: string) => ({ response_type: 'ephemeral' as const, text });
    const inChannel = (text: string) => ({ response_type: 'in_channel' as const, text });
    if (command.kind === 'help') return ephemeral(t.help);
    if (command.kind === 'usage') {
      if (command.problem === 'unknown') return ephemeral(t.unknown(escapeSlack(command.sub)));
      if (command.problem === 'severity') return ephemeral(t.badSeverity(severities));
      if (command.problem === 'ic') return ephemeral(t.badUser);
      if (command.problem === 'cause') return ephemeral(t.badCause);
      return ephemeral(t.usage);
    }
    const needed: Role =
      command.kind === 'status' ||
      command.kind === 'catchup' ||
      command.kind === 'budget' ||
      (command.kind === 'cause' && command.cause === 'suggest')
        ? 'viewer'
        : 'editor';
    // In an incident channel a change touches its incident; declaring is checked at the modal's submit.
    const refused = await this.refusal(
      person,
      needed,
      t,
      command.kind === 'declare'
        ? undefined
        : async () => {
            const link = await channelIncident(this.db, input.channelId);
            return link ? this.incidentServices(link.incidentId) : [];
          },
    );
    if (refused) return ephemeral(refused);
    try {
      if (command.kind === 'declare') {
        await this.openDeclareModal(
          client,
          input.triggerId,
          person,
          command.title,
          input.channelId,
          language,
        );
        return undefined;
      }
      if (command.kind === 'budget') return ephemeral(await this.budgetText(command.service, t));
      const link = await channelIncident(this.db, input.channelId);
      if (!link) return ephemeral(t.notIncidentChannel);
      const deps = this.deps.incidents;
      const actor = this.actor(person);
      switch (command.kind) {
        case 'status': {
          const { incident } = await getIncident(deps, link.incidentId);
          return ephemeral(statusText(incident, t));
        }
        case 'catchup': {
          const text = await this.catchUp(link.incidentId, language);
          return ephemeral(text);
        }
        case 'ic': {
          const commander = await this.person(client, command.user);
          const incident = await changeIncident(
            deps,
            link.incidentId,
            { roles: { commander: slackRoleHolder(commander) } },
            actor,
          );
          return inChannel(t.commanderChanged(incident.reference, `<@${commander.id}>`));
        }
        case 'severity': {
          const incident = await changeIncident(deps, link.incidentId, { severity: command.severity }, actor);
          return inChannel(t.severityChanged(incident.reference, incident.severity));
        }
        case 'mitigated': {
          const incident = await changeIncident(deps, link.incidentId, { status: 'monitoring' }, actor);
          return inChannel(t.mitigated(incident.reference));
        }
        case 'resolved': {
          const incident = await changeIncident(deps, link.incidentId, { status: 'resolved' }, actor);
          return inChannel(t.resolved(incident.reference));
        }
        case 'cause': {
          if (command.cause === 'suggest') {
            const { incident } = await getIncident(deps, link.incidentId);
            const list = (await this.deps.suspects?.(incident.id)) ?? [];
            if (!list.length) return ephemeral(t.noSuspects(incident.reference));
            return ephemeral(
              t.suspects(
                incident.reference,
                list.map(
                  (d) =>
                    `• \`${escapeSlack(d.id)}\` ${escapeSlack(d.service)}${d.version ? ` ${escapeSlack(d.version)}` : ''} — ${new Date(d.finishedAtMs).toISOString()}`,
                ),
              ),
            );
          }
          const incident = await changeIncident(deps, link.incidentId, { causedBy: command.cause }, actor);
          if (!incident.causedBy) return inChannel(t.causeCleared(incident.reference));
          const { deployment, commit } = incident.causedBy;
          return inChannel(
            t.causeConfirmed(
              incident.reference,
              deployment === undefined ? 'commit' : 'deployment',
              escapeSlack(deployment ?? commit ?? ''),
            ),
          );
        }
        case 'note': {
          await addNote(deps, link.incidentId, { text: command.text }, actor);
          const { incident } = await getIncident(deps, link.incidentId);
          return ephemeral(t.noted(incident.reference));
        }
      }
    } catch (error) {
      return ephemeral(t.failed(this.safeMessage(error)));
    }
  }

  /** An AppError's message is ours and safe; anything else is logged and summarised. */
  private safeMessage(error: unknown): string {
    if (error instanceof AppError) return error.message;
    const failure = describeSlackError('call', error);
    if (failure.kind !== 'unknown') return failure.message;
    this.deps.log.error({ err: { name: (error as Error)?.name } }, 'slack: a command failed');
    throw error;
  }

  async openDeclareModal(
    client: WebClient,
    triggerId: string,
    person: SlackPerson,
    title: string,
    channelId: string,
    language: SlackLanguage,
    prefill?: DeclarePrefill,
  ): Promise<void> {
    const t = SLACK_TEXT[language];
    const deps = this.deps.incidents;
    const severities = deps.severities?.names ?? ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
    const defaultSeverity =
      prefill?.severity && severities.includes(prefill.severity)
        ? prefill.severity
        : (deps.severities?.ticket ?? severities[severities.length - 1]!);
    const initial = (chosen: readonly string[] | undefined, offered: readonly string[]) => {
      const kept = (chosen ?? []).filter((v) => offered.includes(v));
      return kept.length ? { initial_options: kept.map(option) } : {};
    };
    const catalog = deps.catalog?.();
    const services = [
      ...new Set([
        ...(catalog?.services.map((s) => s.name) ?? []),
        ...(catalog?.slos.map((s) => s.service) ?? []),
      ]),
    ]
      .sort()
      .slice(0, MAX_OPTIONS);
    const slos = (catalog?.slos.map((s) => s.id) ?? []).sort().slice(0, MAX_OPTIONS);
    const option = (value: string) => ({
      text: { type: 'plain_text' as const, text: value.slice(0, 75) },
      value,
    });
    const plain = (text: string) => ({ type: 'plain_text' as const, text });
    await client.views.open({
      trigger_id: triggerId,
      view: {
        type: 'modal',
        callback_id: DECLARE_CALLBACK,
        // The alert travels with the form, so submitting declares from it (linked, milestones, once).
        private_metadata: JSON.stringify({ channel: channelId, language, alert: prefill?.alertId }),
        title: plain(t.modal.title.slice(0, 24)),
        submit: plain(t.modal.submit),
        close: plain(t.modal.close),
        blocks: [
          {
            type: 'input',
            block_id: 'title',
            label: plain(t.modal.titleLabel),
            element: {
              type: 'plain_text_input',
              action_id: 'value',
              max_length: 200,
              ...(title ? { initial_value: title.slice(0, 200) } : {}),
            },
          },
          {
            type: 'input',
            block_id: 'severity',
            label: plain(t.modal.severity),
            element: {
              type: 'static_select',
              action_id: 'value',
              options: severities.map(option),
              initial_option: option(defaultSeverity),
            },
          },
          ...(services.length
            ? [
                {
                  type: 'input' as const,
                  block_id: 'services',
                  optional: true,
                  label: plain(t.modal.services),
                  element: {
                    type: 'multi_static_select' as const,
                    action_id: 'value',
                    options: services.map(option),
                    ...initial(prefill?.services, services),
                  },
                },
              ]
            : []),
          ...(slos.length
            ? [
                {
                  type: 'input' as const,
                  block_id: 'slos',
                  optional: true,
                  label: plain(t.modal.slos),
                  element: {
                    type: 'multi_static_select' as const,
                    action_id: 'value',
                    options: slos.map(option),
                    ...initial(prefill?.slos, slos),
                  },
                },
              ]
            : []),
          {
            type: 'input',
            block_id: 'commander',
            label: plain(t.modal.commander),
            element: { type: 'users_select', action_id: 'value', initial_user: person.id },
          },
          {
            type: 'input',
            block_id: 'summary',
            optional: true,
            label: plain(t.modal.summary),
            element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 3000 },
          },
        ],
      },
    });
    this.deps.metrics.slackApiCalls.inc({ method: 'views.open', outcome: 'ok' });
  }

  /** Declares from the modal; the field errors to show in it, or undefined when declared. */
  private async onDeclareSubmit(
    client: WebClient,
    userId: string,
    view: { private_metadata?: string; state: { values: Record<string, Record<string, ViewValue>> } },
  ): Promise<Record<string, string> | undefined> {
    const person = await this.person(client, userId);
    const t = SLACK_TEXT[languageOf(person.locale)];
    const values = view.state.values;
    const value = (block: string) => values[block]?.value;
    const services = value('services')?.selected_options?.map((o) => o.value) ?? [];
    const slos = value('slos')?.selected_options?.map((o) => o.value) ?? [];
    const catalog = this.deps.incidents.catalog?.();
    const refused = await this.refusal(person, 'editor', t, async () => [
      ...services,
      ...(catalog ? servicesOfSlos(catalog, slos) : []),
    ]);
    if (refused) return { title: refused };
    const title = value('title')?.value?.trim() ?? '';
    if (!title) return { title: t.usage };
    const severity = value('severity')?.selected_option?.value ?? '';
    const summary = value('summary')?.value?.trim() || undefined;
    const commanderId = value('commander')?.selected_user ?? person.id;
    const actor = this.actor(person);
    const alertId = alertOfForm(view.private_metadata);
    try {
      const input = { title, severity, summary, services, slos };
      const declared = alertId
        ? await incidentFromAlert(this.deps.incidents, alertId, actor, { overrides: input })
        : { incident: (await declareIncident(this.deps.incidents, input, actor)).reference, declared: true };
      // An alert already has an open incident: that one is the incident, not a second.
      if (!declared.declared) return { title: t.alreadyDeclared(declared.incident) };
      const commander = commanderId === person.id ? person : await this.person(client, commanderId);
      await changeIncident(
        this.deps.incidents,
        declared.incident,
        { roles: { commander: slackRoleHolder(commander) } },
        actor,
      );
      this.deps.log.info(
        { incident: declared.incident, source: 'slack' },
        `slack: ${declared.incident} declared`,
      );
      return undefined;
    } catch (error) {
      if (error instanceof AppError) {
        const field = error.errors[0]?.field;
        const block = field === 'severity' || field === 'services' || field === 'slos' ? field : 'title';
        return { [block]: error.message.slice(0, 150) };
      }
      throw error;
    }
  }

  /** Channel messages → the incident's timeline (edits and deletions follow). */
  private async onMessage(client: WebClient, event: Record<string, unknown>): Promise<void> {
    const channel = typeof event.channel === 'string' ? event.channel : '';
    const link = await channelIncident(this.db, channel);
    if (!link) return;
    const subtype = typeof event.subtype === 'string' ? event.subtype : undefined;
    const deps = this.deps.incidents;
    if (subtype === 'message_deleted') {
      const ts = String(event.deleted_ts ?? (event.previous_message as Record<string, unknown>)?.ts ?? '');
      const recorded = await recordedMessage(this.db, channel, ts);
      if (!recorded) return;
      await reviseNote(deps, recorded.incidentId, recorded.eventId, { remove: true });
      await forgetMessage(this.db, channel, ts);
      return;
    }
    if (subtype === 'message_changed') {
      const message = (event.message ?? {}) as Record<string, unknown>;
      if (message.bot_id || message.subtype === 'bot_message') return;
      const ts = String(message.ts ?? '');
      const recorded = await recordedMessage(this.db, channel, ts);
      if (!recorded) return;
      const text = await this.timelineText(client, channel, ts, String(message.text ?? ''));
      await reviseNote(deps, recorded.incidentId, recorded.eventId, { text });
      return;
    }
    // Plain messages and the few subtypes that are someone speaking; bots (and the card) are not recorded.
    if (subtype && subtype !== 'thread_broadcast' && subtype !== 'file_share' && subtype !== 'me_message')
      return;
    if (event.bot_id || typeof event.user !== 'string') return;
    const ts = String(event.ts ?? '');
    if (ts === link.cardTs) return;
    if (await recordedMessage(this.db, channel, ts)) return;
    const person = await this.person(client, event.user);
    if (person.isBot) return;
    const text = await this.timelineText(client, channel, ts, String(event.text ?? ''));
    // Chat mirrored onto the timeline is conversation, not a change someone made: not audited.
    const note = await addNote(deps, link.incidentId, { text }, { ...this.actor(person), audit: undefined });
    await recordMessage(this.db, {
      channelId: channel,
      messageTs: ts,
      incidentId: link.incidentId,
      eventId: note.id,
    });
  }

  /** The message text as written, then its permalink on a line of its own when Slack gives one. */
  private async timelineText(client: WebClient, channel: string, ts: string, text: string): Promise<string> {
    try {
      const link = await client.chat.getPermalink({ channel, message_ts: ts });
      this.deps.metrics.slackApiCalls.inc({ method: 'chat.getPermalink', outcome: 'ok' });
      return link.permalink ? `${text}\n${link.permalink}` : text;
    } catch (error) {
      this.deps.metrics.slackApiCalls.inc({ method: 'chat.getPermalink', outcome: 'error' });
      this.deps.log.warn(describeSlackError('chat.getPermalink', error).message);
      return text;
    }
  }

  /** The pin reaction stars (and its removal unstars) the recorded message's timeline event. */
  private async onReaction(client: WebClient, event: Record<string, unknown>, added: boolean): Promise<void> {
    if (event.reaction !== this.deps.config.pinReaction) return;
    const item = (event.item ?? {}) as Record<string, unknown>;
    if (item.type !== 'message') return;
    const recorded = await recordedMessage(this.db, String(item.channel ?? ''), String(item.ts ?? ''));
    if (!recorded) return;
    const person = await this.person(client, String(event.user ?? ''));
    const t = SLACK_TEXT[languageOf(person.locale)];
    // Not allowed (no role, a viewer, another team's incident): the reaction stays a reaction.
    if (await this.refusal(person, 'editor', t, () => this.incidentServices(recorded.incidentId))) return;
    await markEvent(
      this.deps.incidents,
      recorded.incidentId,
      recorded.eventId,
      { starred: added },
      this.actor(person).audit,
    );
  }

  /** Someone joined an incident channel: an ephemeral catch-up in their language. */
  private async onJoin(client: WebClient, userId: string, channel: string): Promise<void> {
    const link = await channelIncident(this.db, channel);
    if (!link) return;
    const person = await this.person(client, userId);
    if (person.isBot) return;
    const role = this.roleOf(person);
    if (!role) return;
    const language = languageOf(person.locale);
    const text = await this.catchUp(link.incidentId, language);
    try {
      await client.chat.postEphemeral({ channel, user: userId, text });
      this.deps.metrics.slackApiCalls.inc({ method: 'chat.postEphemeral', outcome: 'ok' });
    } catch (error) {
      const failure = describeSlackError('chat.postEphemeral', error);
      this.deps.metrics.slackApiCalls.inc({
        method: 'chat.postEphemeral',
        outcome: failure.kind === 'rate_limited' ? 'rate_limited' : 'error',
      });
      this.deps.log.warn({ channel }, failure.message);
    }
  }

  /** The catch-up summary (reworded by the LLM when configured), in the language asked. */
  private async catchUp(incidentId: string, language: SlackLanguage): Promise<string> {
    const deps = this.deps.incidents;
    const { incident, timeline } = await getIncident(deps, incidentId);
    const impact = deps.catalog ? await budgetImpact(deps, deps.catalog(), incident) : [];
    const facts = catchUpSummary(incident, timeline, impact, deps.clock.now(), {
      language,
      timeZone: deps.timeZone,
    });
    const text = this.deps.catchUpWriter ? await this.reworded(facts, timeline, language) : facts;
    return `*${SLACK_TEXT[language].catchUpHeading(incident.reference)}*\n${escapeSlack(text)}`;
  }

  /**
   * The LLM's wording when it comes within LLM_BUDGET_MS; the facts otherwise. Slack gives an app
   * three seconds to answer, and a model often needs more: the call goes on and its answer is
   * cached by the writer, so the next catch-up of the same facts is reworded.
   */
  private async reworded(
    facts: string,
    timeline: Parameters<CatchUpWriter['write']>[1],
    language: SlackLanguage,
  ): Promise<string> {
    const writer = this.deps.catchUpWriter!;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), LLM_BUDGET_MS);
    });
    const written = writer.write(facts, timeline, language).then(
      (catchUp) => catchUp.text,
      () => facts,
    );
    try {
      return (await Promise.race([written, late])) ?? facts;
    } finally {
      clearTimeout(timer);
    }
  }

  private async budgetText(service: string, t: SlackText): Promise<string> {
    const statuses = [...(await listStatuses(this.db)).values()];
    if (!statuses.length) return t.noStatuses;
    const chosen = service ? statuses.filter((s) => s.service === service) : statuses;
    if (!chosen.length) return t.noSlos(escapeSlack(service));
    return chosen
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, 30)
      .map((s) => {
        const remaining =
          s.budget.total > 0 || s.sli !== null ? `${(s.budget.remaining * 100).toFixed(1)}%` : '—';
        const burns = Object.entries(s.burnRates)
          .filter(([, rate]) => rate !== null)
          .map(([window, rate]) => `${window} ${(rate as number).toFixed(2)}×`)
          .join(', ');
        return t.budgetLine(
          escapeSlack(s.id),
          remaining,
          burns,
          s.policy ? escapeSlack(s.policy.action) : '',
        );
      })
      .join('\n');
  }
}

interface ViewValue {
  readonly value?: string | null;
  readonly selected_option?: { readonly value: string } | null;
  readonly selected_options?: ReadonlyArray<{ readonly value: string }> | null;
  readonly selected_user?: string | null;
}

function statusText(incident: Incident, t: SlackText): string {
  const roles = Object.entries(incident.roles ?? {})
    .map(([role, holder]) => `${t.role[role] ?? role}: ${escapeSlack(holder)}`)
    .join(', ');
  const status = t.status[incident.status] ?? incident.status;
  return [
    `*${incident.reference}* [${incident.severity}] ${status} — ${escapeSlack(incident.title)}`,
    ...(roles ? [roles] : []),
  ].join('\n');
}

/** Bolt's own log lines are dropped: at debug they quote request bodies. */
function quietLogger(): BoltLogger {
  return {
    debug() {},
    info() {},
    warn() {},
    error() {},
    setLevel() {},
    getLevel: () => LogLevel.ERROR,
    setName() {},
  };
}

/** What the declare form may arrive with besides its fields. */
export interface DeclarePrefill {
  readonly severity?: string;
  readonly services?: readonly string[];
  readonly slos?: readonly string[];
  /** The firing alert the form was opened from. */
  readonly alertId?: string;
}

/** The alert id a declare form was opened from, if any (private_metadata is ours, but read it warily). */
function alertOfForm(metadata: string | undefined): string | undefined {
  try {
    const alert = (JSON.parse(metadata ?? '{}') as { alert?: unknown }).alert;
    return typeof alert === 'string' && alert.length <= 100 ? alert : undefined;
  } catch {
    return undefined;
  }
}
