/**
 * Team-scoped reads (`auth.teamScopedReads`, docs/api.md#teams), wired where every capability is
 * visible, as team-scope.ts does for writes: for each read route about team-owned records, the
 * services one record touches (another team's record answers the route's own 404) or the filter
 * of a list. The rule itself (`ReadScope.sees`) is platform/auth's. GET /api/v1/slos and
 * GET /api/v1/backlog filter in their routes (their answers may be sent as bytes); what stays
 * organisation-wide is listed in docs/api.md#teams.
 */
import type { FastifyRequest } from 'fastify';
import { getAlert } from './alerting/index.js';
import { getDeployment } from './delivery/index.js';
import {
  type Incident,
  incidentTouches,
  listIncidents,
  listPostmortems,
  postmortemTouches,
  type Touched,
} from './incidents/index.js';
import { ownersOf, type ReadScope, servicesOfSlos } from './platform/auth/index.js';
import { AppError } from './platform/errors.js';
import type { TeamReads } from './platform/http/index.js';
import { resolveProduct } from './reports/index.js';
import { silenceTouches, type TeamScopeDeps } from './team-scope.js';

// biome-ignore lint/suspicious/noExplicitAny: params, queries and answers were validated by the route's own schemas
type Any = any;
type SeenRecord = { services: readonly string[]; notFound: string };
type RecordResolver = (input: { params: Any; query: Any }) => Promise<SeenRecord | undefined>;
type ListFilter = (payload: Any, scope: ReadScope) => Promise<unknown>;

