/**
 * The status pages as HTML: no script, inline CSS only (the routes send a CSP that forbids
 * anything else), readable on a phone and on a wall screen. Every interpolated value goes through
 * `escapeHtml`; public notes are markdown and go through the shared sanitiser.
 */
import { DateTime } from 'luxon';
import { renderMarkdown } from '../platform/markdown.js';
import type {
  DayBar,
  InternalComponent,
  InternalIncident,
  InternalStatusView,
  PublicComponent,
  PublicIncident,
  PublicStatusView,
} from './status-page.js';
import { fill, type Lang, type StatusPageTexts, TEXTS } from './status-page-i18n.js';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe inside an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** 0.99957 → "99.95%": truncated, so a day with any failure never reads as 100%. */
export function formatPercent(availability: number): string {
  const hundredths = Math.floor(availability * 10_000 + 1e-9);
  return `${(hundredths / 100).toFixed(2)}%`;
}

/** An ISO time as local `yyyy-MM-dd HH:mm` in the page's zone. */
export function formatTime(isoTime: string, timeZone: string): string {
  return DateTime.fromISO(isoTime, { zone: 'utc' }).setZone(timeZone).toFormat('yyyy-MM-dd HH:mm');
}

/** The tooltip of one bar: its date and figure (the test of the JSON reads this back). */
export function barTitle(bar: DayBar, t: StatusPageTexts): string {
  return `${bar.date}: ${bar.availability === null ? t.noData : formatPercent(bar.availability)}`;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--card:#f6f8fa;--line:#d0d7de;
--ok:#2e7d32;--degraded:#b26a00;--down:#c62828;--none:#c9ced4}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9aa4ae;--bg:#0d1117;--card:#161b22;--line:#30363d;--none:#3a4048}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:clamp(15px,0.6vw + 12px,24px)/1.5 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif}
.page{max-width:72em;margin:0 auto;padding:1em}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:.5em}
h1{font-size:1.6em;margin:.3em 0}h2{font-size:1.25em;margin:1.2em 0 .5em}h3{font-size:1.05em;margin:0}
nav a{margin-left:.6em;color:inherit}
.overall{padding:.8em 1em;border-radius:.4em;font-weight:600;border-left:.4em solid var(--ok);background:var(--card)}
.overall.s-degraded{border-color:var(--degraded)}.overall.s-partial-outage,.overall.s-major-outage{border-color:var(--down)}
ul.cards,ol.updates,ol.timeline{list-style:none;margin:0;padding:0}
.cards>li{background:var(--card);border:1px solid var(--line);border-radius:.4em;padding:.8em 1em;margin:0 0 .8em}
.head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.4em}
.state{font-weight:600}.state.s-degraded{color:var(--degraded)}.state.s-partial-outage,.state.s-major-outage{color:var(--down)}.state.s-operational{color:var(--ok)}
.tag{font-size:.8em;border:1px solid var(--line);border-radius:1em;padding:0 .5em;margin-left:.3em;color:var(--muted)}
ol.bars{display:flex;gap:1px;list-style:none;margin:.6em 0 .2em;padding:0;height:2.2em}
ol.bars>li{flex:1 1 0;min-width:0;display:flex}
ol.bars span{flex:1;border-radius:1px;background:var(--none)}
ol.bars>li.l-ok>span{background:var(--ok)}
ol.bars>li.l-degraded>span{background:repeating-linear-gradient(135deg,var(--degraded) 0 3px,transparent 3px 5px),var(--degraded);opacity:.85}
ol.bars>li.l-down>span{background:var(--down)}
ol.bars>li.l-no-data>span{background:transparent;border:1px solid var(--none)}
.figure,.muted,footer{color:var(--muted);font-size:.9em}
.updates>li,.timeline>li{border-top:1px solid var(--line);padding:.5em 0}
.md p{margin:.2em 0}.md pre{white-space:pre-wrap}
time{font-variant-numeric:tabular-nums}
footer{margin-top:2em}
`;

function page(lang: Lang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<div class="page">
${body}
</div>
</body>
</html>
`;
}

function languageLinks(t: StatusPageTexts): string {
  return `<nav aria-label="${escapeHtml(t.language)}"><a href="?lang=en" hreflang="en" lang="en">English</a><a href="?lang=ja" hreflang="ja" lang="ja">日本語</a></nav>`;
}

function barsList(component: PublicComponent, days: number, t: StatusPageTexts): string {
  const items = component.bars
    .map((bar) => {
      const title = barTitle(bar, t);
      return `<li class="l-${bar.level}"><span role="img" title="${escapeHtml(title)}" aria-label="${escapeHtml(`${title} (${t.levels[bar.level]})`)}"></span></li>`;
    })
    .join('');
  return `<ol class="bars" aria-label="${escapeHtml(fill(t.barsLabel, { days }))}">${items}</ol>`;
}

function figure(component: PublicComponent, days: number, t: StatusPageTexts): string {
  const value = component.availability === null ? t.noData : formatPercent(component.availability);
  return `<p class="figure">${escapeHtml(fill(t.overDays, { value, days }))}</p>`;
}

function stateLabel(state: PublicComponent['state'], t: StatusPageTexts): string {
  return `<span class="state s-${state}">${escapeHtml(t.states[state])}</span>`;
}

function componentCard(component: PublicComponent, t: StatusPageTexts, tags = ''): string {
  const days = component.bars.length;
  return `<li><div class="head"><h3>${escapeHtml(component.name)}${tags}</h3>${stateLabel(component.state, t)}</div>${barsList(component, days, t)}${figure(component, days, t)}</li>`;
}

