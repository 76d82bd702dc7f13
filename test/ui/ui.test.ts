/**
 * The web UI in a real browser (Debian's Chromium through playwright-core) against a Shinrai with
 * the demo shop: the overview agrees with the API, the SLO page draws its charts, Japanese
 * replaces the labels, declaring an incident and judging an alert work end to end, no page logs
 * an error, and axe-core finds no serious or critical accessibility problem. Screenshots of the
 * main pages go to test-output/screenshots/.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SPECS } from '../../src/cli/commands/demo.js';
import { createToken } from '../../src/platform/auth/index.js';
import { UI_CSP } from '../../src/platform/http/web-routes.js';
import {
  deploymentsPath,
  durationText,
  metricsPath,
  periodInstants,
  periodOf,
} from '../../web/src/delivery.js';
import {
  evaluated,
  launchBrowser,
  openPage,
  type PageProblems,
  screenshot,
  seriousA11yViolations,
  startDemoServer,
} from '../support/browser.js';
import { type JsonBody, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startDemoServer(2), launchBrowser()]);
  base = server.shinrai.url;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function api(path: string): Promise<JsonBody> {
  return (await server.request('GET', path)).json();
}

async function withPage(
  run: (page: Page, problems: PageProblems, context: BrowserContext) => Promise<void>,
  options: { expectedErrors?: RegExp } = {},
): Promise<void> {
  const context = await browser.newContext({
    locale: 'en-US',
    timezoneId: 'UTC',
    viewport: { width: 1440, height: 900 },
  });
  try {
    const { page, problems } = await openPage(context);
    await run(page, problems, context);
    const unexpected = problems.errors.filter((e) => !options.expectedErrors?.test(e));
    expect(unexpected).toEqual([]);
  } finally {
    await context.close();
  }
}

const en = (n: number, digits = 1) =>
  new Intl.NumberFormat('en-US', {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(n);
const nines = (n: number) =>
  new Intl.NumberFormat('en-US', {
    style: 'percent',
    minimumFractionDigits: 2,
    maximumFractionDigits: 3,
  }).format(n);

/** Bad minutes a year and incidents a year, as the Risks page writes them (Intl, one decimal). */
const figure = (n: number) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }).format(n);
const minutesText = (n: number) =>
  new Intl.NumberFormat('en-US', {
    style: 'unit',
    unit: 'minute',
    unitDisplay: 'short',
    maximumFractionDigits: 1,
  }).format(n);

const GATE_BADGE: Record<string, string> = {
  allow: 'Deploys allowed',
  warn: 'Deploys allowed, with a warning',
  deny: 'Deploys blocked',
};

/** The names of the risk table's rows, top to bottom. */
function riskNames(page: Page): Promise<(string | null)[]> {
  return page
    .locator('[data-testid="risk-table"] tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-risk')));
}

/** Clicks a download button and answers the saved file's name and text. */
async function download(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ]);
  const path = await file.path();
  return { name: file.suggestedFilename(), text: await readFile(path, 'utf8') };
}

/** Keeps `token` in the page's localStorage, as "Sign in with a token" does. */
async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.evaluate(
    (t) =>
      (
        globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
      ).localStorage.setItem('shinrai.token', t),
    token,
  );
}

/** Adds a burst of failed checkout requests over the last minutes and evaluates, so the page alert fires. */
async function burnCheckout(): Promise<void> {
  const token = await server.token('editor');
  const nowMinute = Math.floor(Date.now() / 60_000) * 60_000;
  const batch = Array.from({ length: 15 }, (_, i) => ({
    ts: new Date(nowMinute - (i + 1) * 60_000).toISOString(),
    good: 0,
    total: 2000,
  }));
  const response = await server.request('POST', '/api/v1/sli/checkout-requests/events', {
    token,
    body: batch,
    headers: { 'idempotency-key': `ui-burst-${nowMinute}` },
  });
  expect(response.status).toBeLessThan(300);
  for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
  await evaluated(server);
}

