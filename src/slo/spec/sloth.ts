/**
 * Sloth import (https://github.com/slok/sloth, v0.16): `version: "prometheus/v1"` specs, the
 * Kubernetes `PrometheusServiceLevel` CRD and `AlertWindows` period catalogs.
 *
 * Validation follows Sloth's own (pkg/common/validation/slo.go and promql.go, internal/alert/
 * window.go) so a file Sloth rejects is rejected here too, with file:line:column. Where Shinrai
 * is stricter or looser the message says so. Every rule id starts with `sloth/`.
 */
import { z } from 'zod';
import type { Duration } from '../duration.js';
import type {
  AlertTier,
  BurnRateAlerting,
  Indicator,
  MetricSource,
  ServiceDefinition,
  SliDefinition,
  SourceLocation,
} from '../model.js';
import { asRecord, Checker, type Issue, type RuleParams, specObject, withRules } from './check.js';
import type { PathSegment, SpecObject } from './documents.js';
import type { AlertWindowSpec, AlertWindowsDefinition, ParsedObject, PendingSlo } from './parsed.js';
import { readShinraiMetadata } from './shinrai-metadata.js';

export const SLOTH_SPEC_VERSION = 'prometheus/v1';
export const SLOTH_API_VERSION = 'sloth.slok.dev/v1';

/** Sloth's default SLO period (`--default-slo-period`): its specs cannot choose one. */
export const SLOTH_DEFAULT_PERIOD: Duration = { count: 30, unit: 'd' };

/** Sloth names (service, SLO): a letter or digit at both ends, `-`, `_`, `.` inside. */
const NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$/;
/** Label names every Prometheus-compatible store accepts; Prometheus 3 also takes any UTF-8. */
const CLASSIC_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const WINDOW_TEMPLATE = /{{ *\.window *}}/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The plain spec writes snake_case keys where the CRD writes camelCase ones. */
interface Dialect {
  readonly format: 'sloth/prometheus/v1' | 'sloth/kubernetes';
  readonly errorQuery: string;
  readonly totalQuery: string;
  readonly errorRatioQuery: string;
  readonly pageAlert: string;
  readonly ticketAlert: string;
  readonly sloPlugins: string;
}

const PLAIN: Dialect = {
  format: 'sloth/prometheus/v1',
  errorQuery: 'error_query',
  totalQuery: 'total_query',
  errorRatioQuery: 'error_ratio_query',
  pageAlert: 'page_alert',
  ticketAlert: 'ticket_alert',
  sloPlugins: 'slo_plugins',
};

const KUBERNETES: Dialect = {
  format: 'sloth/kubernetes',
  errorQuery: 'errorQuery',
  totalQuery: 'totalQuery',
  errorRatioQuery: 'errorRatioQuery',
  pageAlert: 'pageAlert',
  ticketAlert: 'ticketAlert',
  sloPlugins: 'sloPlugins',
};

// ---------------------------------------------------------------------------------------------
// Schemas. Rules that depend on several fields run even when a field already failed, so one run
// reports every problem.

function customIssue(message: string, rule: string, hint?: string) {
  return { code: 'custom' as const, message, params: { rule, hint } satisfies RuleParams };
}

const nameText = (what: string) =>
  z.string().check(
    z.superRefine((name: string, ctx) => {
      if (!NAME.test(name))
        ctx.addIssue(
          customIssue(
            `${what} name ${JSON.stringify(name)} is not a valid Sloth name`,
            'sloth/name',
            'start and end with a letter or digit and use only letters, digits, ".", "_" and "-" (at least 2 characters)',
          ),
        );
    }),
  );

// Sloth (Go YAML) reads `tier: 2` into a string label; so does Shinrai.
const scalarText = z
  .union([z.string(), z.number(), z.boolean()], { error: 'write the value as text, e.g. "2"' })
  .transform((value) => String(value));

function labelNameProblem(name: string): string | undefined {
  if (name === '') return 'label name is empty';
  if (name === '__name__') return 'the label name "__name__" is reserved for the metric name';
  if (LONE_SURROGATE.test(name)) return `label name ${JSON.stringify(name)} is not valid UTF-8`;
  return undefined;
}

