import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ratioSloYaml } from '../../test/support/specs.js';
import { renderMarkdown } from '../platform/markdown.js';
import type { Catalog, ServiceDefinition, SloDefinition } from '../slo/index.js';
import { EMPTY_CATALOG, loadSpecText } from '../slo/index.js';
import type { Incident, TimelineEvent } from './service.js';
import {
  buildInternalStatus,
  buildPublicStatus,
  dayWindows,
  type PublicStatusView,
  type StatusPageInput,
} from './status-page.js';
import { escapeHtml, formatPercent, renderInternalPage, renderPublicPage } from './status-page-html.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0);
const BASE_SLO = loadSpecText('slo.yaml', ratioSloYaml('base')).catalog.slos[0]!;
const ATTACKS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '[x](javascript:alert(1))',
  '"><svg onload=alert(1)>',
  "'><iframe src=javascript:alert(1)>",
  '<a href="javascript:alert(1)" onclick="alert(1)">x</a>',
];

/** Tags the pages write themselves, plus what the markdown sanitiser lets through. */
const ALLOWED_TAG =
  /^<\/?(?:!doctype|html|head|meta|title|style|body|div|header|nav|main|section|footer|h[1-6]|p|ul|ol|li|span|a|article|time|br|hr|blockquote|pre|code|em|strong|del|table|thead|tbody|tr|th|td|input)[\s>/]/i;

/** Every `<` in the page starts a known tag, and no tag carries an event handler or a javascript: URL. */
function expectInert(html: string): void {
  for (const match of html.matchAll(/</g)) {
    const rest = html.slice(match.index, match.index + 40);
    expect(rest, rest).toMatch(ALLOWED_TAG);
  }
  expect(html).not.toMatch(/<script/i);
  for (const tag of html.match(/<[^>]*>/g) ?? []) {
    expect(tag).not.toMatch(/\son[a-z]+\s*=/i);
    expect(tag).not.toMatch(/javascript:/i);
  }
}

function service(name: string, overrides: Partial<ServiceDefinition> = {}): ServiceDefinition {
  return {
    name,
    labels: {},
    annotations: {},
    location: { file: 'x.yaml', line: 1, column: 1 },
    format: 'openslo/v1',
    ...overrides,
  };
}

function incident(overrides: Partial<Incident>): Incident {
  return {
    id: 'i1',
    number: 1,
    reference: 'INC-1',
    title: 't',
    summary: '',
    severity: 'SEV2',
    status: 'investigating',
    services: [],
    slos: [],
    labels: {},
    drill: false,
    runbooks: [],
    milestones: { detectedAt: NOW },
    createdAtMs: NOW,
    updatedAtMs: NOW,
    ...overrides,
  };
}

function note(text: string, isPublic: boolean, actor = 'alice'): TimelineEvent {
  return { id: text, atMs: NOW, kind: 'note', source: 'api', actor, text, starred: false, public: isPublic };
}

function input(catalog: Catalog, incidents: StatusPageInput['incidents']): StatusPageInput {
  return {
    catalog,
    incidents,
    days: dayWindows(NOW, 'UTC', 3),
    daily: new Map(),
    nowMs: NOW,
    title: 'Status <b>',
    timeZone: 'UTC',
    resolvedDays: 7,
  };
}

