/**
 * Read API for services and SLOs, and spec upload. Thin: parse, call the spec store or the
 * status reader, shape the answer. Schemas double as the OpenAPI document.
 */
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../platform/audit/index.js';
import { AppError, invalid } from '../platform/errors.js';
import { type App, EncodedBody, sendEncoded } from '../platform/http/index.js';
import { fixedDurationMs, parseDuration } from './duration.js';
import type { HistoryPoint, HistoryRow, StoredStatus } from './evaluator/read.js';
import { buildHistoryBody, seriesKey } from './history-cache.js';
import type { Catalog, SloDefinition } from './model.js';
import { AnswerCache, SloReadCache } from './read-cache.js';
import type { SpecStore } from './spec-store.js';

/** Where statuses come from (the evaluator's tables); injected so routes never touch the database. */
export interface StatusReader {
  listStatuses(): Promise<ReadonlyMap<string, StoredStatus>>;
  getStatus(id: string): Promise<StoredStatus | undefined>;
  history(
    id: string,
    range: { fromMs: number; toMs: number; stepMs: number },
  ): Promise<readonly HistoryPoint[]>;
  /**
   * The stored history rows of `id` in the range, not downsampled (`historyRows`). With it (and
   * `historyVersion`) a cached history answer is built from the previous one of its series.
   */
  historyRows?(id: string, range: { fromMs: number; toMs: number }): Promise<readonly HistoryRow[]>;
  /**
   * A value that changes whenever the stored statuses change (`statusesVersion`), read from the
   * database so every replica agrees. Without it, every read builds its answer afresh.
   */
  version?(): Promise<string>;
  /**
   * A value that changes whenever a stored history point of `id` in the range is written or
   * removed (`historyVersion`), read from the database. Without it, every history read is built
   * afresh.
   */
  historyVersion?(id: string, range: { fromMs: number; toMs: number }): Promise<string>;
}

export interface SloRouteDeps {
  readonly specs: SpecStore;
  readonly statuses: StatusReader;
  readonly now: () => number;
  /** True when a stored status is too old to be current (evaluator failing or no leader). */
  readonly isStale: (evaluatedAt: string) => boolean;
  /** false: build every answer afresh even with `statuses.version` (the bench's baseline). */
  readonly cache?: boolean;
  /** Where history answers are kept (default: an `AnswerCache` of `ANSWER_CACHE_BYTES`). */
  readonly historyCache?: AnswerCache;
}

// windowKind … policy are optional: a status stored by an older version may lack them.
export const statusSchema = z
  .object({
    id: z.string(),
    service: z.string(),
    slo: z.string(),
    objective: z.string().optional(),
    displayName: z.string().optional(),
    target: z.number(),
    window: z.string(),
    sli: z.number().nullable(),
    budget: z.object({
      unit: z.enum(['events', 'minutes']),
      total: z.number(),
      consumed: z.number(),
      remaining: z.number(),
    }),
    burnRates: z.record(z.string(), z.number().nullable()),
    exhaustionAt: z.string().nullable(),
    dataSufficient: z.boolean(),
    evaluatedAt: z.string(),
    stale: z.boolean().describe('the evaluation is older than 3 ticks: show it as stale, not current'),
    data: z
      .object({
        source: z.string(),
        state: z.enum(['ok', 'waiting', 'no-data']),
        since: z.string().optional(),
        retrying: z.boolean(),
        failures: z.number(),
        lastError: z.string().optional(),
      })
      .optional()
      .describe(
        'SLOs read from Prometheus only: whether the data is current; while it is not, the status is the last current one (docs/prometheus.md)',
      ),
    error: z
      .object({ reason: z.string(), since: z.string() })
      .optional()
      .describe(
        'present while this SLO cannot be evaluated (the others go on): why, and since when; the figures are the last good ones, computed at evaluatedAt (docs/evaluation.md)',
      ),
    windowKind: z.enum(['rolling', 'calendar']).optional(),
    budgetingMethod: z.string().optional(),
    period: z
      .object({ start: z.string(), end: z.string() })
      .optional()
      .describe('the budget period the figures are for'),
    coverage: z.number().optional().describe('share of the elapsed period with data (0–1)'),
    policy: z
      .object({ below: z.number(), action: z.string(), gate: z.enum(['allow', 'warn', 'deny']) })
      .optional()
      .describe('the error-budget policy step in force, when the SLO has a policy and a step applies'),
  })
  .loose()
  .describe('Status as in `shinrai budget --json`, plus evaluatedAt');

const sloSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string().optional(),
  description: z.string().optional(),
  service: z.string(),
  labels: z.record(z.string(), z.array(z.string())),
  owner: z.string().optional(),
  journey: z.string().optional(),
  runbookUrl: z.string().optional(),
  budgetingMethod: z.string(),
  window: z.string(),
  objectives: z.array(z.object({ key: z.string(), displayName: z.string().optional(), target: z.number() })),
  /** Null until the evaluator has computed it. */
  status: z.array(statusSchema),
});

const sloListSchema = z.array(sloSummarySchema);

const historyPointSchema = z.object({
  ts: z.string(),
  sli: z.number().nullable(),
  remaining: z.number().nullable(),
  burnRates: z.record(z.string(), z.number().nullable()),
});

// `points` last: a cached answer is assembled as its other members, then its points' JSON.
const historySchema = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  step: z.string(),
  points: z.array(historyPointSchema),
});

const diagnosticSchema = z.object({
  file: z.string(),
  line: z.number(),
  column: z.number(),
  severity: z.enum(['error', 'warning']),
  rule: z.string(),
  message: z.string(),
  hint: z.string().optional(),
});

export function sloRoutes(deps: SloRouteDeps) {
  const version = deps.statuses.version?.bind(deps.statuses);
  const cache =
    version && deps.cache !== false
      ? new SloReadCache({
          catalog: () => deps.specs.current.catalog,
          version,
          statuses: () => deps.statuses.listStatuses(),
          isStale: deps.isStale,
        })
      : undefined;
  const historyVersion = deps.statuses.historyVersion?.bind(deps.statuses);
  const historyCache =
    historyVersion && deps.cache !== false ? (deps.historyCache ?? new AnswerCache()) : undefined;
  /** The version read started for a request before its authentication (`beforeAuthentication`). */
  const versions = new WeakMap<FastifyRequest, Promise<string>>();
  return (plain: App) => {
    const app = plain.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/services',
      {
        schema: {
          summary: 'Services and their SLOs',
          response: {
            200: z.array(
              z.object({
                name: z.string(),
                displayName: z.string().optional(),
                description: z.string().optional(),
                owner: z.string().optional(),
                slos: z.array(z.string()),
              }),
            ),
          },
        },
      },
      async () => {
        const { catalog } = deps.specs.current;
        return catalog.services
          .map((s) => ({
            name: s.name,
            displayName: s.displayName,
            description: s.description,
            owner: s.shinrai?.owner,
            slos: catalog.slos.filter((slo) => slo.service === s.name).map((slo) => slo.id),
          }))
          .sort((a, b) => a.name.localeCompare(b.name));
      },
    );

    app.get(
      '/api/v1/slos',
      {
        // With the read cache, compressed once per answer there, not per request; its version is
        // read while the token is checked.
        ...(cache
          ? {
              compress: false as const,
              config: {
                beforeAuthentication: (request: FastifyRequest) => versions.set(request, cache.readVersion()),
              },
            }
          : {}),
        schema: {
          summary: 'SLOs with their current status',
          querystring: z.object({
            service: z.string().optional(),
            owner: z.string().optional(),
            label: z
              .string()
              .regex(/^[^=]+=[^=]*$/, 'write label=key=value, e.g. label=tier=critical')
              .optional()
              .describe('key=value'),
            sort: z.enum(['budget', 'name']).default('name').describe('budget: least budget remaining first'),
          }),
          response: { 200: sloListSchema },
        },
      },
      async (request, reply) => {
        // With auth.teamScopedReads, only the SLOs of the caller's teams and of no team.
        const scope = request.readScope;
        const query = {
          ...request.query,
          seen: scope && ((slo: SloDefinition) => scope.sees([slo.service])),
        };
        if (!cache)
          return sloList(deps.specs.current.catalog, await deps.statuses.listStatuses(), query, deps.isStale);
        // Built once per (tick, spec reload), filter variant and team set; sent as the bytes built then.
        const variant = JSON.stringify([query.service, query.owner, query.label, query.sort, scope?.key]);
        // Encoded by the response schema, as Fastify's serializer does: the same bytes as uncached.
        const body = await cache.get(
          variant,
          (catalog, statuses) => z.encode(sloListSchema, sloList(catalog, statuses, query, deps.isStale)),
          versions.get(request),
        );
        return sendEncoded(request, reply, body);
      },
    );

    app.get(
      '/api/v1/slos/:id',
      {
        schema: {
          summary: 'One SLO with its current status',
          params: z.object({ id: z.string().min(1) }),
          response: { 200: sloSummarySchema },
        },
      },
      async (request) => {
        const slo = deps.specs.current.catalog.slos.find((s) => s.id === request.params.id);
        if (!slo) throw new AppError('NotFound', `no SLO "${request.params.id}"`);
        const statuses = cache ? await cache.statuses() : await deps.statuses.listStatuses();
        return summary(slo, statuses, deps.isStale);
      },
    );

    app.get(
      '/api/v1/slos/:id/history',
      {
        // With the history cache every answer is sent as bytes compressed by sendEncoded.
        ...(historyCache ? { compress: false as const } : {}),
        schema: {
          summary: 'History of an SLO (or one of its objectives: id slo/objective)',
          params: z.object({ id: z.string().min(1) }),
          querystring: z.object({
            from: z.iso.datetime({ offset: true }).optional().describe('default: 7 days before `to`'),
            to: z.iso.datetime({ offset: true }).optional().describe('default: now'),
            step: z
              .string()
              .regex(/^\d+[mhd]$/, 'a step such as 5m, 1h or 1d')
              .default('1h'),
          }),
          response: { 200: historySchema },
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        const known = deps.specs.current.catalog.slos.some((s) => s.id === id || id.startsWith(`${s.id}/`));
        if (!known) throw new AppError('NotFound', `no SLO "${id}"`);
        const toMs = request.query.to ? Date.parse(request.query.to) : deps.now();
        const fromMs = request.query.from ? Date.parse(request.query.from) : toMs - 7 * 86_400_000;
        if (fromMs >= toMs) throw invalid('`from` must be before `to`');
        const step = parseDuration(request.query.step);
        if (!step.ok) throw invalid(`step: ${step.error}`);
        // The schema allows only m, h and d, which have a fixed length.
        const stepMs = fixedDurationMs(step.value)!;
        if ((toMs - fromMs) / stepMs > 10_000)
          throw invalid('more than 10,000 points: widen `step` or narrow the range');
        const stepText = request.query.step;
        const build = async () => ({
          id,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          step: stepText,
          points: [...(await deps.statuses.history(id, { fromMs, toMs, stepMs }))],
        });
        if (!historyCache || !historyVersion) return build();
        // Encoded by the response schema, as Fastify's serializer does: the same bytes as uncached.
        const encoded = async () => z.encode(historySchema, await build());
        // Without `to` the range ends now, to the millisecond: an answer no other request asks for.
        if (request.query.to === undefined)
          return sendEncoded(request, reply, new EncodedBody(JSON.stringify(await encoded())));
        // Built once per (SLO, range, step) and stored points of that range, kept as bytes; one
        // answer per series (SLO, step, length, phase), the next range's built from it.
        const version = await historyVersion(id, { fromMs, toMs });
        const range = { fromMs, toMs, stepMs };
        const historyRows = deps.statuses.historyRows?.bind(deps.statuses);
        return historyCache.send(
          request,
          reply,
          seriesKey(id, stepText, range),
          `${fromMs}:${toMs}:${version}`,
          (previous) =>
            historyRows
              ? buildHistoryBody({
                  range,
                  empty: JSON.stringify(
                    z.encode(historySchema, {
                      id,
                      from: new Date(fromMs).toISOString(),
                      to: new Date(toMs).toISOString(),
                      step: stepText,
                      points: [],
                    }),
                  ),
                  encodePoint: (row) => JSON.stringify(z.encode(historyPointSchema, row.point())),
                  rows: (from, to) => historyRows(id, { fromMs: from, toMs: to }),
                  version,
                  previous,
                })
              : encoded(),
        );
      },
    );

    app.get(
      '/api/v1/specs',
      {
        schema: {
          summary: 'Loaded spec files and every problem found in them',
          response: {
            200: z.object({
              files: z.array(z.string()),
              slos: z.number(),
              loadedAt: z.string().nullable(),
              diagnostics: z.array(diagnosticSchema),
            }),
          },
        },
      },
      async () => specsReport(deps.specs),
    );

    app.put(
      '/api/v1/specs',
      {
        config: { minRole: 'editor' },
        schema: {
          summary: 'Replace the uploaded spec files (validated; invalid objects are reported and skipped)',
          body: z.object({
            files: z
              .array(z.object({ path: z.string().min(1).max(200), content: z.string().max(5_000_000) }))
              .max(1000),
          }),
          response: {
            200: z.object({
              files: z.array(z.string()),
              slos: z.number(),
              loadedAt: z.string().nullable(),
              diagnostics: z.array(diagnosticSchema),
            }),
          },
        },
      },
      async (request) => {
        await deps.specs.putFiles(request.body.files, actorOf(request));
        return specsReport(deps.specs);
      },
    );
  };
}