function annotationNameProblem(name: string): string | undefined {
  if (name === '') return 'annotation name is empty';
  if (LONE_SURROGATE.test(name)) return `annotation name ${JSON.stringify(name)} is not valid UTF-8`;
  return undefined;
}

/** A Prometheus label or annotation map with Sloth's rules: valid names, non-empty values. */
function promMap(kind: 'label' | 'annotation') {
  return withRules(z.record(z.string(), scalarText).nullish(), (map, issue) => {
    for (const [key, value] of Object.entries(map)) {
      const problem = kind === 'label' ? labelNameProblem(key) : annotationNameProblem(key);
      if (problem)
        issue(
          [key],
          `sloth/${kind}-name`,
          problem,
          'Sloth rejects it too; rename it using letters, digits and "_", e.g. team_name',
          true,
        );
      if (value === '')
        issue(
          [key],
          `sloth/${kind}-value`,
          `${kind} "${key}" has an empty value`,
          `Sloth requires a value; give one or remove the ${kind}`,
        );
    }
  });
}

const query = z.string().check(
  z.superRefine((text: string, ctx) => {
    if (!text.trim())
      ctx.addIssue(
        customIssue(
          'query is empty',
          'sloth/required',
          'write a PromQL query that uses [{{.window}}] as range',
        ),
      );
  }),
);

/** Objective (a percentage) as a target fraction, without binary noise: 99.9 → 0.999, not 0.9990000000000001. */
function percentToTarget(percent: number): number {
  return Number((percent / 100).toPrecision(15));
}

const objective = z.number().check(
  z.superRefine((percent: number, ctx) => {
    if (percent === 100)
      ctx.addIssue(
        customIssue(
          'objective 100 leaves no error budget, so no burn rate can be computed',
          'sloth/objective-range',
          'Sloth accepts 100, but then its burn rates divide by zero and any error pages; use e.g. 99.99',
        ),
      );
    else if (percent <= 0 || percent > 100)
      ctx.addIssue(
        customIssue(
          `objective ${percent} is not a percentage above 0 and below 100`,
          'sloth/objective-range',
          'write the objective as a percentage, e.g. 99.9 for 99.9%',
        ),
      );
    else if (percentToTarget(percent) >= 1)
      ctx.addIssue(
        customIssue(
          `objective ${percent} is too close to 100 to leave an error budget`,
          'sloth/objective-range',
          'use at most 14 significant digits, e.g. 99.9999',
        ),
      );
  }),
);

