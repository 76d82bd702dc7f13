/**
 * Scheduled monthly reports (service, leader only): each pass looks at every `reports.schedules`
 * entry, and when a month's report is due renders it (HTML, Markdown, the PDF when asked) and, in
 * one transaction, records the occurrence (`report:<schedule>:<month>`, unique) and queues every
 * delivery into the durable outboxes — a mail per recipient (mail_outbox), the Slack summary
 * (slack_outbox), the JSON for a webhook target (notification_outbox) — each row holding all it
 * needs to be sent. A crash after the commit sends from the outboxes; a crash before it renders
 * again at the next pass; a second replica or a restart finds the occurrence and queues nothing.
 * docs/reports.md#schedules.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { queueWebhook } from '../notifications/index.js';
import type { Database } from '../platform/db/index.js';
import { enqueueMail, type QueuedMail } from '../platform/mail-outbox.js';
import { PeriodicTask } from '../platform/periodic.js';
import { renderReportHtml } from './html.js';
import { reportMarkdown } from './markdown.js';
import { renderReportPdf } from './pdf.js';
import { nextDue, occurrenceId, type ReportSchedule, scheduleAction } from './schedule.js';
import { reportMail, reportSlackText, reportWebhookPayload } from './schedule-messages.js';
import { monthlyReport, type ReportDeps } from './service.js';

/** Where a scheduled report goes. */
export type ScheduleChannel = 'email' | 'slack' | 'webhook';

/** Queues a Slack message in the caller's transaction (the Slack outbox's `queueSlackPost`). */
export type QueueSlackPost = (
  trx: Kysely<Database>,
  post: { readonly id: string; readonly channel: string; readonly text: string },
  atMs: number,
) => Promise<boolean>;

export interface ReportSchedulerDeps {
  /** What the report is built from (the API's own dependencies). */
  readonly report: ReportDeps;
  readonly log: Logger;
  readonly schedules: readonly ReportSchedule[];
  /** reports.baseUrl: every link in what is sent is absolute. */
  readonly baseUrl: string;
  /** reports.chromiumPath, for `format: pdf`. */
  readonly chromiumPath?: string | undefined;
  readonly isLeader: () => boolean;
  readonly intervalMs: number;
  /** Needed by schedules with a slackChannel (the config checks slack.botToken). */
  readonly queueSlackPost?: QueueSlackPost | undefined;
  /** Counts deliveries queued, or failed to be rendered or queued, by channel (`count`: mails to several recipients). */
  readonly onOutcome?:
    | ((channel: ScheduleChannel, outcome: 'queued' | 'failed', count: number) => void)
    | undefined;
  /** Called after deliveries were queued (to send them now rather than at the outboxes' next tick). */
  readonly onQueued?: ((channels: ReadonlySet<ScheduleChannel>) => void) | undefined;
}

/** What one pass did. */
export interface SchedulerSummary {
  /** Occurrences whose deliveries were queued. */
  readonly sent: readonly string[];
  /** Schedules seen for the first time (their latest due month recorded, not sent). */
  readonly baselines: readonly string[];
  /** Schedules whose report could not be rendered or queued (tried again at the next pass). */
  readonly failed: readonly string[];
}

/** The counter of scheduled report deliveries on /metrics (`shinrai_scheduled_reports_total`). */
export function scheduledReportsCounter(registry: Registry): Counter<'channel' | 'outcome'> {
  return new Counter({
    name: 'shinrai_scheduled_reports_total',
    help: 'Scheduled report deliveries by channel (email, slack, webhook) and outcome (queued, failed to render or queue; for email also sent, retrying, gave-up)',
    labelNames: ['channel', 'outcome'],
    registers: [registry],
  });
}

function channelsOf(schedule: ReportSchedule): ScheduleChannel[] {
  return [
    ...(schedule.recipients.length ? (['email'] as const) : []),
    ...(schedule.slackChannel ? (['slack'] as const) : []),
    ...(schedule.webhook ? (['webhook'] as const) : []),
  ];
}

export class ReportScheduler {
  private readonly loop: PeriodicTask<SchedulerSummary>;

  constructor(private readonly deps: ReportSchedulerDeps) {
    this.loop = new PeriodicTask(() => this.pass(), {
      intervalMs: deps.intervalMs,
      log: deps.log,
      failure: 'report schedules: a pass failed; due reports are tried again at the next pass',
    });
  }

