/**
 * The status page through HTTP on both databases: /status and /status.json need no token (with
 * anonymous read off), /status/internal needs a viewer; the public page shows exactly the fields of
 * /status.json and none of the private ones, no script survives in titles or notes, and the daily
 * bars equal Σgood/Σtotal of the seeded minutes, cut into Tokyo days.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barTitle, escapeHtml, formatTime } from '../src/incidents/status-page-html.js';
import { TEXTS } from '../src/incidents/status-page-i18n.js';
import { STATUS_PAGE_CSP } from '../src/incidents/status-page-routes.js';
import { PAST_DAYS_TTL_MS } from '../src/incidents/status-page-service.js';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;
const DAY = 1440 * MIN;
const ZONE = 'Asia/Tokyo';
/** 12:00 in Tokyo on 2026-10-10. */
const T0 = Date.UTC(2026, 9, 10, 3, 0);
const SEEDED_FROM = T0 - 4 * DAY;

const XSS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '[x](javascript:alert(1))',
  '"><svg onload=alert(1)>',
];

/** Strings that exist only in private fields; none may reach the public page or its JSON. */
const PRIVATE = {
  service: 'ledger',
  serviceDisplay: 'Ledger Backoffice',
  serviceId: 'storefront',
  serviceDisplayOfPublic: 'Storefront Internal Display',
  title: 'Ledger reconciliation lag INTERNAL-TITLE',
  summary: 'SUMMARY-SECRET about the ledger',
  note: 'PRIVATE-NOTE-TEXT: rolled back the db primary',
  person: 'Alice Privatename',
  label: 'LABEL-SECRET-ACME',
  hiddenSlo: 'storefront-batch-jobs',
  privateSlo: 'ledger-availability',
  drillNote: 'DRILL-PUBLIC-NOTE',
  cancelledNote: 'CANCELLED-PUBLIC-NOTE',
  privateServiceNote: 'PRIVATE-SERVICE-PUBLIC-NOTE',
  unannouncedTitle: 'UNANNOUNCED-SEV1',
} as const;

const SPECS = `apiVersion: openslo/v1
kind: Service
metadata:
  name: storefront
  displayName: ${PRIVATE.serviceDisplayOfPublic}
  annotations:
    shinrai.dev/public: "true"
    shinrai.dev/public-name: Web shop
spec: {}
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: ledger
  displayName: ${PRIVATE.serviceDisplay}
spec: {}
---
${ratioSloYaml('storefront-availability', { service: 'storefront', target: 0.99, sli: 'storefront-requests' })}---
${ratioSloYaml(PRIVATE.hiddenSlo, { service: 'storefront', target: 0.99, sli: 'storefront-batch' }).replace(
  `name: ${PRIVATE.hiddenSlo}}`,
  `name: ${PRIVATE.hiddenSlo}, annotations: {shinrai.dev/public: "false"}}`,
)}---
${ratioSloYaml(PRIVATE.privateSlo, { service: 'ledger', target: 0.999, sli: 'ledger-requests' })}`;

/** The seeded minutes of storefront-requests: 100 a minute, some failing, a bad hour on one day. */
function storefrontMinute(minuteMs: number): { good: number; total: number } {
  const index = (minuteMs - SEEDED_FROM) / MIN;
  const badHour = minuteMs >= T0 - 2 * DAY && minuteMs < T0 - 2 * DAY + 60 * MIN;
  return { good: badHour ? 40 : 100 - (index % 11 === 0 ? 7 : 0), total: 100 };
}

/** Every key path of a JSON value: arrays as `[]`. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keyPaths(v, `${prefix}[]`));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

/** No script element, no event-handler attribute, no javascript: URL anywhere in a tag. */
function expectNoScript(html: string): void {
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/javascript:/i);
  for (const tag of html.match(/<[^>]*>/g) ?? []) expect(tag).not.toMatch(/\son[a-z]+\s*=/i);
}

