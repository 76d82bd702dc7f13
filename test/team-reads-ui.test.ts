/**
 * The web UI for a person whose reads are scoped to a team (`auth.teamScopedReads`), in a real
 * browser (Chromium): the overview, the incidents, the risks and an SLO page load with only the
 * team's records and those nobody owns; another team's SLO page says it is not there. The API's
 * matrix is test/team-reads.test.ts.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/platform/auth/index.js';
import { launchBrowser, openPage, signInBeforeLoad } from './support/browser.js';
import { json, startTestServer, type TestServer } from './support/server.js';

describe('web UI with team-scoped reads', () => {
  let server: TestServer;
  let browser: Browser;
  const refs: Record<string, string> = {};

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startTestServer('sqlite', { specs: 'examples/shop', config: { 'auth.teamScopedReads': true } }),
      launchBrowser(),
    ]);
    const admin = await server.token('admin');
    for (const [name, services] of [
      ['checkout', ['checkout']],
      ['search', ['search']],
      ['nowhere', []],
    ] as const) {
      const response = await server.request('POST', '/api/v1/incidents', {
        token: admin,
        body: { title: `Trouble on ${name}`, severity: 'SEV3', services },
      });
      refs[name] = (await json(response)).reference;
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows a team's viewer its team's SLOs, incidents and risks, and hides the others'", async () => {
    const { token } = await createToken(server.shinrai.ctx, {
      name: 'payments-viewer',
      role: 'viewer',
      teams: ['team-payments'],
    });
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
    try {
      const { page, problems } = await openPage(context);
      await signInBeforeLoad(page, token);
      const base = server.shinrai.url;
      await page.goto(`${base}/`);
      await page.waitForSelector('tr[data-slo-id="checkout-availability"]');
      expect(await page.locator('tr[data-slo-id="search-availability"]').count()).toBe(0);
      expect(await page.locator('tr[data-slo-id="login-availability"]').count()).toBe(0);

      await page.goto(`${base}/incidents`);
      await page.waitForSelector(`tr[data-ref="${refs.checkout}"]`);
      await page.waitForSelector(`tr[data-ref="${refs.nowhere}"]`);
      expect(await page.locator(`tr[data-ref="${refs.search}"]`).count()).toBe(0);

      await page.goto(`${base}/risks`);
      await page.waitForSelector('[data-testid="risk-table"] tbody tr[data-risk="db-failover-manual"]');
      expect(await page.locator('tr[data-risk="search-index-rebuild"]').count()).toBe(0);

      await page.goto(`${base}/slos/checkout-availability`);
      await page
        .getByRole('heading', { name: /checkout/i })
        .first()
        .waitFor();

      // Another team's SLO is answered as a missing one: the page shows the API's 404.
      await page.goto(`${base}/slos/search-availability`);
      await page.getByText('no SLO "search-availability"').first().waitFor();
      expect(problems.errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
