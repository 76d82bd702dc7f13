/**
 * Single sign-on in a real browser (Debian's Chromium through playwright-core) against a real
 * OpenID provider (oidc-provider on a loopback port): "Sign in with SSO" in the web UI, the
 * provider's login page, back in Shinrai with the role of the person's groups; the page writes
 * with its cookie and CSRF token (and not without the token), the UI's incident form included, and
 * the audit log names the person for those writes; "Sign out" in Japanese ends the
 * session and passes through the provider's logout page.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findWebRoot } from '../src/platform/http/web-routes.js';
import { launchBrowser, openPage, screenshot } from './support/browser.js';
import { oidcSettings, startTestProvider, type TestProvider } from './support/oidc.js';
import { freePort } from './support/prometheus.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('single sign-on in Chromium', () => {
  let provider: TestProvider;
  let server: TestServer;
  let browser: Browser;
  let base = '';

  beforeAll(async () => {
    if (!findWebRoot()) throw new Error('the web UI is not built: run `npm run build` first (dist/web)');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await startTestProvider({
      shinraiUrl: () => base,
      people: { alice: { name: 'Alice Editor', email: 'alice@example.com', groups: ['sre'] } },
    });
    [server, browser] = await Promise.all([
      startTestServer('sqlite', {
        config: {
          'server.port': port,
          'auth.oidc': oidcSettings(provider, base, { sre: { role: 'editor', teams: ['sre'] } }),
          // The default, Secure: Chromium keeps Secure cookies on a loopback http:// origin.
          'auth.sessions': { secureCookie: true },
        },
      }),
      launchBrowser(),
    ]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await provider?.close();
  });

  it('signs in through the provider, writes with the CSRF token, and signs out through the provider', async () => {
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
    try {
      const { page } = await openPage(context);
      await page.goto(`${base}/incidents`);
      await page.getByRole('link', { name: 'Sign in with SSO' }).click();

      // The provider's own login page (any password in its development mode).
      await page.waitForURL((url) => url.href.startsWith(provider.issuer));
      await page.locator('input[name="login"]').fill('alice');
      await page.locator('input[name="password"]').fill('any');
      await page.locator('button[type="submit"]').click();

      // Back where the sign-in started, as the person the provider named, with their group's role.
      await page.waitForURL(`${base}/incidents`);
      await expect
        .poll(() => page.getByTestId('signed-in-as').textContent())
        .toBe('Signed in as Alice Editor');
      const cookie = (await context.cookies(base)).find((c) => c.name === 'shinrai_session');
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
      await screenshot(page, 'sso-signed-in');

      // The page (this origin) writes with the cookie and the CSRF token whoami gave it; the cookie alone is refused.
      const writes = await page.evaluate(async () => {
        const who = (await (await fetch('/api/v1/whoami')).json()) as { role: string; csrfToken: string };
        const body = JSON.stringify({ title: 'From the browser', severity: 'SEV3' });
        const headers = { 'content-type': 'application/json' };
        const withToken = await fetch('/api/v1/incidents', {
          method: 'POST',
          body,
          headers: { ...headers, 'x-csrf-token': who.csrfToken },
        });
        const without = await fetch('/api/v1/incidents', { method: 'POST', body, headers });
        return { role: who.role, withToken: withToken.status, without: without.status };
      });
      expect(writes).toEqual({ role: 'editor', withToken: 201, without: 403 });

      // The UI's own writes carry the token too: declaring an incident from its form works.
      await page.getByRole('button', { name: 'Declare an incident' }).click();
      await page.getByLabel('Title').fill('Declared with a session');
      await page.getByRole('button', { name: 'Declare', exact: true }).click();
      await page.waitForURL(/\/incidents\/INC-\d+$/);
      await page.waitForSelector('h1:has-text("INC-")');

      // The audit log names the person and their SSO identity for both writes made with the session.
      const admin = await server.token('admin');
      const audit = (await (
        await server.request('GET', '/api/v1/audit?action=incident.create', { token: admin })
      ).json()) as { events: Array<{ actor: string; credential: string; role: string | null }> };
      expect(audit.events.map(({ actor, credential, role }) => ({ actor, credential, role }))).toEqual([
        { actor: 'alice@example.com', credential: 'session:alice', role: 'editor' },
        { actor: 'alice@example.com', credential: 'session:alice', role: 'editor' },
      ]);

      // In Japanese: sign out, confirm on the provider's logout page, and land back signed out.
      await page.getByTestId('language').selectOption('ja');
      await expect
        .poll(() => page.getByTestId('signed-in-as').textContent())
        .toBe('Alice Editor としてサインイン中');
      await page.getByRole('button', { name: 'サインアウト' }).click();
      await page.waitForURL((url) => url.href.startsWith(provider.issuer));
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.waitForURL(`${base}/`);
      await expect.poll(() => page.getByRole('link', { name: 'SSOでサインイン' }).count()).toBe(1);
      expect((await context.cookies(base)).some((c) => c.name === 'shinrai_session')).toBe(false);

      // The session is gone on the server: its old cookie opens nothing.
      const replayed = await fetch(`${base}/api/v1/whoami`, {
        headers: { cookie: `shinrai_session=${cookie!.value}` },
      });
      expect(replayed.status).toBe(401);
    } finally {
      await context.close();
    }
  });
});