function sloSchema(d: Dialect) {
  const events = withRules(specObject({ [d.errorQuery]: query, [d.totalQuery]: query }), (e, issue) => {
    const bad = e[d.errorQuery];
    if (typeof bad === 'string' && bad.trim() && bad === e[d.totalQuery])
      issue(
        [d.totalQuery],
        'sloth/sli-queries-equal',
        'the error and total queries are the same, so the error ratio is always 1',
        `${d.errorQuery} counts the failed events only`,
      );
  });
  const raw = specObject({ [d.errorRatioQuery]: query });
  const plugin = specObject({ id: z.string(), options: z.record(z.string(), z.unknown()).nullish() });
  const sli = withRules(
    specObject({ events: events.optional(), raw: raw.optional(), plugin: plugin.optional() }),
    (s, issue) => {
      const present = (['events', 'raw', 'plugin'] as const).filter((k) => s[k] !== undefined);
      if (present.length === 0)
        issue(
          [],
          'sloth/sli-one-of',
          'sli needs one of `events`, `raw` or `plugin`',
          `events: {${d.errorQuery}, ${d.totalQuery}} for counts, raw: {${d.errorRatioQuery}} for a ready error ratio`,
          true,
        );
      else if (present.length > 1)
        issue(
          [present[1]!],
          'sloth/sli-one-of',
          `sli has both \`${present[0]}\` and \`${present[1]}\`; write exactly one`,
          'events for bad/total counts, raw for a precomputed error ratio',
          true,
        );
      if (s.plugin !== undefined)
        issue(
          ['plugin'],
          'sloth/plugin',
          'SLI plugins are not supported: Shinrai does not run Sloth plugins',
          `expand the plugin into \`events\` (${d.errorQuery}/${d.totalQuery}) or \`raw\` queries; \`sloth generate\` shows the query it produced`,
          true,
        );
    },
  );
  const tier = specObject({
    disable: z.boolean().optional(),
    labels: promMap('label'),
    annotations: promMap('annotation'),
  }).nullish();
  const alerting = specObject({
    name: z.string().optional(),
    labels: promMap('label'),
    annotations: promMap('annotation'),
    [d.pageAlert]: tier,
    [d.ticketAlert]: tier,
  }).nullish();
  return withRules(
    specObject({
      name: nameText('SLO'),
      description: z.string().nullish(),
      objective,
      labels: promMap('label'),
      sli,
      alerting,
      // Sloth features Shinrai ignores (with a warning): SLO plugins, info labels, rule intervals.
      plugins: z.unknown().optional(),
      infoLabels: promMap('label'),
      interval: z.unknown().optional(),
    }),
    (slo, issue) => {
      const alerts = asRecord(slo.alerting);
      const enabled = [d.pageAlert, d.ticketAlert].filter(
        (tierKey) => asRecord(alerts[tierKey]).disable !== true,
      );
      const name = alerts.name;
      const missing = name === undefined || name === null || (typeof name === 'string' && !name.trim());
      if (enabled.length > 0 && missing)
        issue(
          slo.alerting === undefined || slo.alerting === null ? [] : ['alerting'],
          'sloth/alert-name',
          `alerting.name is required while ${enabled.join(' and ')} alerts are enabled`,
          `name the alerts (e.g. MyServiceHighErrorRate), or set \`disable: true\` on ${d.pageAlert} and ${d.ticketAlert}`,
          true,
        );
    },
  );
}

const slosList = z.array(z.unknown());

function requireSlos(body: Record<string, unknown>, issue: Issue): void {
  if (Array.isArray(body.slos) && body.slos.length === 0)
    issue(['slos'], 'sloth/required', 'at least one SLO is required', 'list the SLOs under `slos:`');
}

const plainBodySchema = withRules(
  specObject({
    version: z.string(),
    service: nameText('service'),
    labels: promMap('label'),
    slos: slosList,
    slo_plugins: z.unknown().optional(),
  }),
  (body, issue) => {
    if (typeof body.version === 'string' && body.version !== SLOTH_SPEC_VERSION)
      issue(
        ['version'],
        'sloth/version',
        `Sloth spec version ${JSON.stringify(body.version)} is not supported`,
        `write version: "${SLOTH_SPEC_VERSION}"`,
      );
    requireSlos(body, issue);
  },
);

const kubernetesSchema = withRules(
  specObject({
    apiVersion: z.string(),
    kind: z.string(),
    // Kubernetes adds many metadata fields (uid, managedFields…); only these are read.
    metadata: z
      .looseObject({
        name: z.string().optional(),
        annotations: z.record(z.string(), z.string()).nullish(),
      })
      .optional(),
    spec: withRules(
      specObject({
        service: nameText('service'),
        labels: promMap('label'),
        slos: slosList,
        sloPlugins: z.unknown().optional(),
      }),
      requireSlos,
    ),
    status: z.unknown().optional(),
  }),
  (object, issue) => {
    if (object.apiVersion !== SLOTH_API_VERSION || object.kind !== 'PrometheusServiceLevel')
      issue(
        ['kind'],
        'sloth/kind',
        'expected apiVersion sloth.slok.dev/v1 and kind PrometheusServiceLevel',
        undefined,
      );
  },
);

const SCHEMAS = new Map<Dialect, ReturnType<typeof sloSchema>>([
  [PLAIN, sloSchema(PLAIN)],
  [KUBERNETES, sloSchema(KUBERNETES)],
]);

// ---------------------------------------------------------------------------------------------
// Conversion.

type StringMap = Record<string, string>;

interface TierValue {
  readonly disable?: boolean | undefined;
  readonly labels?: StringMap | null | undefined;
  readonly annotations?: StringMap | null | undefined;
}

interface SloValue {
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly objective: number;
  readonly labels?: StringMap | null | undefined;
  readonly sli: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
  readonly alerting?: Readonly<Record<string, unknown>> | null | undefined;
}