export function teamReads(deps: TeamScopeDeps): TeamReads {
  const catalog = () => deps.catalog();
  const owners = () => ownersOf(catalog(), deps.config.teams);
  const ofSlos = (slos: readonly string[]) => servicesOfSlos(catalog(), slos);
  const touchedServices = (touched: Touched) => [...touched.services, ...ofSlos(touched.slos)];
  const incidentServices = (incident: Pick<Incident, 'services' | 'slos'>) =>
    touchedServices({ services: incident.services, slos: incident.slos });
  /** Every incident's services, and every postmortem's (those of the incidents it covers). */
  const incidentIndex = async () => {
    const byRef = new Map<string, string[]>();
    for (const incident of await listIncidents(deps, {}))
      byRef.set(incident.reference, incidentServices(incident));
    const ofRefs = (refs: readonly string[]) => refs.flatMap((ref) => byRef.get(ref) ?? []);
    const byPostmortem = new Map<string, string[]>();
    for (const postmortem of await listPostmortems(deps))
      byPostmortem.set(postmortem.id, ofRefs(postmortem.incidents));
    return { ofRefs, ofPostmortem: (id: string) => byPostmortem.get(id) ?? [] };
  };
  /** A record found by `touches`, answering `notFound` as its route does when it is missing. */
  const found = async (touches: Promise<Touched | undefined>, notFound: string) => {
    const touched = await touches;
    return touched && { services: touchedServices(touched), notFound };
  };
  const slo = (id: string): SeenRecord | undefined => {
    const sloId = id.includes('/') ? id.slice(0, id.indexOf('/')) : id;
    const services = ofSlos([sloId]);
    return services.length ? { services, notFound: `no SLO "${id}"` } : undefined;
  };
  const incident = (ref: string) =>
    found(incidentTouches(deps, ref), `no incident ${JSON.stringify(ref)} (use a reference such as INC-42)`);
  /** The DORA metrics' service, or a team's services: every one must be seen (an aggregate over them). */
  const metricsScope = (query: { service?: string; team?: string }): SeenRecord | undefined => {
    if (query.team !== undefined) {
      const services = [...owners()].filter(([, teams]) => teams.includes(query.team!)).map(([s]) => s);
      return { services, notFound: `no team ${JSON.stringify(query.team)}` };
    }
    return query.service === undefined
      ? undefined
      : { services: [query.service], notFound: `no service ${JSON.stringify(query.service)}` };
  };

  const records: Record<string, RecordResolver> = {
    'GET /api/v1/slos/:id': async ({ params }) => slo(params.id),
    'GET /api/v1/slos/:id/history': async ({ params }) => slo(params.id),
    'GET /api/v1/slos/:id/spec': async ({ params }) => slo(params.id),
    'POST /api/v1/slos/:id/backtest': async ({ params }) => slo(params.id),
    'GET /api/v1/incidents/:ref': ({ params }) => incident(params.ref),
    'GET /api/v1/incidents/:ref/catch-up': ({ params }) => incident(params.ref),
    'GET /api/v1/incidents/:ref/suspects': ({ params }) => incident(params.ref),
    'GET /api/v1/postmortems/:id': ({ params }) =>
      found(postmortemTouches(deps, params.id), `no postmortem with id ${JSON.stringify(params.id)}`),
    'GET /api/v1/alerts/:id': async ({ params }) => {
      const alert = await getAlert(deps, params.id);
      return (
        alert && { services: [alert.service], notFound: `no alert with id ${JSON.stringify(params.id)}` }
      );
    },
    'GET /api/v1/gate': async ({ query }) => ({
      services: [query.service],
      notFound: `no service ${JSON.stringify(query.service)} in the loaded specs`,
    }),
    'GET /api/v1/deployments/:id': async ({ params }) => {
      const deployment = await getDeployment(deps, params.id).catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'NotFound') return undefined;
        throw error;
      });
      return (
        deployment && {
          services: [deployment.service],
          notFound: `no deployment ${JSON.stringify(params.id)}`,
        }
      );
    },
    'GET /api/v1/delivery/metrics': async ({ query }) => metricsScope(query),
    // A report covers many records at once: every owned service of the product must be the
    // principal's teams' (an aggregate over another team's services would show them).
    'GET /api/v1/reports/monthly': async ({ query }) => {
      let services: string[];
      try {
        services = resolveProduct(catalog(), query.product).services;
      } catch {
        return undefined;
      }
      return {
        services,
        notFound: `no product ${JSON.stringify(query.product)}: name a service, owner:<team>, journey:<journey> or label:<key>=<value>`,
      };
    },
  };
  // Reports and delivery scopes are aggregates: all their services must be seen, not just one.
  const everyService = new Set(['GET /api/v1/reports/monthly', 'GET /api/v1/delivery/metrics']);

  const bySloOrService =
    (key: 'service' | 'slo') =>
    (items: Any[], scope: ReadScope): Any[] =>
      items.filter((item) => scope.sees(key === 'service' ? [item.service] : ofSlos([item.slo])));
  const byService = bySloOrService('service');
  const bySlo = bySloOrService('slo');
  const lists: Record<string, ListFilter> = {
    'GET /api/v1/services': async (services, scope) => services.filter((s: Any) => scope.sees([s.name])),
    'GET /api/v1/incidents': async (incidents, scope) =>
      incidents.filter((i: Any) => scope.sees(incidentServices(i))),
    'GET /api/v1/postmortems': async (postmortems, scope) => {
      const index = await incidentIndex();
      return postmortems.filter((p: Any) => scope.sees(index.ofRefs(p.incidents)));
    },
    'GET /api/v1/action-items': async (items, scope) => {
      const index = await incidentIndex();
      return items.filter((i: Any) => scope.sees(index.ofPostmortem(i.postmortemId)));
    },
    'GET /api/v1/risks': async (answer, scope) => ({ ...answer, risks: byService(answer.risks, scope) }),
    'GET /api/v1/risks/calibration': async (rows, scope) => byService(rows, scope),
    'GET /api/v1/alerts': async (alerts, scope) => byService(alerts, scope),
    'GET /api/v1/alerts/quality': async (report, scope) => ({
      ...report,
      rules: bySlo(report.rules, scope),
      slos: bySlo(report.slos, scope),
    }),
    'GET /api/v1/silences': async (silences, scope) =>
      silences.filter((s: Any) => scope.sees(touchedServices(silenceTouches(catalog(), s.matchers)))),
    'GET /api/v1/gate/overrides': async (overrides, scope) => byService(overrides, scope),
    'GET /api/v1/deployments': async (answer, scope) => ({
      ...answer,
      deployments: byService(answer.deployments, scope),
    }),
    // The review's counts stay organisation-wide figures; its per-service rows and the records it
    // names are filtered.
    'GET /api/v1/reviews': async (review, scope) => {
      const index = await incidentIndex();
      const seenRef = (ref: string) => scope.sees(index.ofRefs([ref]));
      return {
        ...review,
        services: byService(review.services, scope),
        postmortems: {
          ...review.postmortems,
          required: review.postmortems.required.filter(seenRef),
          gaps: review.postmortems.gaps.filter((g: Any) => seenRef(g.incident)),
        },
        actionItems: {
          ...review.actionItems,
          overdue: review.actionItems.overdue.filter((i: Any) =>
            scope.sees(index.ofPostmortem(i.postmortemId)),
          ),
        },
      };
    },
  };

  // HEAD is answered by the GET route: it must not tell a hidden record from a missing one either.
  const routeOf = (request: FastifyRequest) =>
    `${request.method === 'HEAD' ? 'GET' : request.method} ${request.routeOptions.url}`;
  return {
    owners,
    record: async (request) => {
      const route = routeOf(request);
      const resolve = records[route];
      const record = resolve && (await resolve({ params: request.params, query: request.query }));
      if (!record || !everyService.has(route)) return record;
      // Every owned service seen ⇔ each one alone is seen; one unseen one stands for the record.
      const unseen = record.services.filter((s) => !request.readScope?.sees([s]));
      return unseen.length ? { ...record, services: unseen } : record;
    },
    list: (request) => lists[routeOf(request)],
  };
}
