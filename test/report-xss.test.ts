/**
 * Script payloads in everything a person can write that the monthly report shows — an SLO's
 * display name, its error-budget policy's action, the label value that names the product, an
 * incident's title, an action item's title, a risk's description — stay inert, on both databases:
 *
 * - HTML from the API (both languages) opened in Chromium with JavaScript on: no dialog, no
 *   script ran, no request left the page, no element or attribute the payloads carry, and each
 *   payload shown as text;
 * - the same HTML as an email client shows it (the HTML body of a mailed report is this renderer's
 *   output; mail clients ignore a <meta> Content-Security-Policy, so it is removed here): likewise;
 * - Markdown: no raw HTML and no link of its own, and rendered by a Markdown renderer (marked) and
 *   opened in Chromium, nothing runs or loads either.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked } from 'marked';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { launchBrowser } from './support/browser.js';
import { DIALECTS } from './support/databases.js';
import { json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const BASE = 'https://shinrai.example.com';
const EVIL = 'evil.example';

/** Ways out of HTML text, attributes, <style>, <title>, SVG and Markdown; each marks `window.__xss` if it runs. */
const PAYLOADS = [
  '<script>window.__xss=1;alert(1)</script>',
  '<img src=x onerror="window.__xss=2;alert(2)">',
  `<a href="javascript:window.__xss=3">click</a>`,
  '[click](javascript:window.__xss=4)',
  '</style><script>window.__xss=5</script><style>',
  '"><svg onload="window.__xss=6">',
  `'><iframe src="https://${EVIL}/frame"></iframe>`,
  '</title></desc></svg><script>window.__xss=7</script>',
  `![pixel](https://${EVIL}/pixel.png)`,
  `<style>@import url(https://${EVIL}/x.css);</style>`,
  `<link rel=stylesheet href="https://${EVIL}/y.css">`,
  '`code` *em* __strong__ | cell | <!-- comment',
  'javascript:window.__xss=8',
];
const hostile = (field: string, i: number) =>
  `${field} ${PAYLOADS[i % PAYLOADS.length]} ${PAYLOADS[(i + 5) % PAYLOADS.length]} ${PAYLOADS[(i + 9) % PAYLOADS.length]}`;

const FIELDS = {
  displayName: hostile('Checkout', 0),
  action: hostile('Freeze', 1),
  label: hostile('team', 2),
  incident: hostile('Outage', 3),
  item: hostile('Fix', 4),
  risk: hostile('Risk', 6),
};

const MONTH = '2026-02';
const ZONE = 'Asia/Tokyo';
const FROM_MS = Date.UTC(2026, 0, 31, 15);
const TO_MS = Date.UTC(2026, 1, 28, 15);

const specs = () => `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  displayName: ${JSON.stringify(FIELDS.displayName)}
  labels: {team: ${JSON.stringify(FIELDS.label)}}
  annotations:
    shinrai.dev/error-budget-policy: ${JSON.stringify(`- below: 50%\n  action: ${JSON.stringify(FIELDS.action)}\n  gate: deny`)}
spec:
  description: ${JSON.stringify(hostile('Description', 7))}
  service: checkout
  indicator:
    metadata: {name: checkout-requests}
    spec:
      ratioMetric:
        good: {metricSource: {type: shinrai, spec: {}}}
        total: {metricSource: {type: shinrai, spec: {}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
---
apiVersion: shinrai.dev/v1
kind: Risk
metadata: {name: card-network-timeout}
spec:
  service: checkout
  description: ${JSON.stringify(FIELDS.risk)}
  ettd: 5m
  ettr: 30m
  impact: 100%
  ettf: 30d
  slos: [checkout-availability]
`;

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

interface Opened {
  dialogs: string[];
  requests: string[];
  ran: unknown;
  scripts: number;
  embedded: string[];
  handlers: string[];
  hrefs: string[];
  text: string;
}

