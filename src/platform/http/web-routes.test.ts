import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import type { Db } from '../db/index.js';
import { createMetrics } from '../metrics.js';
import { markdownRoutes } from './markdown-routes.js';
import { type App, buildServer } from './server.js';
import { UI_CSP, webRoutes } from './web-routes.js';

async function serverWith(root: string | null, anonymousRead = false): Promise<App> {
  return buildServer(
    {
      config: loadConfig({ flags: { 'auth.anonymousRead': anonymousRead, 'log.level': 'silent' } }),
      // No request in these tests sends a token, so nothing reads the database.
      db: undefined as unknown as Db,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
    },
    [markdownRoutes(), webRoutes({ root })],
  );
}

describe('web UI routes', () => {
  let dir: string;
  let app: App;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shinrai-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
    app = await serverWith(dir);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html and hashed assets without a token, even when anonymous reads are off', async () => {
    const index = await app.inject({ url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('id="root"');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toBe(UI_CSP);
    const asset = await app.inject({ url: '/assets/app-1234.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
  });

  it('answers browser navigations to app paths with index.html (deep links)', async () => {
    const deep = await app.inject({
      url: '/slos/checkout-availability?objective=x',
      headers: { accept: 'text/html' },
    });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toContain('id="root"');
  });

  it('keeps API, status, health and metrics 404s as problem+json, and non-HTML requests too', async () => {
    for (const url of ['/api/v1/nothing', '/status/nothing', '/metrics/x', '/healthz/x', '/readyz/x']) {
      const reply = await app.inject({ url, headers: { accept: 'text/html' } });
      expect(reply.statusCode, url).toBe(404);
      expect(reply.headers['content-type'], url).toMatch(/application\/problem\+json/);
    }
    const json = await app.inject({ url: '/slos/x', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(404);
    expect(json.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('says how to build the UI when dist/web is missing', async () => {
    const bare = await serverWith(null);
    try {
      const reply = await bare.inject({ url: '/' });
      expect(reply.statusCode).toBe(200);
      expect(reply.body).toContain('npm run build');
      const deep = await bare.inject({ url: '/incidents/INC-1', headers: { accept: 'text/html' } });
      expect(deep.body).toContain('npm run build');
    } finally {
      await bare.close();
    }
  });

  it('previews markdown through the stored postmortems sanitiser, for readers only', async () => {
    const anonymous = await app.inject({
      method: 'POST',
      url: '/api/v1/markdown/preview',
      payload: { markdown: '# x' },
    });
    expect(anonymous.statusCode).toBe(401);
    const open = await serverWith(null, true);
    try {
      const reply = await open.inject({
        method: 'POST',
        url: '/api/v1/markdown/preview',
        payload: {
          markdown:
            '**ok**\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>',
        },
      });
      expect(reply.statusCode).toBe(200);
      const { html } = reply.json() as { html: string };
      expect(html).toContain('<strong>ok</strong>');
      expect(html).not.toMatch(/<script|href="javascript|onerror|<img/);
    } finally {
      await open.close();
    }
  });
});

describe('favicon', () => {
  it('answers /favicon.ico (an ICO) and /favicon.svg without a token when the UI is not built', async () => {
    const bare = await serverWith(null);
    try {
      const ico = await bare.inject({ url: '/favicon.ico' });
      expect(ico.statusCode).toBe(200);
      expect(ico.headers['content-type']).toBe('image/x-icon');
      // ICONDIR: reserved 0, type 1 (icon), one image.
      expect([...ico.rawPayload.subarray(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]);
      const svg = await bare.inject({ url: '/favicon.svg' });
      expect(svg.statusCode).toBe(200);
      expect(svg.headers['content-type']).toContain('image/svg+xml');
      expect(svg.body).toContain('<svg');
    } finally {
      await bare.close();
    }
  });

  it('serves the built copy when the build has one (no duplicate route)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-web-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><link rel="icon" href="/favicon.svg">');
    writeFileSync(join(dir, 'favicon.ico'), 'built-ico');
    const built = await serverWith(dir);
    try {
      const ico = await built.inject({ url: '/favicon.ico' });
      expect(ico.statusCode).toBe(200);
      expect(ico.body).toBe('built-ico');
      // The build lacks the SVG: the sources' copy answers.
      expect((await built.inject({ url: '/favicon.svg' })).statusCode).toBe(200);
    } finally {
      await built.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