function timeTag(at: string, timeZone: string): string {
  return `<time datetime="${escapeHtml(at)}">${escapeHtml(formatTime(at, timeZone))}</time>`;
}

function incidentCard(incident: PublicIncident, timeZone: string, t: StatusPageTexts): string {
  const headline = `${incident.components.join(', ')}: ${t.states[incident.impact]}`;
  const updates = incident.updates
    .map((u) => `<li>${timeTag(u.at, timeZone)}<div class="md">${u.html}</div></li>`)
    .join('');
  return `<li><article><div class="head"><h3>${escapeHtml(headline)}</h3><span class="state s-${incident.status === 'resolved' ? 'operational' : incident.impact}">${escapeHtml(t.statuses[incident.status])}</span></div><h4 class="muted">${escapeHtml(t.updates)}</h4><ol class="updates">${updates}</ol></article></li>`;
}

function header(title: string, overall: PublicStatusView['overall'], t: StatusPageTexts): string {
  return `<header><h1>${escapeHtml(title)}</h1>${languageLinks(t)}</header>
<p class="overall s-${overall}" role="status">${escapeHtml(t.overall[overall])}</p>`;
}

function footer(view: { generatedAt: string; timeZone: string }, t: StatusPageTexts, extra = ''): string {
  return `<footer><p>${escapeHtml(fill(t.timesIn, { zone: view.timeZone }))} ${escapeHtml(fill(t.generatedAt, { time: formatTime(view.generatedAt, view.timeZone) }))}</p><p>${escapeHtml(t.legend)}</p>${extra}</footer>`;
}

/**
 * The public page: exactly the fields of the public view model, nothing else (plus, when
 * subscriptions are on, the subscribe form the caller rendered).
 */
export function renderPublicPage(view: PublicStatusView, lang: Lang, subscribeSection = ''): string {
  const t = TEXTS[lang];
  const incidents = view.incidents.length
    ? `<ul class="cards">${view.incidents.map((i) => incidentCard(i, view.timeZone, t)).join('')}</ul>`
    : `<p class="muted">${escapeHtml(t.noIncidents)}</p>`;
  const components = view.components.length
    ? `<ul class="cards">${view.components.map((c) => componentCard(c, t)).join('')}</ul>`
    : `<p class="muted">${escapeHtml(t.noComponents)}</p>`;
  return page(
    lang,
    view.title,
    `${header(view.title, view.overall, t)}
<main>
<section aria-labelledby="incidents"><h2 id="incidents">${escapeHtml(t.incidents)}</h2>${incidents}</section>
<section aria-labelledby="components"><h2 id="components">${escapeHtml(t.components)}</h2>${components}</section>
${subscribeSection}</main>
${footer(view, t, `<p><a href="status.json">${escapeHtml(t.json)}</a></p>`)}`,
  );
}

function internalIncidentCard(incident: InternalIncident, timeZone: string, t: StatusPageTexts): string {
  const events = incident.timeline
    .map((e) => {
      // Notes are people's markdown; other events are Shinrai's own lines (which quote titles).
      const text = e.kind === 'note' ? renderMarkdown(e.text) : `<p>${escapeHtml(e.text)}</p>`;
      return `<li>${timeTag(e.at, timeZone)} <span class="tag">${escapeHtml(e.kind)}</span><span class="tag">${escapeHtml(e.public ? t.publicEvent : t.internalEvent)}</span> <span class="muted">${escapeHtml(e.actor)}</span><div class="md">${text}</div></li>`;
    })
    .join('');
  const drill = incident.drill ? `<span class="tag">${escapeHtml(t.drill)}</span>` : '';
  return `<li><article><div class="head"><h3>${escapeHtml(`${incident.reference} ${incident.title}`)}${drill}</h3><span class="state">${escapeHtml(`${incident.severity} · ${incident.status}`)}</span></div><p class="muted">${escapeHtml(`${t.services}: ${incident.services.join(', ') || '—'}`)}</p><h4 class="muted">${escapeHtml(t.timeline)}</h4><ol class="timeline">${events}</ol></article></li>`;
}

function internalTags(component: InternalComponent, t: StatusPageTexts): string {
  const visibility = component.public ? t.publicComponent : t.privateComponent;
  return ` <span class="tag">${escapeHtml(component.service)}</span><span class="tag">${escapeHtml(visibility)}</span>`;
}

/** The internal page: every service and open incident with its whole timeline. */
export function renderInternalPage(view: InternalStatusView, lang: Lang): string {
  const t = TEXTS[lang];
  const title = `${view.title} (${t.internalTitle})`;
  const incidents = view.incidents.length
    ? `<ul class="cards">${view.incidents.map((i) => internalIncidentCard(i, view.timeZone, t)).join('')}</ul>`
    : `<p class="muted">${escapeHtml(t.noOpenIncidents)}</p>`;
  const components = view.components.length
    ? `<ul class="cards">${view.components.map((c) => componentCard(c, t, internalTags(c, t))).join('')}</ul>`
    : `<p class="muted">${escapeHtml(t.noComponents)}</p>`;
  return page(
    lang,
    title,
    `${header(title, view.overall, t)}
<p class="muted">${escapeHtml(t.internalNote)}</p>
<main>
<section aria-labelledby="incidents"><h2 id="incidents">${escapeHtml(t.openIncidents)}</h2>${incidents}</section>
<section aria-labelledby="components"><h2 id="components">${escapeHtml(t.components)}</h2>${components}</section>
</main>
${footer(view, t)}`,
  );
}