interface BodyValue {
  readonly service: string;
  readonly labels?: StringMap | null | undefined;
}

/** Where a document's Shinrai annotations come from (only the CRD form has annotations). */
interface DocumentAnnotations {
  readonly annotations: Readonly<Record<string, string>>;
  readonly path: readonly PathSegment[];
}

/**
 * Converts a Sloth `version: "prometheus/v1"` body found at `basePath` in `object.value`: one
 * Service, and one SLO per entry of `slos` (id `<service>-<slo name>`, as Sloth's `sloth_id`).
 * An SLO with problems yields nothing; the others still convert. The Kubernetes CRD form writes
 * camelCase keys, so it goes through {@link convertSlothKubernetes} instead.
 */
export function convertSlothPrometheusV1(
  object: SpecObject,
  checker: Checker = new Checker(object),
  basePath: PathSegment[] = [],
): ParsedObject[] {
  const body = valueAt(object.value, basePath);
  const header = parseSloth(checker, plainBodySchema, body, basePath) as BodyValue | undefined;
  return convertBody(checker, body, header, basePath, PLAIN, { annotations: {}, path: basePath });
}

/** Converts a Kubernetes `apiVersion: sloth.slok.dev/v1, kind: PrometheusServiceLevel` object. */
export function convertSlothKubernetes(
  object: SpecObject,
  checker: Checker = new Checker(object),
): ParsedObject[] {
  const parsed = parseSloth(checker, kubernetesSchema, object.value, []);
  const annotations = asRecord(asRecord(object.value).metadata).annotations;
  const documentAnnotations: DocumentAnnotations = {
    annotations: parsed?.metadata?.annotations ?? stringEntries(annotations),
    path: ['metadata', 'annotations'],
  };
  const header = parsed?.spec as BodyValue | undefined;
  return convertBody(checker, asRecord(object.value).spec, header, ['spec'], KUBERNETES, documentAnnotations);
}

function convertBody(
  checker: Checker,
  body: unknown,
  header: BodyValue | undefined,
  base: PathSegment[],
  d: Dialect,
  documentAnnotations: DocumentAnnotations,
): ParsedObject[] {
  const items = asArray(asRecord(body).slos);
  const schema = SCHEMAS.get(d)!;
  const slos = items.map(
    (item, i) => parseSloth(checker, schema, item, [...base, 'slos', i]) as SloValue | undefined,
  );
  slothWarnings(checker, body, base, d);

  const loc = (path: readonly PathSegment[]): SourceLocation => checker.object.at(checker.path(path));
  // Annotation problems are reported once per document; the throwaway checker serves the rest.
  let metadataChecker: Checker = checker;
  const shinraiMetadata = (owner: string | undefined, runbookUrl: string | undefined) => {
    const { annotations, path } = documentAnnotations;
    const meta = readShinraiMetadata(annotations, metadataChecker, path, { owner, runbookUrl });
    metadataChecker = new Checker(checker.object);
    return meta;
  };

  if (!header) {
    shinraiMetadata(undefined, undefined);
    return [];
  }
  const serviceLabels = header.labels ?? {};
  const service: ServiceDefinition = {
    name: header.service,
    labels: normaliseLabels(serviceLabels),
    annotations: {},
    location: loc([...base, 'service']),
    format: d.format,
    shinrai: shinraiMetadata(serviceLabels.owner, undefined),
  };
  const out: ParsedObject[] = [{ kind: 'Service', def: service }];

  const seen = new Map<string, number>();
  slos.forEach((slo, i) => {
    if (!slo) return;
    const path: PathSegment[] = [...base, 'slos', i];
    const id = `${header.service}-${slo.name}`;
    const first = seen.get(id);
    if (first !== undefined) {
      checker.error(
        [...path, 'name'],
        'sloth/duplicate-slo',
        `SLO "${slo.name}" is defined twice in service "${header.service}" (first as slos[${first}])`,
        'SLO names are unique per service',
      );
      return;
    }
    seen.set(id, i);

    const labels = { ...serviceLabels, ...(slo.labels ?? {}) };
    const alerting = burnRateAlerting(slo.alerting, d);
    const def: PendingSlo = {
      id,
      name: slo.name,
      description: slo.description ?? undefined,
      labels: normaliseLabels(labels),
      annotations: d === KUBERNETES ? documentAnnotations.annotations : {},
      location: loc([...path, 'name']),
      format: d.format,
      service: header.service,
      serviceLocation: loc([...base, 'service']),
      definesService: true,
      indicator: sliDefinition(id, slo, [...path, 'sli'], d, loc),
      composite: false,
      window: { kind: 'rolling', duration: SLOTH_DEFAULT_PERIOD },
      budgetingMethod: 'Occurrences',
      objectives: [
        {
          key: 'objective-1',
          target: percentToTarget(slo.objective),
          location: loc([...path, 'objective']),
        },
      ],
      alertPolicies: [],
      alerting,
      shinrai: shinraiMetadata(labels.owner, alerting.annotations.runbook),
    };
    out.push({ kind: 'SLO', def });
  });
  return out;
}

