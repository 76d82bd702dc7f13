/**
 * POST /api/v1/markdown/preview — markdown rendered and sanitised by the same code that renders
 * stored postmortems (`renderMarkdown`), so the editor's live preview shows exactly what will be
 * served. Viewer: a POST only because markdown does not fit a query string — it computes and
 * stores nothing, like the other viewer computations test/rbac.test.ts lists.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../markdown.js';
import type { App } from './server.js';

export function markdownRoutes() {
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/markdown/preview',
      {
        config: { minRole: 'viewer', expensive: true },
        schema: {
          tags: ['postmortems'],
          summary: 'Render markdown to sanitised HTML (the postmortem editor preview); stores nothing',
          body: z.strictObject({ markdown: z.string().max(500_000) }),
          response: { 200: z.object({ html: z.string() }) },
        },
      },
      async (request) => ({ html: renderMarkdown(request.body.markdown) }),
    );
  };
}
