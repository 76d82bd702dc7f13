/**
 * What a format converter produces from one spec object, before references across files are
 * resolved. References keep their location so an unresolved one is reported where it is written.
 */
import type {
  AlertConditionDefinition,
  AlertPolicyDefinition,
  BudgetAdjustmentDefinition,
  DataSourceDefinition,
  NotificationTargetDefinition,
  Objective,
  RiskDefinition,
  RiskFactorDefinition,
  ServiceDefinition,
  SliDefinition,
  SloDefinition,
  SourceLocation,
} from '../model.js';

/** A by-name reference to another object (`indicatorRef`, `conditionRef`, …). */
export interface Ref {
  readonly ref: string;
  readonly location: SourceLocation;
}

export type OrRef<T> = T | Ref;

export function isRef<T>(value: OrRef<T>): value is Ref {
  return typeof value === 'object' && value !== null && 'ref' in value && typeof value.ref === 'string';
}

export interface PendingAlertPolicy
  extends Omit<AlertPolicyDefinition, 'conditions' | 'notificationTargets'> {
  readonly conditions: readonly OrRef<AlertConditionDefinition>[];
  readonly notificationTargets: readonly OrRef<NotificationTargetDefinition>[];
}

export interface PendingObjective extends Omit<Objective, 'indicator'> {
  readonly indicator?: OrRef<SliDefinition> | undefined;
  /** Where `op` / `value` are written: whether they are allowed depends on the resolved indicator. */
  readonly opLocation?: SourceLocation | undefined;
  readonly valueLocation?: SourceLocation | undefined;
}

export interface PendingSlo extends Omit<SloDefinition, 'indicator' | 'objectives' | 'alertPolicies'> {
  readonly indicator?: OrRef<SliDefinition> | undefined;
  readonly objectives: readonly PendingObjective[];
  readonly alertPolicies: readonly OrRef<PendingAlertPolicy>[];
  /** Where `spec.service` is written, to report an unknown service there. */
  readonly serviceLocation: SourceLocation;
  /**
   * True when the format itself defines the service (Sloth): the service is then created
   * implicitly instead of being looked up.
   */
  readonly definesService: boolean;
}

/** Sloth `AlertWindows`: the burn-rate windows for one SLO period (input to rule generation). */
import type { AlertWindowsDefinition } from '../model.js';

export type { AlertWindowSpec, AlertWindowsDefinition } from '../model.js';

export type ParsedObject =
  | { readonly kind: 'Service'; readonly def: ServiceDefinition }
  | { readonly kind: 'SLI'; readonly def: SliDefinition }
  | { readonly kind: 'SLO'; readonly def: PendingSlo }
  | { readonly kind: 'DataSource'; readonly def: DataSourceDefinition }
  | { readonly kind: 'AlertPolicy'; readonly def: PendingAlertPolicy }
  | { readonly kind: 'AlertCondition'; readonly def: AlertConditionDefinition }
  | { readonly kind: 'AlertNotificationTarget'; readonly def: NotificationTargetDefinition }
  | { readonly kind: 'BudgetAdjustment'; readonly def: BudgetAdjustmentDefinition }
  | { readonly kind: 'AlertWindows'; readonly def: AlertWindowsDefinition }
  | { readonly kind: 'Risk'; readonly def: RiskDefinition }
  | { readonly kind: 'RiskFactor'; readonly def: RiskFactorDefinition };