function sliDefinition(
  id: string,
  slo: SloValue,
  path: PathSegment[],
  d: Dialect,
  loc: (path: readonly PathSegment[]) => SourceLocation,
): SliDefinition {
  const source = (text: unknown, at: PathSegment[]): MetricSource => ({
    type: 'prometheus',
    spec: { query: text },
    location: loc(at),
  });
  const events = slo.sli.events;
  const indicator: Indicator = events
    ? {
        kind: 'ratio',
        bad: source(events[d.errorQuery], [...path, 'events', d.errorQuery]),
        total: source(events[d.totalQuery], [...path, 'events', d.totalQuery]),
      }
    : {
        kind: 'raw',
        rawType: 'failure',
        raw: source(slo.sli.raw?.[d.errorRatioQuery], [...path, 'raw', d.errorRatioQuery]),
      };
  return {
    name: id,
    labels: {},
    annotations: {},
    location: loc(path),
    format: d.format,
    indicator,
    inline: true,
  };
}

/** Sloth's alerting block; a tier that is not written is enabled, as in Sloth. */
function burnRateAlerting(value: SloValue['alerting'], d: Dialect): BurnRateAlerting {
  const alerting = value ?? {};
  const tier = (raw: unknown): AlertTier => {
    const t = (raw ?? {}) as TierValue;
    return { disabled: t.disable === true, labels: t.labels ?? {}, annotations: t.annotations ?? {} };
  };
  const name = alerting.name;
  return {
    name: typeof name === 'string' && name.trim() ? name : undefined,
    labels: (alerting.labels ?? {}) as StringMap,
    annotations: (alerting.annotations ?? {}) as StringMap,
    page: tier(alerting[d.pageAlert]),
    ticket: tier(alerting[d.ticketAlert]),
  };
}