function specsReport(specs: SpecStore) {
  const current = specs.current;
  return {
    files: [...current.files],
    slos: current.catalog.slos.length,
    loadedAt: current.loadedAt ? new Date(current.loadedAt).toISOString() : null,
    diagnostics: current.diagnostics.map((d) => ({ ...d, hint: d.hint ?? undefined })),
  };
}

/** The answer of GET /api/v1/slos: the catalog's SLOs that pass the filters, with their statuses. */
function sloList(
  catalog: Catalog,
  statuses: ReadonlyMap<string, StoredStatus>,
  query: {
    service?: string | undefined;
    owner?: string | undefined;
    label?: string | undefined;
    sort: 'budget' | 'name';
    /** Team-scoped reads: the SLOs the caller may see; absent: all. */
    seen?: ((slo: SloDefinition) => boolean) | undefined;
  },
  isStale: (evaluatedAt: string) => boolean,
) {
  const { service, owner, label, sort, seen } = query;
  const [labelKey, labelValue] = label ? (label.split('=') as [string, string]) : [];
  const slos = catalog.slos.filter(
    (slo) =>
      (!seen || seen(slo)) &&
      (!service || slo.service === service) &&
      (!owner || slo.shinrai.owner === owner) &&
      (!labelKey || (slo.labels[labelKey] ?? []).includes(labelValue ?? '')),
  );
  const summaries = slos.map((slo) => summary(slo, statuses, isStale));
  if (sort === 'budget') summaries.sort((a, b) => leastRemaining(a.status) - leastRemaining(b.status));
  else summaries.sort((a, b) => a.id.localeCompare(b.id));
  return summaries;
}

