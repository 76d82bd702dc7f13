/**
 * Cross-file rules: references resolve, names are unique per kind, `op`/`value` match the
 * resolved indicator, and Shinrai's advice (owner, journey, runbook, very high targets).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ConfiguredTargetName } from '../../platform/notification-targets.js';
import type {
  AlertConditionDefinition,
  AlertPolicyDefinition,
  BudgetAdjustmentDefinition,
  Catalog,
  DataSourceDefinition,
  MetricSource,
  NotificationTargetDefinition,
  Objective,
  RiskDefinition,
  RiskFactorDefinition,
  ServiceDefinition,
  ShinraiMetadata,
  SliDefinition,
  SloDefinition,
  SourceLocation,
} from '../model.js';
import { closest } from './check.js';
import type { Diagnostic } from './diagnostics.js';
import {
  type AlertWindowsDefinition,
  isRef,
  type OrRef,
  type ParsedObject,
  type PendingAlertPolicy,
  type PendingSlo,
} from './parsed.js';

export interface ResolveOptions {
  /**
   * Notification targets configured on the server (`notificationTargets.<name>`), by name and kind
   * only: a `targetRef` may name one, and a spec may not define one of the same name.
   */
  readonly configuredTargets?: readonly ConfiguredTargetName[] | undefined;
}

export interface ResolveResult {
  readonly catalog: Catalog;
  readonly alertWindows: readonly AlertWindowsDefinition[];
}

type Kind = ParsedObject['kind'];

/** Targets at or above this get a warning: 99.999% allows 26 seconds of failure a month. */
export const VERY_HIGH_TARGET = 0.99999;