  start(): void {
    const nowMs = this.deps.report.clock.now();
    for (const schedule of this.deps.schedules) {
      const next = nextDue(schedule, this.deps.report.timeZone, nowMs);
      this.deps.log.info(
        { schedule: schedule.id, month: next.month, dueAt: new Date(next.atMs).toISOString() },
        `report schedule ${schedule.id}: the report of ${next.month} is due at ${new Date(next.atMs).toISOString()}`,
      );
    }
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass (leader only). Never rejects; a call during a pass runs once more after it. */
  cycle(): Promise<SchedulerSummary | null> {
    return this.loop.runNow();
  }

  private async pass(): Promise<SchedulerSummary | null> {
    if (!this.deps.isLeader()) return null;
    const summary = { sent: [] as string[], baselines: [] as string[], failed: [] as string[] };
    const queued = new Set<ScheduleChannel>();
    // One schedule at a time, each on its own: a bad product or a failed render stops only its own.
    for (const schedule of this.deps.schedules) {
      try {
        const done = await this.runSchedule(schedule);
        if (done?.kind === 'sent') {
          summary.sent.push(done.id);
          for (const channel of channelsOf(schedule)) queued.add(channel);
        } else if (done?.kind === 'baseline') summary.baselines.push(schedule.id);
      } catch (error) {
        summary.failed.push(schedule.id);
        for (const channel of channelsOf(schedule))
          this.deps.onOutcome?.(channel, 'failed', channel === 'email' ? schedule.recipients.length : 1);
        this.deps.log.error(
          { err: error, schedule: schedule.id },
          `report schedule ${schedule.id}: the report could not be rendered or queued; tried again at the next pass`,
        );
      }
    }
    if (queued.size) this.deps.onQueued?.(queued);
    return summary;
  }

  private async lastMonth(scheduleId: string): Promise<string | undefined> {
    const row = await this.deps.report.db.kysely
      .selectFrom('report_schedule_runs')
      .select('month')
      .where('schedule_id', '=', scheduleId)
      .orderBy('month', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.month;
  }

  private async runSchedule(
    schedule: ReportSchedule,
  ): Promise<{ kind: 'sent' | 'baseline'; id: string } | undefined> {
    const { report: reportDeps, log } = this.deps;
    const db = reportDeps.db.kysely;
    const timeZone = reportDeps.timeZone;
    const nowMs = reportDeps.clock.now();
    const action = scheduleAction(schedule, timeZone, nowMs, await this.lastMonth(schedule.id));
    if (action.kind === 'none') return undefined;
    const id = occurrenceId(schedule.id, action.month);
    if (action.kind === 'baseline') {
      await db
        .insertInto('report_schedule_runs')
        .values({
          id,
          schedule_id: schedule.id,
          month: action.month,
          outcome: 'baseline',
          due_at: nowMs,
          done_at: nowMs,
          deliveries: 0,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const next = nextDue(schedule, timeZone, nowMs);
      log.info(
        { schedule: schedule.id, month: next.month },
        `report schedule ${schedule.id} is new: its first report (${next.month}) goes out at ${new Date(next.atMs).toISOString()}`,
      );
      return { kind: 'baseline', id };
    }

    // Rendered before the transaction (it reads the database, and on SQLite a transaction holds
    // the only connection); everything a delivery needs is then in its outbox row.
    const report = await monthlyReport(reportDeps, {
      product: schedule.product,
      month: action.month,
      language: schedule.language,
    });
    const baseUrl = this.deps.baseUrl;
    const html = await renderReportHtml(report, { baseUrl });
    const markdown = reportMarkdown(report, { baseUrl });
    let attachment: Parameters<typeof reportMail>[0]['attachment'];
    if (schedule.format === 'md') attachment = { format: 'md', body: markdown };
    if (schedule.format === 'pdf' && schedule.recipients.length) {
      try {
        attachment = {
          format: 'pdf',
          body: await renderReportPdf(html, { chromiumPath: this.deps.chromiumPath }),
        };
      } catch (error) {
        // The HTML body is the whole report: the mail still goes, without the PDF.
        log.warn(
          { schedule: schedule.id, err: { message: (error as Error)?.message } },
          `report schedule ${schedule.id}: no PDF (Chromium not available); the mail carries the report as HTML only`,
        );
      }
    }
    const message = reportMail({ report, scheduleId: schedule.id, baseUrl, html, markdown, attachment });
    const mails: QueuedMail[] = schedule.recipients.map((to) => ({
      id: `${id}:mail:${to}`,
      kind: 'report',
      to,
      message,
    }));
    const queueSlackPost = this.deps.queueSlackPost;
    if (schedule.slackChannel && !queueSlackPost)
      throw new Error('a slackChannel needs Slack (slack.botToken) on this server');
    const recorded = await db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('report_schedule_runs')
        .values({
          id,
          schedule_id: schedule.id,
          month: action.month,
          outcome: 'sent',
          due_at: action.dueAtMs,
          done_at: nowMs,
          deliveries: mails.length + (schedule.slackChannel ? 1 : 0) + (schedule.webhook ? 1 : 0),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      // Done already (another replica, or a pass that committed before a crash): queue nothing.
      if (!row) return false;
      await enqueueMail(trx, mails, nowMs);
      if (schedule.slackChannel)
        await queueSlackPost!(
          trx,
          { id, channel: schedule.slackChannel, text: reportSlackText(report, baseUrl) },
          nowMs,
        );
      if (schedule.webhook) await queueReportWebhook(trx, id, schedule, report, baseUrl, nowMs);
      return true;
    });
    if (!recorded) return undefined;
    if (mails.length) this.deps.onOutcome?.('email', 'queued', mails.length);
    if (schedule.slackChannel) this.deps.onOutcome?.('slack', 'queued', 1);
    if (schedule.webhook) this.deps.onOutcome?.('webhook', 'queued', 1);
    log.info(
      { schedule: schedule.id, month: action.month, mails: mails.length },
      `report schedule ${schedule.id}: the report of ${action.month} is queued for delivery`,
    );
    return { kind: 'sent', id };
  }
}

/**
 * The report's JSON for a webhook target, through the notification outbox: the deliverer posts a
 * `target: webhook`'s payload as it is (with its retries, signature and Idempotency-Key), and the
 * config only lets a schedule name a webhook target.
 */
async function queueReportWebhook(
  trx: Kysely<Database>,
  occurrence: string,
  schedule: ReportSchedule,
  report: Parameters<typeof reportWebhookPayload>[0]['report'],
  baseUrl: string,
  atMs: number,
): Promise<void> {
  const target = schedule.webhook!;
  const id = `shr-${occurrence.replace(/:/g, '-')}-${target}`;
  const payload = reportWebhookPayload({ id, scheduleId: schedule.id, atMs, baseUrl, report });
  await queueWebhook(
    trx,
    { id, target, fingerprint: `report:${schedule.id}`, transition: 'report', payload },
    atMs,
  );
}
