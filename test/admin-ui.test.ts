/**
 * The Admin page and team-scoped read-only pages in a real browser (Chromium): an admin creates a
 * team-scoped token on the Admin page (the secret shown once, copied), the API then refuses that
 * token on another team's risk, and revokes a token after confirming; the team's editor sees the
 * other team's risks read-only, in English and Japanese; a viewer gets no Admin link and no write
 * controls. With single sign-on, an admin assigns a role and a team to a person and removes it.
 * No console errors, no serious accessibility problem.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SPECS } from '../src/cli/commands/demo.js';
import { createToken } from '../src/platform/auth/index.js';
import { findWebRoot } from '../src/platform/http/web-routes.js';
import {
  launchBrowser,
  openPage,
  seriousA11yViolations,
  signInBeforeLoad,
  withTokenPage,
} from './support/browser.js';
import { oidcSettings, startTestProvider, type TestProvider } from './support/oidc.js';
import { freePort } from './support/prometheus.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';

describe('Admin page', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    if (!findWebRoot()) throw new Error('the web UI is not built: run `npm run build` first (dist/web)');
    server = await startTestServer('sqlite', { specs: DEMO_SPECS, anonymousRead: false });
    [browser, admin, viewer] = await Promise.all([
      launchBrowser(),
      server.token('admin'),
      server.token('viewer'),
    ]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A page signed in with `token` (kept in localStorage before the app's first request). */
  async function withPage(token: string, run: (page: Page) => Promise<void>): Promise<void> {
    await withTokenPage(browser, token, run, (context) =>
      context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.shinrai.url }),
    );
  }

  const risk = (service: string) => ({ service, ettd: '5m', ettr: '10m', impact: '10%', ettf: '1Y' });

  // Browser steps on a loaded 2-core box take seconds each: these tests get more than the default minute.
  const SLOW = 180_000;

  it(
    'creates a team-scoped token (shown once, copied) that the API then holds to its team',
    async () => {
      let secret = '';
      await withPage(admin, async (page) => {
        await page.goto(`${server.shinrai.url}/`);
        await page.getByRole('link', { name: 'Admin' }).click();
        await page.getByRole('heading', { name: 'API tokens' }).waitFor();
        const teams = page.locator('[data-testid="teams"] tbody tr');
        await teams.first().waitFor();
        expect(await teams.allTextContents()).toEqual([
          'team-discoverysearch',
          'team-identitylogin',
          'team-paymentscheckout',
        ]);
        expect(await seriousA11yViolations(page)).toEqual([]);

        const form = page.getByTestId('create-token');
        await form.getByLabel('Name').fill('payments-ui');
        await form.getByLabel('Role').selectOption('editor');
        await form.getByLabel('team-payments').check();
        await form.getByRole('button', { name: 'Create token' }).click();
        const shown = page.getByTestId('secret');
        await shown.waitFor();
        secret = await shown.inputValue();
        expect(secret).toMatch(/^shr_[a-z0-9]{12}_/);
        await page.getByRole('button', { name: 'Copy' }).click();
        await page.getByText('Copied').waitFor();
        expect(
          await page.evaluate(() =>
            (
              globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
            ).navigator.clipboard.readText(),
          ),
        ).toBe(secret);
        const row = page.locator('[data-testid="tokens"] tr[data-token="payments-ui"]');
        expect(await row.textContent()).toContain('team-payments');
        expect(await row.textContent()).toContain('Editor');

        // Shown once: the list and a reload never show it again.
        await page.getByRole('button', { name: 'Done' }).click();
        await page.reload();
        await row.waitFor();
        expect(await page.content()).not.toContain(secret);
      });

      // The API holds the new token to its team: another team's risk is refused, its own is not.
      const other = await server.request('PUT', '/api/v1/risks/ui-search-risk', {
        token: secret,
        body: risk('search'),
      });
      expect(other.status).toBe(403);
      expect(((await other.json()) as JsonBody).detail).toMatch(/team-discovery/);
      const own = await server.request('PUT', '/api/v1/risks/ui-checkout-risk', {
        token: secret,
        body: risk('checkout'),
      });
      expect(own.status).toBe(201);
      const created = (
        await json(server.request('GET', '/api/v1/audit?action=token.create', { token: admin }))
      ).events[0];
      expect(created.changes.after).toEqual({
        name: 'payments-ui',
        role: 'editor',
        teams: ['team-payments'],
      });
    },
    SLOW,
  );

  it(
    'revokes a token after a confirmation, and the token is refused at once',
    async () => {
      const doomed = await json(
        server.request('POST', '/api/v1/auth/tokens', {
          token: admin,
          body: { name: 'doomed', role: 'viewer' },
        }),
      );
      await withPage(admin, async (page) => {
        await page.goto(`${server.shinrai.url}/admin`);
        const row = page.locator('[data-testid="tokens"] tr[data-token="doomed"]');
        await row.getByRole('button', { name: 'Revoke' }).click();
        await row.getByText('Revoke token doomed?').waitFor();
        expect((await server.request('GET', '/api/v1/whoami', { token: doomed.token })).status).toBe(200);
        await row.getByRole('button', { name: 'Yes, revoke' }).click();
        await row.getByText(/^revoked /).waitFor();
      });
      expect((await server.request('GET', '/api/v1/whoami', { token: doomed.token })).status).toBe(401);
    },
    SLOW,
  );

  it(
    "shows a team's editor another team's risks and postmortem read-only, in English and Japanese",
    async () => {
      const secret = (
        await createToken(server.shinrai.ctx, {
          name: 'payments-editor',
          role: 'editor',
          teams: ['team-payments'],
        })
      ).token;
      const search = await server.request('PUT', '/api/v1/risks/search-index-slow', {
        token: admin,
        body: risk('search'),
      });
      expect(search.status).toBe(201);
      const startMs = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 86_400_000;
      const declared = await server.request('POST', '/api/v1/incidents', {
        token: admin,
        body: {
          title: 'Search slow while the index rebuilt',
          severity: 'SEV3',
          services: ['search'],
          labels: { risk: 'search-index-slow' },
          milestones: {
            impactStartedAt: new Date(startMs).toISOString(),
            detectedAt: new Date(startMs + 20 * 60_000).toISOString(),
            mitigatedAt: new Date(startMs + 60 * 60_000).toISOString(),
          },
        },
      });
      expect(declared.status).toBe(201);
      const reference = ((await declared.json()) as JsonBody).reference as string;
      const postmortem = await json(
        server.request('POST', `/api/v1/incidents/${reference}/postmortem`, { token: admin, body: {} }),
      );
      await withPage(secret, async (page) => {
        await page.goto(`${server.shinrai.url}/risks?service=search`);
        const notice = page.locator('p[data-testid="other-team"]');
        await notice.waitFor();
        expect(await notice.textContent()).toBe('Owned by team team-discovery (search) — read-only for you.');
        const card = page.locator('[data-testid="calibration-search-index-slow"]');
        await card.locator('[data-testid="other-team"]').waitFor();
        expect(await card.getByRole('button', { name: 'Apply the measured estimate' }).count()).toBe(0);
        expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);

        await page.getByTestId('language').selectOption('ja');
        await expect
          .poll(() => notice.textContent())
          .toBe('チーム team-discovery の担当です（search）— あなたは閲覧のみできます。');

        // The postmortem of the other team's incident, and its action items, are read-only too.
        await page.goto(`${server.shinrai.url}/postmortems/${postmortem.id}`);
        await expect
          .poll(() => page.locator('p[data-testid="other-team"]').textContent())
          .toBe('チーム team-discovery の担当です（search）— あなたは閲覧のみできます。');
        expect(await page.getByTestId('pm-markdown').getAttribute('readonly')).not.toBeNull();
        expect(
          await page
            .getByRole('button')
            .filter({ hasText: /レビュー|保存|アクションアイテムを追加/ })
            .count(),
        ).toBe(0);

        // Its own team's risks keep their controls.
        await page.getByTestId('language').selectOption('en');
        await page.goto(`${server.shinrai.url}/risks?service=checkout`);
        await page.locator('[data-testid="risk-table"] tbody tr').first().waitFor();
        expect(await page.locator('[data-testid="other-team"]').count()).toBe(0);
      });
      // The same postmortem keeps its controls for an admin: the check above is not vacuous.
      await withPage(admin, async (page) => {
        await page.goto(`${server.shinrai.url}/postmortems/${postmortem.id}`);
        await page.getByRole('button', { name: 'Send for review' }).waitFor();
        await page.getByRole('button', { name: 'Add action item' }).waitFor();
        expect(await page.locator('[data-testid="other-team"]').count()).toBe(0);
      });
    },
    SLOW,
  );

  it('shows a viewer no Admin link, no write controls, and says the page is for admins', async () => {
    await withPage(viewer, async (page) => {
      await page.goto(`${server.shinrai.url}/admin`);
      await page.getByText('Only admins can manage tokens and people.').waitFor();
      expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
      await page.goto(`${server.shinrai.url}/incidents`);
      await page.getByRole('heading', { name: 'Incidents' }).waitFor();
      await page.locator('[data-testid="incidents"]').or(page.getByText('No incidents yet.')).waitFor();
      expect(await page.getByRole('button', { name: 'Declare an incident' }).count()).toBe(0);
      await page.goto(`${server.shinrai.url}/alerts`);
      await page.getByRole('heading', { name: 'Silences' }).waitFor();
      expect(await page.locator('#silence-form').count()).toBe(0);
    });
  });
});

