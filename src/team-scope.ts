/**
 * Team-scoped writes (docs/api.md#teams), wired where every capability is visible: for each write
 * route about team-owned things, the services it touches — those its body names and, for a change,
 * those of the stored record — so the server's check (platform/http) can refuse another team's editor.
 */
import type { FastifyRequest } from 'fastify';
import { getAlert, listSilences } from './alerting/index.js';
import { listOverrides } from './gate/index.js';
import {
  actionItemTouches,
  alertmanagerTouches,
  incidentTouches,
  postmortemTouches,
  type Touched,
} from './incidents/index.js';
import { canWrite, type Owners, ownersOf, servicesOfSlos } from './platform/auth/index.js';
import type { Clock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import type { Db } from './platform/db/index.js';
import type { TeamWrites } from './platform/http/index.js';
import { type Catalog, isUploaded, parseSpecText, servicesBySli } from './slo/index.js';

export interface TeamScopeDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Pick<Config, 'teams'>;
  readonly catalog: () => Catalog;
}

// biome-ignore lint/suspicious/noExplicitAny: bodies and params were validated by the route's own schema
type Input = { params: any; body: any };
type Resolver = (input: Input) => Promise<Touched | undefined>;

/** Services named by a spec file's objects: an OpenSLO SLO's `spec.service`, a Service's name, Sloth's `service`. */
function servicesInSpecText(path: string, content: string): string[] {
  const services: string[] = [];
  for (const object of parseSpecText(path, content).objects) {
    const value = object.value as {
      kind?: unknown;
      service?: unknown;
      metadata?: { name?: unknown };
      spec?: { service?: unknown };
    } | null;
    if (typeof value?.spec?.service === 'string') services.push(value.spec.service);
    if (typeof value?.service === 'string') services.push(value.service);
    if (value?.kind === 'Service' && typeof value.metadata?.name === 'string')
      services.push(value.metadata.name);
  }
  return services;
}

/** A silence matching on anything but exact service or slo labels may silence any team's alerts. */
export function silenceTouches(
  catalog: Catalog,
  matchers: readonly { label: string; value: string; regex?: boolean }[],
): Touched {
  const exact = matchers.filter((m) => !m.regex && (m.label === 'service' || m.label === 'slo'));
  if (!exact.length) return { services: catalog.slos.map((s) => s.service), slos: [] };
  return {
    services: exact.filter((m) => m.label === 'service').map((m) => m.value),
    slos: exact.filter((m) => m.label === 'slo').map((m) => m.value),
  };
}

const none: Touched = { services: [], slos: [] };
/**
 * Routes resolved only to check a team-scoped editor, not for every caller's audit event: a spec
 * upload's services come from parsing every file, which would stall the event loop (the load
 * worker parses them off it); its audit event records no teams for a caller without teams.
 */
const CHECK_ONLY = new Set(['PUT /api/v1/specs']);
const union = (a: Touched | undefined, b: Touched): Touched => ({
  services: [...(a?.services ?? []), ...b.services],
  slos: [...(a?.slos ?? []), ...b.slos],
});

