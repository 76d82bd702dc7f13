/**
 * The monthly report's charts: Vega-Lite specs compiled with vega-lite and rendered to SVG strings
 * by Vega's View in Node (no canvas, no browser). Fonts are a list that reaches a Japanese font on
 * Debian (IPAGothic) so Japanese labels render. The SVG is made ready to inline in HTML: no
 * namespace URIs, role="img" with a <title> and <desc> for assistive technology.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { formats, HTML_TEXT } from './html-text.js';
import type { MonthlyReport, ReportLanguage } from './model.js';

/** Font families for chart text, per language; each ends with a Japanese-capable face. */
export const CHART_FONTS: Readonly<Record<ReportLanguage, string>> = {
  en: 'DejaVu Sans, Helvetica, Arial, IPAPGothic, Noto Sans CJK JP, sans-serif',
  ja: 'IPAPGothic, IPAGothic, Noto Sans CJK JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif',
};

/** Colour-blind-safe categories with at least 3:1 contrast on white. */
const PALETTE = ['#1f5fa8', '#c4461b', '#2a7d3a', '#7b3fa0', '#8a6d00', '#b8245a', '#006d77', '#5b5b5b'];

export interface ChartSvg {
  /** The SVG element, ready to inline. */
  readonly svg: string;
  readonly title: string;
  /** A sentence a screen reader (and a reader of the printout) gets instead of the picture. */
  readonly summary: string;
}

function config(language: ReportLanguage): vl.TopLevelSpec['config'] {
  const font = CHART_FONTS[language];
  return {
    font,
    aria: false,
    background: 'white',
    view: { stroke: '#c8c8c8' },
    range: { category: PALETTE },
    axis: { labelFont: font, titleFont: font, labelColor: '#222', titleColor: '#222', labelFontSize: 11 },
    legend: {
      labelFont: font,
      titleFont: font,
      labelColor: '#222',
      titleColor: '#222',
      orient: 'bottom',
      direction: 'vertical',
      labelLimit: 420,
    },
    header: { labelFont: font, titleFont: font },
    title: { font, color: '#222' },
  };
}

const escapeXml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

async function render(spec: vl.TopLevelSpec, id: string, title: string, summary: string): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return accessibleSvg(svg, id, title, summary);
  } finally {
    view.finalize();
  }
}

/**
 * Makes Vega's SVG inline-ready: drops the namespace declarations (HTML's parser puts <svg> in the
 * SVG namespace itself, and no URL is left in the document), and names the picture.
 */
export function accessibleSvg(svg: string, id: string, title: string, summary: string): string {
  const open = svg.indexOf('>');
  const head = svg
    .slice(0, open)
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
    .replace(/\s+(role|aria-[a-z]+)="[^"]*"/g, '');
  return (
    `${head} role="img" aria-labelledby="${id}-title ${id}-desc">` +
    `<title id="${id}-title">${escapeXml(title)}</title><desc id="${id}-desc">${escapeXml(summary)}</desc>` +
    // The picture is one image: the marks' own roles (graphics-symbol…) would be unnamed images
    // inside it. Only tags are touched: text from the data has its `<` escaped, so it is no tag.
    svg
      .slice(open + 1)
      .replace(/<[^>]*>/g, (tag) => tag.replace(/\s(role|aria-roledescription|aria-label)="[^"]*"/g, ''))
  );
}

/** Attainment and budget consumed per SLO over the trend's months (report's month last). */
export async function trendChart(report: MonthlyReport): Promise<ChartSvg> {
  const text = HTML_TEXT[report.language];
  const f = formats(report.language, report.timeZone);
  const rows = report.trend.flatMap((m) =>
    m.slos.map((s) => ({
      month: f.shortMonth(m.month),
      order: m.month,
      slo: s.slo,
      attainment: s.attainment,
      consumed: s.consumedShare,
    })),
  );
  const order = [...new Set(report.trend.map((m) => f.shortMonth(m.month)))];
  const x = {
    field: 'month',
    type: 'ordinal' as const,
    sort: order,
    title: text.trend.monthAxis,
    axis: { labelAngle: 0 },
  };
  const color = { field: 'slo', type: 'nominal' as const, title: text.trend.sloLegend };
  const spec: vl.TopLevelSpec = {
    data: { values: rows },
    config: config(report.language),
    vconcat: [
      {
        width: 560,
        height: 170,
        transform: [{ filter: 'datum.attainment != null' }],
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x,
          y: {
            field: 'attainment',
            type: 'quantitative',
            scale: { zero: false },
            title: text.trend.attainmentAxis,
            axis: { format: '.2%', tickCount: 5 },
          },
          color,
        },
      },
      {
        width: 560,
        height: 150,
        transform: [{ filter: 'datum.consumed != null' }],
        mark: { type: 'line', point: true, strokeWidth: 2, strokeDash: [5, 3] },
        encoding: {
          x,
          y: {
            field: 'consumed',
            type: 'quantitative',
            title: text.trend.consumedAxis,
            axis: { format: '.0%', tickCount: 5 },
          },
          color,
        },
      },
    ],
  };
  const last = report.trend.at(-1);
  const first = report.trend[0];
  const summary =
    last && first
      ? last.slos
          .map((s) => {
            const from = first.slos.find((p) => p.slo === s.slo)?.attainment;
            return text.trend.summary(
              s.slo,
              from == null ? text.noValue : f.nines(from),
              s.attainment == null ? text.noValue : f.nines(s.attainment),
              s.consumedShare == null ? text.noValue : f.percent(s.consumedShare),
            );
          })
          .join(' ')
      : text.trend.none;
  const title = text.trend.chartTitle;
  return { svg: await render(spec, 'trend-chart', title, summary), title, summary };
}

/** Pages and tickets per week (grouped bars). */
export async function alertsChart(report: MonthlyReport): Promise<ChartSvg> {
  const text = HTML_TEXT[report.language];
  const f = formats(report.language, report.timeZone);
  const weeks = report.alerts.weeks.map((w) => ({ ...w, label: f.shortDate(w.start) }));
  const rows = weeks.flatMap((w) => [
    { week: w.label, kind: text.alerts.pages, count: w.pages },
    { week: w.label, kind: text.alerts.tickets, count: w.tickets },
  ]);
  const spec: vl.TopLevelSpec = {
    data: { values: rows },
    config: config(report.language),
    width: 560,
    height: 180,
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'week',
        type: 'ordinal',
        sort: weeks.map((w) => w.label),
        title: text.alerts.weekAxis,
        axis: { labelAngle: 0 },
      },
      xOffset: { field: 'kind', type: 'nominal', sort: [text.alerts.pages, text.alerts.tickets] },
      y: { field: 'count', type: 'quantitative', title: text.alerts.countAxis, axis: { tickMinStep: 1 } },
      color: {
        field: 'kind',
        type: 'nominal',
        title: text.alerts.kindLegend,
        sort: [text.alerts.pages, text.alerts.tickets],
        scale: { range: ['#c4461b', '#1f5fa8'] },
      },
    },
  };
  const pages = weeks.reduce((sum, w) => sum + w.pages, 0);
  const tickets = weeks.reduce((sum, w) => sum + w.tickets, 0);
  const summary = `${text.alerts.summary(pages, tickets, weeks.length)} ${weeks
    .map(
      (w) =>
        `${text.alerts.weekOf(w.label)}: ${text.alerts.pages} ${w.pages}, ${text.alerts.tickets} ${w.tickets}.`,
    )
    .join(' ')}`;
  const title = text.alerts.chartTitle;
  return { svg: await render(spec, 'alerts-chart', title, summary), title, summary };
}
