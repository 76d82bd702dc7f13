/**
 * Configuration, read once at start: flags > SHINRAI_* environment > config file > defaults.
 * Validated with zod; every problem is reported on its own line with where the value came from.
 */
import { readFileSync } from 'node:fs';
import { IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CONNECTION_NAME, type ConnectionDetails, parseInlineConnection } from './connections.js';
import { parseEgressAllow } from './egress.js';
import { type ConfiguredTarget, configuredTargetSchema, TARGET_NAME } from './notification-targets.js';

/**
 * The low-traffic guard's default: a burn-rate condition needs at least this many events in its
 * long window, so one failed request out of ten (a 10% error rate) does not page anyone.
 */
export const DEFAULT_MIN_EVENTS = 20;

/** A team's name, as tokens, people and `teams.<team>` write it. */
const TEAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65_535).default(8420),
      /** Largest accepted request body (ingestion batches). */
      bodyLimitBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(10 * 1024 * 1024),
      /**
       * Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client: rate limits
       * then count per real client instead of per proxy. Empty: the socket's address is the client.
       */
      trustProxy: commaList().default([]),
      /**
       * On SIGTERM/SIGINT: seconds to finish in-flight requests and the running evaluation tick
       * before giving up (exit 1). Below Kubernetes' default 30-s termination grace period.
       */
      shutdownSeconds: z.coerce.number().positive().max(3600).default(25),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      enabled: booleanish().default(true),
      /** Failed authentications (unknown or revoked token) one client address may make per minute. */
      failedAuthPerMinute: z.coerce.number().int().min(1).default(20),
      /** Requests without a token (anonymous reads, the status page, the UI's files) per client address per minute. */
      anonymousPerMinute: z.coerce.number().int().min(1).default(1200),
      /** Calls of the expensive computations (calculator, backtest, markdown preview) per token or address per minute. */
      expensivePerMinute: z.coerce.number().int().min(1).default(60),
    })
    .prefault({}),
  db: z
    .strictObject({
      /** An SQLite file (the embedded default) or a postgres:// URL. */
      url: z.string().min(1).default('data/shinrai.db'),
    })
    .prefault({}),
  specs: z
    .strictObject({
      /** Directory (or file) of SLO specs; reloaded when it changes. */
      path: z.string().min(1).optional(),
      watch: booleanish().default(true),
      /** Largest upload through PUT /api/v1/specs, all files together, in bytes. */
      uploadMaxBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(8 * 1024 * 1024),
      /** Most YAML documents one upload may hold, all files together. */
      uploadMaxDocuments: z.coerce.number().int().positive().default(10_000),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Let requests without a token read (never write). */
      anonymousRead: booleanish().default(false),
      /**
       * A principal with teams that is not an admin reads only what its teams own and what nobody
       * owns (docs/api.md#teams); off: every reader sees the whole organisation.
       */
      teamScopedReads: booleanish().default(false),
      /** Single sign-on with an OpenID Connect provider (docs/sso.md); absent: API tokens only. */
      oidc: oidcSchema().optional(),
      /** The browser sessions single sign-on opens. */
      sessions: z
        .strictObject({
          /** A session unused this long ends. */
          idleMinutes: z.coerce
            .number()
            .positive()
            .max(7 * 24 * 60)
            .default(60),
          /** A session ends this long after sign-in, used or not. */
          absoluteHours: z.coerce
            .number()
            .positive()
            .max(30 * 24)
            .default(12),
          /** Name of the session cookie. */
          cookieName: z
            .string()
            .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, "_" or "-"')
            .default('shinrai_session'),
          /** Mark the cookie Secure (sent over https only; browsers also accept it on http://localhost). */
          secureCookie: booleanish().default(true),
        })
        .prefault({}),
    })
    .prefault({})
    .superRefine((auth, context) => {
      if (auth.oidc && auth.sessions.idleMinutes > auth.sessions.absoluteHours * 60)
        context.addIssue({
          code: 'custom',
          path: ['sessions', 'idleMinutes'],
          message: 'must not be longer than auth.sessions.absoluteHours',
        });
    }),
  statusPage: z
    .strictObject({
      /** Heading of the status pages (/status, /status/internal). */
      title: z.string().trim().min(1).max(200).default('Status'),
      /** IANA zone the daily availability bars are cut in (a day is midnight to midnight there). */
      timeZone: z
        .string()
        .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as Asia/Tokyo')
        .default('UTC'),
      /** Days of availability bars. */
      days: z.coerce.number().int().min(1).max(366).default(90),
      /** Resolved incidents stay on the public page this many days (0: only open ones). */
      resolvedDays: z.coerce.number().int().min(0).max(90).default(7),
      /** Visitors may subscribe to public incident mails on /status (double opt-in; needs smtp.url and publicUrl). */
      subscriptions: booleanish().default(false),
      /** The status page's base URL as visitors reach it (https://status.example.com), for links in mails. */
      publicUrl: z
        .string()
        .trim()
        .regex(
          /^(https?:\/\/[^\s/?#]+[^\s?#]*)?$/i,
          'must be an http(s) URL without query, such as https://status.example.com',
        )
        .default('')
        .transform((url) => url.replace(/\/+$/, '')),
      /** Confirmation mails one address may be sent per hour (more subscribe requests get the same answer, no mail). */
      subscribePerAddressPerHour: z.coerce.number().int().min(1).default(3),
      /** Subscribe requests one client address may make per hour (more: 429). */
      subscribePerClientPerHour: z.coerce.number().int().min(1).default(20),
      /** A confirmation link works this many hours, once. */
      confirmHours: z.coerce.number().positive().max(720).default(48),
    })
    .prefault({}),
  evaluator: z
    .strictObject({
      tickSeconds: z.coerce.number().positive().max(3600).default(30),
      /** Spacing of the stored history points. */
      historyStepSeconds: z.coerce.number().int().min(60).max(86_400).default(300),
      /** How often a follower tries to become the leader (PostgreSQL). */
      leaderRetrySeconds: z.coerce.number().positive().max(300).default(5),
      /**
       * Minutes of per-minute counts each SLO keeps in memory behind the clock; longer windows read
       * what leaves them from the database (docs/evaluation.md#memory). 0: every window in memory.
       */
      hotMinutes: z.coerce.number().int().min(0).max(10_080).default(120),
      /**
       * PostgreSQL: the SLOs are split into this many shards, leased to the replicas, so each
       * evaluates about 1/N of them (docs/evaluation.md#sharding). 0: the leader evaluates all.
       * Every replica must use the same number.
       */
      shards: z.coerce.number().int().min(0).max(1024).default(60),
      /** A shard lease not renewed for this long is taken by another replica (after a crash). */
      shardLeaseSeconds: z.coerce.number().positive().max(300).default(15),
      /** How often a replica renews its leases and rebalances (well under shardLeaseSeconds). */
      shardHeartbeatSeconds: z.coerce.number().positive().max(100).default(3),
    })
    .refine((e) => e.shardHeartbeatSeconds * 2 <= e.shardLeaseSeconds, {
      message: 'shardHeartbeatSeconds must be at most half of shardLeaseSeconds',
      path: ['shardHeartbeatSeconds'],
    })
    .prefault({}),
  prometheus: z
    .strictObject({
      /** Prometheus for SLIs whose metric sources name no DataSource (Sloth specs); none by default. */
      url: z
        .string()
        .regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL')
        .optional(),
      /** How often pulled SLIs are brought up to date. */
      intervalSeconds: z.coerce.number().positive().max(3600).default(60),
      /** A minute is read once it is this old, so scrapes and rule evaluations have landed. */
      delaySeconds: z.coerce.number().min(0).max(3600).default(60),
      /** Minutes before the cursor read again on every pull, for late samples. */
      overlapMinutes: z.coerce.number().int().min(0).max(1440).default(5),
      timeoutSeconds: z.coerce.number().positive().max(600).default(30),
      /** Range queries in flight at once. */
      concurrency: z.coerce.number().int().min(1).max(64).default(4),
      /** Retries of one query after a transient failure (unreachable, timeout, 5xx), with backoff. */
      retries: z.coerce.number().int().min(0).max(10).default(2),
      /** Minutes per range query (Prometheus refuses more than 11,000 points a series; some proxies fewer). */
      chunkMinutes: z.coerce.number().int().min(10).max(11_000).default(10_000),
    })
    .prefault({}),
  otlp: z
    .strictObject({
      /** Receive OTLP/HTTP metrics exports (OpenTelemetry SLIs, docs/sources.md). */
      enabled: booleanish().default(true),
      /** URL path of the receiver. */
      path: z
        .string()
        .regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be a URL path such as /v1/metrics')
        .default('/v1/metrics'),
      /** Its own port (0: none, the receiver is on server.port), on server.host. */
      port: z.coerce.number().int().min(0).max(65_535).default(0),
      /** Largest export accepted, in bytes after gzip is undone. */
      maxBodyBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(16 * 1024 * 1024),
      /** A cumulative series first seen counts its whole value only if it started at most this long before its point. */
      newSeriesWindowSeconds: z.coerce.number().min(0).max(86_400).default(600),
    })
    .prefault({}),
  alerting: z
    .strictObject({
      /**
       * Target names the default (Workbook or Sloth) alert rules notify, comma-separated:
       * notificationTargets.<name> or AlertNotificationTargets in the spec directory.
       */
      notify: z
        .string()
        .default('')
        .transform((text) =>
          text
            .split(',')
            .map((name) => name.trim())
            .filter(Boolean),
        ),
      /** Low-traffic guard: a burn-rate condition needs this many events in its long window to fire (0: off). */
      minEvents: z.coerce.number().int().min(0).default(DEFAULT_MIN_EVENTS),
      /** How often the leader delivers due notifications. */
      deliveryIntervalSeconds: z.coerce.number().positive().max(300).default(5),
      /** A notification that could not be delivered for this long is given up (and logged). */
      giveUpHours: z.coerce
        .number()
        .positive()
        .max(24 * 30)
        .default(24),
    })
    .prefault({}),
  incidents: z
    .strictObject({
      /** The team's time zone: action items fall due and reviews group days in it. */
      timeZone: z
        .string()
        .default('UTC')
        .refine((zone) => IANAZone.isValidZone(zone), 'an IANA time zone such as UTC or Asia/Tokyo'),
      /** Severity names, most severe first, comma-separated. */
      severities: commaList().default(['SEV1', 'SEV2', 'SEV3', 'SEV4']),
      /** Alert severities (page, ticket) whose firing alerts declare an incident by themselves. */
      autoDeclare: commaList()
        .default([])
        .pipe(z.array(z.enum(['page', 'ticket']))),
      /**
       * Notification targets (names, comma-separated) that hear of every newly declared incident
       * through the notification outbox: a Teams card, a Slack message or webhook JSON.
       */
      announce: commaList().default([]),
      /** Incident severity of an incident declared from a page alert (and Alertmanager critical). */
      pageSeverity: z.string().default('SEV2'),
      /** Incident severity of an incident declared from a ticket alert (and Alertmanager warning). */
      ticketSeverity: z.string().default('SEV3'),
      /** An OpenAI-compatible API base URL (…/v1) that rewords catch-up summaries; empty: off. */
      llmUrl: z.string().default(''),
      llmModel: z.string().default('gpt-4o-mini'),
      /** Bearer key for the LLM endpoint; prefer the SHINRAI_INCIDENTS_LLM_API_KEY variable. */
      llmApiKey: z.string().default(''),
      llmTimeoutSeconds: z.coerce.number().positive().max(120).default(20),
      /**
       * Minutes without a status update before the incident commander is reminded in the incident's
       * Slack channel: one number for every severity, or per severity (`SEV1=15,SEV2=20,*=30` or a
       * map in a file; `*` is every other severity).
       */
      updateIntervalMinutes: z
        .union([
          z.number(),
          z.record(z.string(), z.coerce.number()),
          z.string().transform((text) =>
            /^\s*\d+(\.\d+)?\s*$/.test(text)
              ? { '*': Number(text) }
              : Object.fromEntries(
                  text
                    .split(',')
                    .map((pair) => pair.trim())
                    .filter(Boolean)
                    .map((pair) => {
                      const at = pair.lastIndexOf('=');
                      return at < 0
                        ? [pair, Number.NaN]
                        : [pair.slice(0, at).trim(), Number(pair.slice(at + 1))];
                    }),
                ),
          ),
        ])
        .default(30)
        .transform((value) => (typeof value === 'number' ? { '*': value } : value))
        .pipe(
          z.record(
            z.string(),
            z
              .number()
              .positive('minutes must be a positive number')
              .max(24 * 60),
          ),
        ),
    })
    .prefault({})
    .superRefine((incidents, context) => {
      if (new Set(incidents.severities).size !== incidents.severities.length || !incidents.severities.length)
        context.addIssue({
          code: 'custom',
          path: ['severities'],
          message: 'names must be unique, at least one',
        });
      for (const severity of Object.keys(incidents.updateIntervalMinutes))
        if (severity !== '*' && !incidents.severities.includes(severity))
          context.addIssue({
            code: 'custom',
            path: ['updateIntervalMinutes', severity],
            message: `is not one of the severities (${incidents.severities.join(', ')}) or "*"`,
          });
      for (const key of ['pageSeverity', 'ticketSeverity'] as const)
        if (!incidents.severities.includes(incidents[key]))
          context.addIssue({
            code: 'custom',
            path: [key],
            message: `must be one of the severities (${incidents.severities.join(', ')})`,
          });
    }),
  delivery: z
    .strictObject({
      /**
       * The environment that counts as production, per service (`checkout=prod,*=production` or a map
       * in a file; `*` is every other service). Decided when a deployment is recorded.
       */
      production: nameMap().default({}),
      /** An incident's suggested cause: the last production deployment that finished this long before its impact. */
      suspectWindowHours: z.coerce
        .number()
        .positive()
        .max(24 * 30)
        .default(24),
      /** A deployment's budget impact: the budget consumed this long after it versus as long before it. */
      afterHours: z.coerce
        .number()
        .positive()
        .max(24 * 7)
        .default(4),
      /** The DORA report year whose performance levels are shown (2021–2024); 0: the latest. */
      benchmarkYear: z.coerce.number().int().min(0).default(0),
      /** Repository (`owner/repo`, GitLab `group/project`) → service, for webhooks that name no service. */
      repositories: nameMap().default({}),
      /** Secret GitHub signs webhooks with (X-Hub-Signature-256); empty: the GitHub webhook is off. Prefer SHINRAI_DELIVERY_GITHUB_SECRET. */
      githubSecret: z.string().default(''),
      /** Token GitLab sends (X-Gitlab-Token); empty: the GitLab webhook is off. Prefer SHINRAI_DELIVERY_GITLAB_TOKEN. */
      gitlabToken: z.string().default(''),
      /** Bearer token of the generic / CloudEvents deployment webhook; empty: off. Prefer SHINRAI_DELIVERY_WEBHOOK_TOKEN. */
      webhookToken: z.string().default(''),
    })
    .prefault({}),
  slack: z
    .strictObject({
      /** Bot token (xoxb-…) the Web API is called with; empty: the Slack app is off. Prefer SHINRAI_SLACK_BOT_TOKEN. */
      botToken: z
        .string()
        .default('')
        .refine((token) => token === '' || token.startsWith('xoxb-'), 'must be a bot token (xoxb-…)'),
      /** Verifies every request Slack sends (HTTP mode). Prefer SHINRAI_SLACK_SIGNING_SECRET. */
      signingSecret: z.string().default(''),
      /** App-level token (xapp-…) with connections:write, for Socket Mode. Prefer SHINRAI_SLACK_APP_TOKEN. */
      appToken: z
        .string()
        .default('')
        .refine((token) => token === '' || token.startsWith('xapp-'), 'must be an app-level token (xapp-…)'),
      /** Base URL of the Web API (tests point it at a local fake); outbound calls obey egress.allow. */
      apiUrl: z
        .string()
        .regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL')
        .default('https://slack.com/api/')
        .transform((url) => (url.endsWith('/') ? url : `${url}/`)),
      /** Incident channels are named <prefix><number>-<slug>. */
      channelPrefix: z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9_-]{0,19}$/,
          'must be 1–20 lower-case letters, digits, "-" or "_" (a Slack channel name start)',
        )
        .default('inc-'),
      /** Channel (ID such as C0123456789) where every new incident is announced; empty: none. */
      broadcastChannel: z.string().trim().default(''),
      /** Slack user IDs invited to every incident channel (with the incident commander). */
      responders: commaList()
        .default([])
        .pipe(z.array(z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user ID such as U0123456789'))),
      /** Reaction (name without colons) that stars a channel message for the postmortem timeline. */
      pinReaction: z
        .string()
        .regex(/^[a-z0-9_+'-]{1,100}$/, 'must be a reaction name without colons, such as pushpin')
        .default('pushpin'),
      /** Incident roles besides commander, communications, operations and scribe, offered on the card. */
      roles: commaList()
        .default([])
        .pipe(
          z.array(z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be a role name such as security-lead')),
        ),
      /**
       * Who may do what from Slack: Slack user ID (U…/W…) or e-mail address → viewer, editor or
       * admin; "*" for everyone else in the workspace. A map in a file (a role, or `{role, teams}`
       * to scope an editor to teams: docs/slack.md#teams), `id=role` or `id=role:team-a+team-b`
       * pairs separated by commas elsewhere.
       */
      users: z
        .union([
          z.record(
            z.string(),
            z.union([z.string(), z.object({ role: z.string(), teams: z.array(z.string()).optional() })]),
          ),
          z.string().transform((text) =>
            Object.fromEntries(
              text
                .split(',')
                .map((pair) => pair.trim())
                .filter(Boolean)
                .map((pair) => {
                  const at = pair.lastIndexOf('=');
                  return at < 0 ? [pair, ''] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
                }),
            ),
          ),
        ])
        .default({})
        .transform((map, context) => {
          const out: Record<string, { role: 'viewer' | 'editor' | 'admin'; teams?: string[] }> = {};
          for (const [who, value] of Object.entries(map)) {
            const key = who.includes('@') ? who.toLowerCase() : who;
            // `role:team-a+team-b` in a string; {role, teams} in a file.
            const [role, teamText] =
              typeof value === 'string'
                ? (value.split(':', 2) as [string, string | undefined])
                : [value.role];
            const teams =
              typeof value === 'string'
                ? teamText
                    ?.split('+')
                    .map((t) => t.trim())
                    .filter(Boolean)
                : value.teams;
            if (key !== '*' && !/^[UW][A-Z0-9]{2,}$/.test(key) && !/^[^\s@]+@[^\s@]+$/.test(key))
              context.addIssue({
                code: 'custom',
                path: [who],
                message: 'is not a Slack user ID (U0123456789), an e-mail address or "*"',
              });
            else if (role !== 'viewer' && role !== 'editor' && role !== 'admin')
              context.addIssue({
                code: 'custom',
                path: [who],
                message: 'role must be viewer, editor or admin',
              });
            else if (teams?.some((team) => !TEAM_NAME.test(team)))
              context.addIssue({
                code: 'custom',
                path: [who, 'teams'],
                message: 'a team is letters, digits, ".", "_" or "-" (at most 63)',
              });
            else out[key] = teams?.length ? { role, teams: [...new Set(teams)].sort() } : { role };
          }
          return out;
        }),
      /** Language of the incident card, announcements and reminders in Slack: en or ja. */
      language: z.enum(['en', 'ja']).default('en'),
      /** Base URL people open Shinrai's UI at (https://shinrai.example.com): the card links the incident there. */
      uiUrl: z
        .string()
        .default('')
        .refine(
          (url) => url === '' || /^https?:\/\/[^\s/]+/i.test(url),
          'must be an http:// or https:// URL',
        ),
      /** Receive Slack's requests over a Socket Mode WebSocket (needs appToken) instead of HTTP. */
      socketMode: booleanish().default(false),
    })
    .prefault({})
    .superRefine((slack, context) => {
      if (slack.socketMode && !slack.appToken)
        context.addIssue({
          code: 'custom',
          path: ['appToken'],
          message: 'Socket Mode needs an app-level token (xapp-…)',
        });
      if ((slack.socketMode || slack.signingSecret || slack.appToken) && !slack.botToken)
        context.addIssue({
          code: 'custom',
          path: ['botToken'],
          message: 'the Slack app needs a bot token (xoxb-…)',
        });
      if (slack.botToken && !slack.socketMode && !slack.signingSecret)
        context.addIssue({
          code: 'custom',
          path: ['signingSecret'],
          message: 'needed to verify requests from Slack (or set slack.socketMode with an appToken)',
        });
    }),
  reports: z
    .strictObject({
      /** IANA zone the monthly report's calendar months are cut in; unset: statusPage.timeZone, else incidents.timeZone. */
      timeZone: z
        .string()
        .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as Asia/Tokyo')
        .optional(),
      /** The URL people open Shinrai's web UI at (https://shinrai.example.com): links in HTML and PDF reports start with it; empty: they are paths. */
      baseUrl: z
        .string()
        .trim()
        .regex(
          /^(https?:\/\/[^\s/?#]+[^\s?#]*)?$/i,
          'must be an http(s) URL without query, such as https://shinrai.example.com',
        )
        .default('')
        .transform((url) => url.replace(/\/+$/, '')),
      /** The Chromium that prints PDF reports (the Debian package's path by default). */
      chromiumPath: z.string().min(1).default('/usr/bin/chromium'),
      /** Monthly reports sent by the leader (config file, or JSON in SHINRAI_REPORTS_SCHEDULES); docs/reports.md#schedules. */
      schedules: reportSchedules(),
    })
    .prefault({}),
  risks: z
    .strictObject({
      /** A single risk above this share of an SLO's yearly budget must be fixed. */
      tooBigShare: z.coerce.number().gt(0).max(1).default(0.25),
    })
    .prefault({}),
  /**
   * Teams and the services they own, beyond the `shinrai.dev/owner` of the specs' SLOs (which it
   * extends): an editor scoped to teams changes only its teams' services (docs/api.md#teams).
   */
  teams: z
    .record(
      z.string().regex(TEAM_NAME, 'a team name is 1–63 letters, digits, ".", "_" or "-"'),
      z.strictObject({ services: z.array(z.string().min(1)).default([]) }),
    )
    .default({}),
  egress: z
    .strictObject({
      /** Hosts, `*.domain`, IPs and CIDRs outbound calls may reach; empty: anywhere but link-local/metadata. */
      allow: commaList()
        .default([])
        .superRefine((entries, context) => {
          const parsed = parseEgressAllow(entries);
          if (!parsed.ok)
            for (const message of parsed.problems) context.addIssue({ code: 'custom', message });
        }),
    })
    .prefault({}),
  smtp: z
    .strictObject({
      /** smtp://host:587 (STARTTLS) or smtps://host:465 (TLS), credentials optional in the URL; empty: no mail. */
      url: z
        .string()
        .trim()
        .regex(/^(smtps?:\/\/[^\s/]+\/?)?$/i, 'must be smtp://host[:port] or smtps://host[:port]')
        .default(''),
      /** User name (overrides the URL's). */
      user: z.string().default(''),
      /** Password (overrides the URL's). Prefer SHINRAI_SMTP_PASSWORD. */
      password: z.string().default(''),
      /** The From address, e.g. "Example Status <status@example.com>". */
      from: z.string().trim().max(300).default(''),
      /** A PEM file of the CA(s) that sign the SMTP server's certificate, besides the system's (a private CA). */
      caFile: z.string().default(''),
      /** smtp:// only: `required` refuses a server without STARTTLS; `opportunistic` uses it when offered. */
      starttls: z.enum(['required', 'opportunistic']).default('required'),
      /** Seconds one SMTP connection or command may take. */
      timeoutSeconds: z.coerce.number().positive().max(300).default(30),
      /** How often queued mail is sent (leader). */
      intervalSeconds: z.coerce.number().positive().max(3600).default(10),
      /** A mail still failing this long after it was queued is given up (logged). */
      giveUpHours: z.coerce.number().positive().max(720).default(48),
    })
    .prefault({}),
  /**
   * Named connections (config file only): URL, credentials, headers, CA, as a DataSource's
   * connectionDetails. A spec uploaded through the API reaches a source only through one of these.
   */
  connections: z
    .record(z.string(), z.unknown())
    .default({})
    .transform((map, context) => {
      const out: Record<string, ConnectionDetails> = {};
      for (const [name, raw] of Object.entries(map)) {
        if (!CONNECTION_NAME.test(name)) {
          context.addIssue({
            code: 'custom',
            path: [name],
            message: 'is not a connection name (letters, digits, "_", "-")',
          });
          continue;
        }
        const parsed = parseInlineConnection(raw);
        if (parsed.ok) out[name] = parsed.details;
        else
          for (const problem of parsed.problems) {
            // "connectionDetails.url: must be …" → connections.<name>.url: must be …
            const match = /^connectionDetails\.?([^:]*): (.*)$/s.exec(problem);
            const field = match?.[1] ?? '';
            const message = match?.[2] ?? problem;
            context.addIssue({ code: 'custom', path: [name, ...(field ? field.split('.') : [])], message });
          }
      }
      return out;
    }),
  /**
   * Named notification targets (config file only): kind, URL and signing secret. Specs (uploaded
   * ones too) name them with `targetRef: <name>`; `alerting.notify` names them for default rules.
   */
  notificationTargets: z
    .record(z.string(), z.unknown())
    .default({})
    .transform((map, context) => {
      const out: Record<string, ConfiguredTarget> = {};
      for (const [name, raw] of Object.entries(map)) {
        if (!TARGET_NAME.test(name)) {
          context.addIssue({
            code: 'custom',
            path: [name],
            message: 'is not a target name (letters, digits, "_", "-"; at most 63)',
          });
          continue;
        }
        const parsed = configuredTargetSchema.safeParse(raw);
        if (parsed.success) out[name] = parsed.data;
        else
          for (const issue of parsed.error.issues)
            context.addIssue({
              code: 'custom',
              path: [name, ...issue.path.map(String)],
              message:
                issue.code === 'unrecognized_keys'
                  ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (known: ${Object.keys(configuredTargetSchema.shape).join(', ')})`
                  : issue.code === 'invalid_type' && issue.path.length === 0
                    ? 'expected a map such as { target: webhook, url: https://… }'
                    : issue.message,
            });
      }
      return out;
    }),
  /** What old data the leader deletes, in small batches (docs/retention.md). A number of days; 0 or "off": kept forever. */
  retention: z
    .strictObject({
      /** Run the retention task at all (on the leader). */
      enabled: booleanish().default(true),
      /** How often a retention pass runs. */
      intervalMinutes: z.coerce.number().positive().max(1440).default(60),
      /** Rows one DELETE removes at most, so a pass never holds ingestion back for long. */
      batchRows: z.coerce.number().int().min(1).max(50_000).default(5000),
      /** Pause between two batches that deleted rows, so ingestion gets the database in between. */
      pauseMs: z.coerce.number().int().min(0).max(60_000).default(50),
      /** Idempotency keys of ingestion batches: a replay after this is treated as a new batch. */
      ingestKeysDays: retentionDays(7),
      /** slo_history keeps every point this long (off: no downsampling). */
      historyFullDays: retentionDays(2),
      /** …then the last point of each 5-minute bucket until this age (off: no 5-minute tier). */
      historyFiveMinuteDays: retentionDays(35),
      /** …then the last point of each hour until this age, when points are deleted (off: hourly forever). */
      historyHourlyDays: retentionDays(400),
      /** sli_minutes are kept for the longest SLO window (and history backfill span) plus this margin. */
      sliMinutesMarginDays: retentionDays(35),
      /** Alerts inactive (resolved or cancelled) for this long, and their events, are deleted. */
      resolvedAlertsDays: retentionDays(90),
      /** Outbox rows (notifications, Slack calls, mail) delivered or given up this long ago are deleted. */
      outboxDays: retentionDays(90),
      /** Audit events (src/platform/audit) older than this are deleted. */
      auditDays: retentionDays(400),
    })
    .prefault({})
    .superRefine((retention, context) => {
      const tiers = [
        ['historyFullDays', retention.historyFullDays],
        ['historyFiveMinuteDays', retention.historyFiveMinuteDays],
        ['historyHourlyDays', retention.historyHourlyDays],
      ] as const;
      for (let i = 1; i < tiers.length; i++) {
        const [key, days] = tiers[i]!;
        const shorter = tiers.slice(0, i).filter(([, d]) => d > 0 && days > 0 && d > days);
        for (const [other] of shorter)
          context.addIssue({
            code: 'custom',
            path: [key],
            message: `must be at least retention.${other} (a coarser tier starts where a finer one ends)`,
          });
      }
    }),
  demo: z
    .strictObject({
      enabled: booleanish().default(false),
      seedDays: z.coerce.number().min(0).max(400).default(0),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});

/** A URL an OpenID provider or a browser is sent to: https, or http on a loopback host (tests, a local provider). */
function oidcUrl(what: string) {
  return z
    .string({ error: `is needed for single sign-on (${what})` })
    .trim()
    .refine((text) => {
      try {
        const url = new URL(text);
        return (
          url.protocol === 'https:' ||
          (url.protocol === 'http:' && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname))
        );
      } catch {
        return false;
      }
    }, `must be an https:// URL (${what}); http:// only on localhost`);
}

/** `auth.oidc`: the provider, the client registered there, and how its claims become roles and teams. */
function oidcSchema() {
  const role = z.enum(['viewer', 'editor', 'admin'], { error: 'must be viewer, editor or admin' });
  return z.strictObject({
    /** The provider's issuer URL, exactly as its discovery document names it. */
    issuer: oidcUrl('such as https://login.example.com/realms/acme'),
    /** The client (application) id registered at the provider. */
    clientId: z
      .string({ error: 'is needed for single sign-on: the client registered at the provider' })
      .trim()
      .min(1, 'must name the client registered at the provider'),
    /** The client secret; empty: a public client (PKCE only). Only from SHINRAI_AUTH_OIDC_CLIENT_SECRET. */
    clientSecret: z.string().default(''),
    /** Scopes asked for, space-separated (openid is added when missing). */
    scopes: z
      .string()
      .default('openid profile email')
      .transform((text) => {
        const scopes = text.split(/[\s,]+/).filter(Boolean);
        return (scopes.includes('openid') ? scopes : ['openid', ...scopes]).join(' ');
      }),
    /** Where the provider sends the browser back: https://<shinrai>/auth/callback, registered at the provider. */
    redirectUrl: oidcUrl('such as https://shinrai.example.com/auth/callback').refine(
      (text) => URL.canParse(text) && new URL(text).pathname.endsWith('/auth/callback'),
      'must end in /auth/callback (the path Shinrai answers the provider on)',
    ),
    /** The claim (in the ID token or userinfo) that lists a person's groups. */
    groupsClaim: z.string().trim().min(1).default('groups'),
    /** Group → the role it gives (the highest of a person's groups counts) and the teams it adds. */
    groups: z
      .record(
        z.string().min(1),
        z.strictObject({
          role: role.optional(),
          teams: z
            .array(z.string().regex(TEAM_NAME, 'a team name: letters, digits, ".", "_", "-"'))
            .default([]),
        }),
      )
      .default({}),
    /** The role of a person in no mapped group that gives one; unset: such a person is refused. */
    defaultRole: role.optional(),
    /** Only people whose (verified) e-mail address is in one of these domains may sign in; empty: anyone the provider signs in. */
    allowedDomains: commaList()
      .default([])
      .transform((domains) => domains.map((domain) => domain.toLowerCase())),
  });
}

/** One scheduled monthly report (`reports.schedules[]`). */
function reportSchedule() {
  return z
    .strictObject({
      /** Keys the occurrences (`report:<id>:<month>`); default: the product and language (`checkout-en`). */
      id: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'must be letters, digits, "_" or "-" (at most 63)')
        .optional(),
      /** A service, or owner:<team>, journey:<journey>, label:<key>=<value> (as the report API takes). */
      product: z
        .string()
        .trim()
        .min(1, 'must name a product (a service, owner:…, journey:… or label:…)')
        .max(300),
      /** Email addresses; each gets its own mail (needs smtp.url and smtp.from). */
      recipients: z
        .array(z.email('must be an email address such as team@example.com').max(254))
        .max(100)
        .default([]),
      /** The id of a Slack channel (C0123ABC) the summary is posted to (needs slack.botToken). */
      slackChannel: z
        .string()
        .trim()
        .regex(
          /^[CG][A-Z0-9]{2,30}$/,
          "must be a channel id such as C0123ABCD (the channel's details in Slack show it), not its name",
        )
        .optional(),
      /** A notificationTargets.<name> of target: webhook that receives the report as JSON. */
      webhook: z.string().regex(TARGET_NAME, 'must be the name of a notificationTargets entry').optional(),
      language: z.enum(['en', 'ja'], { error: 'must be en or ja' }).default('en'),
      /** 1–28, so that every month has it. */
      dayOfMonth: z.coerce
        .number()
        .int('must be a whole day')
        .min(1, 'must be 1 to 28 (every month has it)')
        .max(28, 'must be 1 to 28 (every month has it)')
        .default(1),
      /** HH:MM (24-hour) in reports.timeZone. */
      time: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time such as 09:00 (HH:MM, 24-hour)')
        .default('09:00'),
      /** html: the mail's body is the report; pdf (printed by Chromium) or md: attached besides. */
      format: z.enum(['html', 'pdf', 'md'], { error: 'must be html, pdf or md' }).default('html'),
    })
    .superRefine((s, context) => {
      if (!s.recipients.length && !s.slackChannel && !s.webhook)
        context.addIssue({
          code: 'custom',
          message: 'sends nowhere: give recipients, a slackChannel or a webhook',
        });
    })
    .transform((s) => ({
      ...s,
      id:
        s.id ??
        `${
          s.product
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '-')
            .replace(/^-+|-+$/g, '')
            .slice(0, 50) || 'product'
        }-${s.language}`,
    }));
}

/** `reports.schedules`: a list in the config file, or its JSON from a flag or the environment; ids unique. */
function reportSchedules() {
  return z
    .preprocess(
      (value, context) => {
        if (typeof value !== 'string') return value;
        try {
          return JSON.parse(value);
        } catch {
          context.addIssue({ code: 'custom', message: 'must be a list (YAML in the config file, or JSON)' });
          return z.NEVER;
        }
      },
      z.array(reportSchedule(), { error: 'must be a list of schedules' }),
    )
    .default([])
    .superRefine((schedules, context) => {
      const seen = new Set<string>();
      schedules.forEach((s, index) => {
        // An entry that failed its own checks has no id yet: its problems are reported already.
        if (s.id === undefined) return;
        if (seen.has(s.id))
          context.addIssue({
            code: 'custom',
            path: [index, 'id'],
            message: `${s.id} is used by another schedule: give each schedule its own id`,
          });
        seen.add(s.id);
      });
    });
}

/** The schema with the checks across sections (reports.schedules against what delivers them). */
const checkedConfigSchema = configSchema.superRefine((config, context) => {
  // reports.schedules against the sections that deliver them.
  // An invalid section reports its own problems; these checks need the whole, valid entries.
  if (!Array.isArray(config.reports?.schedules)) return;
  config.reports.schedules.forEach((schedule, index) => {
    if (!schedule?.id) return;
    const at = (field: string) => ['reports', 'schedules', index, field];
    if (!config.reports.baseUrl)
      context.addIssue({
        code: 'custom',
        path: ['reports', 'schedules', index],
        message: 'needs reports.baseUrl (the links in scheduled reports must be absolute)',
      });
    if (schedule.recipients.length && !(config.smtp.url && config.smtp.from))
      context.addIssue({
        code: 'custom',
        path: at('recipients'),
        message: 'needs smtp.url and smtp.from to send mail',
      });
    if (schedule.slackChannel && !config.slack.botToken)
      context.addIssue({
        code: 'custom',
        path: at('slackChannel'),
        message: 'needs slack.botToken to post to Slack',
      });
    if (schedule.webhook) {
      const target = config.notificationTargets[schedule.webhook];
      if (target?.target !== 'webhook')
        context.addIssue({
          code: 'custom',
          path: at('webhook'),
          message: target
            ? `${schedule.webhook} is a ${target.target} target: a report goes to a target: webhook`
            : `names no notificationTargets entry (configure notificationTargets.${schedule.webhook} with target: webhook)`,
        });
    }
  });
});

/** A list from a config file, or comma-separated from a flag or the environment. */
function commaList() {
  return z.union([
    z.array(z.string().trim().min(1)),
    z.string().transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    ),
  ]);
}

/** A map of names from a config file, or `a=b,c=d` from a flag or the environment. */
function nameMap() {
  return z
    .union([
      z.record(z.string(), z.string()),
      z.string().transform((text) =>
        Object.fromEntries(
          text
            .split(',')
            .map((pair) => pair.trim())
            .filter(Boolean)
            .map((pair) => {
              const at = pair.indexOf('=');
              return at < 0 ? [pair, ''] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
            }),
        ),
      ),
    ])
    .pipe(z.record(z.string().min(1), z.string().trim().min(1, 'needs a value (name=value)')));
}

/** Days to keep something: a number ≥ 0, where 0 (or "off") keeps it forever. */
function retentionDays(fallback: number) {
  return z
    .union([z.literal('off').transform(() => 0), z.coerce.number().min(0).max(36_500)])
    .default(fallback);
}

function booleanish() {
  return z.union([
    z.boolean(),
    z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
  ]);
}

export type Config = Readonly<z.output<typeof configSchema>>;
type RawConfig = Record<string, Record<string, unknown>>;

/** Keys whose value is a group of keys (`auth.oidc.issuer`): each of those has its own variable. */
const NESTED_KEYS = ['auth.oidc', 'auth.sessions'] as const;
/** Nested keys set in the config file only: maps, which a variable holds badly. */
const FILE_ONLY_KEYS = new Set(['auth.oidc.groups']);

/**
 * Every key Shinrai reads, as `section.key` (or `section.group.key`): the env variable is
 * SHINRAI_SECTION_KEY (SHINRAI_SECTION_GROUP_KEY) in snake case.
 */
export const CONFIG_KEYS: readonly string[] = Object.entries(configSchema.shape).flatMap(
  ([section, schema]) =>
    // `connections` and `notificationTargets` are maps of names, set in the config file only.
    section === 'connections' || section === 'notificationTargets'
      ? []
      : Object.entries(shapeOf(schema)).flatMap(([key, inner]) =>
          (NESTED_KEYS as readonly string[]).includes(`${section}.${key}`)
            ? Object.keys(shapeOf(inner))
                .map((leaf) => `${section}.${key}.${leaf}`)
                .filter((leaf) => !FILE_ONLY_KEYS.has(leaf))
            : [`${section}.${key}`],
        ),
);

/** The keys of an object schema behind its optional/default wrappers. */
function shapeOf(schema: unknown): Record<string, unknown> {
  let current = schema as { shape?: Record<string, unknown>; unwrap?: () => unknown };
  while (!current.shape && current.unwrap) current = current.unwrap() as typeof current;
  return current.shape ?? {};
}

export function envName(key: string): string {
  return `SHINRAI_${key
    .replaceAll('.', '_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase()}`;
}

/** The command-line flag behind each key that has one, to say where a bad value came from. */
export const FLAG_NAMES: Readonly<Record<string, string>> = {
  'server.host': '--host',
  'server.port': '--port',
  'db.url': '--db',
  'specs.path': '--specs',
  'auth.anonymousRead': '--anonymous-read',
  'prometheus.url': '--prometheus-url',
  'demo.enabled': '--demo',
  'demo.seedDays': '--seed-days',
  'log.level': '--log-level',
};

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

export interface ConfigSources {
  /** Values from command-line flags, as `section.key` → value. */
  readonly flags?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of a YAML/JSON config file. */
  readonly file?: string;
}

/** Builds the frozen configuration; throws ConfigError listing every problem with its source. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const origin = new Map<string, string>();
  const raw: RawConfig = {};
  const set = (key: string, value: unknown, from: string) => {
    const [section, name, leaf] = key.split('.') as [string, string, string | undefined];
    raw[section] ??= {};
    if (leaf === undefined) raw[section][name] = value;
    else {
      // One key of a group (auth.oidc.issuer from its variable) joins the group's other keys.
      const group = raw[section][name];
      raw[section][name] = {
        ...(group && typeof group === 'object' && !Array.isArray(group) ? group : {}),
        [leaf]: value,
      };
    }
    origin.set(key, from);
  };
  const problems: string[] = [];

  if (sources.file) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(sources.file, 'utf8'));
    } catch (error) {
      throw new ConfigError([`config file ${sources.file}: ${(error as Error).message.split('\n')[0]}`]);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed))
        throw new ConfigError([`config file ${sources.file}: expected sections such as server:, db:, auth:`]);
      for (const [section, values] of Object.entries(parsed as Record<string, unknown>)) {
        if (values === null || typeof values !== 'object' || Array.isArray(values)) {
          problems.push(`${section} (from ${sources.file}): expected a section of keys`);
          continue;
        }
        for (const [name, value] of Object.entries(values)) set(`${section}.${name}`, value, sources.file);
      }
      // A secret in a file ends up in backups, repositories and config maps; this one has a variable.
      const oidc = (raw.auth as { oidc?: unknown } | undefined)?.oidc;
      if (oidc && typeof oidc === 'object' && 'clientSecret' in oidc) {
        problems.push(
          `auth.oidc.clientSecret (from ${sources.file}): keep the client secret out of the file; set ${envName('auth.oidc.clientSecret')}`,
        );
        delete (oidc as { clientSecret?: unknown }).clientSecret;
      }
    }
  }
  for (const key of CONFIG_KEYS) {
    const value = sources.env?.[envName(key)];
    if (value !== undefined && value !== '') set(key, value, envName(key));
  }
  for (const [key, value] of Object.entries(sources.flags ?? {}))
    if (value !== undefined) set(key, value, FLAG_NAMES[key] ?? `flag ${key}`);

  const result = checkedConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.join('.');
      const keys =
        issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (path ? `${path}.${k}` : k)) : [path];
      for (const key of keys) {
        // A list item's problem (incidents.autoDeclare.1) comes from where its setting was given.
        const parts = key.split('.');
        const from =
          origin.get(parts.slice(0, 3).join('.')) ??
          origin.get(parts.slice(0, 2).join('.')) ??
          (sources.file ? sources.file : 'defaults');
        const message =
          issue.code === 'unrecognized_keys'
            ? `unknown setting (known: ${CONFIG_KEYS.join(', ')})`
            : issue.message;
        problems.push(`${key} (from ${from}): ${message}`);
      }
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze(result.data!);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
