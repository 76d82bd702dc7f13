/**
 * The monthly report end to end on both databases, with exact figures: a calendar month of stored
 * minutes (with bad minutes just outside it, which must not count) and a known incident give the
 * attainment, the budget allowed and consumed, the policy step, the incident's budget impact and
 * the action-item counts — for a month crossing DST in America/New_York (721 hours) and a month
 * in Asia/Tokyo; names with script payloads stay inert in the Markdown; an unknown product is a
 * 404 naming a close match; HTML and PDF from the same figures.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { DIALECTS } from './support/databases.js';
import { json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const BIN = fileURLToPath(new URL('../bin/shinrai.js', import.meta.url));
/** The environment without SHINRAI_* settings, which would change what the commands do. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SHINRAI_')));

function shinrai(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: ENV, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>';
const POLICY = `- below: 50%
  action: Review the burn at the weekly reliability meeting
  gate: allow
- below: 0%
  action: Freeze feature releases
  gate: deny`;

const sloYaml = (name: string, service: string, sli: string) => `apiVersion: openslo/v1
kind: SLO
metadata:
  name: ${name}
  displayName: ${JSON.stringify(`${XSS} Checkout`)}
  annotations:
    shinrai.dev/owner: team-pay
    shinrai.dev/error-budget-policy: ${JSON.stringify(POLICY)}
spec:
  service: ${service}
  indicator:
    metadata: {name: ${sli}}
    spec:
      ratioMetric:
        good: {metricSource: {type: shinrai, spec: {}}}
        total: {metricSource: {type: shinrai, spec: {}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`;

const CASES = [
  {
    zone: 'America/New_York',
    month: '2026-11',
    // 2026-11-01 00:00 EDT to 2026-12-01 00:00 EST: 721 hours.
    fromMs: Date.UTC(2026, 10, 1, 4),
    toMs: Date.UTC(2026, 11, 1, 5),
    hours: 721,
  },
  {
    zone: 'Asia/Tokyo',
    month: '2026-02',
    // 2026-02-01 00:00 JST to 2026-03-01 00:00 JST: 672 hours.
    fromMs: Date.UTC(2026, 0, 31, 15),
    toMs: Date.UTC(2026, 1, 28, 15),
    hours: 672,
  },
] as const;

const PER_MINUTE = 100;
const BAD_PER_MINUTE = 50;
const BAD_MINUTES = 60;

describe.each(DIALECTS.flatMap((d) => CASES.map((c) => [d, c] as const)))(
  'monthly report on %s',
  (dialect, c) => {
    let dir: string;
    let server: TestServer;
    let viewer: string;
    let editor: string;
    const afterMonth = c.toMs + 6 * 24 * HOUR;
    const clock = new ManualClock(afterMonth);
    const badFromMs = c.fromMs + 9 * 24 * HOUR + 10 * HOUR;
    const get = (path: string) => server.request('GET', path, { token: viewer });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'shinrai-reports-'));
      await writeFile(
        join(dir, 'slo.yaml'),
        sloYaml('checkout-availability', 'checkout', 'checkout-requests'),
      );
      await writeFile(join(dir, 'other.yaml'), sloYaml('search-latency', 'search', 'search-requests'));
      server = await startTestServer(dialect, { specs: dir, clock, config: { 'reports.timeZone': c.zone } });
      viewer = await server.token('viewer');
      editor = await server.token('editor');
      // Every minute of the month: 100 requests; 60 minutes with 50 bad. The hour before and the
      // hour after the month are all bad, and must not count.
      const rows = [];
      for (let ms = c.fromMs - HOUR; ms < c.toMs + HOUR; ms += MIN) {
        const outside = ms < c.fromMs || ms >= c.toMs;
        const bad = outside
          ? PER_MINUTE
          : ms >= badFromMs && ms < badFromMs + BAD_MINUTES * MIN
            ? BAD_PER_MINUTE
            : 0;
        rows.push({
          storageKey: 'checkout-requests',
          minuteMs: ms,
          good: PER_MINUTE - bad,
          total: PER_MINUTE,
        });
      }
      const db = server.shinrai.ctx.db;
      await upsertBuckets(db.kysely, rows, minuteStamp(db, clock.ms), 'replace');

      // During the month: an incident over the bad hour, its postmortem and four action items.
      clock.ms = badFromMs + 2 * 24 * HOUR;
      const declared = await json(
        server.request('POST', '/api/v1/incidents', {
          token: editor,
          body: {
            title: `${XSS} checkout down`,
            severity: 'SEV2',
            services: ['checkout'],
            slos: ['checkout-availability'],
            milestones: {
              impactStartedAt: new Date(badFromMs).toISOString(),
              detectedAt: new Date(badFromMs + 5 * MIN).toISOString(),
              mitigatedAt: new Date(badFromMs + BAD_MINUTES * MIN).toISOString(),
            },
          },
        }),
      );
      expect(declared.reference).toBe('INC-1');
      const pm = await json(server.request('POST', '/api/v1/incidents/INC-1/postmortem', { token: editor }));
      const item = async (priority: string, dueDate: string) =>
        json(
          server.request('POST', `/api/v1/postmortems/${pm.id}/action-items`, {
            token: editor,
            body: { title: `${XSS} fix ${priority}`, category: 'repair', priority, dueDate },
          }),
        );
      const [y, m] = c.month.split('-');
      const lastDay = c.month === '2026-11' ? '30' : '28';
      await item('P0', `${y}-${m}-20`);
      await item('P1', `${y}-${m}-${lastDay}`);
      await item('P2', '2027-01-15');
      const closed = await item('P2', `${y}-${m}-25`);
      clock.ms += HOUR;
      await server.request('PATCH', `/api/v1/action-items/${closed.id}`, {
        token: editor,
        body: { status: 'done' },
      });
      // One production deployment of checkout in the month.
      const deployed = await server.request('POST', '/api/v1/deployments', {
        token: editor,
        body: {
          id: `deploy-${c.month}`,
          service: 'checkout',
          environment: 'production',
          finishedAt: new Date(c.fromMs + 3 * 24 * HOUR).toISOString(),
          status: 'success',
        },
      });
      expect(deployed.status).toBe(201);
      clock.ms = afterMonth;
    }, 120_000);

    afterAll(async () => {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}-shinrai.yaml`, { force: true });
    });

    it(`gives exact calendar-month figures in ${c.zone} (${c.hours} hours)`, async () => {
      expect(c.toMs - c.fromMs).toBe(c.hours * HOUR);
      const response = await get(`/api/v1/reports/monthly?product=checkout&month=${c.month}`);
      expect(response.status).toBe(200);
      const report = await json(response);
      const total = c.hours * 60 * PER_MINUTE;
      const bad = BAD_MINUTES * BAD_PER_MINUTE;
      expect(report).toMatchObject({
        product: { name: 'checkout', services: ['checkout'] },
        month: c.month,
        timeZone: c.zone,
        period: { fromMs: c.fromMs, toMs: c.toMs },
        language: 'en',
      });
      expect(report.verdict).toHaveLength(1);
      const v = report.verdict[0];
      expect(v).toMatchObject({
        slo: 'checkout-availability',
        service: 'checkout',
        target: 0.999,
        attainment: (total - bad) / total,
        met: true,
        link: '/slos/checkout-availability',
      });
      expect(v.budget.unit).toBe('events');
      expect(v.budget.consumed).toBe(bad);
      expect(v.budget.allowed).toBeCloseTo(0.001 * total, 6);
      expect(v.budget.consumedShare).toBeCloseTo(bad / (0.001 * total), 9);
      // 3000 of ~4300 events used: under 50% left, above 0%.
      expect(v.policyStep).toEqual({
        below: 0.5,
        action: 'Review the burn at the weekly reliability meeting',
        gate: 'allow',
      });
      expect(report.todo[0]).toMatchObject({ kind: 'policy', slo: 'checkout-availability', gate: 'allow' });

      // Trend: six months, the report's last; the months before have no data.
      expect(report.trend.map((t: { month: string }) => t.month)).toHaveLength(6);
      expect(report.trend.at(-1)).toEqual({
        month: c.month,
        slos: [
          { slo: 'checkout-availability', attainment: v.attainment, consumedShare: v.budget.consumedShare },
        ],
      });
      expect(report.trend[0].slos[0]).toEqual({
        slo: 'checkout-availability',
        attainment: null,
        consumedShare: null,
      });

      // The incident: an hour from impact start to mitigation, its budget impact as the incident API says.
      expect(report.incidents).toHaveLength(1);
      const incident = report.incidents[0];
      expect(incident).toMatchObject({
        reference: 'INC-1',
        severity: 'SEV2',
        startedAtMs: badFromMs,
        durationMs: BAD_MINUTES * MIN,
        postmortem: 'draft',
        link: '/incidents/INC-1',
      });
      expect(incident.budgetImpact).toEqual([
        expect.objectContaining({ slo: 'checkout-availability', unit: 'events', consumed: bad }),
      ]);

      expect(report.actionItems).toEqual({
        opened: { P0: 1, P1: 1, P2: 2 },
        closed: { P2: 1 },
        overdue: { P0: 1, P1: 1 },
      });
      expect(report.todo.filter((t: { kind: string }) => t.kind === 'overdue-action-item')).toHaveLength(2);
      expect(report.alerts.noiseShare).toBeNull();
      expect(report.alerts.weeks.length).toBeGreaterThanOrEqual(4);
      expect(report.delivery).toMatchObject({ deployments: 1, changeFailRate: 0 });
    });

    it('groups services by owner, and names a close match for an unknown product', async () => {
      const byOwner = await json(get(`/api/v1/reports/monthly?product=owner:team-pay&month=${c.month}`));
      expect(byOwner.product.services).toEqual(['checkout', 'search']);
      expect(byOwner.verdict.map((v: { slo: string }) => v.slo)).toEqual([
        'checkout-availability',
        'search-latency',
      ]);
      expect(byOwner.verdict[1]).toMatchObject({ attainment: null, met: null });
      const unknown = await get(`/api/v1/reports/monthly?product=chekout&month=${c.month}`);
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('application/problem+json');
      expect((await json(unknown)).detail).toContain('"checkout"');
      const badMonth = await get('/api/v1/reports/monthly?product=checkout&month=2026-13');
      expect(badMonth.status).toBe(400);
      const html = await get(`/api/v1/reports/monthly?product=checkout&month=${c.month}&format=html&lang=ja`);
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toContain('text/html');
      const page = await html.text();
      expect(page).toContain('<html lang="ja">');
      expect(page).not.toMatch(/<script/i);
      const pdf = await get(`/api/v1/reports/monthly?product=checkout&month=${c.month}&format=pdf`);
      expect(pdf.status).toBe(200);
      expect(pdf.headers.get('content-type')).toContain('application/pdf');
      expect(
        Buffer.from(await pdf.arrayBuffer())
          .subarray(0, 5)
          .toString(),
      ).toBe('%PDF-');
    });

    it('renders Markdown in Japanese with script payloads inert', async () => {
      const response = await get(
        `/api/v1/reports/monthly?product=checkout&month=${c.month}&format=md&lang=ja`,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/markdown');
      const md = await response.text();
      expect(md).toContain('## 判定');
      expect(md).toContain('## 今月やること');
      expect(md).not.toMatch(/<script|<img/i);
      expect(md).toContain('&lt;script&gt;');
      expect(md).toContain('[INC\\-1](/incidents/INC-1)');
    });

    it('is written by the built CLI from the server, and offline from the database', async () => {
      if (!existsSync(new URL('../dist/cli/main.js', import.meta.url)))
        throw new Error('run `npm run build` first');
      const url = server.shinrai.url;
      const online = await shinrai(dir, [
        'report',
        '--product',
        'checkout',
        '--month',
        c.month,
        '--lang',
        'ja',
        '-o',
        'report.md',
        '--server',
        url,
        '--token',
        viewer,
      ]);
      expect(online).toMatchObject({ code: 0 });
      const md = await readFile(join(dir, 'report.md'), 'utf8');
      expect(md).toContain(`# 信頼性レポート: checkout(${c.month})`);
      expect(md).toContain('[INC\\-1](/incidents/INC-1)');
      expect(md).not.toMatch(/<script/i);

      await writeFile(`${dir}-shinrai.yaml`, `reports:\n  timeZone: ${c.zone}\n`);
      const offline = await shinrai(dir, [
        'report',
        '--product',
        'checkout',
        '--month',
        c.month,
        '--format',
        'json',
        '--db',
        server.shinrai.ctx.config.db.url,
        '--config',
        `${dir}-shinrai.yaml`,
        '--specs',
        dir,
      ]);
      expect(offline.stderr).toBe('');
      expect(offline.code).toBe(0);
      const fromDb = JSON.parse(offline.stdout);
      const fromApi = await json(get(`/api/v1/reports/monthly?product=checkout&month=${c.month}`));
      // The same figures, whichever way they were asked for (the zone comes from the config there).
      expect(fromDb.verdict[0].budget).toEqual(fromApi.verdict[0].budget);
      expect(fromDb.actionItems).toEqual(fromApi.actionItems);
    }, 120_000);
  },
);
