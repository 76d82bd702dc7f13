/**
 * Where alert notifications go (pure): OpenSLO `AlertNotificationTarget`s whose `target` is a kind
 * Shinrai delivers to (`webhook`, `slack` incoming webhook, `alertmanager` base URL, `teams`
 * Workflows or incoming webhook URL), configured
 * with annotations so specs stay OpenSLO:
 *
 *   metadata:
 *     annotations:
 *       shinrai.dev/url: https://hooks.example.com/shinrai
 *       shinrai.dev/secret: ${WEBHOOK_SECRET}     # optional: HMAC-SHA256 signature of each body
 *   spec: { target: webhook }
 *
 * or under `notificationTargets.<name>` in the server's config file (the only way for specs that
 * all arrive through the API). Rules from an OpenSLO AlertPolicy notify that policy's targets; the
 * default (Workbook or Sloth) rules notify the targets named in `alerting.notify`.
 */

import { expandEnv } from '../platform/env.js';
import {
  type ConfiguredTarget,
  TARGET_KINDS,
  TARGET_LANGUAGES,
  TARGET_URL,
  type TargetKind,
  type TargetLanguage,
} from '../platform/notification-targets.js';
import type { AlertRule, Catalog, NotificationTargetDefinition, SloDefinition } from '../slo/index.js';
import { isUploaded } from '../slo/index.js';

export { TARGET_KINDS, type TargetKind } from '../platform/notification-targets.js';

export interface DeliveryTarget {
  readonly name: string;
  readonly kind: TargetKind;
  readonly url: string;
  /**
   * `${ENV}` references are expanded when delivering, so secrets stay out of specs (only for
   * targets from the server's disk or its config: an uploaded target cannot define url or secret).
   */
  readonly secret?: string | undefined;
  /** Configured under `notificationTargets.<name>` (not in a spec): problems name that key. */
  readonly configured?: boolean | undefined;
  /** The language of a `teams` card (`shinrai.dev/language` or `language`); English when not given. */
  readonly language?: TargetLanguage | undefined;
}

export type TargetResult =
  | { readonly ok: true; readonly target: DeliveryTarget }
  | { readonly ok: false; readonly error: string };

export function deliveryTarget(def: NotificationTargetDefinition): TargetResult {
  const kind = def.target.toLowerCase();
  if (!(TARGET_KINDS as readonly string[]).includes(kind))
    return {
      ok: false,
      error: `target kind "${def.target}" is not delivered by Shinrai (known: ${TARGET_KINDS.join(', ')})`,
    };
  // Defence in depth: the loader already refuses these annotations in uploaded specs.
  if (isUploaded(def.location))
    return {
      ok: false,
      error:
        'was uploaded through the API, which may not say where to deliver: configure the target on the server (notificationTargets.<name> in the config file, or the spec directory, specs.path)',
    };
  const url = def.annotations['shinrai.dev/url'];
  // A URL may be a secret too (Slack's incoming webhooks are): `${ENV}` is expanded at delivery.
  if (!url || !TARGET_URL.test(url))
    return { ok: false, error: 'needs the annotation shinrai.dev/url: an http(s) URL' };
  const language = def.annotations['shinrai.dev/language'];
  if (language !== undefined) {
    if (kind !== 'teams')
      return {
        ok: false,
        error: 'shinrai.dev/language is only for target: teams (the other kinds are sent in English)',
      };
    if (!(TARGET_LANGUAGES as readonly string[]).includes(language))
      return { ok: false, error: `shinrai.dev/language must be one of ${TARGET_LANGUAGES.join(', ')}` };
  }
  return {
    ok: true,
    target: {
      name: def.name,
      kind: kind as TargetKind,
      url,
      secret: def.annotations['shinrai.dev/secret'],
      ...(language ? { language: language as TargetLanguage } : {}),
    },
  };
}

/** The targets one rule of one SLO notifies, by name. */
export function targetsForRule(slo: SloDefinition, rule: AlertRule, defaults: readonly string[]): string[] {
  if (rule.source !== 'openslo') return [...defaults];
  const policyName = rule.name.split('/')[0];
  const policy = slo.alertPolicies.find((p) => p.name === policyName);
  return policy ? policy.notificationTargets.map((t) => t.name) : [];
}

/** The targets configured under `notificationTargets.<name>`, by name. */
export function configuredTargets(
  config: Readonly<Record<string, ConfiguredTarget>>,
): Map<string, DeliveryTarget> {
  return new Map(
    Object.entries(config).map(([name, t]) => [
      name,
      {
        name,
        kind: t.target,
        url: t.url,
        secret: t.secret,
        configured: true,
        ...(t.language ? { language: t.language } : {}),
      },
    ]),
  );
}

/**
 * Configured targets whose url or secret use a `${VAR}` that is not set, as warnings for the start
 * (the references are expanded at delivery, so a variable set later still works).
 */
export function unsetReferences(
  config: Readonly<Record<string, ConfiguredTarget>>,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const found: string[] = [];
  for (const [name, target] of Object.entries(config))
    for (const key of ['url', 'secret'] as const) {
      const value = target[key];
      const expanded = value === undefined ? undefined : expandEnv(value, env);
      if (expanded && !expanded.ok)
        found.push(
          `notificationTargets.${name}.${key} uses \${${expanded.missing}}, which is not set: deliveries to ${name} fail until it is`,
        );
    }
  return found;
}

/**
 * Every deliverable target of the catalog by name, and the problems of the others. A reference to
 * a configured target (resolved by the loader) is not the catalog's: it is delivered from the config.
 */
export function catalogTargets(catalog: Catalog): {
  targets: Map<string, DeliveryTarget>;
  problems: string[];
} {
  const targets = new Map<string, DeliveryTarget>();
  const problems: string[] = [];
  const all = [
    ...catalog.notificationTargets,
    ...catalog.alertPolicies.flatMap((p) => p.notificationTargets),
    ...catalog.slos.flatMap((s) => s.alertPolicies.flatMap((p) => p.notificationTargets)),
  ];
  for (const def of all) {
    if (def.configured || targets.has(def.name)) continue;
    const result = deliveryTarget(def);
    if (result.ok) targets.set(def.name, result.target);
    else if (!problems.some((p) => p.startsWith(`${def.name}:`)))
      problems.push(`${def.name}: ${result.error}`);
  }
  return { targets, problems };
}