describe.each(DIALECTS)('status page on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let editor: string;
  let viewer: string;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-status-'));
    await writeFile(join(dir, 'specs.yaml'), SPECS);
    server = await startTestServer(dialect, {
      specs: dir,
      clock,
      anonymousRead: false,
      config: { 'statusPage.timeZone': ZONE, 'statusPage.days': 10, 'statusPage.title': 'Shop status' },
    });
    editor = await server.token('editor');
    viewer = await server.token('viewer');
    const db = server.shinrai.ctx.db;
    const rows = [];
    for (let minuteMs = SEEDED_FROM; minuteMs < T0; minuteMs += MIN) {
      rows.push({ storageKey: 'storefront-requests', minuteMs, ...storefrontMinute(minuteMs) });
      // All bad, on an SLO marked public: "false" and on the private service: never in public bars.
      rows.push({ storageKey: 'storefront-batch', minuteMs, good: 0, total: 1000 });
      rows.push({ storageKey: 'ledger-requests', minuteMs, good: 0, total: 1000 });
    }
    await upsertBuckets(db.kysely, rows, minuteStamp(db, T0));

    const declare = async (body: unknown) => {
      const response = await server.request('POST', '/api/v1/incidents', { token: editor, body });
      expect(response.status).toBe(201);
      return (await response.json()) as JsonBody;
    };
    const note = async (ref: string, text: string, isPublic: boolean) => {
      clock.advance(MIN);
      const response = await server.request('POST', `/api/v1/incidents/${ref}/notes`, {
        token: editor,
        body: { text, public: isPublic, starred: true },
      });
      expect(response.status).toBe(201);
    };
    const patch = async (ref: string, body: unknown) => {
      const response = await server.request('PATCH', `/api/v1/incidents/${ref}`, { token: editor, body });
      expect(response.status).toBe(200);
    };

    const main = await declare({
      title: PRIVATE.title,
      severity: 'SEV2',
      summary: PRIVATE.summary,
      services: ['storefront', 'ledger'],
      slos: [PRIVATE.privateSlo],
      labels: { customer: PRIVATE.label },
      runbooks: ['https://runbooks.example.com/ledger'],
    });
    await patch(main.reference, { roles: { commander: PRIVATE.person } });
    await note(main.reference, PRIVATE.note, false);
    for (const attack of XSS) await note(main.reference, attack, true);
    await note(main.reference, 'We are looking into **failed orders**.', true);

    const drill = await declare({ title: 'Drill', severity: 'SEV1', services: ['storefront'], drill: true });
    await note(drill.reference, PRIVATE.drillNote, true);
    const cancelled = await declare({ title: 'False alarm', severity: 'SEV1', services: ['storefront'] });
    await note(cancelled.reference, PRIVATE.cancelledNote, true);
    await patch(cancelled.reference, { status: 'cancelled' });
    const privateOnly = await declare({ title: 'Ledger only', severity: 'SEV1', services: ['ledger'] });
    await note(privateOnly.reference, PRIVATE.privateServiceNote, true);
    await declare({ title: PRIVATE.unannouncedTitle, severity: 'SEV1', services: ['storefront'] });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, options: { token?: string; headers?: Record<string, string> } = {}) =>
    server.request('GET', path, options);

  it('serves /status and /status.json without a token while anonymous read is off; /status/internal needs a viewer', async () => {
    const page = await get('/status');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
    expect(STATUS_PAGE_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('public, max-age=30');
    expect((await get('/status.json')).status).toBe(200);
    expect((await get('/api/v1/incidents')).status).toBe(401);
    const internal = await get('/status/internal');
    expect(internal.status).toBe(401);
    expect(internal.headers.get('content-type')).toContain('application/problem+json');
    const allowed = await get('/status/internal', { token: viewer });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
    expect(allowed.headers.get('cache-control')).toBe('private, no-store');
    // The API document lists what needs a token: the internal page, not the public ones.
    const openapi = await json(get('/api/openapi.json'));
    expect(Object.keys(openapi.paths).filter((path) => path.startsWith('/status'))).toEqual([
      '/status/internal',
    ]);
  });

  it('renders exactly these fields in /status.json', async () => {
    const view = await json(get('/status.json'));
    expect([...new Set(keyPaths(view))].sort()).toEqual(
      [
        'title',
        'generatedAt',
        'timeZone',
        'overall',
        'components[].name',
        'components[].state',
        'components[].availability',
        'components[].bars[].date',
        'components[].bars[].availability',
        'components[].bars[].level',
        'incidents[].components[]',
        'incidents[].impact',
        'incidents[].status',
        'incidents[].updates[].at',
        'incidents[].updates[].html',
        'incidents[].updates[].text',
      ].sort(),
    );
    expect(view).toMatchObject({ title: 'Shop status', timeZone: ZONE, overall: 'partial-outage' });
    expect(view.components.map((c: JsonBody) => [c.name, c.state])).toEqual([['Web shop', 'partial-outage']]);
    // Only the main incident: the drill, the cancelled one, the one on the private service and
    // the unannounced one stay off.
    expect(view.incidents).toHaveLength(1);
    expect(view.incidents[0]).toMatchObject({
      components: ['Web shop'],
      impact: 'partial-outage',
      status: 'investigating',
    });
    // Notes leave rendered and sanitised, and as plain text: never the raw markdown, so a consumer
    // that shows `text` or `html` as it is cannot be made to run a note's <script>.
    const updates = view.incidents[0].updates as Array<{ html: string; text: string }>;
    expect(updates[0]).toMatchObject({
      html: '<p>We are looking into <strong>failed orders</strong>.</p>\n',
      text: 'We are looking into failed orders.',
    });
    expect(updates).toHaveLength(1 + XSS.length);
    for (const update of updates) {
      expectNoScript(update.html);
      expect(update.html).not.toMatch(/<img|<svg|<iframe|onerror|onload/i);
      expect(update.text).not.toMatch(/<script|<img|<svg|javascript:|onerror|onload/i);
      expect(update.text).not.toContain('**');
    }
    // The <script> note's text is gone altogether; the link keeps its words, not its URL.
    expect(updates.map((u) => u.text)).toContain('x');
    expect(JSON.stringify(view)).not.toMatch(/<script|alert\(1\)/);
  });

  it('shows no private field on the public page or in its JSON', async () => {
    const html = await (await get('/status')).text();
    const text = await (await get('/status.json')).text();
    for (const body of [html, text]) {
      for (const secret of Object.values(PRIVATE))
        expect(body.toLowerCase()).not.toContain(secret.toLowerCase());
      expect(body).not.toMatch(/INC-\d/);
      expect(body).not.toContain('editor-');
      expect(body).not.toContain('runbooks.example.com');
      expect(body).not.toContain('SEV');
    }
  });

  it('writes every value of the page from /status.json', async () => {
    const view = await json(get('/status.json'));
    const html = await (await get('/status?lang=en')).text();
    const t = TEXTS.en;
    expect(html).toContain(`<title>${escapeHtml(view.title)}</title>`);
    expect(html).toContain(escapeHtml(t.overall[view.overall as 'partial-outage']));
    for (const component of view.components) {
      expect(html).toContain(`<h3>${escapeHtml(component.name)}</h3>`);
      expect(html).toContain(t.states[component.state as 'partial-outage']);
      for (const bar of component.bars) expect(html).toContain(`title="${escapeHtml(barTitle(bar, t))}"`);
    }
    for (const incident of view.incidents) {
      expect(html).toContain(
        escapeHtml(`${incident.components.join(', ')}: ${t.states[incident.impact as 'partial-outage']}`),
      );
      expect(html).toContain(t.statuses[incident.status as 'investigating']);
      for (const update of incident.updates)
        expect(html).toContain(`<time datetime="${update.at}">${formatTime(update.at, ZONE)}</time>`);
    }
    expect(html).toContain('<strong>failed orders</strong>');
  });

  it('leaves the XSS attempts inert on the public and internal pages', async () => {
    const pages = [
      await (await get('/status')).text(),
      await (await get('/status?lang=ja')).text(),
      await (await get('/status/internal', { token: viewer })).text(),
    ];
    for (const html of pages) {
      expectNoScript(html);
      expect(html).not.toMatch(/<img|<svg|<iframe/i);
    }
    // The internal page has what the public one leaves out, escaped.
    const internal = pages[2]!;
    expect(internal).toContain(escapeHtml(PRIVATE.title));
    expect(internal).toContain(escapeHtml(PRIVATE.note));
    expect(internal).toContain(PRIVATE.serviceDisplay);
    expect(internal).toMatch(/INC-1 /);
    expect(internal).toContain(TEXTS.en.drill);
    expect(internal).not.toContain(PRIVATE.cancelledNote);
  });

  it('gives daily bars equal to Σgood/Σtotal of the seeded minutes in Tokyo days, no-data before them', async () => {
    const view = await json(get('/status.json'));
    const bars: JsonBody[] = view.components[0].bars;
    expect(bars).toHaveLength(10);
    expect(bars.at(-1).date).toBe('2026-10-10');
    const expected = new Map<string, { good: number; total: number }>();
    for (let minuteMs = SEEDED_FROM; minuteMs < T0; minuteMs += MIN) {
      const date = DateTime.fromMillis(minuteMs, { zone: ZONE }).toISODate()!;
      const sum = expected.get(date) ?? { good: 0, total: 0 };
      const { good, total } = storefrontMinute(minuteMs);
      expected.set(date, { good: sum.good + good, total: sum.total + total });
    }
    expect(expected.size).toBe(5);
    let good = 0;
    let total = 0;
    for (const bar of bars) {
      const day = expected.get(bar.date);
      if (!day) {
        expect(bar).toEqual({ date: bar.date, availability: null, level: 'no-data' });
        continue;
      }
      good += day.good;
      total += day.total;
      expect(bar.availability).toBeCloseTo(day.good / day.total, 12);
      const bad = day.total - day.good;
      expect(bar.level).toBe(
        bad <= day.total * 0.01 ? 'ok' : bad > 10 * day.total * 0.01 ? 'down' : 'degraded',
      );
    }
    expect(bars.filter((b: JsonBody) => b.level === 'degraded').map((b: JsonBody) => b.date)).toEqual([
      '2026-10-08',
    ]);
    expect(view.components[0].availability).toBeCloseTo(good / total, 12);
  });

  it('shows today’s new minutes at once and late minutes of past days within ten minutes', async () => {
    const bar = async (date: string) =>
      (await json(get('/status.json'))).components[0].bars.find((b: JsonBody) => b.date === date);
    const today = await bar('2026-10-10');
    const past = await bar('2026-10-07');
    const db = server.shinrai.ctx.db;
    await upsertBuckets(
      db.kysely,
      [
        { storageKey: 'storefront-requests', minuteMs: T0, good: 0, total: 5000 },
        { storageKey: 'storefront-requests', minuteMs: T0 - 3 * DAY, good: 0, total: 5000 },
      ],
      minuteStamp(db, clock.now()),
    );
    expect((await bar('2026-10-10')).availability).toBeLessThan(today.availability);
    expect(await bar('2026-10-07')).toEqual(past);
    clock.advance(PAST_DAYS_TTL_MS);
    expect((await bar('2026-10-07')).availability).toBeLessThan(past.availability);
  });

  it('speaks Japanese with ?lang=ja or Accept-Language: ja', async () => {
    const ja = await (await get('/status?lang=ja')).text();
    expect(ja).toContain('<html lang="ja">');
    expect(ja).toContain(TEXTS.ja.incidents);
    expect(ja).toContain(`Web shop: ${TEXTS.ja.states['partial-outage']}`);
    expect(ja).toContain(TEXTS.ja.statuses.investigating);
    const negotiated = await (
      await get('/status', { headers: { 'accept-language': 'ja-JP,ja;q=0.9,en;q=0.5' } })
    ).text();
    expect(negotiated).toContain('<html lang="ja">');
    const english = await (await get('/status?lang=en', { headers: { 'accept-language': 'ja' } })).text();
    expect(english).toContain('<html lang="en">');
    expect(english).toContain(TEXTS.en.overall['partial-outage']);
  });

  it('shows a resolved incident as resolved for resolvedDays, then not at all', async () => {
    const resolved = await server.request('PATCH', '/api/v1/incidents/INC-1', {
      token: editor,
      body: { status: 'resolved' },
    });
    expect(resolved.status).toBe(200);
    const view = await json(get('/status.json'));
    expect(view.overall).toBe('operational');
    expect(view.incidents.map((i: JsonBody) => i.status)).toEqual(['resolved']);
    expect(await (await get('/status')).text()).toContain(TEXTS.en.statuses.resolved);
    clock.advance(8 * DAY);
    expect((await json(get('/status.json'))).incidents).toEqual([]);
  });
});
