/**
 * Incidents from Alertmanager's webhook (`POST /api/v1/integrations/alertmanager`, the standard
 * webhook payload, version 4). One open incident per Alertmanager group key: the first
 * notification of a group declares it, later ones add their alerts to its timeline. A resolved
 * notification is recorded on the timeline; it never closes the incident — people do.
 */
import { z } from 'zod';
import type { Severity } from './model.js';

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

/** Alertmanager severities (the `severity` label) to incident severities. */
const SEVERITY_OF: Record<string, Severity> = {
  critical: 'SEV2',
  page: 'SEV2',
  high: 'SEV2',
  error: 'SEV3',
  warning: 'SEV3',
  ticket: 'SEV3',
  info: 'SEV4',
};

export function severityOf(payload: AlertmanagerPayload): Severity {
  const labels = [payload.commonLabels.severity, ...payload.alerts.map((a) => a.labels.severity)];
  const mapped = labels.flatMap((l) =>
    l && SEVERITY_OF[l.toLowerCase()] ? [SEVERITY_OF[l.toLowerCase()]!] : [],
  );
  // The most severe of the group's alerts (SEV1 < SEV2 < … as strings).
  return mapped.sort()[0] ?? 'SEV3';
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
      text: `${a.status === 'firing' ? 'Alert firing' : 'Alert resolved'}: ${name}${labels ? ` {${labels}}` : ''}${detail ? ` — ${detail}` : ''}`,
    };
  });
}

/** The label that ties an incident to its Alertmanager group. */
export const GROUP_KEY_LABEL = 'alertmanager_group_key';