function summary(
  slo: SloDefinition,
  statuses: ReadonlyMap<string, StoredStatus>,
  isStale: (evaluatedAt: string) => boolean,
) {
  const ids =
    slo.composite || slo.objectives.length === 1 ? [slo.id] : slo.objectives.map((o) => `${slo.id}/${o.key}`);
  return {
    id: slo.id,
    name: slo.name,
    displayName: slo.displayName,
    description: slo.description,
    service: slo.service,
    labels: Object.fromEntries(Object.entries(slo.labels).map(([k, v]) => [k, [...v]])),
    owner: slo.shinrai.owner,
    journey: slo.shinrai.journey,
    runbookUrl: slo.shinrai.runbookUrl,
    budgetingMethod: slo.budgetingMethod,
    window: `${slo.window.duration.count}${slo.window.duration.unit}`,
    objectives: slo.objectives.map((o) => ({ key: o.key, displayName: o.displayName, target: o.target })),
    status: ids.flatMap((id): z.output<typeof statusSchema>[] => {
      const status = statuses.get(id);
      return status ? [{ ...status, stale: isStale(status.evaluatedAt) }] : [];
    }),
  };
}

function leastRemaining(statuses: readonly { budget: { remaining: number } }[]): number {
  // SLOs not yet evaluated sort last.
  return statuses.length ? Math.min(...statuses.map((s) => s.budget.remaining)) : Number.POSITIVE_INFINITY;
}