describe('Admin page with single sign-on', () => {
  let provider: TestProvider;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    provider = await startTestProvider({ shinraiUrl: () => base, people: {} });
    [server, browser] = await Promise.all([
      startTestServer('sqlite', {
        specs: DEMO_SPECS,
        config: { 'server.port': port, 'auth.oidc': oidcSettings(provider, base, {}) },
      }),
      launchBrowser(),
    ]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await provider?.close();
  });

  it('assigns a role and a team to a person, and removes it after a confirmation', async () => {
    const admin = await server.token('admin');
    const people = async () => json(server.request('GET', '/api/v1/auth/people', { token: admin }));
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
    try {
      const { page, problems } = await openPage(context);
      await signInBeforeLoad(page, admin);
      await page.goto(`${server.shinrai.url}/admin`);
      await page.getByRole('heading', { name: 'People' }).waitFor();
      await page.getByText("No roles are assigned in Shinrai: the provider's groups decide.").waitFor();
      const form = page.getByTestId('assign-person');
      await form.getByLabel('E-mail address or subject').fill('Aiko@Example.com');
      await form.getByLabel('Role').selectOption('editor');
      await form.getByLabel('team-payments').check();
      await form.getByRole('button', { name: 'Assign' }).click();
      const row = page.locator('[data-testid="people"] tr[data-person="aiko@example.com"]');
      await row.waitFor();
      expect(await row.textContent()).toContain('team-payments');
      expect(await people()).toMatchObject([
        { person: 'aiko@example.com', role: 'editor', teams: ['team-payments'] },
      ]);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await row.getByRole('button', { name: 'Remove' }).click();
      await row.getByText('Remove the assignment of aiko@example.com?').waitFor();
      await row.getByRole('button', { name: 'Yes, remove' }).click();
      await row.waitFor({ state: 'detached' });
      expect(await people()).toEqual([]);
      const audit = await json(server.request('GET', '/api/v1/audit?action=person.', { token: admin }));
      expect(audit.events.map((e: JsonBody) => e.action).sort()).toEqual([
        'person.assign',
        'person.unassign',
      ]);
      expect(problems.errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);
});
