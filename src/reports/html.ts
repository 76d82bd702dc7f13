/**
 * The monthly report as ONE self-contained HTML file: inline CSS (screen, phone and A4 print),
 * charts as inline SVG (charts.ts), no script and no external request. Sections in the issue's
 * order: verdict, what to do, trend, incidents, action items, risks, alerts, delivery. Every text
 * from the data is escaped; links are the server's paths joined to an optional base URL.
 */
import { alertsChart, type ChartSvg, trendChart } from './charts.js';
import { type Formats, formats, HTML_TEXT, type HtmlText } from './html-text.js';
import type { MonthlyReport, ReportLanguage, SloVerdict, TodoItem } from './model.js';

export interface HtmlOptions {
  /** The server's public URL (e.g. `https://shinrai.example.com`): links become absolute. Without it they stay paths. */
  readonly baseUrl?: string | undefined;
}

/** Escapes text for HTML content and double- or single-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const e = escapeHtml;

/** An http(s) origin with an optional path prefix, without the trailing slash; undefined otherwise. */
function normalBase(baseUrl: string | undefined): string | undefined {
  if (!baseUrl) return undefined;
  try {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.username || url.password) return undefined;
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/**
 * The href for a server path, or undefined when the link is not a path on the server (a
 * `javascript:` URL, another host): such a link is shown as plain text.
 */
export function reportHref(link: string, baseUrl: string | undefined): string | undefined {
  if (!link.startsWith('/') || link.startsWith('//') || link.includes('\\')) return undefined;
  // No whitespace or control characters: a path the server made has none.
  if ([...link].some((c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f)) return undefined;
  const base = normalBase(baseUrl);
  return base ? `${base}${link}` : link;
}

function linked(label: string, link: string, baseUrl: string | undefined): string {
  const href = reportHref(link, baseUrl);
  return href ? `<a href="${e(href)}">${e(label)}</a>` : e(label);
}

const SECTION_IDS = [
  'verdict',
  'todo',
  'trend',
  'incidents',
  'actionItems',
  'risks',
  'alerts',
  'delivery',
] as const;
type SectionId = (typeof SECTION_IDS)[number];

const sectionAnchor = (id: SectionId) => `section-${id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function section(id: SectionId, text: HtmlText, body: string): string {
  const anchor = sectionAnchor(id);
  return `<section class="section" id="${anchor}" aria-labelledby="${anchor}-heading"><h2 id="${anchor}-heading">${e(text.sections[id])}</h2>${body}</section>`;
}

function table(
  caption: string,
  head: readonly string[],
  rows: readonly string[],
  numeric: readonly number[] = [],
) {
  const cls = (i: number) => (numeric.includes(i) ? ' class="num"' : '');
  return (
    // A region that scrolls sideways on a phone, reachable with the keyboard.
    `<div class="table-wrap" role="region" tabindex="0" aria-label="${e(caption)}"><table><caption>${e(caption)}</caption><thead><tr>` +
    head.map((h, i) => `<th scope="col"${cls(i)}>${e(h)}</th>`).join('') +
    `</tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

function verdictSection(report: MonthlyReport, text: HtmlText, f: Formats, base: string | undefined): string {
  const v = text.verdict;
  if (report.verdict.length === 0) return section('verdict', text, `<p>${e(v.none)}</p>`);
  const met = report.verdict.filter((s) => s.met === true).length;
  const missed = report.verdict.filter((s) => s.met === false).length;
  const noData = report.verdict.length - met - missed;
  const result = (s: SloVerdict) =>
    s.met === null
      ? `<span class="badge nodata">${e(v.noData)}</span>`
      : s.met
        ? `<span class="badge met">✓ ${e(v.met)}</span>`
        : `<span class="badge missed">✗ ${e(v.missed)}</span>`;
  const budget = (s: SloVerdict) =>
    s.budget.consumedShare === null
      ? e(text.noValue)
      : `${e(f.percent(s.budget.consumedShare))}<br><span class="sub">${e(f.amount(s.budget.consumed, s.budget.unit))} / ${e(f.amount(s.budget.allowed, s.budget.unit))}</span>`;
  const policy = (s: SloVerdict) =>
    s.policyStep
      ? `${e(v.policyStep(f.percent(s.policyStep.below), s.policyStep.action))}<br><span class="gate gate-${s.policyStep.gate}">${e(text.gate[s.policyStep.gate])}</span>`
      : `<span class="sub">${e(v.noPolicyStep)}</span>`;
  const rows = report.verdict.map(
    (s) =>
      `<tr class="verdict-row" data-met="${s.met === null ? 'none' : String(s.met)}">` +
      `<th scope="row">${linked(s.displayName ?? s.slo, s.link, base)}<br><span class="sub">${e(s.slo)} · ${e(s.service)}</span></th>` +
      `<td>${result(s)}</td>` +
      `<td class="num">${s.attainment === null ? e(text.noValue) : e(f.nines(s.attainment))}</td>` +
      `<td class="num">${e(f.nines(s.target))}</td>` +
      `<td class="num">${budget(s)}</td>` +
      `<td>${policy(s)}</td></tr>`,
  );
  return section(
    'verdict',
    text,
    `<p class="lead">${e(v.summary(met, missed, noData))}</p>` +
      table(
        text.sections.verdict,
        [v.slo, v.result, v.attainment, v.target, v.budget, v.policy],
        rows,
        [2, 3, 4],
      ),
  );
}

function todoLine(item: TodoItem, text: HtmlText, f: Formats): string {
  switch (item.kind) {
    case 'policy':
      return text.todo.policy(item.slo, item.action, text.gate[item.gate] ?? item.gate);
    case 'overdue-action-item':
      return text.todo.overdue(item.title, item.priority, f.isoDate(item.dueDate));
    case 'risk-too-big':
      return text.todo.riskTooBig(item.risk, f.percent(item.shareOfYearlyBudget), item.slo);
    case 'noisy-alert':
      return text.todo.noisyAlert(item.rule, item.slo, f.percent(item.noiseShare));
  }
}

function todoSection(report: MonthlyReport, text: HtmlText, f: Formats, base: string | undefined): string {
  if (report.todo.length === 0) return section('todo', text, `<p>${e(text.todo.none)}</p>`);
  const items = report.todo.map(
    (item) =>
      `<li class="todo todo-${item.kind}"><span class="kind">${e(text.todo.kind[item.kind])}</span> ${linked(todoLine(item, text, f), item.link, base)}</li>`,
  );
  return section('todo', text, `<ol class="todo-list">${items.join('')}</ol>`);
}

function figure(chart: ChartSvg, id: string): string {
  return `<figure class="chart" id="${id}">${chart.svg}<figcaption>${e(chart.summary)}</figcaption></figure>`;
}

function trendSection(report: MonthlyReport, text: HtmlText, f: Formats, chart: ChartSvg | null): string {
  if (!chart || report.trend.length === 0) return section('trend', text, `<p>${e(text.trend.none)}</p>`);
  const current = report.trend.at(-1)!;
  const previous = report.trend.at(-2);
  let comparison = '';
  if (previous) {
    const rows = current.slos.map((s) => {
      const before = previous.slos.find((p) => p.slo === s.slo)?.attainment ?? null;
      const delta = before !== null && s.attainment !== null ? s.attainment - before : null;
      // Coloured by the shown (rounded) change: "0.00" is neither up nor down.
      const shown = delta === null ? 0 : Math.round(delta * 10_000);
      const cls = shown === 0 ? '' : shown > 0 ? ' up' : ' down';
      return (
        `<tr><th scope="row">${e(s.slo)}</th>` +
        `<td class="num">${before === null ? e(text.noValue) : e(f.nines(before))}</td>` +
        `<td class="num">${s.attainment === null ? e(text.noValue) : e(f.nines(s.attainment))}</td>` +
        `<td class="num${cls}">${delta === null ? e(text.noValue) : e(text.trend.points(f.points(delta)))}</td>` +
        `<td class="num">${s.consumedShare === null ? e(text.noValue) : e(f.percent(s.consumedShare))}</td></tr>`
      );
    });
    comparison = table(
      text.trend.chartTitle,
      [
        text.verdict.slo,
        text.trend.previous(f.shortMonth(previous.month)),
        text.trend.current(f.shortMonth(current.month)),
        text.trend.change,
        text.trend.consumedAxis,
      ],
      rows,
      [1, 2, 3, 4],
    );
  }
  return section('trend', text, figure(chart, 'trend') + comparison);
}

function incidentsSection(
  report: MonthlyReport,
  text: HtmlText,
  f: Formats,
  base: string | undefined,
): string {
  const t = text.incidents;
  if (report.incidents.length === 0) return section('incidents', text, `<p>${e(t.none)}</p>`);
  const rows = report.incidents.map((i) => {
    const impact =
      i.budgetImpact.length === 0
        ? e(t.noImpact)
        : `<ul class="plain">${i.budgetImpact
            .map(
              (b) =>
                `<li>${e(b.slo)}: ${e(f.amount(b.consumed, b.unit))}${b.shareOfBudget === null ? '' : ` (${e(f.percent(b.shareOfBudget))})`}</li>`,
            )
            .join('')}</ul>`;
    return (
      `<tr><th scope="row" class="nowrap">${linked(i.reference, i.link, base)}</th>` +
      `<td>${e(i.title)}</td><td class="nowrap">${e(i.severity)}</td><td class="nowrap">${e(t.statusWord(i.status))}</td>` +
      `<td class="nowrap">${e(f.dateTime(i.startedAtMs))}</td>` +
      `<td class="num">${i.durationMs === null ? e(t.ongoing) : e(f.duration(i.durationMs))}</td>` +
      `<td>${impact}</td><td class="nowrap">${e(t.postmortemWord(i.postmortem))}</td></tr>`
    );
  });
  return section(
    'incidents',
    text,
    table(
      text.sections.incidents,
      [t.reference, t.title, t.severity, t.status, t.started, t.duration, t.impact, t.postmortem],
      rows,
      [5],
    ),
  );
}

function actionItemsSection(report: MonthlyReport, text: HtmlText, f: Formats): string {
  const t = text.actionItems;
  const { opened, closed, overdue } = report.actionItems;
  const priorities = [
    ...new Set([...Object.keys(opened), ...Object.keys(closed), ...Object.keys(overdue)]),
  ].sort();
  if (priorities.length === 0) return section('actionItems', text, `<p>${e(t.none)}</p>`);
  const cell = (counts: Readonly<Record<string, number>>, p: string) => f.number(counts[p] ?? 0, 0);
  const sum = (counts: Readonly<Record<string, number>>) =>
    f.number(
      Object.values(counts).reduce((a, b) => a + b, 0),
      0,
    );
  const rows = priorities.map(
    (p) =>
      `<tr><th scope="row">${e(p)}</th><td class="num">${e(cell(opened, p))}</td><td class="num">${e(cell(closed, p))}</td><td class="num${(overdue[p] ?? 0) > 0 ? ' down' : ''}">${e(cell(overdue, p))}</td></tr>`,
  );
  rows.push(
    `<tr class="total"><th scope="row">${e(t.total)}</th><td class="num">${e(sum(opened))}</td><td class="num">${e(sum(closed))}</td><td class="num">${e(sum(overdue))}</td></tr>`,
  );
  return section(
    'actionItems',
    text,
    table(text.sections.actionItems, [t.priority, t.opened, t.closed, t.overdue], rows, [1, 2, 3]),
  );
}

function risksSection(report: MonthlyReport, text: HtmlText, f: Formats, base: string | undefined): string {
  const t = text.risks;
  if (report.risks.length === 0) return section('risks', text, `<p>${e(t.none)}</p>`);
  const rows = report.risks.map(
    (r) =>
      `<tr><th scope="row">${linked(r.name, r.link, base)}</th><td>${e(r.service)}</td><td>${e(r.slo ?? text.noValue)}</td>` +
      `<td class="num">${e(f.number(r.badMinutesPerYear))}</td><td class="num">${e(f.number(r.yearlyBudgetMinutes))}</td>` +
      `<td class="num">${e(f.percent(r.shareOfYearlyBudget))}<br>${r.tooBig ? `<span class="badge missed">${e(t.tooBig)}</span>` : `<span class="sub">${e(t.fits)}</span>`}</td></tr>`,
  );
  return section(
    'risks',
    text,
    table(
      text.sections.risks,
      [t.name, t.service, t.slo, t.badMinutes, t.yearlyBudget, t.share],
      rows,
      [3, 4, 5],
    ),
  );
}

function alertsSection(report: MonthlyReport, text: HtmlText, f: Formats, chart: ChartSvg | null): string {
  const t = text.alerts;
  const { noiseShare, medianDetectionMs } = report.alerts;
  const figures =
    `<dl class="figures"><div><dt>${e(t.noiseShare)}</dt><dd>${noiseShare === null ? e(t.notMarked) : e(f.percent(noiseShare))}</dd></div>` +
    `<div><dt>${e(t.medianDetection)}</dt><dd>${medianDetectionMs === null ? e(t.noDetection) : e(f.duration(medianDetectionMs))}</dd></div></dl>`;
  return section('alerts', text, figures + (chart ? figure(chart, 'alerts') : ''));
}

function deliverySection(report: MonthlyReport, text: HtmlText, f: Formats): string {
  const t = text.delivery;
  const d = report.delivery;
  if (!d) return section('delivery', text, `<p>${e(t.none)}</p>`);
  const level = (key: string) => {
    const value = d.levels[key];
    return value ? e(t.levelWord(value)) : e(text.noValue);
  };
  const value = (n: number | null, show: (n: number) => string) => (n === null ? text.noValue : show(n));
  const metrics: Array<[string, string, string]> = [
    [t.deployments, f.number(d.deployments, 0), 'deploymentFrequency'],
    [t.leadTime, value(d.leadTimeMedianMs, f.duration), 'leadTime'],
    [t.changeFailRate, value(d.changeFailRate, f.percent), 'changeFailRate'],
    [t.recoveryTime, value(d.recoveryMedianMs, f.duration), 'recoveryTime'],
    [t.reworkRate, value(d.reworkRate, f.percent), 'reworkRate'],
  ];
  const known = new Set(metrics.map(([, , key]) => key));
  const rows = metrics.map(
    ([label, shown, key]) =>
      `<tr><th scope="row">${e(label)}</th><td class="num">${e(shown)}</td><td>${level(key)}</td></tr>`,
  );
  for (const key of Object.keys(d.levels).filter((k) => !known.has(k))) {
    rows.push(
      `<tr><th scope="row">${e(key)}</th><td class="num">${e(text.noValue)}</td><td>${level(key)}</td></tr>`,
    );
  }
  return section(
    'delivery',
    text,
    table(text.sections.delivery, [t.metric, t.value, t.level], rows, [1]) +
      `<p class="sub">${e(t.benchmark(d.benchmarkYear))}</p>`,
  );
}

/** Body text fonts per language: local faces only (nothing is downloaded). */
const BODY_FONTS: Readonly<Record<ReportLanguage, string>> = {
  en: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", "Noto Sans CJK JP", IPAPGothic, sans-serif',
  ja: '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", Meiryo, "Noto Sans CJK JP", IPAPGothic, IPAGothic, system-ui, sans-serif',
};

function css(language: ReportLanguage): string {
  return `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font-family:${BODY_FONTS[language]};color:#1a1a1a;background:#fff;line-height:1.5;font-size:15px}
main{max-width:60rem;margin:0 auto;padding:1rem}
header.report{border-bottom:3px solid #1f5fa8;margin-bottom:1rem;padding-bottom:.5rem}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.25rem;margin:0 0 .5rem;color:#123f73;border-bottom:1px solid #c8c8c8;padding-bottom:.2rem}
.meta{margin:.1rem 0;color:#444}
nav ol{display:flex;flex-wrap:wrap;gap:.3rem 1rem;padding:0;margin:.5rem 0;list-style:none}
a{color:#0b4f9c}
a:focus{outline:2px solid #0b4f9c;outline-offset:2px}
.section{margin:1.5rem 0}
.lead{font-weight:600}
.table-wrap{overflow-x:auto;max-width:100%}
.table-wrap:focus{outline:2px solid #0b4f9c;outline-offset:2px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-size:.8rem;color:#444;padding:.2rem 0}
th,td{border-bottom:1px solid #d6d6d6;padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{background:#eef2f7;color:#1a1a1a;white-space:nowrap}
.nowrap{white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sub{color:#4a4a4a;font-size:.8rem;font-weight:normal}
.badge{display:inline-block;padding:0 .4rem;border-radius:.25rem;font-weight:600;font-size:.85rem;white-space:nowrap}
.met{background:#e3f1e6;color:#1d5c2b}
.missed{background:#fbe4e0;color:#8e2410}
.nodata{background:#ececec;color:#3d3d3d}
.gate{font-size:.8rem;font-weight:600}
.gate-deny{color:#8e2410}.gate-warn{color:#7a5300}.gate-allow{color:#1d5c2b}
.up{color:#1d5c2b}.down{color:#8e2410}
tr.total th,tr.total td{font-weight:700;border-top:2px solid #999}
.todo-list{padding-left:1.5rem}
.todo{margin:.3rem 0}
.kind{display:inline-block;font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.03em;color:#3d3d3d;border:1px solid #999;border-radius:.2rem;padding:0 .3rem;margin-right:.3rem}
ul.plain{margin:0;padding:0;list-style:none}
figure.chart{margin:.5rem 0 1rem}
figure.chart svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.8rem;color:#444;margin-top:.3rem}
dl.figures{display:flex;flex-wrap:wrap;gap:.5rem 2rem;margin:.5rem 0}
dl.figures dt{font-size:.8rem;color:#444}
dl.figures dd{margin:0;font-size:1.2rem;font-weight:700}
footer{margin-top:2rem;font-size:.8rem;color:#444;border-top:1px solid #c8c8c8;padding-top:.5rem}
@media (max-width:40rem){
  body{font-size:14px}
  main{padding:.6rem}
  h1{font-size:1.3rem}
  th,td{padding:.3rem}
}
@page{size:A4;margin:14mm 12mm}
@media print{
  body{font-size:10.5pt}
  main{max-width:none;padding:0}
  nav{display:none}
  .section{margin:1rem 0 0}
  #section-trend,#section-incidents,#section-risks,#section-alerts{break-before:page;page-break-before:always;margin:0}
  h2{break-after:avoid;page-break-after:avoid}
  tr,figure,li{break-inside:avoid;page-break-inside:avoid}
  .table-wrap{overflow:visible}
  a{color:#0b4f9c;text-decoration:none}
  thead{display:table-header-group}
}`;
}

/**
 * The report as one HTML document. Charts are rendered by Vega (asynchronous); a report without
 * trend months or alert weeks has no chart for them.
 */
export async function renderReportHtml(report: MonthlyReport, options: HtmlOptions = {}): Promise<string> {
  const text = HTML_TEXT[report.language];
  const f = formats(report.language, report.timeZone);
  const base = options.baseUrl;
  const [trend, alerts] = await Promise.all([
    report.trend.length > 0 ? trendChart(report) : Promise.resolve(null),
    report.alerts.weeks.length > 0 ? alertsChart(report) : Promise.resolve(null),
  ]);
  const title = text.title(report.product.name);
  const period = text.period(report.month, report.timeZone);
  const nav = `<nav aria-label="${e(text.contents)}"><ol>${SECTION_IDS.map(
    (id) => `<li><a href="#${sectionAnchor(id)}">${e(text.sections[id])}</a></li>`,
  ).join('')}</ol></nav>`;
  const header =
    `<header class="report"><h1>${e(title)}</h1>` +
    `<p class="meta">${e(period)}</p>` +
    `<p class="meta">${e(text.services)}: ${e(report.product.services.join(', '))}</p></header>`;
  const body = [
    verdictSection(report, text, f, base),
    todoSection(report, text, f, base),
    trendSection(report, text, f, trend),
    incidentsSection(report, text, f, base),
    actionItemsSection(report, text, f),
    risksSection(report, text, f, base),
    alertsSection(report, text, f, alerts),
    deliverySection(report, text, f),
  ].join('\n');
  const footer = `<footer>${e(text.generatedAt)}: ${e(f.dateTime(report.generatedAtMs))} (${e(report.timeZone)}) · Shinrai</footer>`;
  return `<!doctype html>
<html lang="${report.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${e(`${title} — ${period}`)}</title>
<style>${css(report.language)}</style>
</head>
<body>
<main>
${header}
${nav}
${body}
${footer}
</main>
</body>
</html>
`;
}