describe('web UI', () => {
  it('serves the app on deep links and keeps API 404s as problem+json', async () => {
    const page = await fetch(`${base}/incidents/INC-404`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<div id="root">');
    expect(page.headers.get('content-security-policy')).toBe(UI_CSP);
    // The header links the status page, which is the server's own page, not the app.
    const status = await fetch(`${base}/status`, { headers: { accept: 'text/html' } });
    expect(status.status).toBe(200);
    expect(await status.text()).not.toContain('<div id="root">');
    const missing = await fetch(`${base}/api/v1/nothing-here`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('lists every demo SLO on the overview with the numbers the API gives', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-testid="slo-table"] tbody tr');
      const slos: JsonBody[] = await api('/api/v1/slos');
      const alerts: JsonBody[] = await api('/api/v1/alerts');
      const statuses = slos.flatMap((s) => s.status);
      expect(statuses.length).toBeGreaterThan(0);
      expect(await page.locator('[data-testid="slo-table"] tbody tr').count()).toBe(statuses.length);
      for (const status of statuses) {
        const row = page.locator(`tr[data-slo-id="${status.id}"]`);
        await expect.poll(() => row.count()).toBe(1);
        expect(await row.locator('[data-field="remaining"]').textContent()).toBe(en(status.budget.remaining));
        expect(await row.locator('[data-field="sli"]').textContent()).toBe(nines(status.sli));
        expect(await row.locator('[data-field="target"]').textContent()).toBe(nines(status.target));
        const firing = alerts.filter((a) => a.slo === status.slo && a.state === 'firing').length;
        expect(await row.locator('[data-field="firing"]').textContent()).toBe(String(firing));
      }
      // Least budget first, as the API's sort=budget.
      const firstId = await page
        .locator('[data-testid="slo-table"] tbody tr')
        .first()
        .getAttribute('data-slo-id');
      const least = [...statuses].sort((a, b) => a.budget.remaining - b.budget.remaining)[0];
      expect(firstId).toBe(least.id);
      // Filtering by service leaves that service's SLOs only.
      await page.selectOption('select[name="service"]', 'search');
      await expect
        .poll(() => page.locator('[data-testid="slo-table"] tbody tr').count())
        .toBe(statuses.filter((s) => s.service === 'search').length);
      expect(page.url()).toContain('service=search');
    });
  });

  it('draws the SLO page charts, tiles and spec from a deep link', async () => {
    await withPage(async (page) => {
      const slo: JsonBody = await api('/api/v1/slos/checkout-availability');
      await page.goto(`${base}/slos/checkout-availability`);
      await page.waitForSelector('[data-testid="chart-budget"] canvas');
      await page.waitForSelector('[data-testid="chart-sli"] canvas');
      expect(await page.locator('[data-testid="chart-burn"] canvas').count()).toBeGreaterThan(0);
      expect(await page.locator('[data-testid="tiles"] [data-field="remaining"]').textContent()).toBe(
        en(slo.status[0].budget.remaining),
      );
      expect(await page.locator('[data-testid="spec-yaml"]').textContent()).toContain(
        'name: checkout-availability',
      );
      expect(await page.locator('a[href="https://runbooks.example.com/checkout"]').count()).toBe(1);
      await page.getByRole('button', { name: '30 days' }).click();
      await page.waitForSelector('text=one point every 5m');
      await page.waitForSelector('[data-testid="chart-budget"] canvas');
      await screenshot(page, 'slo-detail');
    });
  });

  it('switches to Japanese, changes the visible labels and remembers the choice', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/`);
      await page.waitForSelector('h1:has-text("Service level objectives")');
      await page.selectOption('[data-testid="language"]', 'ja');
      await page.waitForSelector('h1:has-text("サービスレベル目標")');
      expect(await page.locator('nav[aria-label="メイン"]').textContent()).toContain('インシデント');
      expect(await page.locator('html').getAttribute('lang')).toBe('ja');
      await page.reload();
      await page.waitForSelector('h1:has-text("サービスレベル目標")');
      await screenshot(page, 'overview-ja');
    });
  });

  it('marks an SLO that cannot be evaluated, in English and Japanese, and clears it when it recovers', async () => {
    const catalog = server.shinrai.ctx.specs.current.catalog;
    const slo = catalog.slos.find((s) => s.id === 'checkout-availability')! as { shinrai: object };
    const original = slo.shinrai;
    // Any exception in this one SLO's evaluation (here: reading its budget policy).
    const broken = { ...original };
    Object.defineProperty(broken, 'errorBudgetPolicy', {
      get() {
        throw new TypeError('policy unreadable');
      },
    });
    slo.shinrai = broken;
    try {
      await server.shinrai.evaluator.tick();
      await withPage(
        async (page) => {
          await page.goto(`${base}/`);
          const row = page.locator('tr[data-slo-id="checkout-availability"] [data-field="evaluation-error"]');
          await row.waitFor();
          expect(await row.textContent()).toMatch(/not evaluated since/);
          expect(await row.getAttribute('title')).toBe('TypeError: policy unreadable');
          // The others are not marked.
          expect(await page.locator('[data-field="evaluation-error"]').count()).toBe(1);
          await page.goto(`${base}/slos/checkout-availability`);
          const notice = page.locator('p[data-field="evaluation-error"]');
          await notice.waitFor();
          expect(await notice.textContent()).toMatch(
            /^This SLO cannot be evaluated since .*: TypeError: policy unreadable\. The figures below are the last good ones/,
          );
          await page.selectOption('[data-testid="language"]', 'ja');
          await page.waitForSelector('p[data-field="evaluation-error"]:has-text("評価できていません")');
          await page.selectOption('[data-testid="language"]', 'en');
          // The injected fault also breaks what reads the same policy on request (the SLO page's gate).
        },
        { expectedErrors: /status of 500/ },
      );
    } finally {
      slo.shinrai = original;
    }
    await server.shinrai.evaluator.tick();
    await withPage(async (page) => {
      await page.goto(`${base}/slos/checkout-availability`);
      await page.waitForSelector('[data-testid="tiles"]');
      expect(await page.locator('[data-field="evaluation-error"]').count()).toBe(0);
    });
  });

  it('declares an incident with an editor token pasted once, then drafts its postmortem with a live preview', async () => {
    const token = await server.token('editor');
    await withPage(async (page) => {
      await page.goto(`${base}/incidents`);
      await page.getByRole('button', { name: 'Sign in with a token' }).click();
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForSelector('text=Token set');
      await page.getByRole('button', { name: 'Declare an incident' }).click();
      await page.getByLabel('Title').fill('Checkout errors from the UI');
      await page.selectOption('select[name="severity"]', 'SEV2');
      await page.getByLabel(/Checkout requests succeed/).check();
      await page.getByRole('button', { name: 'Declare', exact: true }).click();
      await page.waitForURL(/\/incidents\/INC-\d+$/);
      const reference = decodeURIComponent(page.url().split('/').pop()!);
      const incident: JsonBody = await api(`/api/v1/incidents/${reference}`);
      expect(incident.title).toBe('Checkout errors from the UI');
      expect(incident.slos).toEqual(['checkout-availability']);
      await page.waitForSelector(`h1:has-text("${reference}")`);
      expect(await page.locator('[data-testid="impact"]').textContent()).toContain('checkout-availability');

      const impactStart = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000).toISOString();
      await page.getByRole('button', { name: 'Edit Impact started' }).click();
      await page.getByLabel('Impact started').fill(impactStart.slice(0, 16));
      await page.getByRole('button', { name: 'Save' }).click();
      await expect
        .poll(async () => (await api(`/api/v1/incidents/${reference}`)).milestones.impactStartedAt)
        .toBe(impactStart);

      await page.getByLabel('Add a note').fill('Rolled back the payment gateway client');
      await page.getByRole('button', { name: 'Add note' }).click();
      await page.waitForSelector('text=Rolled back the payment gateway client');
      const note = page.locator('[data-testid="timeline"] li', {
        hasText: 'Rolled back the payment gateway client',
      });
      await note.getByRole('button', { name: 'Star', exact: true }).click();
      await expect
        .poll(() => note.getByRole('button', { name: 'Star', exact: true }).getAttribute('aria-pressed'))
        .toBe('true');
      await note.getByRole('button', { name: 'Make public' }).click();
      await note.getByRole('button', { name: 'Public', exact: true }).waitFor();
      const timeline: JsonBody[] = (await api(`/api/v1/incidents/${reference}`)).timeline;
      expect(timeline.find((e) => e.text === 'Rolled back the payment gateway client')).toMatchObject({
        starred: true,
        public: true,
      });
      await screenshot(page, 'incident-detail');
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.getByRole('button', { name: 'Draft the postmortem' }).click();
      await page.waitForURL(/\/postmortems\//);
      const editor = page.locator('[data-testid="pm-markdown"]');
      await expect.poll(async () => (await editor.inputValue()).length).toBeGreaterThan(0);
      await editor.fill(
        '# Checkout outage\n\n<script>alert(1)</script>\n\n**bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)>',
      );
      await page.waitForSelector('[data-testid="pm-preview"] h1:has-text("Checkout outage")');
      const html = await page.locator('[data-testid="pm-preview"]').innerHTML();
      expect(html).toContain('<strong>bold</strong>');
      expect(html).not.toContain('<script');
      expect(html).not.toMatch(/href="javascript|onerror|<img/);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForSelector('text=Send for review');
      await expect
        .poll(async () => (await api(`/api/v1/postmortems/${page.url().split('/').pop()}`)).markdown)
        .toContain('# Checkout outage');

      await page.getByLabel('Action', { exact: true }).fill('Alert on gateway client errors');
      await page.selectOption('select:near(:text("Category"))', 'detect');
      await page.getByLabel('Owner').fill('team-payments');
      await page.getByRole('button', { name: 'Add action item' }).click();
      await page.waitForSelector(
        '[data-testid="action-items"] td:has-text("Alert on gateway client errors")',
      );
      await screenshot(page, 'postmortem');
      expect(await seriousA11yViolations(page)).toEqual([]);
    });
  });

  it('asks for the catch-up and the postmortem draft in Japanese when the page is in Japanese', async () => {
    const token = await server.token('editor');
    const declared = await server.request('POST', '/api/v1/incidents', {
      token,
      body: { title: '決済エラー', severity: 'SEV2', slos: ['checkout-availability'] },
    });
    const { reference } = (await declared.json()) as JsonBody;
    await withPage(async (page) => {
      await signIn(page, token);
      await page.evaluate(() =>
        (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage.setItem('shinrai.lang', 'ja'),
      );
      const asked: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes(`/api/v1/incidents/${reference}`)) asked.push(r.url());
      });
      await page.goto(`${base}/incidents/${reference}`);
      await page.waitForSelector(`h1:has-text("${reference}")`);
      await expect.poll(() => page.locator('pre.catchup').textContent()).toContain('ステータス: 調査中');
      expect(asked.some((u) => u.endsWith(`/api/v1/incidents/${reference}?lang=ja`))).toBe(true);

      await page.getByRole('button', { name: 'ポストモーテムの下書きを作成' }).click();
      await page.waitForURL(/\/postmortems\//);
      expect(asked.some((u) => u.endsWith(`/incidents/${reference}/postmortem?lang=ja`))).toBe(true);
      const editor = page.locator('[data-testid="pm-markdown"]');
      await expect.poll(() => editor.inputValue()).toContain('# ポストモーテム: 決済エラー');
      expect(await editor.inputValue()).toContain('## 影響');
      await page.waitForSelector('[data-testid="pm-preview"] h2:has-text("アクションアイテム")');
    });
  });

  it('shows script in titles, summaries, labels and notes as text, never running it', async () => {
    const token = await server.token('editor');
    const payload = (tag: string) =>
      `<img src=x onerror="window.__xss='${tag}'"><script>window.__xss='${tag}'</script>`;
    const declared = await server.request('POST', '/api/v1/incidents', {
      token,
      body: {
        title: `XSS ${payload('title')}`,
        severity: 'SEV3',
        summary: payload('summary'),
        services: ['checkout'],
        labels: { cause: payload('label') },
        runbooks: ['https://wiki.example.com/runbooks/checkout'],
      },
    });
    expect(declared.status).toBe(201);
    const { reference } = (await declared.json()) as JsonBody;
    const noted = await server.request('POST', `/api/v1/incidents/${reference}/notes`, {
      token,
      body: { text: `note ${payload('note')}` },
    });
    expect(noted.status).toBeLessThan(300);

    await withPage(async (page) => {
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      for (const path of ['/incidents', `/incidents/${reference}`]) {
        await page.goto(`${base}${path}`);
        await page.waitForSelector(`text=XSS <img src=x`);
      }
      await page.waitForSelector(`[data-testid="timeline"] li:has-text("note <img src=x")`);
      expect(await page.locator('[data-testid="summary"]').textContent()).toBe(payload('summary'));
      expect(await page.locator('[data-testid="facts"]').textContent()).toContain(
        `cause=${payload('label')}`,
      );
      const runbook = page.locator('[data-testid="facts"] a');
      expect(await runbook.getAttribute('href')).toBe('https://wiki.example.com/runbooks/checkout');
      // Nothing the payloads carry became an element, and none of their script ran.
      expect(await page.locator('main img, main script').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as unknown as { __xss?: string }).__xss)).toBeUndefined();
      expect(dialogs).toEqual([]);
    });
  });

  it('tells an anonymous visitor to sign in when a change needs a token', async () => {
    await burnCheckout();
    await withPage(
      async (page) => {
        await page.goto(`${base}/alerts`);
        const row = page.locator('[data-testid="firing"] tr[data-alert-id]').first();
        await row.getByRole('button', { name: 'Noise' }).click();
        await page.waitForSelector('[role="alert"]:has-text("Sign in")');
      },
      { expectedErrors: /status of 401/ },
    );
  });

  it('marks a firing alert as noise end to end', async () => {
    const firing: JsonBody[] = (await api('/api/v1/alerts')).filter((a: JsonBody) => a.state === 'firing');
    expect(firing.length).toBeGreaterThan(0);
    const target = firing[0];
    const token = await server.token('editor');
    await withPage(async (page) => {
      await signIn(page, token);
      await page.goto(`${base}/alerts`);
      const row = page.locator(`tr[data-alert-id="${target.id}"]`);
      await row.getByRole('button', { name: 'Noise' }).click();
      await row.locator('[data-testid="verdict"]').waitFor();
      expect(await row.getByRole('button', { name: 'Noise' }).getAttribute('aria-pressed')).toBe('true');
      await screenshot(page, 'alerts');

      // Silence it from its row, see it listed, then expire it.
      await row.getByRole('button', { name: 'Silence…' }).click();
      await expect.poll(() => page.getByLabel('Matchers').inputValue()).toContain(`slo=${target.slo}`);
      await page.getByLabel('Comment').fill('Known: gateway maintenance');
      await page.getByRole('button', { name: 'Create silence' }).click();
      await page.waitForSelector('[data-testid="silences"] td:has-text("Known: gateway maintenance")');
      const silences: JsonBody[] = await api('/api/v1/silences');
      expect(silences.map((s) => s.comment)).toContain('Known: gateway maintenance');
      await page
        .locator('[data-testid="silences"] tr', { hasText: 'Known: gateway maintenance' })
        .getByRole('button', { name: 'Expire now' })
        .click();
      await page.waitForSelector('text=No silence is active or planned.');
      expect(await api('/api/v1/silences')).toEqual([]);
    });
    const quality: JsonBody = await api('/api/v1/alerts/quality?days=28');
    expect(JSON.stringify(quality)).toMatch(/"noiseShare":1/);
  });

  it('shows the deploy gate, the ranked risks, the backlog and calibration on the Risks page', async () => {
    const analysis: JsonBody = await api('/api/v1/risks');
    expect(analysis.risks.length).toBeGreaterThan(1);
    const checkout: JsonBody = await api('/api/v1/risks?service=checkout');
    expect(checkout.risks.length).toBeGreaterThan(0);
    expect(checkout.risks.length).toBeLessThan(analysis.risks.length);

    // Two incidents that were occurrences of a risk give it a calibration to offer.
    const editor = await server.token('editor');
    const day = 86_400_000;
    const hourAgo = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
    for (const startMs of [hourAgo - 40 * day, hourAgo - 10 * day]) {
      const declared = await server.request('POST', '/api/v1/incidents', {
        token: editor,
        body: {
          title: 'Card payments failing after a provider config change',
          severity: 'SEV3',
          services: ['checkout'],
          labels: { risk: 'bad-payment-config' },
          milestones: {
            impactStartedAt: new Date(startMs).toISOString(),
            detectedAt: new Date(startMs + 30 * 60_000).toISOString(),
            mitigatedAt: new Date(startMs + 75 * 60_000).toISOString(),
          },
        },
      });
      expect(declared.status).toBe(201);
    }
    const calibration: JsonBody[] = await api('/api/v1/risks/calibration?service=checkout');
    // The override below needs a policy that stops checkout (the earlier tests' burst does that).
    if ((await api('/api/v1/gate?service=checkout')).policyDecision === 'allow') await burnCheckout();
    expect(calibration.map((c) => c.risk)).toEqual(['bad-payment-config']);
    expect(calibration[0].specUpdate).not.toBe('');

    await withPage(async (page) => {
      await page.goto(`${base}/risks`);
      await page.waitForSelector('[data-testid="risk-table"] tbody tr');
      expect(await page.getByRole('link', { name: 'Risks', exact: true }).getAttribute('aria-current')).toBe(
        'page',
      );
      // Ranked as the API ranks them, with its figures.
      expect(await riskNames(page)).toEqual(analysis.risks.map((r: JsonBody) => r.name));
      for (const risk of analysis.risks) {
        const row = page.locator(`[data-testid="risk-table"] tr[data-risk="${risk.name}"]`);
        expect(await row.locator('[data-field="bad-minutes"]').textContent()).toBe(
          figure(risk.badMinutesPerYear),
        );
        expect(await row.locator('[data-field="share"]').allTextContents()).toEqual(
          risk.shares.map((s: JsonBody) => en(s.share)),
        );
      }
      // A factor that changed an estimate shows the written value too.
      const factored = analysis.risks.find(
        (r: JsonBody) => r.effective.ettrMinutes !== r.estimate.ettrMinutes,
      );
      expect(factored).toBeDefined();
      const ettr = page.locator(`tr[data-risk="${factored.name}"] [data-field="ettrMinutes"]`);
      expect(await ettr.textContent()).toBe(
        `${minutesText(factored.effective.ettrMinutes)}written: ${minutesText(factored.estimate.ettrMinutes)}`,
      );
      for (const slo of analysis.slos) {
        const row = page.locator(`[data-testid="risk-slos"] tr[data-slo="${slo.slo}"]`);
        expect(await row.locator('[data-field="bad-minutes"]').textContent()).toBe(
          figure(slo.badMinutesPerYear),
        );
        expect(await row.locator('[data-field="share"]').textContent()).toBe(en(slo.share));
      }
      expect(await page.locator('[data-testid="risk-formulas"]').textContent()).toContain(
        'Incidents a year = 365.25 / ETTF',
      );

      // The service filter lives in the URL and narrows every section.
      await page.selectOption('select[name="service"]', 'checkout');
      await expect.poll(() => page.url()).toContain('/risks?service=checkout');
      await expect.poll(() => riskNames(page)).toEqual(checkout.risks.map((r: JsonBody) => r.name));
      await expect.poll(() => page.locator('[data-testid^="gate-"]').count()).toBe(1);
      const gate: JsonBody = await api('/api/v1/gate?service=checkout');
      const card = page.locator('[data-testid="gate-checkout"]');
      await expect.poll(() => card.getAttribute('data-decision')).toBe(gate.decision);
      expect(await card.locator('[data-field="gate-label"]').textContent()).toBe(GATE_BADGE[gate.decision]);
      expect(
        await card.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-slo'))),
      ).toEqual(gate.reasons.map((r: JsonBody) => r.slo));
      // Each answer is worded from its basis (so it can be in Japanese), not from the English message.
      const basisText: Record<string, string> = {
        'no-data': 'No data',
        'no-step': 'No policy step applies',
        'no-policy': 'No error-budget policy',
        'no-policy-exhausted': 'No error-budget policy says what to do',
      };
      for (const r of gate.reasons as JsonBody[])
        expect(await card.locator(`tr[data-slo="${r.slo}"] td`).nth(2).textContent()).toContain(
          r.step ? r.step.action : basisText[r.basis],
        );

      // The backlog lists the API's entries in its order, and its exports download through blob: URLs
      // (fetched with the token header when there is one) under the UI's CSP.
      const backlog: JsonBody[] = await api('/api/v1/backlog?service=checkout');
      expect(backlog.map((b) => b.service)).toEqual(['checkout']);
      const titles = page.locator('[data-testid="backlog-checkout"] [data-field="title"]');
      await expect
        .poll(() => titles.allTextContents())
        .toEqual(backlog[0].entries.map((e: JsonBody) => e.title));
      expect(backlog[0].entries.length).toBeGreaterThan(0);
      const csv = await download(page, 'Download CSV');
      expect(csv.name).toBe('reliability-backlog-checkout.csv');
      expect(csv.text).toBe(
        await (await server.request('GET', '/api/v1/backlog?service=checkout&format=csv')).text(),
      );
      const markdown = await download(page, 'Download markdown');
      expect(markdown.name).toBe('reliability-backlog-checkout.md');
      expect(markdown.text).toContain('# Reliability backlog');

      // Calibration: the measured medians and the spec lines to paste.
      const calibrated = page.locator('[data-testid="calibration-bad-payment-config"]');
      await calibrated.waitFor();
      expect(await calibrated.locator('[data-field="spec-update"]').textContent()).toBe(
        calibration[0].specUpdate,
      );
      expect(await calibrated.locator('[data-field="ttd"]').textContent()).toBe(
        minutesText(calibration[0].measured.ttdMinutes),
      );
      await screenshot(page, 'risks');
      expect(await seriousA11yViolations(page)).toEqual([]);

      // An override lets checkout through a policy that says otherwise; the badge says so.
      expect(gate.policyDecision).not.toBe('allow');
      const admin = await server.token('admin');
      const created = await server.request('POST', '/api/v1/gate/overrides', {
        token: admin,
        body: { service: 'checkout', reason: 'hotfix for the card network', expiresIn: '2h' },
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as JsonBody;
      try {
        await page.reload();
        await expect.poll(() => card.getAttribute('data-decision')).toBe('allow');
        expect(await card.locator('[data-field="gate-label"]').textContent()).toBe(
          'Deploys allowed by an override',
        );
        expect(await page.locator('[data-testid="override-checkout"]').textContent()).toContain(
          'hotfix for the card network',
        );
      } finally {
        const revoked = await server.request('DELETE', `/api/v1/gate/overrides/${id}`, { token: admin });
        expect(revoked.status).toBe(200);
      }

      // Japanese headings.
      await page.selectOption('[data-testid="language"]', 'ja');
      await page.waitForSelector('h1:has-text("リスクとデプロイゲート")');
      const headings = await page.locator('main h2').allTextContents();
      expect(headings).toEqual(
        expect.arrayContaining([
          'デプロイゲート',
          'リスクカタログ',
          '信頼性バックログ',
          'インシデントによる見積もりの較正',
        ]),
      );
      expect(await page.locator('[data-testid="risk-table"] thead').textContent()).toContain(
        '年間の不良時間（分）',
      );
      expect(await page.locator('nav[aria-label="メイン"]').textContent()).toContain('リスク');
      await screenshot(page, 'risks-ja');
    });
  });

  it('applies the measured estimate to a risk the server keeps, in one click', async () => {
    const editor = await server.token('editor');
    const name = 'ui-managed-risk';
    const written = await server.request('PUT', `/api/v1/risks/${name}`, {
      token: editor,
      body: { service: 'checkout', ettd: '5m', ettr: '10m', impact: '10%', ettf: '1Y' },
    });
    expect(written.status).toBe(201);
    try {
      const startMs = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 86_400_000;
      const declared = await server.request('POST', '/api/v1/incidents', {
        token: editor,
        body: {
          title: 'Checkout slow while the fraud check timed out',
          severity: 'SEV3',
          services: ['checkout'],
          labels: { risk: name },
          milestones: {
            impactStartedAt: new Date(startMs).toISOString(),
            detectedAt: new Date(startMs + 20 * 60_000).toISOString(),
            mitigatedAt: new Date(startMs + 60 * 60_000).toISOString(),
          },
        },
      });
      expect(declared.status).toBe(201);
      const calibration: JsonBody[] = await api('/api/v1/risks/calibration?service=checkout');
      expect(calibration.find((c) => c.risk === name)?.specUpdate).toBe('ettd: 20m\nettr: 40m');

      await withPage(async (page) => {
        await signIn(page, editor);
        await page.goto(`${base}/risks?service=checkout`);
        const card = page.locator(`[data-testid="calibration-${name}"]`);
        // A risk written in a spec file shows the lines to paste and where; this one applies them.
        await expect
          .poll(() => page.locator('[data-testid="calibration-bad-payment-config"] code').textContent())
          .toMatch(/^risks\.yaml:\d+$/);
        await card.getByRole('button', { name: 'Apply the measured estimate' }).click();
        await expect
          .poll(
            async () =>
              (await api('/api/v1/risks?service=checkout')).risks.find((r: JsonBody) => r.name === name)
                .estimate,
          )
          .toMatchObject({ ettdMinutes: 20, ettrMinutes: 40, impact: 0.1, ettfDays: 365.25 });
        await card.locator('text=The incidents agree with the estimate').waitFor();
      });
    } finally {
      await server.request('DELETE', `/api/v1/risks/${name}`, { token: editor });
    }
  });

  it('shows the DORA metrics and production deployments on the Delivery page in English and Japanese, and draws them on the SLO page', async () => {
    const token = await server.token('editor');
    const nowMs = Date.now();
    const at = (hoursAgo: number) => new Date(nowMs - hoursAgo * 3_600_000).toISOString();
    const record = async (body: JsonBody) => {
      const response = await server.request('POST', '/api/v1/deployments', { token, body });
      expect(response.status, JSON.stringify(await response.clone().json())).toBe(201);
    };
    // Production deployments of checkout over the last two days — one rolled back, one that caused
    // an incident, one hotfix — and a staging one that no list or metric may count.
    await record({
      id: 'ui-deploy-1',
      service: 'checkout',
      environment: 'production',
      version: '2.0.0',
      commits: [
        { sha: 'a1a1a1a1', timestamp: at(50) },
        { sha: 'a2a2a2a2', timestamp: at(49) },
      ],
      finishedAt: at(46),
      status: 'success',
    });
    await record({
      id: 'ui-deploy-2',
      service: 'checkout',
      environment: 'production',
      version: '2.1.0',
      commits: [{ sha: 'b1b1b1b1', timestamp: at(30) }],
      finishedAt: at(26),
      status: 'rolled_back',
    });
    await record({
      id: 'ui-deploy-3',
      service: 'checkout',
      environment: 'production',
      version: '2.2.0',
      commits: [{ sha: 'c1c1c1c1', timestamp: at(6) }],
      finishedAt: at(3),
      status: 'success',
    });
    await record({
      id: 'ui-deploy-4',
      service: 'checkout',
      environment: 'production',
      version: '2.2.1',
      kind: 'hotfix',
      commits: [{ sha: 'd1d1d1d1', timestamp: at(2) }],
      finishedAt: at(1),
      status: 'success',
    });
    await record({
      id: 'ui-deploy-staging',
      service: 'checkout',
      environment: 'staging',
      version: '2.3.0-rc1',
      finishedAt: at(0.5),
      status: 'success',
    });
    const declared = await server.request('POST', '/api/v1/incidents', {
      token,
      body: {
        title: 'Checkout errors after 2.2.0',
        severity: 'SEV3',
        services: ['checkout'],
        milestones: { impactStartedAt: at(2.5) },
      },
    });
    const incident = (await declared.json()) as JsonBody;
    const linked = await server.request('PATCH', `/api/v1/incidents/${incident.id}`, {
      token,
      body: { causedBy: { deployment: 'ui-deploy-3' } },
    });
    expect(linked.status).toBe(200);

    // A burst of failed checkout requests in the last minutes: the hours after ui-deploy-4 burn
    // far more than 5% of the availability budget.
    await burnCheckout();

    const period = periodOf('3m', {}, 'UTC', Date.now());
    const metrics: JsonBody = await api(metricsPath({ service: 'checkout' }, period));
    const listed: JsonBody = await api(
      deploymentsPath({ service: 'checkout' }, periodInstants(period), { limit: 50 }),
    );
    const production = listed.deployments.map((d: JsonBody) => d.id);
    expect(production).toEqual(['ui-deploy-4', 'ui-deploy-3', 'ui-deploy-2', 'ui-deploy-1']);

    for (const lang of ['en', 'ja'] as const) {
      const context = await browser.newContext({
        locale: lang === 'en' ? 'en-US' : 'ja-JP',
        timezoneId: 'UTC',
        viewport: { width: 1440, height: 900 },
      });
      try {
        const { page, problems } = await openPage(context);
        const number = (n: number, digits: number) =>
          new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n);
        const share = (n: number) =>
          new Intl.NumberFormat(lang, {
            style: 'percent',
            minimumFractionDigits: 0,
            maximumFractionDigits: 1,
          }).format(n);
        await page.goto(`${base}/delivery?service=checkout`);
        await page.waitForSelector('[data-testid="deployment-table"] tbody tr');
        await page.waitForSelector('[data-testid="trend-deploymentFrequency"] canvas');
        expect(await page.locator('h1').textContent()).toBe(lang === 'en' ? 'Delivery' : 'デリバリー');
        const card = (id: string) => page.locator(`[data-metric="${id}"]`);
        const value = (id: string) => card(id).locator('[data-field="value"]').textContent();
        const f = metrics.deploymentFrequency;
        expect(await value('deploymentFrequency')).toBe(
          lang === 'en' ? `${number(f.perDay, 2)} a day` : `1 日 ${number(f.perDay, 2)} 回`,
        );
        expect(await value('leadTime')).toBe(durationText(metrics.leadTime.medianMs, lang));
        expect(await value('changeFailRate')).toBe(share(metrics.changeFailRate.rate));
        expect(await value('recoveryTime')).toBe(durationText(metrics.recoveryTime.medianMs, lang));
        expect(await value('reworkRate')).toBe(share(metrics.reworkRate.rate));
        for (const id of ['deploymentFrequency', 'leadTime', 'changeFailRate', 'recoveryTime', 'reworkRate'])
          expect(await card(id).locator('[data-level]').getAttribute('data-level')).toBe(
            metrics[id].level?.name ?? 'none',
          );
        expect(await card('leadTime').locator('[data-level]').textContent()).toContain(
          `DORA ${metrics.benchmark.year}`,
        );
        // Each trend chart tells screen readers what it shows.
        expect(
          await page.locator('[data-testid="trend-changeFailRate"] [role="img"]').getAttribute('aria-label'),
        ).toContain(lang === 'en' ? 'week by week' : '週ごと');

        // The list: production only, newest first, failures linked to their incident.
        const rows = page.locator('[data-testid="deployment-table"] tbody tr');
        expect(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-deployment')))).toEqual(
          production,
        );
        const rolledBack = page.locator('tr[data-deployment="ui-deploy-2"]');
        expect(await rolledBack.getAttribute('data-failed')).toBe('true');
        expect(await rolledBack.locator('[data-field="status"]').textContent()).toBe(
          lang === 'en' ? 'Rolled back' : 'ロールバック済み',
        );
        expect(await rolledBack.locator('[data-field="reason"]').textContent()).toBe(
          lang === 'en' ? 'rolled back' : 'ロールバックされた',
        );
        const caused = page.locator('tr[data-deployment="ui-deploy-3"]');
        expect(await caused.getAttribute('data-failed')).toBe('true');
        expect(await caused.locator('[data-field="failed"] a').getAttribute('href')).toBe(
          `/incidents/${incident.reference}`,
        );
        expect(
          await page.locator('tr[data-deployment="ui-deploy-4"] [data-field="kind"]').textContent(),
        ).toBe(lang === 'en' ? 'Hotfix' : 'ホットフィックス');
        const gate = listed.deployments[0].gate;
        if (gate)
          expect(
            await page
              .locator('tr[data-deployment="ui-deploy-4"] [data-field="gate"] .pill')
              .getAttribute('title'),
          ).toBe(gate.summary);
        await screenshot(page, lang === 'en' ? 'delivery' : 'delivery-ja');

        // Over 5% of a budget burned after it: the row and the SLO are highlighted.
        const hot = page.locator('tr[data-deployment="ui-deploy-4"]');
        expect(await hot.getAttribute('data-burned')).toBe('true');
        expect(
          await hot
            .locator('[data-field="budget"] li.over')
            .evaluateAll((ls) => ls.map((l) => l.getAttribute('data-slo'))),
        ).toContain('checkout-availability');

        // "Burned more than 5%" shows what the API answers for the same filter.
        const burned: JsonBody = await api(
          deploymentsPath({ service: 'checkout' }, periodInstants(period), { burnedOver: 0.05, limit: 50 }),
        );
        await page.selectOption('select[name="burnedOver"]', '0.05');
        await expect.poll(() => page.url()).toContain('burnedOver=0.05');
        const expected = burned.deployments.map((d: JsonBody) => d.id);
        expect(expected).toContain('ui-deploy-4');
        await expect
          .poll(() => rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-deployment'))))
          .toEqual(expected);

        // The SLO page draws the same deployments on its charts, the failed ones marked.
        await page.goto(`${base}/slos/checkout-availability`);
        await page.waitForSelector('[data-testid="chart-budget"] .chart-marker');
        const markers = page.locator('[data-testid="chart-budget"] .chart-marker');
        expect(
          await markers.evaluateAll((ms) => ms.map((m) => m.getAttribute('data-marker')).sort()),
        ).toEqual([...production].sort());
        expect(
          await page
            .locator('[data-testid="chart-budget"] .chart-marker[data-failed="true"]')
            .evaluateAll((ms) => ms.map((m) => m.getAttribute('data-marker')).sort()),
        ).toEqual(
          listed.deployments
            .filter((d: JsonBody) => d.failed || d.status === 'rolled_back')
            .map((d: JsonBody) => d.id)
            .sort(),
        );
        expect(await markers.first().getAttribute('title')).toContain('checkout 2.0.0');
        expect(
          await page.locator('[data-testid="chart-sli"] [role="img"]').getAttribute('aria-label'),
        ).toContain(
          lang === 'en'
            ? `${production.length} production deployments drawn as lines`
            : `本番デプロイ ${production.length} 回を縦線で表示`,
        );
        if (lang === 'en') await screenshot(page, 'slo-deployments');
        expect(problems.errors).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });

  // Nine pages, each loaded and checked by axe: on a loaded 2-core box that takes more than a minute.
  it('shows no console errors and no serious accessibility problems on the main pages', async () => {
    const pages = [
      { path: '/', ready: '[data-testid="slo-table"] tbody tr', name: 'overview' },
      { path: '/?wall', ready: 'html.wall [data-testid="slo-table"] tbody tr', name: 'overview-wall' },
      { path: '/slos/checkout-latency', ready: '[data-testid="chart-budget"] canvas', name: 'slo-latency' },
      { path: '/alerts', ready: 'h2:has-text("Silences")', name: 'alerts-anonymous' },
      { path: '/incidents', ready: 'h1:has-text("Incidents")', name: 'incidents' },
      {
        path: '/action-items?status=open',
        ready: ':is([data-testid="all-action-items"], p:has-text("No action items yet."))',
        name: 'action-items',
      },
      {
        path: '/risks',
        ready: [
          '[data-testid="risk-table"] tbody tr',
          '[data-field="gate-badge"]',
          '[data-testid="backlog-checkout"]',
        ],
        name: 'risks-all',
      },
      {
        path: '/delivery',
        ready: [
          '[data-testid="delivery-metrics"]',
          ':is([data-testid="deployment-table"], [data-testid="deployments-empty"])',
        ],
        name: 'delivery-all',
      },
      { path: '/no/such/page', ready: 'h1:has-text("There is no such page")', name: 'not-found' },
    ];
    for (const p of pages)
      await withPage(async (page) => {
        await page.goto(`${base}${p.path}`);
        for (const ready of [p.ready].flat()) await page.waitForSelector(ready);
        await screenshot(page, p.name);
        const violations = await seriousA11yViolations(page);
        expect({ page: p.path, violations }).toEqual({ page: p.path, violations: [] });
      });
  }, 180_000);
  it("switches off another team's incident for a team-scoped editor, in English and Japanese", async () => {
    const admin = await server.token('admin');
    const team = async (name: string, teams: string[]) =>
      (await createToken(server.shinrai.ctx, { name, role: 'editor', teams })).token;
    const [discovery, payments] = [
      await team('ui-discovery', ['team-discovery']),
      await team('ui-payments', ['team-payments']),
    ];
    const declared = await server.request('POST', '/api/v1/incidents', {
      token: admin,
      body: { title: 'Checkout errors for one team', severity: 'SEV3', services: ['checkout'] },
    });
    const reference = ((await declared.json()) as JsonBody).reference as string;
    await withPage(async (page) => {
      await signIn(page, discovery);
      await page.goto(`${base}/incidents/${reference}`);
      const notice = page.locator('[data-testid="other-team"]');
      await notice.waitFor();
      expect(await notice.textContent()).toBe(
        'Another team owns checkout: you can read this incident but not change it.',
      );
      expect(await page.locator('[data-testid="status"]').isDisabled()).toBe(true);
      expect(await page.locator('form.note').count()).toBe(0);
      await page.evaluate(() =>
        (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage.setItem('shinrai.lang', 'ja'),
      );
      await page.reload();
      await notice.waitFor();
      expect(await notice.textContent()).toContain('checkout は別のチームの担当です');
    });
    await withPage(async (page) => {
      await signIn(page, payments);
      await page.goto(`${base}/incidents/${reference}`);
      await page.locator('form.note').waitFor();
      expect(await page.locator('[data-testid="other-team"]').count()).toBe(0);
      expect(await page.locator('[data-testid="status"]').isDisabled()).toBe(false);
    });
  });

  it('suggests the deployment before an incident as its cause, confirms, changes and removes it on the incident page; a viewer only reads', async () => {
    const editor = await server.token('editor');
    const viewer = await server.token('viewer');
    const nowMs = Math.floor(Date.now() / 60_000) * 60_000;
    const at = (hoursAgo: number) => new Date(nowMs - hoursAgo * 3_600_000).toISOString();
    const sha = 'c0ffee1234567890abcdef1234567890abcdef12';
    const recorded = await server.request('POST', '/api/v1/deployments', {
      token: editor,
      body: {
        id: 'ui-cause-login-1',
        service: 'login',
        environment: 'production',
        version: '3.1.0',
        commits: [{ sha, timestamp: at(4), message: 'Shorter session timeout' }],
        finishedAt: at(3),
        status: 'success',
      },
    });
    expect(recorded.status).toBe(201);
    const declared = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: {
        title: 'Login failures after 3.1.0',
        severity: 'SEV3',
        services: ['login'],
        milestones: { impactStartedAt: at(2) },
      },
    });
    expect(declared.status).toBe(201);
    const reference = ((await declared.json()) as JsonBody).reference as string;
    const incidentPath = `/api/v1/incidents/${reference}`;
    expect((await api(`${incidentPath}/suspects`)).suspects.map((s: JsonBody) => s.id)).toEqual([
      'ui-cause-login-1',
    ]);

    // A viewer sees the suggestion and its reason, but no control that writes.
    await withPage(async (page) => {
      await signIn(page, viewer);
      await page.goto(`${base}/incidents/${reference}`);
      await page.waitForSelector('[data-testid="cause"][data-access="read"]');
      const suspect = page.locator('[data-suspect="ui-cause-login-1"]');
      await suspect.waitFor();
      expect(await suspect.textContent()).toContain(
        'The last production deployment of login before the impact started (within 24 h).',
      );
      const cause = page.locator('[data-testid="cause"]');
      expect(await cause.getByRole('button').count()).toBe(0);
      expect(await page.locator('[data-testid="cause-form"]').count()).toBe(0);
      expect(await cause.textContent()).toContain('Confirming a cause needs an editor token.');
    });

    // An editor confirms it, names an unknown commit (refused, the reason shown beside the form),
    // names the recorded commit by its abbreviation, then removes the cause.
    await withPage(
      async (page) => {
        await signIn(page, editor);
        await page.goto(`${base}/incidents/${reference}`);
        const cause = page.locator('[data-testid="cause"][data-access="write"]');
        await cause.waitFor();
        expect(await cause.textContent()).toContain('Only a confirmed cause counts in the DORA metrics');
        await page.getByRole('button', { name: 'Confirm ui-cause-login-1 as the cause' }).click();
        const confirmed = page.locator('[data-testid="confirmed-cause"]');
        const serviceLink = confirmed.getByRole('link', { name: 'login', exact: true });
        await serviceLink.waitFor();
        expect(await confirmed.locator('[data-field="deployment"]').textContent()).toContain('3.1.0');
        expect(await serviceLink.getAttribute('href')).toBe('/delivery?service=login');
        expect(await confirmed.locator('[data-testid="cause-budget"] [data-slo]').count()).toBeGreaterThan(0);
        expect(await confirmed.locator('[data-field="confirmed-by"]').textContent()).toMatch(
          /^Confirmed by /,
        );
        expect((await api(incidentPath)).causedBy).toMatchObject({ deployment: 'ui-cause-login-1' });
        await page
          .locator('[data-testid="timeline"] li', { hasText: 'cause confirmed: deployment ui-cause-login-1' })
          .waitFor();
        expect(await page.locator('[data-testid="suspects"]').count()).toBe(0);
        await screenshot(page, 'incident-cause');
        expect(await seriousA11yViolations(page)).toEqual([]);

        await page.getByRole('button', { name: 'Change', exact: true }).click();
        await page.getByLabel('Kind of cause').selectOption('commit');
        await page.getByLabel('Commit sha').fill('deadbeef00');
        await page.getByRole('button', { name: 'Set as the cause' }).click();
        await page.waitForSelector(
          '[data-testid="cause"] [role="alert"]:has-text("no recorded change \\"deadbeef00\\"")',
        );
        expect((await api(incidentPath)).causedBy).toMatchObject({ deployment: 'ui-cause-login-1' });

        await page.getByLabel('Commit sha').fill(sha.slice(0, 8));
        await page.getByRole('button', { name: 'Set as the cause' }).click();
        const commit = confirmed.locator('[data-field="commit"]');
        await commit.waitFor();
        expect(await commit.textContent()).toBe(sha.slice(0, 10));
        expect(await commit.getAttribute('title')).toBe(sha);
        expect((await api(incidentPath)).causedBy).toMatchObject({ commit: sha });
        expect(await page.locator('[data-testid="cause"] [role="alert"]').count()).toBe(0);

        await page.getByRole('button', { name: 'Remove', exact: true }).click();
        await page.locator('[data-suspect="ui-cause-login-1"]').waitFor();
        await page.locator('[data-testid="timeline"] li', { hasText: 'cause removed' }).waitFor();
        expect((await api(incidentPath)).causedBy).toBeUndefined();
      },
      { expectedErrors: /status of 400/ },
    );

    // The panel in Japanese, once.
    await withPage(async (page) => {
      await signIn(page, editor);
      await page.goto(`${base}/incidents/${reference}`);
      await page.waitForSelector('[data-testid="cause"][data-access="write"] [data-suspect]');
      await page.selectOption('[data-testid="language"]', 'ja');
      const cause = page.locator('[data-testid="cause"]');
      await cause.locator('h2:has-text("原因")').waitFor();
      const text = await cause.textContent();
      expect(text).toContain('原因の候補');
      expect(text).toContain('DORA メトリクス（変更失敗率・復旧時間）に数えるのは確定した原因だけです。');
      expect(text).toContain('影響開始前の login の最後の本番デプロイ（24 時間以内）。');
      await cause.getByRole('button', { name: 'ui-cause-login-1 を原因として確定' }).waitFor();
      await cause.getByRole('button', { name: '原因に設定' }).waitFor();
      await screenshot(page, 'incident-cause-ja');
    });
  });
});

describe('web UI with anonymous reads off', () => {
  let closed: TestServer;

  beforeAll(async () => {
    // No demo traffic: the login flow needs SLOs, not history.
    closed = await startTestServer('sqlite', { specs: DEMO_SPECS, anonymousRead: false });
  }, 60_000);

  afterAll(async () => {
    await closed?.close();
  });

  it('asks for a token, reads with a viewer token kept in localStorage, and offers it no write', async () => {
    const viewer = await closed.token('viewer');
    await withPage(
      async (page) => {
        await page.goto(`${closed.shinrai.url}/`);
        await page.waitForSelector('[role="alert"]:has-text("Sign in")');
        await page.getByRole('button', { name: 'Sign in with a token' }).click();
        await page.getByLabel('API token').fill(viewer);
        await page.getByRole('button', { name: 'Save' }).click();
        await page.waitForSelector('tr[data-slo-id="checkout-availability"]');
        expect(await page.locator('[role="alert"]').count()).toBe(0);
        await page.reload();
        await page.waitForSelector('tr[data-slo-id="checkout-availability"]');

        // A viewer is offered no write it could only get 403 for; the API refuses it anyway.
        await page.goto(`${closed.shinrai.url}/incidents`);
        await page.getByRole('heading', { name: 'Incidents' }).waitFor();
        await page.getByText('No incidents yet.').waitFor();
        expect(await page.getByRole('button', { name: 'Declare an incident' }).count()).toBe(0);
        const refused = await closed.request('POST', '/api/v1/incidents', {
          token: viewer,
          body: { title: 'Viewer cannot declare', severity: 'SEV3' },
        });
        expect(refused.status).toBe(403);
        expect(await (await closed.request('GET', '/api/v1/incidents', { token: viewer })).json()).toEqual(
          [],
        );
      },
      { expectedErrors: /status of 40[13]/ },
    );
  });

  it('downloads the reliability backlog with the token, which a plain link could not send', async () => {
    const viewer = await closed.token('viewer');
    const anonymous = await fetch(`${closed.shinrai.url}/api/v1/backlog?format=csv`);
    expect(anonymous.status).toBe(401);
    await withPage(async (page) => {
      // The token is in localStorage before the app's first request, as after a sign-in.
      await page.addInitScript(
        (t) =>
          (
            globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
          ).localStorage.setItem('shinrai.token', t),
        viewer,
      );
      await page.goto(`${closed.shinrai.url}/risks`);
      await page.waitForSelector('[data-testid="risk-table"] tbody tr');
      const csv = await download(page, 'Download CSV');
      expect(csv.name).toBe('reliability-backlog.csv');
      expect(csv.text).toBe(
        await (await closed.request('GET', '/api/v1/backlog?format=csv', { token: viewer })).text(),
      );
    });
  });
});
