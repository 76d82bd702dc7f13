/**
 * Browser tests: Debian's Chromium driven by playwright-core (no browser download), a Shinrai
 * started in-process with the demo data, console/page errors collected per page, axe-core
 * injected from node_modules, screenshots written for a person to look at.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { DEMO_SPECS } from '../../src/cli/commands/demo.js';
import { findWebRoot } from '../../src/platform/http/web-routes.js';
import { startTestServer, type TestServer } from './server.js';

export const CHROMIUM = process.env.SHINRAI_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Shinrai with the demo shop and a couple of seeded days on SQLite, evaluated before it returns. */
export async function startDemoServer(seedDays = 2): Promise<TestServer> {
  if (!findWebRoot()) throw new Error('the web UI is not built: run `npm run build` first (dist/web)');
  const server = await startTestServer('sqlite', {
    specs: DEMO_SPECS,
    anonymousRead: true,
    config: { 'demo.enabled': true, 'demo.seedDays': seedDays },
  });
  await evaluated(server);
  return server;
}

/** Waits until the evaluator has caught up with the seeded history (statuses for every SLO, recent). */
export async function evaluated(server: TestServer): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    await server.shinrai.evaluator.tick();
    const slos = (await (await server.request('GET', '/api/v1/slos')).json()) as Array<{
      status: Array<{ evaluatedAt: string }>;
    }>;
    const fresh = slos.every(
      (s) => s.status.length > 0 && s.status.every((st) => Date.now() - Date.parse(st.evaluatedAt) < 120_000),
    );
    if (slos.length > 0 && fresh) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the evaluator did not catch up with the demo history');
}

export interface PageProblems {
  /** Console errors and uncaught page errors seen so far. */
  readonly errors: string[];
}

/** A page that records console errors and page errors; the language is fixed to English unless given. */
export async function openPage(context: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const page = await context.newPage();
  const problems: PageProblems = { errors: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.errors.push(`pageerror: ${error.message}`));
  return { page, problems };
}

/** Signs the page in with `token` before the app's first request (kept in localStorage, as "Sign in with a token" does). */
export async function signInBeforeLoad(page: Page, token: string): Promise<void> {
  await page.addInitScript(
    (t) =>
      (
        globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
      ).localStorage.setItem('shinrai.token', t),
    token,
  );
}

/**
 * Runs `run` on a page of a new English, UTC context signed in with `token`, and expects no console
 * or page error; `setUp` may grant the context permissions first (the clipboard, say).
 */
export async function withTokenPage(
  browser: Browser,
  token: string,
  run: (page: Page) => Promise<void>,
  setUp?: (context: BrowserContext) => Promise<void>,
): Promise<void> {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
  try {
    await setUp?.(context);
    const { page, problems } = await openPage(context);
    await signInBeforeLoad(page, token);
    await run(page);
    if (problems.errors.length) throw new Error(`the page reported errors: ${problems.errors.join('; ')}`);
  } finally {
    await context.close();
  }
}

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core on the page; answers the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol rather than added as a <script>: the UI's CSP
  // (script-src 'self') rightly refuses inline scripts, and the tests keep the CSP on.
  axeSource ??= readFileSync(AXE, 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // axe is injected as a global script; this function runs in the page.
    const g = globalThis as unknown as {
      axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> };
      document: unknown;
    };
    const result = await g.axe.run(g.document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target })),
    }));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