/** Opens `html` in Chromium with JavaScript on: what ran, what was asked for, what the DOM holds. */
async function open(html: string): Promise<Opened> {
  const context = await browser.newContext({ javaScriptEnabled: true });
  const requests: string[] = [];
  const dialogs: string[] = [];
  await context.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  try {
    await page.setContent(html, { waitUntil: 'load' });
    // Give an onerror/onload handler the chance to run, had one been created.
    await page.waitForTimeout(200);
    return {
      dialogs,
      requests,
      // Runs in the page (a string: this suite is type-checked without the DOM's types).
      ...((await page.evaluate(`(() => {
        const all = [...document.querySelectorAll('*')];
        return {
          ran: window.__xss,
          scripts: document.scripts.length,
          embedded: [...document.querySelectorAll('img, iframe, object, embed, link, base, frame, video, audio')]
            .map((el) => el.outerHTML.slice(0, 120)),
          handlers: all.flatMap((el) =>
            [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => el.tagName + ' ' + a.name)),
          hrefs: all.flatMap((el) =>
            [...el.attributes]
              .filter((a) => ['href', 'src', 'action', 'formaction', 'xlink:href', 'srcset', 'poster', 'data'].includes(a.name))
              .map((a) => a.value)),
          // What a reader sees (innerText), not the text of every node.
          text: document.body.innerText,
        };
      })()`)) as Omit<Opened, 'dialogs' | 'requests'>),
    };
  } finally {
    await context.close();
  }
}

function expectInert(opened: Opened, allowedHref: (href: string) => boolean): void {
  expect(opened.dialogs).toEqual([]);
  expect(opened.ran).toBeUndefined();
  expect(opened.requests).toEqual([]);
  expect(opened.scripts).toBe(0);
  expect(opened.embedded).toEqual([]);
  expect(opened.handlers).toEqual([]);
  expect(opened.hrefs.filter((href) => !allowedHref(href))).toEqual([]);
}