/** Problems that do not stop the import; checked on the raw value so invalid SLOs get them too. */
function slothWarnings(checker: Checker, body: unknown, base: PathSegment[], d: Dialect): void {
  const warn = (path: PathSegment[], rule: string, message: string, hint?: string, atKey = false) =>
    checker.report([...base, ...path], { rule, message, hint, severity: 'warning', atKey });
  const ignored = (path: PathSegment[], what: string) =>
    warn(path, 'sloth/ignored-field', `Shinrai ignores ${what}`, 'remove it, or keep it for Sloth', true);
  const classicNames = (map: unknown, path: PathSegment[], kind: 'label' | 'annotation') => {
    for (const key of Object.keys(asRecord(map))) {
      const problem = kind === 'label' ? labelNameProblem(key) : annotationNameProblem(key);
      if (!problem && !CLASSIC_LABEL_NAME.test(key))
        warn(
          [...path, key],
          'sloth/label-name-utf8',
          `${kind} name "${key}" needs UTF-8 name support (Prometheus 3); older Prometheus, Thanos, Mimir or VictoriaMetrics reject it`,
          `use letters, digits and "_" only, e.g. ${JSON.stringify(key.replace(/[^a-zA-Z0-9_]/g, '_'))}`,
          true,
        );
    }
  };
  const queryTemplate = (text: unknown, path: PathSegment[]) => {
    if (typeof text === 'string' && text.trim() && !WINDOW_TEMPLATE.test(text))
      warn(
        path,
        'sloth/window-template',
        'query does not use {{.window}}, so every alert window sees the same value',
        'use the template as range, e.g. rate(http_requests_total[{{.window}}]); Sloth rejects queries without it',
      );
  };

  const b = asRecord(body);
  classicNames(b.labels, ['labels'], 'label');
  if (b[d.sloPlugins] !== undefined) ignored([d.sloPlugins], 'Sloth SLO plugins');
  asArray(b.slos).forEach((item, i) => {
    const slo = asRecord(item);
    const path: PathSegment[] = ['slos', i];
    if (typeof slo.objective === 'number' && slo.objective > 0 && slo.objective < 1)
      warn(
        [...path, 'objective'],
        'sloth/objective-percent',
        `objective ${slo.objective} means ${slo.objective}%, not ${slo.objective * 100}%`,
        `Sloth objectives are percentages: write ${Number((slo.objective * 100).toPrecision(12))} for ${Number((slo.objective * 100).toPrecision(12))}%`,
      );
    classicNames(slo.labels, [...path, 'labels'], 'label');
    const alerting = asRecord(slo.alerting);
    classicNames(alerting.labels, [...path, 'alerting', 'labels'], 'label');
    classicNames(alerting.annotations, [...path, 'alerting', 'annotations'], 'annotation');
    for (const tierKey of [d.pageAlert, d.ticketAlert]) {
      const tier = asRecord(alerting[tierKey]);
      classicNames(tier.labels, [...path, 'alerting', tierKey, 'labels'], 'label');
      classicNames(tier.annotations, [...path, 'alerting', tierKey, 'annotations'], 'annotation');
    }
    const sli = asRecord(slo.sli);
    const events = asRecord(sli.events);
    queryTemplate(events[d.errorQuery], [...path, 'sli', 'events', d.errorQuery]);
    queryTemplate(events[d.totalQuery], [...path, 'sli', 'events', d.totalQuery]);
    queryTemplate(asRecord(sli.raw)[d.errorRatioQuery], [...path, 'sli', 'raw', d.errorRatioQuery]);
    if (slo.plugins !== undefined) ignored([...path, 'plugins'], 'Sloth SLO plugins');
    if (slo.infoLabels !== undefined) ignored([...path, 'infoLabels'], 'info labels');
    if (slo.interval !== undefined) ignored([...path, 'interval'], 'rule group intervals');
  });
}

// ---------------------------------------------------------------------------------------------
// AlertWindows.

const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const PROM_UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000, 1] as const;

/** Parses a Prometheus duration (`7d`, `1h30m`, `90s`; `y` = 365 days) into milliseconds. */
export function parsePrometheusDuration(
  text: string,
): { ok: true; ms: number } | { ok: false; error: string } {
  // Every part of the pattern is optional, so the empty string matches it and is refused here.
  const match = text === '0' ? [] : text === '' ? null : PROM_DURATION.exec(text);
  if (!match) {
    return {
      ok: false,
      error: `"${text}" is not a Prometheus duration: write whole numbers with units y w d h m s ms, largest first (e.g. 7d, 1h30m)`,
    };
  }
  let ms = 0;
  PROM_UNIT_MS.forEach((unitMs, i) => {
    const count = match[i + 1];
    if (count !== undefined) ms += Number(count) * unitMs;
  });
  if (!Number.isSafeInteger(ms)) return { ok: false, error: `"${text}" is too long` };
  return { ok: true, ms };
}

const promDuration = z.string().check(
  z.superRefine((text: string, ctx) => {
    const parsed = parsePrometheusDuration(text);
    if (!parsed.ok) ctx.addIssue(customIssue(parsed.error, 'sloth/duration'));
    else if (parsed.ms === 0)
      ctx.addIssue(customIssue('duration must be longer than zero', 'sloth/duration'));
  }),
);

