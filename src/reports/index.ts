/** The public face of `reports/` (the monthly reliability report: data, renderers, API, schedules); other folders import only this file. */

export { renderReportHtml } from './html.js';
export { escapeMarkdown, type MarkdownOptions, reportMarkdown } from './markdown.js';
export * from './model.js';
export { monthBounds, monthsEndingWith } from './month.js';
export { renderReportPdf } from './pdf.js';
export {
  BUILT_IN_RENDERERS,
  documentRenderers,
  lastCompleteMonth,
  type RenderedReport,
  type ReportRenderer,
  type ReportRouteDeps,
  reportRoutes,
} from './routes.js';
export {
  dueAtMs,
  latestDueMonth,
  nextDue,
  occurrenceId,
  type ReportSchedule,
  SCHEDULE_FORMATS,
  type ScheduleAction,
  type ScheduleFormat,
  scheduleAction,
} from './schedule.js';
export {
  type ReportAttachment,
  type ReportMail,
  type ReportWebhookPayload,
  reportFileName,
  reportMail,
  reportSlackText,
  reportUrl,
  reportWebhookPayload,
} from './schedule-messages.js';
export {
  type QueueSlackPost,
  ReportScheduler,
  type ReportSchedulerDeps,
  type ScheduleChannel,
  type SchedulerSummary,
  scheduledReportsCounter,
} from './schedules.js';
export {
  monthFigures,
  monthlyReport,
  type ReportDeps,
  type ReportQuery,
  reportTimeZone,
  resolveProduct,
  TREND_MONTHS as REPORT_TREND_MONTHS,
} from './service.js';
export { REPORT_TEXT, type ReportText } from './text.js';
