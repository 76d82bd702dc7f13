/**
 * Composition root: builds the running Shinrai from a configuration — database and migrations,
 * specs, evaluator, optional demo traffic, HTTP server — and stops it cleanly.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AlertService, alertRoutes } from './alerting/index.js';
import {
  checkCause,
  countConfirmedCause,
  type DeliveryDeps,
  deliveryRoutes,
  deliveryWebhookDeps,
  deliveryWebhookRoutes,
  suspects,
} from './delivery/index.js';
import { DemoFeeder } from './demo/index.js';
import { gateFor, gateRoutes } from './gate/index.js';
import {
  AutoDeclarer,
  actionItemRoutes,
  CatchUpWriter,
  type CauseInput,
  type IncidentChange,
  incidentRoutes,
  integrationRoutes,
  postmortemRoutes,
  reviewRoutes,
  StatusSubscriptions,
  statusPageRoutes,
  statusSubscriptionRoutes,
  subscribeForm,
} from './incidents/index.js';
import {
  configuredTargets,
  NotificationDeliverer,
  queueAnnouncements,
  unsetReferences,
} from './notifications/index.js';
import { auditRetentionRules, auditRoutes } from './platform/audit/index.js';
import { type Clock, systemClock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { type Database, type Db, migrateToLatest, openDatabase } from './platform/db/index.js';
import { Egress, parseEgressAllow } from './platform/egress.js';
import { type App, buildServer, healthRoutes, markdownRoutes, webRoutes } from './platform/http/index.js';
import { createLogger } from './platform/logging.js';
import { Mailer } from './platform/mail.js';
import { MailOutbox } from './platform/mail-outbox.js';
import { createMetrics, type ShinraiMetrics } from './platform/metrics.js';
import { configuredTargetNames } from './platform/notification-targets.js';
import { PeriodicTask } from './platform/periodic.js';
import { RetentionTask } from './platform/retention.js';
import { platformRetentionRules } from './platform/retention-rules.js';
import {
  documentRenderers,
  REPORT_TREND_MONTHS,
  ReportScheduler,
  reportRoutes,
  reportTimeZone,
  scheduledReportsCounter,
} from './reports/index.js';
import { availabilityRoutes, riskRoutes } from './risks/index.js';
import { queueIncidentCalls, queueSlackPost, SlackApp, SlackOutbox, slackEnabled } from './slack/index.js';
import {
  createLeaderElection,
  createShardOwnership,
  Evaluator,
  evaluationReadiness,
  getStatus,
  history,
  historyRows,
  historyVersion,
  ingestRoutes,
  isStale,
  listStatuses,
  maintainMinutePartitions,
  otlpPlan,
  otlpRoutes,
  refreshHourSums,
  SliPuller,
  SloRetention,
  SOURCES,
  SpecStore,
  sloRoutes,
  specSourceRoutes,
  statusesVersion,
} from './slo/index.js';
import { teamReads } from './team-reads.js';
import { teamWrites } from './team-scope.js';

export interface ShinraiContext {
  readonly config: Config;
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
  readonly specs: SpecStore;
}

export interface RunningShinrai {
  readonly ctx: ShinraiContext;
  readonly server: App;
  /** Base URL the server listens on, e.g. http://127.0.0.1:8420. */
  readonly url: string;
  readonly evaluator: Evaluator;
  /** Reads SLIs from Prometheus on the leader (idle when no SLI names Prometheus). */
  readonly puller: SliPuller;
  /** Delivers queued alert notifications on the leader. */
  readonly deliverer: NotificationDeliverer;
  /** Declares incidents from firing alerts per `incidents.autoDeclare`, on the leader. */
  readonly autoDeclarer: AutoDeclarer;
  /** The Slack app, when slack.botToken is configured. */
  readonly slack: SlackApp | undefined;
  /** Makes the queued calls to Slack (channel, card, reminders) on the leader, when Slack is configured. */
  readonly slackOutbox: SlackOutbox | undefined;
  /** Sends queued mail on the leader, when smtp.url is configured. */
  readonly mailOutbox: MailOutbox | undefined;
  /** Status-page subscriptions and their notifier, when statusPage.subscriptions is on. */
  readonly statusSubscriptions: StatusSubscriptions | undefined;
  /** Queues the scheduled monthly reports on the leader, when reports.schedules has entries. */
  readonly reportScheduler: ReportScheduler | undefined;
  /** Deletes old data on the leader per retention.* (docs/retention.md). */
  readonly retention: RetentionTask;
  /**
   * Drains and stops: /readyz answers 503 at once, the listeners stop accepting and finish their
   * in-flight requests, then the background work stops (the running tick ends, leadership is
   * released) and the database closes.
   */
  stop(): Promise<void>;
  /** While stop() runs: what it still waits for (the step, in-flight requests), for the shutdown deadline's log. */
  pending(): string[];
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Spec path to use when none is configured (the demo's example shop). */
  readonly defaultSpecs?: string;
  /** false: build and ready the server without listening (to read its OpenAPI document); `url` is then ''. */
  readonly listen?: boolean;
}

