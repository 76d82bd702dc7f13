/**
 * GET /api/v1/slos/{id}/spec — the YAML document an SLO was loaded from (file, first line, text),
 * its error-budget policy steps and its alert rules' windows and thresholds, for the web UI's SLO page. Files on disk are read from the
 * spec directory (their names are relative to it); uploaded files (`api:` prefix) from the database.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import { burnWindowLabel } from './burn/index.js';
import { readSpecSource, type SpecSourceDeps } from './spec-source.js';

/** The YAML document (between `---` separators) that contains 1-based `line`, and its first line. */
export function documentAt(text: string, line: number): { yaml: string; firstLine: number } {
  const lines = text.split(/\r?\n/);
  let start = 0;
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    if (!/^---(\s|$)/.test(lines[i] ?? '')) continue;
    if (i < line - 1) start = i + 1;
    else {
      end = i;
      break;
    }
  }
  return {
    yaml: lines.slice(start, end).join('\n').replace(/\s+$/, ''),
    firstLine: start + 1,
  };
}

export function specSourceRoutes(deps: SpecSourceDeps) {
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/slos/:id/spec',
      {
        schema: {
          summary: 'The YAML document an SLO comes from, and its error-budget policy steps',
          params: z.object({ id: z.string().min(1) }),
          response: {
            200: z.object({
              id: z.string(),
              file: z.string(),
              line: z.number(),
              yaml: z.string().nullable().describe('null when the file can no longer be read'),
              policy: z.array(
                z.object({ below: z.number(), action: z.string(), gate: z.enum(['allow', 'warn', 'deny']) }),
              ),
              rules: z.array(
                z.object({
                  name: z.string(),
                  tier: z.string(),
                  severity: z.string(),
                  conditions: z.array(
                    z.object({
                      longWindow: z.string(),
                      shortWindow: z.string().nullable(),
                      factor: z.number(),
                      op: z.string(),
                    }),
                  ),
                }),
              ),
            }),
          },
        },
      },
      async (request) => {
        const slo = deps.specs.current.catalog.slos.find((s) => s.id === request.params.id);
        if (!slo) throw new AppError('NotFound', `no SLO "${request.params.id}"`);
        const text = await readSpecSource(deps, slo.location.file);
        const doc = text === undefined ? undefined : documentAt(text, slo.location.line);
        return {
          id: slo.id,
          file: slo.location.file,
          line: doc?.firstLine ?? slo.location.line,
          yaml: doc?.yaml ?? null,
          policy: slo.shinrai.errorBudgetPolicy.map((s) => ({
            below: s.below,
            action: s.action,
            gate: s.gate,
          })),
          rules: deps.rulesFor(slo).map((r) => ({
            name: r.name,
            tier: r.tier,
            severity: r.severity,
            conditions: r.conditions.map((c) => ({
              longWindow: burnWindowLabel(c.longWindowMs),
              shortWindow: c.shortWindowMs === undefined ? null : burnWindowLabel(c.shortWindowMs),
              factor: c.factor,
              op: c.op,
            })),
          })),
        };
      },
    );
  };
}