describe('status page HTML', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('truncates percentages so a day with failures never reads 100%', () => {
    expect(formatPercent(1)).toBe('100.00%');
    expect(formatPercent(0.99999)).toBe('99.99%');
    expect(formatPercent(0.9995)).toBe('99.95%');
    expect(formatPercent(0)).toBe('0.00%');
  });

  it('renders attacks in names and notes inert on both pages, with no script at all', () => {
    const catalog: Catalog = {
      ...EMPTY_CATALOG,
      services: ATTACKS.map((attack, i) =>
        service(`svc-${i}`, {
          displayName: attack,
          shinrai: { errorBudgetPolicy: [], noData: 'excluded', public: true, publicName: attack },
        }),
      ),
    };
    const incidents = ATTACKS.map((attack, i) => ({
      incident: incident({
        id: `i${i}`,
        number: i + 1,
        reference: `INC-${i + 1}`,
        title: attack,
        services: [`svc-${i}`],
      }),
      timeline: [note(attack, true, attack), note(attack, false)],
    }));
    const view = buildPublicStatus(input(catalog, incidents));
    expect(view.incidents).toHaveLength(ATTACKS.length);
    for (const lang of ['en', 'ja'] as const) {
      const html = renderPublicPage(view, lang);
      expectInert(html);
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expectInert(renderInternalPage(buildInternalStatus(input(catalog, incidents)), lang));
    }
  });

  it('renders every value of the public model and no script: property over arbitrary strings', () => {
    // Private fields carry a marker that must never reach the page; public ones may hold anything.
    const MARK = 'PRIVATEMARK';
    const text = fc.string({ maxLength: 40 });
    const anyText = fc.oneof(text, fc.constantFrom(...ATTACKS), fc.string({ unit: 'binary', maxLength: 20 }));
    const privateText = text.map((t) => `${MARK}${t}`);
    fc.assert(
      fc.property(
        fc.record({
          publicName: anyText.filter((t) => t.trim().length > 0),
          displayName: privateText,
          serviceName: privateText,
          privateService: privateText,
          privateDisplay: privateText,
          sloId: privateText,
          title: privateText,
          summary: privateText,
          rootCause: privateText,
          reference: privateText,
          label: privateText,
          person: privateText,
          privateNote: privateText,
          actor: privateText,
          runbook: privateText,
          publicNote: anyText.filter((t) => t.trim().length > 0),
          severity: fc.constantFrom('SEV1', 'SEV2', 'SEV3', 'SEV4' as const),
        }),
        (f) => {
          const slo: SloDefinition = { ...BASE_SLO, id: f.sloId, name: f.sloId, service: f.serviceName };
          const catalog: Catalog = {
            ...EMPTY_CATALOG,
            services: [
              service(f.serviceName, {
                displayName: f.displayName,
                shinrai: {
                  errorBudgetPolicy: [],
                  noData: 'excluded',
                  public: true,
                  publicName: f.publicName.trim(),
                },
              }),
              service(f.privateService, { displayName: f.privateDisplay }),
            ],
            slos: [slo],
          };
          const the = incident({
            title: f.title,
            summary: f.summary,
            rootCause: f.rootCause,
            reference: f.reference,
            severity: f.severity,
            services: [f.serviceName, f.privateService],
            slos: [f.sloId],
            labels: { [f.label]: f.label },
            roles: { commander: f.person },
            runbooks: [f.runbook],
          });
          const view = buildPublicStatus(
            input(catalog, [
              {
                incident: the,
                timeline: [note(f.privateNote, false, f.actor), note(f.publicNote, true, f.actor)],
              },
            ]),
          );
          const html = renderPublicPage(view, 'en');
          expectInert(html);
          expect(html).not.toContain(MARK);
          expect(JSON.stringify(view)).not.toContain(MARK);
          // The public name lands escaped, whole, in its heading and in the incident headline.
          const name = escapeHtml(view.components[0]!.name);
          expect(html).toContain(`<h3>${name}</h3>`);
          expect(html).toContain(`<h3>${name}: `);
        },
      ),
      { numRuns: 200 },
    );
  }, 30_000);

  it('writes the figures of the model into the page: tooltips, state words, update times', () => {
    const view: PublicStatusView = {
      title: 'Status',
      generatedAt: new Date(NOW).toISOString(),
      timeZone: 'Asia/Tokyo',
      overall: 'degraded',
      components: [
        {
          name: 'Checkout',
          state: 'degraded',
          availability: 0.99876,
          bars: [
            { date: '2026-11-22', availability: null, level: 'no-data' },
            { date: '2026-11-23', availability: 0.99876, level: 'degraded' },
          ],
        },
      ],
      incidents: [
        {
          components: ['Checkout'],
          impact: 'degraded',
          status: 'monitoring',
          updates: [
            { at: new Date(NOW).toISOString(), html: renderMarkdown('Fixed **it**'), text: 'Fixed it' },
          ],
        },
      ],
    };
    const en = renderPublicPage(view, 'en');
    expect(en).toContain('title="2026-11-23: 99.87%"');
    expect(en).toContain('title="2026-11-22: no data"');
    expect(en).toContain('<h3>Checkout: Degraded performance</h3>');
    expect(en).toContain('Monitoring');
    expect(en).toContain(`<time datetime="${view.incidents[0]!.updates[0]!.at}">2026-11-23 21:00</time>`);
    expect(en).toContain('<strong>it</strong>');
    const ja = renderPublicPage(view, 'ja');
    expect(ja).toContain('<html lang="ja">');
    expect(ja).toContain('Checkout: 性能低下');
    expect(ja).toContain('経過観察中');
  });
});
