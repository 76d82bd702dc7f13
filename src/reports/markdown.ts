/**
 * The monthly report as Markdown for wikis (pure): the report's sections in its language, every
 * name and title from the data escaped so it renders as text (no HTML, links or emphasis of its own).
 */
import { DateTime } from 'luxon';
import type { MonthlyReport, TodoItem } from './model.js';
import { REPORT_TEXT, type ReportText } from './text.js';

/**
 * Text from the data as inert Markdown: HTML-significant characters as entities, Markdown ones
 * escaped, and `:` and `@` too, so a URL or an address in a title is not made a link by GFM's
 * autolinks (`https://…`, `www.…`, `name@host`).
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+\-.!|~:@]/g, (c) => `\\${c}`);
}

/** A link target that cannot end the Markdown link early or carry a scheme of its own (paths only). */
export function safeLink(path: string, baseUrl = ''): string {
  const safePath = path.startsWith('/') ? path : `/${path}`;
  const encoded = safePath.replace(
    /[()<>\s"'\\`]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `${baseUrl.replace(/\/+$/, '')}${encoded}`;
}

/** A fraction as a percentage with up to 4 decimals (0.99953 → 99.953%). */
export function percent(fraction: number | null, language: 'en' | 'ja' = 'en'): string {
  if (fraction === null || !Number.isFinite(fraction)) return language === 'ja' ? '—' : '—';
  return `${Number((fraction * 100).toFixed(4))}%`;
}

/** A number with up to 2 decimals, grouped by thousands. */
export function amount(n: number): string {
  return Number(n.toFixed(2)).toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function humanDuration(ms: number | null, t: ReportText): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const seconds = ms / 1000;
  const u = t.units;
  if (seconds < 60) return `${Math.round(seconds)} ${u.s}`;
  if (seconds < 3600) return `${Number((seconds / 60).toFixed(1))} ${u.min}`;
  if (seconds < 86_400) return `${Number((seconds / 3600).toFixed(1))} ${u.h}`;
  return `${Number((seconds / 86_400).toFixed(1))} ${u.d}`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
}

function todoLine(item: TodoItem, t: ReportText, baseUrl: string): string {
  const e = escapeMarkdown;
  let text: string;
  switch (item.kind) {
    case 'policy':
      text = t.policyTodo(e(item.slo), e(item.action), t.gates[item.gate]);
      break;
    case 'overdue-action-item':
      text = t.overdueTodo(e(item.title), e(item.priority), e(item.dueDate));
      break;
    case 'risk-too-big':
      text = t.riskTodo(e(item.risk), percent(item.shareOfYearlyBudget));
      break;
    case 'noisy-alert':
      text = t.noisyTodo(e(item.slo), e(item.rule), percent(item.noiseShare));
      break;
  }
  return `- [${text}](${safeLink(item.link, baseUrl)})`;
}

export interface MarkdownOptions {
  /** Prefixed to the report's links (the server's public URL); empty: links are paths. */
  readonly baseUrl?: string | undefined;
}

export function reportMarkdown(report: MonthlyReport, options: MarkdownOptions = {}): string {
  const t = REPORT_TEXT[report.language];
  const e = escapeMarkdown;
  const base = options.baseUrl ?? '';
  const when = (ms: number) =>
    DateTime.fromMillis(ms, { zone: report.timeZone }).toFormat('yyyy-MM-dd HH:mm');
  const out: string[] = [];
  out.push(`# ${t.title(e(report.product.name), report.month)}`);
  out.push(t.meta(e(report.timeZone), report.product.services.map(e).join(', '), when(report.generatedAtMs)));

  out.push(`## ${t.verdict}`);
  out.push(
    table(
      t.verdictColumns,
      report.verdict.map((v) => [
        `[${e(v.displayName ?? v.slo)}](${safeLink(v.link, base)})`,
        percent(v.target),
        percent(v.attainment),
        v.met === null ? t.noData : v.met ? t.met : t.missed,
        `${percent(v.budget.consumedShare)} (${amount(v.budget.consumed)} / ${amount(v.budget.allowed)} ${t.units[v.budget.unit]})`,
        v.policyStep ? `${e(v.policyStep.action)} (${t.gates[v.policyStep.gate]})` : '—',
      ]),
    ),
  );

  out.push(`## ${t.todo}`);
  out.push(
    report.todo.length ? report.todo.map((item) => todoLine(item, t, base)).join('\n') : t.nothingToDo,
  );

  out.push(`## ${t.trend}`);
  out.push(
    table(
      t.trendColumns,
      report.trend.flatMap((m) =>
        m.slos.map((s) => [m.month, e(s.slo), percent(s.attainment), percent(s.consumedShare)]),
      ),
    ),
  );

  out.push(`## ${t.incidents}`);
  out.push(
    report.incidents.length
      ? table(
          t.incidentColumns,
          report.incidents.map((i) => [
            `[${e(i.reference)}](${safeLink(i.link, base)})`,
            e(i.title),
            e(i.severity),
            when(i.startedAtMs),
            i.durationMs === null ? t.ongoing : humanDuration(i.durationMs, t),
            i.budgetImpact.length
              ? i.budgetImpact
                  .map(
                    (b) =>
                      `${e(b.slo)}: ${amount(b.consumed)} ${t.units[b.unit]} (${percent(b.shareOfBudget)})`,
                  )
                  .join('; ')
              : '—',
            i.postmortem === 'none' ? t.postmortemNone : e(i.postmortem),
          ]),
        )
      : t.noIncidents,
  );

  out.push(`## ${t.actionItems}`);
  const priorities = [
    ...new Set([
      ...Object.keys(report.actionItems.opened),
      ...Object.keys(report.actionItems.closed),
      ...Object.keys(report.actionItems.overdue),
    ]),
  ].sort();
  out.push(
    table(
      t.actionItemColumns,
      priorities.map((p) => [
        e(p),
        String(report.actionItems.opened[p] ?? 0),
        String(report.actionItems.closed[p] ?? 0),
        String(report.actionItems.overdue[p] ?? 0),
      ]),
    ),
  );

  out.push(`## ${t.risks}`);
  out.push(
    report.risks.length
      ? table(
          t.riskColumns,
          report.risks.map((r) => [
            `[${e(r.name)}](${safeLink(r.link, base)})`,
            e(r.service),
            r.slo ? e(r.slo) : '—',
            amount(r.badMinutesPerYear),
            amount(r.yearlyBudgetMinutes),
            percent(r.shareOfYearlyBudget),
            r.tooBig ? t.yes : t.no,
          ]),
        )
      : t.noRisks,
  );

  out.push(`## ${t.alerts}`);
  out.push(
    table(
      t.alertColumns,
      report.alerts.weeks.map((w) => [w.start, String(w.pages), String(w.tickets)]),
    ),
  );
  out.push(
    [
      t.noiseShare(percent(report.alerts.noiseShare)),
      t.medianDetection(humanDuration(report.alerts.medianDetectionMs, t)),
    ]
      .map((line) => `- ${line}`)
      .join('\n'),
  );

  out.push(`## ${t.delivery}`);
  const d = report.delivery;
  if (!d) out.push(t.noDeployments);
  else {
    const level = (name: string) => {
      const l = d.levels[name];
      return l ? (t.levels[l] ?? e(l)) : '—';
    };
    out.push(
      table(t.deliveryColumns, [
        [t.deliveryMetrics.deploymentFrequency!, String(d.deployments), level('deploymentFrequency')],
        [t.deliveryMetrics.leadTime!, humanDuration(d.leadTimeMedianMs, t), level('leadTime')],
        [t.deliveryMetrics.changeFailRate!, percent(d.changeFailRate), level('changeFailRate')],
        [t.deliveryMetrics.recoveryTime!, humanDuration(d.recoveryMedianMs, t), level('recoveryTime')],
        [t.deliveryMetrics.reworkRate!, percent(d.reworkRate), level('reworkRate')],
      ]),
    );
    out.push(t.benchmark(d.benchmarkYear));
  }
  return `${out.join('\n\n')}\n`;
}