export function resolveCatalog(
  parsed: readonly ParsedObject[],
  diagnostics: Diagnostic[],
  options: ResolveOptions = {},
): ResolveResult {
  const report = (
    where: SourceLocation,
    rule: string,
    message: string,
    hint?: string,
    severity: 'error' | 'warning' = 'error',
  ) => diagnostics.push({ ...where, severity, rule, message, hint });

  const registries = new Map<Kind, Map<string, ParsedObject['def']>>();
  const registry = <T extends ParsedObject['def']>(kind: Kind) => {
    let map = registries.get(kind);
    if (!map) {
      map = new Map();
      registries.set(kind, map);
    }
    return map as Map<string, T>;
  };

  for (const item of parsed) {
    const key = item.kind === 'SLO' ? item.def.id : item.def.name;
    const map = registry(item.kind);
    const existing = map.get(key);
    if (!existing) {
      map.set(key, item.def);
      continue;
    }
    // Services named by Sloth specs are implicit: several files may describe one service.
    if (
      item.kind === 'Service' &&
      (isImplicitService(item.def) || isImplicitService(existing as ServiceDefinition))
    ) {
      if (isImplicitService(existing as ServiceDefinition)) map.set(key, item.def);
      continue;
    }
    const first = `${existing.location.file}:${existing.location.line}`;
    if (isDeepStrictEqual(withoutLocations(existing), withoutLocations(item.def))) {
      report(
        item.def.location,
        'spec/duplicate-identical',
        `${item.kind} "${key}" is defined again, identically (first at ${first})`,
        'the copy is ignored; delete one of them',
        'warning',
      );
    } else {
      report(
        item.def.location,
        'spec/duplicate',
        `${item.kind} "${key}" is already defined at ${first}`,
        `names are unique per kind; rename one or delete the other`,
      );
    }
  }

  const services = registry<ServiceDefinition>('Service');
  const dataSources = registry<DataSourceDefinition>('DataSource');
  const slis = registry<SliDefinition>('SLI');
  const conditions = registry<AlertConditionDefinition>('AlertCondition');
  const targets = registry<NotificationTargetDefinition>('AlertNotificationTarget');
  const pendingPolicies = registry<PendingAlertPolicy>('AlertPolicy');
  const pendingSlos = registry<PendingSlo>('SLO');
  const adjustments = registry<BudgetAdjustmentDefinition>('BudgetAdjustment');
  const explicitServices = [...services.values()].some((s) => !isImplicitService(s));
  // Formats that name a service without defining it (OpenSLO v1alpha as Sloth reads it) get an
  // implicit Service, so every SLO's service is listed.
  for (const slo of pendingSlos.values())
    if (slo.definesService && !services.has(slo.service))
      services.set(slo.service, {
        name: slo.service,
        labels: {},
        annotations: {},
        location: slo.serviceLocation,
        format: slo.format,
      });

  const lookup = <T>(map: Map<string, T>, value: OrRef<T>, what: string, refKey: string): T | undefined => {
    if (!isRef(value)) return value;
    const found = map.get(value.ref);
    if (found) return found;
    const suggestion = closest(value.ref, [...map.keys()]);
    report(
      value.location,
      'openslo/ref-unresolved',
      `${refKey} "${value.ref}" names no ${what}`,
      suggestion
        ? `did you mean "${suggestion}"?`
        : map.size
          ? `defined: ${[...map.keys()].slice(0, 8).join(', ')}`
          : `define a ${what} with this name in the spec tree`,
    );
    return undefined;
  };

  const checkMetricSource = (source: MetricSource) => {
    if (source.ref === undefined) return;
    const ds = lookup(
      dataSources,
      { ref: source.ref, location: source.location },
      'DataSource',
      'metricSourceRef',
    );
    if (ds && source.type && ds.type.toLowerCase() !== source.type.toLowerCase())
      report(
        source.location,
        'openslo/metric-source-type',
        `metricSource type "${source.type}" differs from DataSource "${ds.name}" type "${ds.type}"`,
        'omit `type` to take it from the DataSource',
        'warning',
      );
  };
  const checkSliSources = (sli: SliDefinition) => {
    const i = sli.indicator;
    if (i.kind === 'threshold') checkMetricSource(i.metric);
    else if (i.kind === 'raw') checkMetricSource(i.raw);
    else for (const s of [i.good, i.bad, i.total]) if (s) checkMetricSource(s);
  };
  for (const sli of slis.values()) checkSliSources(sli);

  // A configured target's name means the configured target: a spec defining the same name is an
  // error and that definition is not used (references reach the configured one).
  const configured = new Map((options.configuredTargets ?? []).map((t) => [t.name, t]));
  const configuredClash = (def: NotificationTargetDefinition) =>
    report(
      def.location,
      'spec/target-configured',
      `AlertNotificationTarget "${def.name}" is also configured on the server (notificationTargets.${def.name} in the config file)`,
      'the configured target is the one used; rename or remove this one',
    );
  for (const def of [...targets.values()])
    if (configured.has(def.name)) {
      configuredClash(def);
      targets.delete(def.name);
    }
  const resolveTarget = (
    policy: PendingAlertPolicy,
    item: OrRef<NotificationTargetDefinition>,
  ): NotificationTargetDefinition | undefined => {
    if (!isRef(item)) {
      if (!configured.has(item.name)) return item;
      configuredClash(item);
      return undefined;
    }
    const onServer = configured.get(item.ref);
    if (onServer)
      return {
        name: onServer.name,
        target: onServer.kind,
        labels: {},
        annotations: {},
        location: item.location,
        format: policy.format,
        configured: true,
      };
    const found = targets.get(item.ref);
    if (found) return found;
    const names = [...targets.keys(), ...configured.keys()];
    const suggestion = closest(item.ref, names);
    report(
      item.location,
      'openslo/ref-unresolved',
      `targetRef "${item.ref}" names no AlertNotificationTarget`,
      suggestion
        ? `did you mean "${suggestion}"?`
        : `define it in the spec directory on the server (specs.path) or as notificationTargets.${item.ref} in the server's config file${names.length ? `; defined: ${names.slice(0, 8).join(', ')}` : ''}`,
    );
    return undefined;
  };

  const resolvePolicy = (policy: PendingAlertPolicy): AlertPolicyDefinition => ({
    ...policy,
    conditions: policy.conditions.flatMap(
      (c) => lookup(conditions, c, 'AlertCondition', 'conditionRef') ?? [],
    ),
    notificationTargets: policy.notificationTargets.flatMap((t) => resolveTarget(policy, t) ?? []),
  });
  const policies = new Map([...pendingPolicies].map(([name, p]) => [name, resolvePolicy(p)]));

  const slos: SloDefinition[] = [];
  for (const pending of pendingSlos.values()) {
    const slo = resolveSlo(pending);
    if (slo) slos.push(slo);
  }

  function resolveSlo(pending: PendingSlo): SloDefinition | undefined {
    let ok = true;
    const indicator = pending.indicator ? lookup(slis, pending.indicator, 'SLI', 'indicatorRef') : undefined;
    if (pending.indicator && !indicator) ok = false;
    if (indicator?.inline) checkSliSources(indicator);

    const objectives: Objective[] = [];
    for (const objective of pending.objectives) {
      const own = objective.indicator ? lookup(slis, objective.indicator, 'SLI', 'indicatorRef') : undefined;
      if (objective.indicator && !own) ok = false;
      if (own?.inline) checkSliSources(own);
      const effective = own ?? indicator;
      if (effective) {
        const threshold = effective.indicator.kind === 'threshold';
        if (!threshold && (objective.op !== undefined || objective.value !== undefined)) {
          const field = objective.op !== undefined ? 'op' : 'value';
          report(
            (field === 'op' ? objective.opLocation : objective.valueLocation) ?? objective.location,
            'openslo/op-on-ratio',
            `\`${field}\` is only for threshold SLIs, but indicator "${effective.name}" is a ${effective.indicator.kind === 'raw' ? 'raw ' : ''}ratioMetric`,
            'remove `op`/`value`: a ratio objective is met when good/total reaches `target`',
          );
          ok = false;
        }
        if (threshold && (objective.op === undefined || objective.value === undefined)) {
          report(
            objective.location,
            'openslo/threshold-op-value',
            `indicator "${effective.name}" is a thresholdMetric: the objective needs \`op\` and \`value\``,
            'e.g. op: lt, value: 500 for "latency below 500 ms"',
          );
          ok = false;
        }
      }
      const { opLocation: _op, valueLocation: _value, ...rest } = objective;
      objectives.push({ ...rest, indicator: own });
    }
    if (indicator?.indicator.kind === 'threshold' && !pending.composite && pending.objectives.length > 1)
      report(
        pending.objectives[1]!.location,
        'openslo/threshold-single-objective',
        'an SLO with a thresholdMetric has exactly one objective',
        'split it into one SLO per threshold',
      );

    const alertPolicies = pending.alertPolicies.flatMap((p) => {
      if (isRef(p)) return lookup(policies, p, 'AlertPolicy', 'alertPolicyRef') ?? [];
      return [resolvePolicy(p)];
    });

    const service = services.get(pending.service);
    if (!service && !pending.definesService) {
      const suggestion = closest(pending.service, [...services.keys()]);
      report(
        pending.serviceLocation,
        'openslo/service-unresolved',
        `service "${pending.service}" names no Service object`,
        suggestion ? `did you mean "${suggestion}"?` : 'add a Service object with this name',
        explicitServices ? 'error' : 'warning',
      );
    }
    const shinrai = inherit(pending.shinrai, service?.shinrai);
    const where = pending.location;
    if (!shinrai.owner)
      report(
        where,
        'shinrai/no-owner',
        `SLO "${pending.id}" has no owner`,
        'add the annotation shinrai.dev/owner: <team> (on the SLO or its Service)',
        'warning',
      );
    if (!shinrai.journey)
      report(
        where,
        'shinrai/no-journey',
        `SLO "${pending.id}" names no Critical User Journey`,
        'add shinrai.dev/journey: <what the user is trying to do>',
        'warning',
      );
    if (!shinrai.runbookUrl)
      report(
        where,
        'shinrai/no-runbook',
        `SLO "${pending.id}" has no runbook`,
        'add shinrai.dev/runbook: https://…',
        'warning',
      );
    for (const o of objectives)
      if (o.target >= VERY_HIGH_TARGET)
        report(
          o.location,
          'shinrai/target-too-high',
          `target ${(o.target * 100).toPrecision(7).replace(/0+$/, '')}% leaves ${budgetPerMonth(o.target)} of errors a month`,
          'targets of 99.999% or more are rarely achievable on shared dependencies; check the availability calculator',
          'warning',
        );

    if (!ok) return undefined;
    const { serviceLocation: _s, definesService: _d, ...rest } = pending;
    return { ...rest, indicator, objectives, alertPolicies, shinrai };
  }

  for (const adjustment of adjustments.values()) {
    for (const id of adjustment.slos)
      if (!pendingSlos.has(id))
        lookup(pendingSlos, { ref: id, location: adjustment.location }, 'SLO', 'slos');
    for (const name of adjustment.services)
      if (!services.has(name))
        lookup(services, { ref: name, location: adjustment.location }, 'Service', 'services');
  }

  const risks = registry<RiskDefinition>('Risk');
  const riskFactors = registry<RiskFactorDefinition>('RiskFactor');
  const resolvedRisks: RiskDefinition[] = [];
  for (const risk of risks.values()) {
    let ok = true;
    const sloService = [...pendingSlos.values()].some((slo) => slo.service === risk.service);
    if (!services.has(risk.service) && !sloService)
      ok =
        lookup(services, { ref: risk.service, location: risk.location }, 'Service', 'service') !== undefined;
    for (const id of risk.slos) {
      const slo = pendingSlos.get(id);
      if (!slo)
        ok =
          lookup(pendingSlos, { ref: id, location: refLocation(risk, 'slos', id) }, 'SLO', 'slos') !==
            undefined && ok;
      else if (slo.service !== risk.service) {
        report(
          refLocation(risk, 'slos', id),
          'shinrai/risk-slo-service',
          `risk "${risk.name}" is about service "${risk.service}" but SLO "${id}" belongs to "${slo.service}"`,
          'a risk consumes the budgets of its own service’s SLOs; write one risk per service',
        );
        ok = false;
      }
    }
    for (const name of risk.factors)
      if (!riskFactors.has(name))
        ok =
          lookup(
            riskFactors,
            { ref: name, location: refLocation(risk, 'factors', name) },
            'RiskFactor',
            'factors',
          ) !== undefined && ok;
    if (ok) resolvedRisks.push(risk);
  }

  const catalog: Catalog = {
    services: [...services.values()],
    slis: [...slis.values()],
    slos,
    dataSources: [...dataSources.values()],
    alertPolicies: [...policies.values()],
    alertConditions: [...conditions.values()],
    notificationTargets: [...targets.values()],
    budgetAdjustments: [...adjustments.values()],
    alertWindows: [...registry<AlertWindowsDefinition>('AlertWindows').values()],
    risks: resolvedRisks,
    riskFactors: [...riskFactors.values()],
  };
  return { catalog, alertWindows: catalog.alertWindows ?? [] };
}