describe.each(DIALECTS)('report XSS on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let viewer: string;
  const clock = new ManualClock(TO_MS + 3 * 24 * HOUR);
  const product = `label:team=${FIELDS.label}`;
  const report = async (format: string, lang = 'en') => {
    const response = await server.request(
      'GET',
      `/api/v1/reports/monthly?product=${encodeURIComponent(product)}&month=${MONTH}&format=${format}&lang=${lang}`,
      { token: viewer },
    );
    const body = await response.text();
    expect(response.status, body.slice(0, 300)).toBe(200);
    return body;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-report-xss-'));
    await writeFile(join(dir, 'specs.yaml'), specs());
    server = await startTestServer(dialect, {
      specs: dir,
      clock,
      config: { 'reports.timeZone': ZONE, 'reports.baseUrl': BASE },
    });
    viewer = await server.token('viewer');
    const editor = await server.token('editor');
    // A month of 100 requests a minute with one hour of half of them failing: 74% of the budget,
    // below the policy's 50% step, so its action is shown.
    const badFromMs = FROM_MS + 9 * 24 * HOUR;
    const rows = [];
    for (let ms = FROM_MS; ms < TO_MS; ms += MIN) {
      const bad = ms >= badFromMs && ms < badFromMs + HOUR ? 50 : 0;
      rows.push({ storageKey: 'checkout-requests', minuteMs: ms, good: 100 - bad, total: 100 });
    }
    const db = server.shinrai.ctx.db;
    await upsertBuckets(db.kysely, rows, minuteStamp(db, clock.ms), 'replace');
    clock.ms = badFromMs + 2 * HOUR;
    const post = async (path: string, body: unknown) => {
      const response = await server.request('POST', path, { token: editor, body });
      expect(response.status, await response.clone().text()).toBeLessThan(300);
      return json(response);
    };
    await post('/api/v1/incidents', {
      title: FIELDS.incident,
      severity: 'SEV2',
      services: ['checkout'],
      slos: ['checkout-availability'],
      milestones: {
        impactStartedAt: new Date(badFromMs).toISOString(),
        detectedAt: new Date(badFromMs + 5 * MIN).toISOString(),
        mitigatedAt: new Date(badFromMs + HOUR).toISOString(),
      },
    });
    const pm = await post('/api/v1/incidents/INC-1/postmortem', {});
    // Due in the month and still open: an overdue item, listed under "what to do".
    await post(`/api/v1/postmortems/${pm.id}/action-items`, {
      title: FIELDS.item,
      category: 'repair',
      priority: 'P1',
      dueDate: '2026-02-20',
    });
    clock.ms = TO_MS + 3 * 24 * HOUR;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the report carries every hostile field (so the checks below look at them)', async () => {
    const data = JSON.parse(await report('json'));
    expect(data.product.name).toBe(product);
    expect(data.verdict[0]).toMatchObject({
      displayName: FIELDS.displayName,
      policyStep: { action: FIELDS.action },
    });
    expect(data.incidents[0].title).toBe(FIELDS.incident);
    expect(data.todo).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'policy', action: FIELDS.action }),
        expect.objectContaining({ kind: 'overdue-action-item', title: FIELDS.item }),
        expect.objectContaining({ kind: 'risk-too-big', risk: 'card-network-timeout' }),
      ]),
    );
  });

  for (const lang of ['en', 'ja']) {
    it(`the HTML report (${lang}) runs nothing, loads nothing and shows the payloads as text`, async () => {
      const html = await report('html', lang);
      const opened = await open(html);
      expectInert(opened, (href) => href.startsWith(`${BASE}/`) || href.startsWith('#'));
      for (const text of [FIELDS.displayName, FIELDS.incident, FIELDS.item])
        expect(opened.text.replace(/\s+/g, ' ')).toContain(text.replace(/\s+/g, ' '));
      expect(opened.text).toContain(PAYLOADS[0]);
      // One stylesheet, the report's own: no payload closed it or opened another.
      expect(html.match(/<\/style>/gi)).toHaveLength(1);
    }, 60_000);
  }

  it('the same HTML as an email client shows it (no Content-Security-Policy) runs and loads nothing', async () => {
    const html = await report('html');
    const mail = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/i, '');
    expect(mail).not.toContain('Content-Security-Policy');
    expectInert(await open(mail), (href) => href.startsWith(`${BASE}/`) || href.startsWith('#'));
  }, 60_000);

  for (const lang of ['en', 'ja']) {
    it(`the Markdown report (${lang}) has no raw HTML and no link of its own, and renders inert`, async () => {
      const md = await report('md', lang);
      expect(md).not.toMatch(/<[a-z!/]/i);
      expect(md.toLowerCase()).not.toMatch(/\]\(\s*javascript:/);
      const rendered = await marked.parse(md, { gfm: true });
      const tags = new Set([...rendered.matchAll(/<\/?([a-zA-Z0-9]+)/g)].map((m) => m[1]!.toLowerCase()));
      const allowed = [
        'h1',
        'h2',
        'h3',
        'p',
        'table',
        'thead',
        'tbody',
        'tr',
        'th',
        'td',
        'ul',
        'ol',
        'li',
        'a',
        'br',
        'em',
        'strong',
      ];
      expect([...tags].filter((t) => !allowed.includes(t))).toEqual([]);
      const opened = await open(`<!doctype html><html><body>${rendered}</body></html>`);
      // Links are the report's own: paths on the server (Markdown links have no base URL here).
      expectInert(opened, (href) => href.startsWith('/') && !href.startsWith('//'));
      // The payloads are shown as text (the display name's script, the incident's Markdown link).
      expect(opened.text).toContain(PAYLOADS[0]);
      expect(opened.text).toContain(PAYLOADS[3]);
    }, 60_000);
  }
});