export function teamWrites(deps: TeamScopeDeps): TeamWrites {
  const named = (body: { services?: string[]; slos?: string[] } | undefined): Touched => ({
    services: body?.services ?? [],
    slos: body?.slos ?? [],
  });
  const riskService = (name: string): Touched => ({
    services: (deps.catalog().risks ?? []).filter((r) => r.name === name).map((r) => r.service),
    slos: [],
  });
  const alertTouches = async (id: string): Promise<Touched | undefined> => {
    const alert = await getAlert(deps, id);
    return alert && { services: [alert.service], slos: [] };
  };

  const routes: Record<string, Resolver> = {
    'POST /api/v1/incidents': async ({ body }) => named(body),
    'PATCH /api/v1/incidents/:ref': async ({ params, body }) =>
      union(await incidentTouches(deps, params.ref), named(body)),
    'POST /api/v1/incidents/:ref/notes': ({ params }) => incidentTouches(deps, params.ref),
    'PATCH /api/v1/incidents/:ref/events/:eventId': ({ params }) => incidentTouches(deps, params.ref),
    'POST /api/v1/incidents/:ref/postmortem': async ({ params, body }) => {
      let touched = (await incidentTouches(deps, params.ref)) ?? none;
      for (const ref of body?.alsoCovers ?? [])
        touched = union(touched, (await incidentTouches(deps, ref)) ?? none);
      return touched;
    },
    'PATCH /api/v1/postmortems/:id': ({ params }) => postmortemTouches(deps, params.id),
    'POST /api/v1/postmortems/:id/action-items': ({ params }) => postmortemTouches(deps, params.id),
    'PATCH /api/v1/action-items/:id': ({ params }) => actionItemTouches(deps, params.id),
    'PUT /api/v1/risks/:name': async ({ params, body }) =>
      union(riskService(params.name), { services: [body.service], slos: [] }),
    'PATCH /api/v1/risks/:name': async ({ params, body }) =>
      union(riskService(params.name), { services: body?.service ? [body.service] : [], slos: [] }),
    'DELETE /api/v1/risks/:name': async ({ params }) => riskService(params.name),
    'POST /api/v1/silences': async ({ body }) => silenceTouches(deps.catalog(), body.matchers),
    'DELETE /api/v1/silences/:id': async ({ params }) => {
      const silence = (await listSilences(deps, deps.clock.now())).find((s) => s.id === params.id);
      return silence && silenceTouches(deps.catalog(), silence.matchers);
    },
    'POST /api/v1/gate/overrides': async ({ body }) => ({ services: [body.service], slos: [] }),
    'DELETE /api/v1/gate/overrides/:id': async ({ params }) => {
      const override = (await listOverrides(deps, {})).find((o) => o.id === params.id);
      return override && { services: [override.service], slos: [] };
    },
    // Ingestion: the services whose SLOs the SLI feeds (a name no SLO uses is open: it answers 404).
    'POST /api/v1/sli/:name/events': async ({ params }) => ({
      services: servicesBySli(deps.catalog()).get(params.name) ?? [],
      slos: [],
    }),
    // A deployment's service (a later status under the same id may not change it: 409). A batch is
    // all or nothing: one row of another team's service refuses it.
    'POST /api/v1/deployments': async ({ body }) => ({ services: [body.service], slos: [] }),
    'POST /api/v1/deployments/batch': async ({ body }) => ({
      services: (body.deployments as { service: string }[]).map((d) => d.service),
      slos: [],
    }),
    'POST /api/v1/integrations/alertmanager': ({ body }) => alertmanagerTouches(deps, body),
    'POST /api/v1/alerts/:id/feedback': ({ params }) => alertTouches(params.id),
    'POST /api/v1/alerts/:id/incident': ({ params }) => alertTouches(params.id),
    // An upload replaces every uploaded file: it touches what they define now and what it brings.
    'PUT /api/v1/specs': async ({ body }) => ({
      services: [
        ...deps
          .catalog()
          .slos.filter((s) => isUploaded(s.location))
          .map((s) => s.service),
        ...(body.files as { path: string; content: string }[]).flatMap((f) =>
          servicesInSpecText(f.path, f.content),
        ),
      ],
      slos: [],
    }),
  };

  // Ownership changes only with the catalog (a reload makes a new object): computed once per catalog.
  let ownersCache: { catalog: Catalog; owners: Owners } | undefined;
  const owners = (): Owners => {
    const catalog = deps.catalog();
    if (ownersCache?.catalog !== catalog)
      ownersCache = { catalog, owners: ownersOf(catalog, deps.config.teams) };
    return ownersCache.owners;
  };

  return {
    owners,
    readOnly: (principal) => {
      const refused = (service: string) => !canWrite(principal, [service], owners()).ok;
      return {
        services: [...owners().keys()].filter(refused).sort(),
        slos: deps
          .catalog()
          .slos.filter((s) => refused(s.service))
          .map((s) => s.id)
          .sort(),
      };
    },
    touched: async (request: FastifyRequest, options?: { auditOnly?: boolean }) => {
      const route = `${request.method} ${request.routeOptions.url}`;
      const resolve = routes[route];
      if (!resolve || (options?.auditOnly && CHECK_ONLY.has(route))) return undefined;
      const touched = (await resolve({ params: request.params, body: request.body })) ?? none;
      return [...touched.services, ...servicesOfSlos(deps.catalog(), touched.slos)];
    },
  };
}
