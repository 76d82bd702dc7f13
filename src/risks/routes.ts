/**
 * `/api/v1/risks`: the risk catalog of the loaded specs, ranked, with budget shares and flags; risks
 * written and removed through the API; what-if, calibration and the reliability backlog.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type IncidentDeps, listIncidents } from '../incidents/index.js';
import { actorOf } from '../platform/audit/index.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import type { Catalog, SpecStore } from '../slo/index.js';
import { effectiveAfter, whatIf } from './analysis.js';
import { backlogCsv, backlogMarkdown } from './backlog.js';
import { reliabilityBacklog } from './backlog-service.js';
import { calibrate } from './calibration.js';
import { catalogRiskAnalysis } from './catalog.js';
import { riskCatalogRow, riskCatalogView } from './catalog-service.js';
import { deleteRisk, patchRisk, putRisk } from './risk-service.js';

const estimate = z.object({
  ettdMinutes: z.number(),
  ettrMinutes: z.number(),
  impact: z.number(),
  ettfDays: z.number(),
});

const calibrationSchema = z.object({
  risk: z.string(),
  service: z.string(),
  incidents: z.array(z.string()),
  estimate,
  measured: z.object({
    ttdMinutes: z.number().nullable(),
    ttrMinutes: z.number().nullable(),
    tbfDays: z.number().nullable(),
  }),
  suggested: estimate,
  badMinutesPerYear: z.object({ estimated: z.number(), measured: z.number() }),
  specUpdate: z.string().describe('the Risk spec lines to paste; empty when nothing changes'),
});

export const riskAnalysisSchema = z.object({
  tooBigShare: z.number(),
  risks: z.array(
    z.object({
      name: z.string(),
      service: z.string(),
      description: z.string().optional(),
      status: z.enum(['open', 'accepted', 'mitigated']),
      factors: z.array(z.string()),
      estimate: estimate.describe('as written'),
      effective: estimate.describe('with the factors applied'),
      incidentsPerYear: z.number(),
      badMinutesPerYear: z.number(),
      shares: z.array(
        z.object({
          slo: z.string(),
          yearlyBudgetMinutes: z.number(),
          share: z.number(),
          tooBig: z.boolean(),
        }),
      ),
      tooBig: z.boolean(),
      source: z.string().describe('where it is written, file:line (api:… for uploaded specs)'),
      managed: z.boolean().describe('written through the API (PUT, PATCH, DELETE /api/v1/risks/{name})'),
      actionItems: z
        .array(
          z.object({
            id: z.string(),
            postmortemId: z.string(),
            title: z.string(),
            priority: z.string(),
            status: z.string(),
            owner: z.string().optional(),
            dueDate: z.string().optional(),
            savedMinutesPerYear: z
              .number()
              .nullable()
              .describe('what finishing it saves a year (its riskEffect); null when not estimated'),
          }),
        )
        .describe('action items that name this risk, any status'),
    }),
  ),
  slos: z.array(
    z.object({
      slo: z.string(),
      service: z.string(),
      target: z.number(),
      yearlyBudgetMinutes: z.number(),
      risks: z.array(z.string()),
      badMinutesPerYear: z.number(),
      share: z.number(),
      achievable: z.boolean(),
    }),
  ),
});

const riskRowSchema = riskAnalysisSchema.shape.risks.element;

const backlogSchema = z.array(
  z.object({
    service: z.string(),
    entries: z.array(
      z.object({
        service: z.string(),
        kind: z.enum(['action-item', 'risk']),
        title: z.string(),
        risk: z.string().optional(),
        actionItem: z.string().optional(),
        priority: z.string().optional(),
        owner: z.string().optional(),
        dueDate: z.string().optional(),
        status: z.string(),
        savedMinutesPerYear: z.number().nullable(),
      }),
    ),
  }),
);

export function riskRoutes(
  deps: IncidentDeps & {
    readonly catalog: () => Catalog;
    readonly tooBigShare: number;
    /** The spec store, for writing risks; without it the API only reads them. */
    readonly specs?: SpecStore | undefined;
  },
) {
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/risks/calibration',
      {
        schema: {
          tags: ['risks'],
          summary:
            "Each risk's estimates beside what its incidents (label risk=<name>) measured, with the update to offer",
          querystring: z.object({ service: z.string().max(200).optional() }),
          response: {
            200: z.array(calibrationSchema),
          },
        },
      },
      async (request) => {
        const analysis = catalogRiskAnalysis(deps.catalog(), {
          tooBigShare: deps.tooBigShare,
          service: request.query.service,
        });
        // Deeply readonly figures; the schema's output type is their mutable twin.
        return calibrate(analysis.risks, await listIncidents(deps, {})) as Array<
          z.output<typeof calibrationSchema>
        >;
      },
    );

    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/backlog',
      {
        schema: {
          tags: ['risks'],
          summary:
            'Reliability backlog per service: open action items and unmitigated risks ranked by budget minutes saved a year (JSON, CSV or markdown)',
          querystring: z.object({
            service: z.string().max(200).optional(),
            format: z.enum(['json', 'csv', 'markdown']).default('json'),
          }),
          response: {
            200: {
              description: 'The backlog in the format asked for',
              content: {
                'application/json': { schema: backlogSchema },
                'text/csv': { schema: z.string() },
                'text/markdown': { schema: z.string() },
              },
            },
          },
        },
      },
      async (request, reply) => {
        // With auth.teamScopedReads, only the services of the caller's teams and of no team.
        const scope = request.readScope;
        const backlog = (
          await reliabilityBacklog(deps, deps.catalog(), {
            tooBigShare: deps.tooBigShare,
            service: request.query.service,
          })
        ).filter((entry) => !scope || scope.sees([entry.service]));
        if (request.query.format === 'csv')
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', 'attachment; filename="reliability-backlog.csv"')
            .send(backlogCsv(backlog));
        if (request.query.format === 'markdown')
          return reply
            .type('text/markdown; charset=utf-8')
            .header('content-disposition', 'attachment; filename="reliability-backlog.md"')
            .send(backlogMarkdown(backlog));
        return backlogSchema.parse(backlog);
      },
    );

    app.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/risks/:name/what-if',
      {
        // Computes and stores nothing: anyone who may read the catalog may ask.
        config: { minRole: 'viewer' },
        schema: {
          tags: ['risks'],
          summary:
            "What a change of the risk's written estimate (an action item done) does to its bad minutes a year and budget shares",
          params: z.object({ name: z.string().max(200) }),
          body: z
            .strictObject({
              ettdMinutes: z.number().min(0).max(1e6).optional(),
              ettrMinutes: z.number().min(0).max(1e6).optional(),
              impact: z.number().gt(0).max(1).optional(),
              ettfDays: z.number().gt(0).max(1e5).optional(),
            })
            .refine((b) => Object.keys(b).length > 0, { message: 'change at least one of the estimates' }),
          response: {
            200: z.object({
              risk: z.string(),
              estimate: estimate.describe('as written now'),
              changed: estimate.describe('as written after the change'),
              before: z.number().describe('bad minutes a year now (factors applied)'),
              after: z.number(),
              savedMinutesPerYear: z.number(),
              shares: z.array(z.object({ slo: z.string(), before: z.number(), after: z.number() })),
            }),
          },
        },
      },
      async (request) => {
        const analysis = catalogRiskAnalysis(deps.catalog(), { tooBigShare: deps.tooBigShare });
        const risk = analysis.risks.find((r) => r.name === request.params.name);
        if (!risk)
          throw new AppError('NotFound', `no risk ${JSON.stringify(request.params.name)} in the catalog`);
        const changed = { ...risk.estimate, ...request.body };
        const result = whatIf(risk.effective, effectiveAfter(risk, request.body));
        return {
          risk: risk.name,
          estimate: { ...risk.estimate },
          changed,
          ...result,
          shares: risk.shares.map((s) => ({
            slo: s.slo,
            before: s.share,
            after: s.yearlyBudgetMinutes > 0 ? result.after / s.yearlyBudgetMinutes : 0,
          })),
        };
      },
    );

    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/risks',
      {
        schema: {
          tags: ['risks'],
          summary:
            'Risks ranked by expected bad minutes a year, their share of each SLO’s yearly budget, too-big risks and unachievable SLOs',
          querystring: z.object({ service: z.string().max(200).optional() }),
          response: { 200: riskAnalysisSchema },
        },
      },
      async (request) =>
        // The analysis is deeply readonly; the schema's output type is its mutable twin.
        (await riskCatalogView(deps, deps.catalog(), {
          tooBigShare: deps.tooBigShare,
          service: request.query.service,
        })) as z.output<typeof riskAnalysisSchema>,
    );

    const specs = deps.specs;
    if (!specs) return;
    const duration = (example: string) => z.string().min(1).max(40).describe(`a duration such as ${example}`);
    const riskBody = z.strictObject({
      service: z.string().min(1).max(200),
      description: z.string().max(2000).optional(),
      ettd: duration('5m').describe('expected time to detect, e.g. 5m'),
      ettr: duration('30m').describe('expected time to repair once detected, e.g. 30m'),
      impact: z
        .union([z.number(), z.string().max(20)])
        .describe('share of users affected while it lasts: "100%" or 1'),
      ettf: duration('30d').describe('expected time between failures, e.g. 30d or 1Y'),
      slos: z.array(z.string().max(200)).max(50).optional(),
      factors: z.array(z.string().max(200)).max(50).optional(),
      status: z.enum(['open', 'accepted', 'mitigated']).optional(),
    });
    const rowOf = async (name: string) =>
      // Deeply readonly figures; the schema's output type is their mutable twin.
      (await riskCatalogRow(deps, deps.catalog(), { tooBigShare: deps.tooBigShare }, name)) as z.output<
        typeof riskRowSchema
      >;

    app.withTypeProvider<ZodTypeProvider>().put(
      '/api/v1/risks/:name',
      {
        config: { minRole: 'editor' },
        schema: {
          tags: ['risks'],
          summary:
            'Write a risk (create or replace), stored as a shinrai.dev/v1 Risk among the uploaded specs and validated like one; risks written in spec files are changed there (409)',
          params: z.object({ name: z.string().max(200) }),
          body: riskBody,
          response: { 200: riskRowSchema, 201: riskRowSchema },
        },
      },
      async (request, reply) => {
        const { created } = await putRisk(specs, request.params.name, request.body, actorOf(request));
        return reply.code(created ? 201 : 200).send(await rowOf(request.params.name));
      },
    );

    app.withTypeProvider<ZodTypeProvider>().patch(
      '/api/v1/risks/:name',
      {
        config: { minRole: 'editor' },
        schema: {
          tags: ['risks'],
          summary:
            'Change some fields of a risk written through the API (e.g. the estimates calibration offers), keeping the others',
          params: z.object({ name: z.string().max(200) }),
          body: riskBody
            .partial()
            .refine((b) => Object.keys(b).length > 0, { message: 'change at least one field' }),
          response: { 200: riskRowSchema },
        },
      },
      async (request) => {
        await patchRisk(specs, request.params.name, request.body, actorOf(request));
        return rowOf(request.params.name);
      },
    );

    app.withTypeProvider<ZodTypeProvider>().delete(
      '/api/v1/risks/:name',
      {
        config: { minRole: 'editor' },
        schema: {
          tags: ['risks'],
          summary: 'Remove a risk written through the API (risks in spec files are removed there: 409)',
          params: z.object({ name: z.string().max(200) }),
          response: { 204: z.null().describe('removed') },
        },
      },
      async (request, reply) => {
        await deleteRisk(specs, request.params.name, actorOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