const windowSchema = specObject({
  errorBudgetPercent: z.number().check(
    z.superRefine((percent: number, ctx) => {
      if (percent <= 0 || percent > 100)
        ctx.addIssue(
          customIssue(
            `errorBudgetPercent ${percent} is not a percentage above 0 and up to 100`,
            'sloth/error-budget-percent',
            'the share of the period’s error budget the alert lets burn, e.g. 2 for the 1h page window',
          ),
        );
    }),
  ),
  shortWindow: promDuration,
  longWindow: promDuration,
});

const quickSlow = specObject({ quick: windowSchema, slow: windowSchema });

const alertWindowsSchema = withRules(
  specObject({
    apiVersion: z.string(),
    kind: z.string(),
    spec: specObject({ sloPeriod: promDuration, page: quickSlow, ticket: quickSlow }),
  }),
  (object, issue) => {
    if (object.apiVersion !== SLOTH_API_VERSION || object.kind !== 'AlertWindows')
      issue(['kind'], 'sloth/kind', 'expected apiVersion sloth.slok.dev/v1 and kind AlertWindows', undefined);
  },
);

type WindowValue = z.output<typeof windowSchema>;

/**
 * Converts a Sloth `AlertWindows` spec (the burn-rate windows for one SLO period). Its name is the
 * period in days (`7d`), so two catalogs for the same period collide, as they do in Sloth.
 */
export function convertSlothAlertWindows(
  object: SpecObject,
  checker: Checker = new Checker(object),
): ParsedObject[] {
  const value = parseSloth(checker, alertWindowsSchema, object.value, []);
  if (!value) return [];
  const msOf = (text: string) => (parsePrometheusDuration(text) as { ms: number }).ms;
  const periodMs = msOf(value.spec.sloPeriod);
  const window = (w: WindowValue, path: PathSegment[]): AlertWindowSpec => {
    const shortWindowMs = msOf(w.shortWindow);
    const longWindowMs = msOf(w.longWindow);
    if (shortWindowMs >= longWindowMs)
      checker.warn(
        [...path, 'shortWindow'],
        'sloth/window-order',
        `shortWindow ${w.shortWindow} is not shorter than longWindow ${w.longWindow}`,
        'the short window only confirms the burn is still happening; the SRE Workbook uses 1/12 of the long window',
      );
    if (longWindowMs > periodMs)
      checker.warn(
        [...path, 'longWindow'],
        'sloth/window-order',
        `longWindow ${w.longWindow} is longer than the SLO period ${value.spec.sloPeriod}`,
        undefined,
      );
    return { errorBudgetPercent: w.errorBudgetPercent, shortWindowMs, longWindowMs };
  };
  const def: AlertWindowsDefinition = {
    name: periodMs % 86_400_000 === 0 ? `${periodMs / 86_400_000}d` : value.spec.sloPeriod,
    periodMs,
    page: {
      quick: window(value.spec.page.quick, ['spec', 'page', 'quick']),
      slow: window(value.spec.page.slow, ['spec', 'page', 'slow']),
    },
    ticket: {
      quick: window(value.spec.ticket.quick, ['spec', 'ticket', 'quick']),
      slow: window(value.spec.ticket.slow, ['spec', 'ticket', 'slow']),
    },
    location: checker.object.at(checker.path(['spec', 'sloPeriod'])),
  };
  return [{ kind: 'AlertWindows', def }];
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/** `checker.parse`, with the generic `spec/…` rule ids renamed `sloth/…`. */
function parseSloth<T extends z.ZodType>(
  checker: Checker,
  schema: T,
  value: unknown,
  path: PathSegment[],
): z.output<T> | undefined {
  const scratch = new Checker(checker.object, checker.path([]));
  const result = scratch.parse(schema, value, path);
  for (const d of scratch.diagnostics)
    checker.diagnostics.push(d.rule.startsWith('spec/') ? { ...d, rule: `sloth/${d.rule.slice(5)}` } : d);
  return result;
}

function normaliseLabels(labels: StringMap): Record<string, string[]> {
  return Object.fromEntries(Object.entries(labels).map(([key, value]) => [key, [value]]));
}

function stringEntries(value: unknown): StringMap {
  return Object.fromEntries(
    Object.entries(asRecord(value)).filter(([, v]) => typeof v === 'string'),
  ) as StringMap;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current = root;
  for (const segment of path) current = asRecord(current)[segment];
  return current;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
