/**
 * Incidents from Alertmanager's webhook (`POST /api/v1/integrations/alertmanager`, the standard
 * webhook payload, version 4). One open incident per Alertmanager group key: the first
 * notification of a group declares it, later ones add their alerts to its timeline. A resolved
 * notification is recorded on the timeline; it never closes the incident — people do.
 */
import { z } from 'zod';
import { httpUrls } from '../platform/urls.js';
import { MAX_RUNBOOKS, type Severity, type SeverityScale, severityRank } from './model.js';
import { SYSTEM_EVENT_TEXT } from './timeline-text.js';

export const alertmanagerPayloadSchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().min(1).max(2000),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupLabels: z.record(z.string(), z.string()).default({}),
  commonLabels: z.record(z.string(), z.string()).default({}),
  commonAnnotations: z.record(z.string(), z.string()).default({}),
  externalURL: z.string().optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: z.record(z.string(), z.string()).default({}),
        annotations: z.record(z.string(), z.string()).default({}),
        startsAt: z.string(),
        endsAt: z.string().optional(),
        generatorURL: z.string().optional(),
        fingerprint: z.string().optional(),
      }),
    )
    .max(1000),
});

export type AlertmanagerPayload = z.output<typeof alertmanagerPayloadSchema>;

/** Alertmanager severities (the `severity` label) to the scale's page and ticket severities, or its least. */
const LEVEL_OF: Record<string, 'page' | 'ticket' | 'least'> = {
  critical: 'page',
  page: 'page',
  high: 'page',
  error: 'ticket',
  warning: 'ticket',
  ticket: 'ticket',
  info: 'least',
};

export function severityOf(payload: AlertmanagerPayload, scale: SeverityScale): Severity {
  const labels = [payload.commonLabels.severity, ...payload.alerts.map((a) => a.labels.severity)];
  const mapped = labels.flatMap((label) => {
    const level = label ? LEVEL_OF[label.toLowerCase()] : undefined;
    if (level === undefined) return [];
    return [level === 'least' ? scale.names[scale.names.length - 1]! : scale[level]];
  });
  // The most severe of the group's alerts.
  return mapped.sort((a, b) => severityRank(scale, a) - severityRank(scale, b))[0] ?? scale.ticket;
}

export function titleOf(payload: AlertmanagerPayload): string {
  const summary = payload.commonAnnotations.summary ?? payload.alerts[0]?.annotations.summary;
  const name =
    payload.commonLabels.alertname ?? payload.groupLabels.alertname ?? payload.alerts[0]?.labels.alertname;
  const where = payload.commonLabels.service ?? payload.commonLabels.job;
  return (summary ?? [name ?? 'Alertmanager alert', where && `(${where})`].filter(Boolean).join(' ')).slice(
    0,
    200,
  );
}

/**
 * The group's runbook links: the `runbook_url` (Prometheus convention) or `runbook` annotations,
 * common ones first; only http(s) links, as the incident's runbooks are rendered as links.
 */
export function runbooksOf(payload: AlertmanagerPayload): string[] {
  const annotations = [payload.commonAnnotations, ...payload.alerts.map((a) => a.annotations)];
  return httpUrls(annotations.flatMap((a) => [a.runbook_url, a.runbook])).slice(0, MAX_RUNBOOKS);
}

/** One timeline line per alert and status; the key makes a resent notification add nothing new. */
export function alertEntries(payload: AlertmanagerPayload): Array<{ key: string; text: string }> {
  return payload.alerts.map((a) => {
    const name = a.labels.alertname ?? 'alert';
    const detail = a.annotations.summary ?? a.annotations.description ?? '';
    const labels = Object.entries(a.labels)
      .filter(([k]) => k !== 'alertname')
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const key = `${a.fingerprint ?? JSON.stringify(a.labels)}|${a.status}|${a.startsAt}`;
    return {
      key,
      text: SYSTEM_EVENT_TEXT.alertmanager(
        a.status === 'firing',
        `${name}${labels ? ` {${labels}}` : ''}${detail ? ` — ${detail}` : ''}`,
      ),
    };
  });
}

/** The label that ties an incident to its Alertmanager group. */
export const GROUP_KEY_LABEL = 'alertmanager_group_key';