export async function startShinrai(config: Config, options: StartOptions = {}): Promise<RunningShinrai> {
  const log = options.log ?? createLogger(config.log.level);
  const clock = options.clock ?? systemClock;
  const metrics = createMetrics();
  // One egress policy for every outbound call; config validation already checked the entries.
  const allow = parseEgressAllow(config.egress.allow);
  if (!allow.ok) throw new Error(`egress.allow: ${allow.problems.join('; ')}`);
  const egress = new Egress(allow.policy, { onRefused: (client) => metrics.egressRefused.inc({ client }) });
  const db = openDatabase(config.db.url);
  const stops: Array<() => Promise<void> | void> = [() => db.close()];
  // The HTTP listeners close first: no new work arrives while the rest stops.
  const listeners: Array<() => Promise<void>> = [];
  const inFlight = new Set<string>();
  let draining = false;
  let stepRunning: string | undefined;
  const stopAll = async () => {
    draining = true;
    stepRunning = 'closing the HTTP listeners';
    await Promise.all(listeners.map((close) => close()));
    for (const stop of stops.reverse()) {
      // The step's own source ("() => evaluator.stop()") names it well enough for a log line.
      stepRunning = String(stop);
      await stop();
    }
    stepRunning = undefined;
  };
  const pending = () => [
    ...(stepRunning ? [`step: ${stepRunning}`] : []),
    ...[...inFlight].map((request) => `request: ${request}`),
  ];
  try {
    const migration = await migrateToLatest(db.kysely);
    if (migration.newer?.length)
      log.warn(
        { newer: migration.newer },
        `the database was migrated by a newer Shinrai (${migration.newer.join(', ')}); serving it as it is (docs/operations.md#upgrades)`,
      );
    else
      log.info(
        {
          database: db.dialect,
          url: db.displayUrl,
          applied: migration.applied,
          alreadyApplied: migration.alreadyApplied,
        },
        migration.applied.length
          ? `migrations applied: ${migration.applied.join(', ')}`
          : 'database schema is up to date',
      );

    const specs = new SpecStore({
      db,
      clock,
      log,
      metrics,
      path: config.specs.path ?? options.defaultSpecs,
      uploadLimits: { maxBytes: config.specs.uploadMaxBytes, maxDocuments: config.specs.uploadMaxDocuments },
      configuredTargets: configuredTargetNames(config.notificationTargets),
    });
    await specs.reload();
    if (config.specs.watch) stops.push(specs.watch());
    const ctx: ShinraiContext = { config, db, clock, log, metrics, specs };

    const currentSpecs = () => ({ catalog: specs.current.catalog, version: specs.current.version });
    // The puller follows the evaluator's leadership; it is built first so the evaluator can ask it
    // whether pulled data is current.
    let leading = () => false;
    const puller = new SliPuller({
      sources: SOURCES,
      db,
      clock,
      log,
      metrics,
      specs: currentSpecs,
      config: { ...config.prometheus, defaultUrl: config.prometheus.url },
      isLeader: () => leading(),
      connections: config.connections,
      egress,
    });
    for (const warning of unsetReferences(config.notificationTargets, process.env)) log.warn(warning);
    const alerts = new AlertService({
      log,
      specs: currentSpecs,
      notify: config.alerting.notify,
      configuredTargets: configuredTargets(config.notificationTargets),
      minEvents: config.alerting.minEvents,
    });
    // A misspelt announcement target would only show as a notification given up hours later.
    const unknownAnnounce = config.incidents.announce.filter((name) => !alerts.targets().has(name));
    if (unknownAnnounce.length)
      log.warn(
        { targets: unknownAnnounce },
        `incidents.announce names no notification target: ${unknownAnnounce.join(', ')} (notificationTargets.<name> or an AlertNotificationTarget in the specs); announcements to it will fail`,
      );
    const evaluator = new Evaluator({
      db,
      clock,
      log,
      metrics,
      specs: currentSpecs,
      config: config.evaluator,
      leader: createLeaderElection({
        db,
        url: config.db.url,
        retrySeconds: config.evaluator.leaderRetrySeconds,
        log,
        metrics,
      }),
      shards: createShardOwnership({
        db,
        shards: config.evaluator.shards,
        leaseSeconds: config.evaluator.shardLeaseSeconds,
        heartbeatSeconds: config.evaluator.shardHeartbeatSeconds,
        log,
        metrics,
      }),
      dataStates: () => puller.dataStates(),
      withStatuses: (trx, statuses, nowMs) => alerts.step(trx, statuses, nowMs),
    });
    leading = () => evaluator.isLeader();
    await evaluator.start();
    stops.push(() => evaluator.stop());
    puller.start();
    stops.push(() => puller.stop());
    const deliverer = new NotificationDeliverer({
      db,
      clock,
      log,
      config: {
        intervalSeconds: config.alerting.deliveryIntervalSeconds,
        giveUpHours: config.alerting.giveUpHours,
      },
      isLeader: () => evaluator.isLeader(),
      targets: () => alerts.targets(),
      egress,
      firing: () => alerts.firing(db.kysely, clock.now()),
      onOutcome: (target, outcome) => metrics.notifications.inc({ target, outcome }),
    });
    deliverer.start();
    stops.push(() => deliverer.stop());
    const catchUpWriter = config.incidents.llmUrl
      ? new CatchUpWriter(
          {
            url: config.incidents.llmUrl,
            model: config.incidents.llmModel,
            apiKey: config.incidents.llmApiKey,
            timeoutMs: config.incidents.llmTimeoutSeconds * 1000,
          },
          egress,
        )
      : undefined;
    if (catchUpWriter) stops.push(() => catchUpWriter.close());
    // Filled in once the outboxes exist; the incident service only nudges them after a commit.
    const nudge: { slack?: SlackOutbox | undefined } = {};
    const incidentDeps = {
      db,
      clock,
      severities: {
        names: config.incidents.severities,
        page: config.incidents.pageSeverity,
        ticket: config.incidents.ticketSeverity,
      },
      timeZone: config.incidents.timeZone,
      catalog: () => specs.current.catalog,
      // A confirmed cause names a recorded deployment or change (delivery).
      checkCause: (cause: CauseInput) => checkCause({ db }, cause),
      // Every declaration and change queues its Slack calls and announcements in its own transaction.
      ...(slackEnabled(config.slack) || config.incidents.announce.length
        ? {
            onChange: async (trx: Kysely<Database>, change: IncidentChange) => {
              if (slackEnabled(config.slack)) await queueIncidentCalls(trx, change);
              if (change.kind === 'declared' && config.incidents.announce.length)
                await queueAnnouncements(
                  trx,
                  change.incident,
                  change.atMs,
                  config.incidents.announce,
                  (name) => alerts.targets().get(name)?.kind,
                );
            },
          }
        : {}),
      afterCommit: (change: IncidentChange) => {
        // Make the queued calls now (on the leader; elsewhere a cycle does nothing), not at the next tick.
        if (slackEnabled(config.slack)) void nudge.slack?.cycle();
        if (config.incidents.announce.length) void deliverer.cycle();
        // A cause confirmed by this change makes a deployment failed: count it for Prometheus users.
        if (change.incident.causedBy?.confirmedAtMs === change.atMs)
          void countConfirmedCause({ db }, metrics, change.incident.causedBy).catch((error: unknown) =>
            log.warn({ err: error }, 'delivery: counting a confirmed cause failed'),
          );
      },
    };
    const autoDeclarer = new AutoDeclarer({
      incidents: incidentDeps,
      log,
      tiers: config.incidents.autoDeclare,
      intervalMs: config.evaluator.tickSeconds * 1000,
      isLeader: () => evaluator.isLeader(),
      firing: () => alerts.firingBurns(db.kysely, clock.now()),
    });
    autoDeclarer.start();
    stops.push(() => autoDeclarer.stop());

    // Team-scoped writes (docs/api.md#teams), for the API and for Slack users with teams.
    const scopeDeps = { db, clock, config, catalog: () => specs.current.catalog };
    const teamScope = teamWrites(scopeDeps);
    const slack = slackEnabled(config.slack)
      ? new SlackApp(
          {
            config: config.slack,
            owners: teamScope.owners,
            incidents: incidentDeps,
            catchUpWriter,
            log,
            metrics,
            egress,
            // deliveryDeps is built below, before any request can reach the Slack app.
            suspects: (incidentId: string) => suspects(deliveryDeps, incidentId),
          },
          { db, clock },
        )
      : undefined;
    const slackOutbox = slack
      ? new SlackOutbox({
          incidents: incidentDeps,
          client: slack.api.client(config.slack.botToken),
          config: config.slack,
          log,
          metrics,
          isLeader: () => evaluator.isLeader(),
          intervalMs: config.alerting.deliveryIntervalSeconds * 1000,
          giveUpHours: config.alerting.giveUpHours,
          updateIntervals: config.incidents.updateIntervalMinutes,
        })
      : undefined;
    if (slack) {
      stops.push(() => slack.stop());
      slack.outbox = slackOutbox;
      nudge.slack = slackOutbox;
      slackOutbox!.start();
      stops.push(() => slackOutbox!.stop());
      const pruning = new PeriodicTask(() => slack.prune(clock.now()).then(() => null), {
        intervalMs: 60 * 60 * 1000,
        log,
        failure: 'slack: pruning old request ids failed',
      });
      pruning.start();
      stops.push(() => pruning.stop());
    }

    const scheduledReports = scheduledReportsCounter(metrics.registry);
    // Mail (docs/email.md): the outbox sends on the leader; subscriptions queue into it.
    if (
      config.statusPage.subscriptions &&
      !(config.smtp.url && config.smtp.from && config.statusPage.publicUrl)
    )
      throw new Error('statusPage.subscriptions needs smtp.url, smtp.from and statusPage.publicUrl');
    const mailOutbox = config.smtp.url
      ? new MailOutbox({
          db,
          clock,
          log,
          sender: new Mailer({
            config: config.smtp,
            egress: egress.policy,
            onRefused: () => metrics.egressRefused.inc({ client: 'smtp' }),
          }),
          isLeader: () => evaluator.isLeader(),
          intervalMs: config.smtp.intervalSeconds * 1000,
          giveUpHours: config.smtp.giveUpHours,
          leaseMs: Math.max(300_000, 4 * config.smtp.timeoutSeconds * 1000),
          onOutcome: (kind, outcome) => {
            metrics.mails.inc({ kind, outcome });
            if (kind === 'report')
              scheduledReports.inc({
                channel: 'email',
                outcome: outcome === 'failed' ? 'retrying' : outcome,
              });
          },
        })
      : undefined;
    if (mailOutbox) {
      mailOutbox.start();
      stops.push(() => mailOutbox.stop());
    }
    const statusSubscriptions = config.statusPage.subscriptions
      ? new StatusSubscriptions({
          db,
          clock,
          log,
          catalog: () => specs.current.catalog,
          config: config.statusPage,
          severities: config.incidents.severities,
          isLeader: () => evaluator.isLeader(),
          intervalMs: config.smtp.intervalSeconds * 1000,
          onQueued: () => void mailOutbox?.cycle(),
        })
      : undefined;
    if (statusSubscriptions) {
      statusSubscriptions.start();
      stops.push(() => statusSubscriptions.stop());
    }

    // Retention (docs/retention.md): the leader deletes what no window, chart or retry needs any more.
    const sloRetention = new SloRetention({
      db,
      settings: config.retention,
      catalog: () => specs.current.catalog,
      statusPageDays: config.statusPage.days,
      // The monthly report's trend: the report month and the months before it, from early in the next.
      readersDays: (REPORT_TREND_MONTHS + 1) * 31 + 1,
    });
    const retention = new RetentionTask({
      db,
      clock,
      log,
      metrics,
      settings: config.retention,
      isLeader: () => evaluator.isLeader(),
      rules: (nowMs) => [
        ...sloRetention.rules(nowMs),
        ...platformRetentionRules(config.retention, nowMs),
        ...auditRetentionRules(config.retention, nowMs),
      ],
    });
    retention.start();
    stops.push(() => retention.stop());
    // PostgreSQL: this week's and next week's partitions of sli_minutes, at start and hourly, on
    // every replica (idempotent; docs/retention.md#partitions-postgresql). A no-op on SQLite.
    const partitions = new PeriodicTask(
      async () => {
        const report = await maintainMinutePartitions(db, clock.now());
        if (report?.created.length || report?.busy)
          log.info(
            { ...report },
            `partitions: created ${report.created.join(', ') || 'none'} (${report.movedRows} rows moved from the default partition${report.busy ? `, ${report.busy} weeks busy, tried again next hour` : ''})`,
          );
        return report;
      },
      {
        intervalMs: 60 * 60_000,
        log,
        failure: 'partitions: creating the coming weeks failed; their minutes go to the default partition',
      },
    );
    partitions.start();
    stops.push(() => partitions.stop());
    // Hour sums (slo/hour-sums.ts): the leader sums the hours ingestion touched, so a report reads
    // a short list of marks, not a backlog; any reader would do it first anyway.
    const hourSums = new PeriodicTask(async () => (evaluator.isLeader() ? refreshHourSums(db) : null), {
      intervalMs: 60_000,
      log,
      failure: 'hour sums: refresh failed',
    });
    hourSums.start();
    stops.push(() => hourSums.stop());

    if (config.demo.enabled) {
      const feeder = new DemoFeeder(
        { db, clock, log, metrics, catalog: () => specs.current.catalog },
        { seedDays: config.demo.seedDays },
      );
      log.info({ seedDays: config.demo.seedDays }, 'demo: feeding synthetic traffic');
      await feeder.start();
      stops.push(() => feeder.stop());
    }

    const otlpModule = (app: App) =>
      otlpRoutes(app, {
        db,
        clock,
        metrics,
        catalog: () => specs.current.catalog,
        path: config.otlp.path,
        limits: {
          maxBodyBytes: config.otlp.maxBodyBytes,
          newSeriesWindowMs: config.otlp.newSeriesWindowSeconds * 1000,
        },
      });
    const gateDeps = {
      db,
      clock,
      catalog: () => specs.current.catalog,
      tickSeconds: config.evaluator.tickSeconds,
    };
    const deliveryDeps: DeliveryDeps = {
      db,
      clock,
      catalog: () => specs.current.catalog,
      settings: config.delivery,
      defaultTimeZone: config.incidents.timeZone,
      incidents: incidentDeps,
      metrics,
      gate: async (service) => {
        const catalog = specs.current.catalog;
        if (!catalog.slos.some((s) => s.service === service)) return undefined;
        const answer = await gateFor(gateDeps, service);
        return { decision: answer.decision, summary: answer.summary };
      },
    };
    const reportDeps = {
      db,
      clock,
      catalog: () => specs.current.catalog,
      timeZone: reportTimeZone(config),
      tooBigShare: config.risks.tooBigShare,
      incidents: incidentDeps,
      delivery: deliveryDeps,
    };
    // Scheduled reports (docs/reports.md#schedules): queued on the leader into the outboxes above.
    const reportScheduler = config.reports.schedules.length
      ? new ReportScheduler({
          report: reportDeps,
          log,
          schedules: config.reports.schedules,
          baseUrl: config.reports.baseUrl,
          chromiumPath: config.reports.chromiumPath,
          isLeader: () => evaluator.isLeader(),
          intervalMs: 60_000,
          queueSlackPost: slackOutbox ? queueSlackPost : undefined,
          onOutcome: (channel, outcome, count) => scheduledReports.inc({ channel, outcome }, count),
          onQueued: (channels) => {
            if (channels.has('email')) void mailOutbox?.cycle();
            if (channels.has('slack')) void slackOutbox?.cycle();
            if (channels.has('webhook')) void deliverer.cycle();
          },
        })
      : undefined;
    if (reportScheduler) {
      reportScheduler.start();
      stops.push(() => reportScheduler.stop());
    }
    const server = await buildServer(
      { config, db, clock, log, metrics, teamWrites: teamScope, teamReads: teamReads(scopeDeps) },
      [
        healthRoutes({
          db,
          metrics,
          specsReady: () => specs.ready,
          details: () => ({ leader: evaluator.isLeader(), ...(slack ? { slack: slack.readiness() } : {}) }),
          checks: async () => ({
            // A stopping replica leaves the load balancer at once, before its listener closes.
            ...(draining ? { shutdown: { ready: false, reason: 'shutting down' } } : {}),
            evaluation: await evaluationReadiness(evaluator, db, clock.now()),
          }),
        }),
        sloRoutes({
          specs,
          now: () => clock.now(),
          isStale: (evaluatedAt) => isStale(evaluatedAt, clock.now(), config.evaluator.tickSeconds),
          statuses: {
            listStatuses: () => listStatuses(db),
            getStatus: (id) => getStatus(db, id),
            history: (id, range) => history(db, id, range),
            historyRows: (id, range) => historyRows(db, id, range.fromMs, range.toMs),
            version: () => statusesVersion(db),
            historyVersion: (id, range) => historyVersion(db, id, range.fromMs, range.toMs),
          },
        }),
        incidentRoutes({
          ...incidentDeps,
          catchUpWriter,
        }),
        integrationRoutes(incidentDeps),
        postmortemRoutes(incidentDeps),
        actionItemRoutes(incidentDeps),
        reviewRoutes(incidentDeps),
        riskRoutes({
          ...incidentDeps,
          tooBigShare: config.risks.tooBigShare,
          specs,
        }),
        gateRoutes(gateDeps),
        deliveryRoutes(deliveryDeps),
        reportRoutes({
          ...reportDeps,
          renderers: documentRenderers({
            baseUrl: config.reports.baseUrl,
            chromiumPath: config.reports.chromiumPath,
          }),
        }),
        deliveryWebhookRoutes(deliveryWebhookDeps(deliveryDeps, config.delivery)),
        availabilityRoutes(),
        alertRoutes({
          db,
          now: () => clock.now(),
          catalog: () => specs.current.catalog,
          rulesFor: (slo) => alerts.rulesFor(slo),
          minEvents: config.alerting.minEvents,
        }),
        (app) =>
          ingestRoutes(app, {
            db,
            clock,
            metrics,
            catalog: () => specs.current.catalog,
            pulled: () => puller.pulledSlis(),
            otlpFed: () => otlpPlan(specs.current.catalog).slis,
          }),
        ...(config.otlp.enabled && !config.otlp.port ? [otlpModule] : []),
        ...(slack ? [slack.routes()] : []),
        specSourceRoutes({ specs, db, rulesFor: (slo) => alerts.rulesFor(slo) }),
        markdownRoutes(),
        auditRoutes({ db }),
        webRoutes(),
        statusPageRoutes(
          {
            db,
            clock,
            catalog: () => specs.current.catalog,
            config: config.statusPage,
            severities: config.incidents.severities,
          },
          {
            subscribeForm: statusSubscriptions
              ? async (lang) => subscribeForm(lang, await statusSubscriptions.formToken())
              : undefined,
          },
        ),
        ...(statusSubscriptions
          ? [
              statusSubscriptionRoutes({
                subscriptions: statusSubscriptions,
                clock,
                metrics,
                perClientPerHour: config.statusPage.subscribePerClientPerHour,
              }),
            ]
          : []),
      ],
    );
    listeners.push(() => server.close());
    const running = {
      ctx,
      server,
      evaluator,
      puller,
      deliverer,
      autoDeclarer,
      slack,
      slackOutbox,
      mailOutbox,
      statusSubscriptions,
      reportScheduler,
      retention,
      stop: stopAll,
      pending,
    };
    if (options.listen === false) return { ...running, url: '' };
    const address = await server.listen({ host: config.server.host, port: config.server.port });
    trackInFlight(server, inFlight);
    if (config.otlp.enabled && config.otlp.port) {
      // The receiver on a port of its own (e.g. 4318, the OTLP/HTTP default), with the same auth.
      const receiver = await buildServer({ config, db, clock, log, metrics, teamWrites: teamScope }, [
        otlpModule,
      ]);
      listeners.push(() => receiver.close());
      const otlpAddress = await receiver.listen({ host: config.server.host, port: config.otlp.port });
      trackInFlight(receiver, inFlight);
      log.info({ url: otlpAddress }, `OTLP receiver is listening on ${otlpAddress}${config.otlp.path}`);
    }
    log.info({ url: address }, `Shinrai is listening on ${address}`);
    await slack?.start();
    return { ...running, url: address };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}

/** Keeps `inFlight` listing the requests being answered ("POST /api/v1/…", no query: it may hold secrets). */
function trackInFlight(server: App, inFlight: Set<string>): void {
  let next = 0;
  server.server.on('request', (request, response) => {
    const entry = `${request.method} ${(request.url ?? '').split('?')[0]} #${++next}`;
    inFlight.add(entry);
    response.once('close', () => inFlight.delete(entry));
  });
}
