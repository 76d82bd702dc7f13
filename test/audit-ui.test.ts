/**
 * The Audit page in a real browser (Chromium): an admin sees the link, the events with their
 * changes and owning teams, filters them (by team too), exports the NDJSON the API gives, and reads the page in Japanese; a
 * viewer sees no link and is told the page is for admins. No console errors, no serious
 * accessibility problem.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SPECS } from '../src/cli/commands/demo.js';
import { launchBrowser, seriousA11yViolations, withTokenPage } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('Audit page', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer('sqlite', { specs: DEMO_SPECS, anonymousRead: false });
    [browser, admin, viewer] = await Promise.all([
      launchBrowser(),
      server.token('admin'),
      server.token('viewer'),
    ]);
    const editor = await server.token('editor');
    const created = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: { title: 'Checkout errors', severity: 'SEV2' },
    });
    expect(created.status).toBe(201);
    // One on a team's service: its event records the owning team (docs/audit.md#teams).
    const search = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: { title: 'Search is slow', severity: 'SEV3', services: ['search'] },
    });
    expect(search.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A page signed in with `token` (kept in localStorage before the app's first request). */
  async function withPage(token: string, run: (page: Page) => Promise<void>): Promise<void> {
    await withTokenPage(browser, token, run);
  }

  it('lists, filters and exports the events for an admin, in English and Japanese', async () => {
    await withPage(admin, async (page) => {
      await page.goto(`${server.shinrai.url}/`);
      await page.getByRole('link', { name: 'Audit' }).click();
      const row = page.locator('[data-testid="audit-events"] tbody tr', { hasText: 'Checkout errors' });
      await row.waitFor();
      expect(await row.textContent()).toContain('incident.create');
      expect(await row.textContent()).toContain('editor-3');
      expect(await seriousA11yViolations(page)).toEqual([]);

      // The owning team under the target, and the team filter.
      const searchRow = page.locator('[data-testid="audit-events"] tbody tr', { hasText: 'Search is slow' });
      expect(await searchRow.getByTestId('audit-teams').textContent()).toBe('teams: team-discovery');
      expect(await row.getByTestId('audit-teams').count()).toBe(0);
      await page.getByLabel('Team').fill('team-discovery');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/team=team-discovery/);
      await searchRow.waitFor();
      await row.waitFor({ state: 'detached' });
      await page.getByLabel('Team').fill('');

      await page.getByLabel('Action (prefix)').fill('risk');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('No audit events match.').waitFor();
      expect(page.url()).toContain('action=risk');

      await page.getByLabel('Action (prefix)').fill('incident');
      await page.getByRole('button', { name: 'Filter' }).click();
      await row.waitFor();
      const [file] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export NDJSON' }).click(),
      ]);
      expect(file.suggestedFilename()).toBe('shinrai-audit.ndjson');
      const expected = await (
        await server.request('GET', '/api/v1/audit?action=incident&format=ndjson', { token: admin })
      ).text();
      expect(await readFile((await file.path())!, 'utf8')).toBe(expected);

      await page.getByTestId('language').selectOption('ja');
      await page.getByRole('heading', { name: '監査ログ' }).waitFor();
      expect(await page.getByRole('link', { name: '監査ログ' }).count()).toBe(1);
    });
  });

  it('shows a viewer no link and says the page is for admins', async () => {
    await withPage(viewer, async (page) => {
      await page.goto(`${server.shinrai.url}/audit`);
      await page.getByText('Only admins can read the audit log.').waitFor();
      expect(await page.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    });
  });
});
