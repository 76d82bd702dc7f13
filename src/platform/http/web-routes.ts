/**
 * The web UI: the built React app (`dist/web`, from `vite build`) served as static files, and the
 * SPA fallback — a browser navigation (GET, Accept text/html) to a path that is not the API,
 * the status page or a health/metrics endpoint answers index.html, so deep links work. API 404s
 * stay problem+json. The files need no token; the data they load goes through the API's auth.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyRequest } from 'fastify';
import type { App } from './server.js';

/** Paths the SPA never claims: their 404s stay problem+json (or the status page's own). */
const NOT_SPA = /^\/(api|status|metrics|healthz|readyz)([/.]|$)/;

/** Where `vite build` puts the app, seen from src/ (tests, tsx) and from dist/ (the built server). */
const CANDIDATES = [
  fileURLToPath(new URL('../../web', import.meta.url)),
  fileURLToPath(new URL('../../../dist/web', import.meta.url)),
];

/** The icons in the sources (vite copies them into the build); served from here when there is no build. */
const ICONS_DIR = fileURLToPath(new URL('../../../web/public', import.meta.url));
const ICONS = { 'favicon.ico': 'image/x-icon', 'favicon.svg': 'image/svg+xml' } as const;

export function findWebRoot(): string | undefined {
  return CANDIDATES.find((dir) => existsSync(`${dir}/index.html`));
}

/**
 * The app loads only its own files and talks only to its own server; nothing may frame it. Inline
 * styles are allowed for the style attributes React and uPlot set (bar widths, chart layout).
 */
export const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shinrai</title></head>
<body><main><h1>Shinrai</h1><p>The web UI is not built. Run <code>npm run build</code> (it builds the
server and the UI into <code>dist/</code>) and restart. The API is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></main></body></html>`;

/** `root`: the built app's folder (default: found beside the server); `null` serves the "not built" page. */
export function webRoutes(options: { root?: string | null | undefined } = {}) {
  return async (app: App) => {
    const root = options.root === null ? undefined : (options.root ?? findWebRoot());
    await app.register(async (scope) => {
      // Every route in this scope (the static files included) is public.
      scope.addHook('onRoute', (route) => {
        route.config = { ...(route.config as object), minRole: 'public' } as typeof route.config;
      });
      scope.addHook('onSend', async (_request, reply) => {
        if (String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
          reply.header('content-security-policy', UI_CSP);
      });
      if (root) {
        await scope.register(fastifyStatic, {
          root,
          prefix: '/',
          wildcard: false,
          index: ['index.html'],
          setHeaders: (reply, path) => {
            // Hashed asset names change with their content; index.html must always be fresh.
            reply.header(
              'cache-control',
              path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
            );
          },
        });
      } else {
        scope.get('/', { schema: { hide: true } }, (_request, reply) =>
          reply.type('text/html; charset=utf-8').send(NOT_BUILT),
        );
      }
      // Browsers ask for /favicon.ico on every page (the status page too): never a 404 in the console.
      for (const [name, type] of Object.entries(ICONS)) {
        if (root && existsSync(`${root}/${name}`)) continue;
        scope.get(`/${name}`, { schema: { hide: true } }, async (_request, reply) =>
          reply
            .type(type)
            .header('cache-control', 'public, max-age=86400')
            .send(await readFile(`${ICONS_DIR}/${name}`)),
        );
      }
      scope.get('/*', { schema: { hide: true } }, (request, reply) => {
        const path = request.url.split('?')[0] ?? '/';
        if (NOT_SPA.test(path) || !wantsHtml(request)) return reply.callNotFound();
        if (!root) return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
        reply.header('cache-control', 'no-cache');
        return reply.sendFile('index.html', root);
      });
    });
  };
}

function wantsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}