/** Services that a format implies rather than declares: several files may name one. */
function isImplicitService(service: ServiceDefinition): boolean {
  return service.format.startsWith('sloth/') || service.format === 'openslo/v1alpha';
}

function inherit(own: ShinraiMetadata, fromService: ShinraiMetadata | undefined): ShinraiMetadata {
  if (!fromService) return own;
  // `public` and `publicName` stay the SLO's own: a Service's public flag must not read as the
  // SLO saying so (only an SLO's explicit "false" hides it from the status page).
  return {
    ...own,
    journey: own.journey ?? fromService.journey,
    owner: own.owner ?? fromService.owner,
    runbookUrl: own.runbookUrl ?? fromService.runbookUrl,
    errorBudgetPolicy: own.errorBudgetPolicy.length ? own.errorBudgetPolicy : fromService.errorBudgetPolicy,
    noData: own.noData,
  };
}

function budgetPerMonth(target: number): string {
  const seconds = (1 - target) * 30 * 86_400;
  return seconds < 120 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

/** A definition without its positions, to tell identical copies from conflicting ones. */
function withoutLocations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLocations);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'location' || key.endsWith('Location')) continue;
    out[key] = withoutLocations(v);
  }
  return out;
}

/** Where a risk names `ref` among its `slos` or `factors` (the risk itself when not known). */
function refLocation(risk: RiskDefinition, key: 'slos' | 'factors', ref: string): SourceLocation {
  return risk.refLocations?.[key][risk[key].indexOf(ref)] ?? risk.location;
}
