/**
 * Which burn-rate alerts an SLO has (pure). By default the SRE Workbook's multiwindow
 * multi-burn-rate alerts scaled to the SLO's period (factor = budget% × period / long window):
 * page when 1h AND 5m burn > 14.4 or 6h AND 30m > 6; ticket when 1d AND 2h > 3 or 3d AND 6h > 1
 * (30 days). A Sloth `alerting` block disables tiers and adds labels; OpenSLO `AlertPolicy`
 * conditions (`kind: burnrate`) replace the defaults. Custom `AlertWindows` catalogs choose the
 * windows for their period, as in rule generation.
 */
import { nominalDurationMs } from '../duration.js';
import type { AlertPolicyDefinition, SloDefinition, ThresholdOp } from '../model.js';
import { type AlertWindowSet, burnRateFactor, windowsForPeriod } from './windows.js';

export type AlertTierName = 'page' | 'ticket';

/** Burn rate over `longWindowMs` AND (when set) over `shortWindowMs` compared with `factor`. */
export interface BurnCondition {
  readonly longWindowMs: number;
  /** The short window that makes the alert reset quickly once the burn stops; absent for OpenSLO conditions. */
  readonly shortWindowMs?: number | undefined;
  readonly factor: number;
  /** `gt` (default) fires above the factor; OpenSLO conditions may say `gte`, `lt`, `lte`. */
  readonly op: ThresholdOp;
  /** Share of the period's budget this condition lets burn before it fires (Workbook windows). */
  readonly budgetPercent?: number | undefined;
}

/** One alert of an SLO: when it fires (its conditions), how it is routed (tier, severity, labels) and notified. */
export interface AlertRule {
  /** Unique within the SLO: `page`, `ticket`, `no-data`, `budget-exhausted`, or `<AlertPolicy>/<AlertCondition>`. */
  readonly name: string;
  /**
   * `burn` (default): the burn-rate conditions. `no-data`: the SLI stopped reporting (no events in
   * the last hour, or pulled data not current). `budget-exhausted`: nothing of the period's budget is left.
   */
  readonly kind?: 'burn' | 'no-data' | 'budget-exhausted' | undefined;
  readonly tier: AlertTierName;
  readonly severity: string;
  /** The rule fires while any condition holds. */
  readonly conditions: readonly BurnCondition[];
  /** How long a condition must hold before the alert fires (OpenSLO `alertAfter`). */
  readonly forMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly source: 'workbook' | 'sloth' | 'openslo';
  /** OpenSLO `alertWhenNoData` / `alertWhenResolved`; the Workbook alerts notify on resolve. */
  readonly notifyNoData: boolean;
  readonly notifyResolved: boolean;
}

export type AlertRulesResult =
  | { readonly ok: true; readonly periodMs: number; readonly rules: readonly AlertRule[] }
  | { readonly ok: false; readonly error: string };

/** The period the factors are scaled to: the rolling window, or a calendar period's nominal length. */
export function alertPeriodMs(slo: SloDefinition): number {
  return nominalDurationMs(slo.window.duration);
}

/** How long an SLI must be silent before the no-data alert fires. */
export const NO_DATA_AFTER_MS = 10 * 60_000;

/** The guard rules every SLO has besides its burn-rate rules: no data, and an exhausted budget. */
function guardRules(notifyNoData: boolean): AlertRule[] {
  const base = {
    tier: 'ticket' as const,
    severity: 'warning',
    conditions: [],
    labels: {},
    annotations: {},
    source: 'workbook' as const,
    notifyNoData: false,
    notifyResolved: true,
  };
  return [
    ...(notifyNoData
      ? [{ ...base, name: 'no-data', kind: 'no-data' as const, forMs: NO_DATA_AFTER_MS }]
      : []),
    { ...base, name: 'budget-exhausted', kind: 'budget-exhausted' as const, forMs: 0 },
  ];
}

/** The alert rules of an SLO: OpenSLO policies when it has any, else the burn-rate tiers of its period's windows; plus the guard rules. */
export function alertRulesFor(
  slo: SloDefinition,
  customWindows: readonly AlertWindowSet[] = [],
): AlertRulesResult {
  const periodMs = alertPeriodMs(slo);
  if (slo.alertPolicies.length > 0)
    return {
      ok: true,
      periodMs,
      rules: [
        ...rulesFromPolicies(slo.alertPolicies),
        ...guardRules(slo.alertPolicies.some((p) => p.alertWhenNoData)),
      ],
    };
  const choice = windowsForPeriod(periodMs, customWindows);
  if (!choice.ok) return { ok: false, error: choice.error };
  const { windows } = choice;
  const alerting = slo.alerting;
  const rules: AlertRule[] = [];
  for (const tier of ['page', 'ticket'] as const) {
    const settings = alerting?.[tier];
    if (settings?.disabled) continue;
    const pair = windows[tier];
    rules.push({
      name: tier,
      tier,
      severity: tier === 'page' ? 'critical' : 'warning',
      conditions: [pair.quick, pair.slow].map((w) => ({
        longWindowMs: w.longWindowMs,
        shortWindowMs: w.shortWindowMs,
        factor: burnRateFactor(periodMs, w),
        op: 'gt' as const,
        budgetPercent: w.errorBudgetPercent,
      })),
      forMs: 0,
      labels: { ...alerting?.labels, ...settings?.labels },
      annotations: { ...alerting?.annotations, ...settings?.annotations },
      source: alerting ? 'sloth' : 'workbook',
      notifyNoData: false,
      notifyResolved: true,
    });
  }
  return { ok: true, periodMs, rules: [...rules, ...guardRules(true)] };
}

/** One rule per OpenSLO burn-rate condition: severity `page`/`critical` pages, anything else tickets. */
export function rulesFromPolicies(policies: readonly AlertPolicyDefinition[]): AlertRule[] {
  return policies.flatMap((policy: AlertPolicyDefinition) =>
    policy.conditions.map((condition): AlertRule => {
      const severity = condition.severity;
      return {
        name: `${policy.name}/${condition.name}`,
        tier: /^(page|critical|high)$/i.test(severity) ? 'page' : 'ticket',
        severity,
        conditions: [
          {
            longWindowMs: nominalDurationMs(condition.lookbackWindow),
            factor: condition.threshold,
            op: condition.op ?? 'gt',
          },
        ],
        forMs: nominalDurationMs(condition.alertAfter),
        labels: flattenLabels(policy.labels),
        annotations: { ...policy.annotations },
        source: 'openslo',
        notifyNoData: policy.alertWhenNoData,
        notifyResolved: policy.alertWhenResolved,
      };
    }),
  );
}

function flattenLabels(labels: Readonly<Record<string, readonly string[]>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v.join(',')]));
}
