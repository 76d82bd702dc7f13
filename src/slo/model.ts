/**
 * Shinrai's internal model of SLOs as code. Every input format (OpenSLO v1, OpenSLO v1alpha,
 * Sloth prometheus/v1) is converted into these types; nothing downstream sees the raw formats.
 */
import type { Duration } from './duration.js';

/** Where a definition came from, 1-based line and column. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type SpecFormat =
  | 'openslo/v1'
  | 'openslo/v1alpha'
  | 'sloth/prometheus/v1'
  | 'sloth/kubernetes'
  | 'shinrai/v1';

/** Labels are normalised to lists: OpenSLO allows a string or a list of strings per key. */
export type Labels = Readonly<Record<string, readonly string[]>>;
export type Annotations = Readonly<Record<string, string>>;

export interface ObjectMeta {
  readonly name: string;
  readonly displayName?: string | undefined;
  readonly description?: string | undefined;
  readonly labels: Labels;
  readonly annotations: Annotations;
  readonly location: SourceLocation;
  readonly format: SpecFormat;
}

export interface ServiceDefinition extends ObjectMeta {
  /** Shinrai metadata set on the service (owner, journey, runbook…) is inherited by its SLOs. */
  readonly shinrai?: ShinraiMetadata | undefined;
}

export interface DataSourceDefinition extends ObjectMeta {
  readonly type: string;
  /** Free-form, as in the spec (a map or, in some published examples, a list of maps). */
  readonly connectionDetails: unknown;
}

/** Where an SLI's numbers come from: a data source (by reference and/or type) and a query spec. */
export interface MetricSource {
  readonly ref?: string | undefined;
  readonly type?: string | undefined;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly location: SourceLocation;
}

export type Indicator =
  /** good/total or bad/total counts. `counter` as in OpenSLO: the metric is monotonically increasing. */
  | {
      readonly kind: 'ratio';
      readonly counter?: boolean | undefined;
      readonly good?: MetricSource | undefined;
      readonly bad?: MetricSource | undefined;
      readonly total: MetricSource;
    }
  /** A precomputed ratio of successes or of failures. */
  | { readonly kind: 'raw'; readonly rawType: 'success' | 'failure'; readonly raw: MetricSource }
  /** Raw values (e.g. latency) compared against each objective's `op`/`value`. */
  | { readonly kind: 'threshold'; readonly metric: MetricSource };

export interface SliDefinition extends ObjectMeta {
  readonly indicator: Indicator;
  /** True when the SLI was written inline inside an SLO rather than as its own object. */
  readonly inline: boolean;
}

export type BudgetingMethod = 'Occurrences' | 'Timeslices' | 'RatioTimeslices';
export type ThresholdOp = 'lt' | 'lte' | 'gt' | 'gte';
export type NoDataPolicy = 'excluded' | 'good' | 'bad';

export type TimeWindow =
  | { readonly kind: 'rolling'; readonly duration: Duration }
  /** `startTime` is local wall-clock time in `timeZone` (`yyyy-MM-dd HH:mm:ss`). */
  | {
      readonly kind: 'calendar';
      readonly duration: Duration;
      readonly startTime: string;
      readonly timeZone: string;
    };

export interface Objective {
  /** Stable identifier within its SLO: the display name slugged, or the position. */
  readonly key: string;
  readonly displayName?: string | undefined;
  /** Fraction in [0, 1): 0.999 for 99.9%. `targetPercent` is converted. */
  readonly target: number;
  readonly op?: ThresholdOp | undefined;
  readonly value?: number | undefined;
  readonly timeSliceTarget?: number | undefined;
  readonly timeSliceWindow?: Duration | undefined;
  /** Composite SLOs only: this objective's own indicator and weight. */
  readonly indicator?: SliDefinition | undefined;
  readonly compositeWeight?: number | undefined;
  readonly location: SourceLocation;
}

export interface AlertConditionDefinition extends ObjectMeta {
  readonly severity: string;
  readonly kind: 'burnrate';
  readonly op?: ThresholdOp | undefined;
  readonly threshold: number;
  readonly lookbackWindow: Duration;
  readonly alertAfter: Duration;
}

export interface NotificationTargetDefinition extends ObjectMeta {
  readonly target: string;
  /**
   * A `targetRef` naming a target configured on the server (`notificationTargets.<name>`): its
   * location is the reference's, and it is delivered from the configuration, not from the spec.
   */
  readonly configured?: boolean | undefined;
}

export interface AlertPolicyDefinition extends ObjectMeta {
  readonly alertWhenNoData: boolean;
  readonly alertWhenResolved: boolean;
  readonly alertWhenBreaching: boolean;
  readonly conditions: readonly AlertConditionDefinition[];
  readonly notificationTargets: readonly NotificationTargetDefinition[];
}

/** One step of an error-budget policy: when the remaining budget falls below `below`, do `action`. */
export interface PolicyStep {
  /** Fraction of the period's budget remaining (0.25 = 25%; 0 = exhausted; may be negative). */
  readonly below: number;
  readonly action: string;
  /** What a deploy gate answers while this step applies. */
  readonly gate: 'allow' | 'warn' | 'deny';
}

/** Page/ticket multiwindow burn-rate alert settings (Sloth's `alerting` block, Shinrai's defaults). */
export interface AlertTier {
  readonly disabled: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface BurnRateAlerting {
  readonly name?: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly page: AlertTier;
  readonly ticket: AlertTier;
}

/** Shinrai's own metadata, read from `shinrai.dev/*` annotations (see docs/spec-annotations.md). */
export interface ShinraiMetadata {
  readonly journey?: string | undefined;
  readonly owner?: string | undefined;
  readonly runbookUrl?: string | undefined;
  readonly errorBudgetPolicy: readonly PolicyStep[];
  readonly noData: NoDataPolicy;
  /**
   * `shinrai.dev/public`, as written on this object (never inherited): on a Service, true puts it
   * on the public status page; on an SLO, false leaves it out of its public service's bars.
   */
  readonly public?: boolean | undefined;
  /** `shinrai.dev/public-name`: the name the public status page shows for a Service. */
  readonly publicName?: string | undefined;
}

export interface SloDefinition extends ObjectMeta {
  /** Unique across the catalog. OpenSLO: the SLO name; Sloth: `<service>-<slo>` as Sloth's `sloth_id`. */
  readonly id: string;
  readonly service: string;
  /** The SLO's indicator; undefined for a composite SLO, whose objectives carry their own. */
  readonly indicator?: SliDefinition | undefined;
  readonly composite: boolean;
  readonly window: TimeWindow;
  readonly budgetingMethod: BudgetingMethod;
  readonly objectives: readonly Objective[];
  readonly alertPolicies: readonly AlertPolicyDefinition[];
  readonly shinrai: ShinraiMetadata;
  /** Multiwindow burn-rate alert settings when the source format carries them (Sloth). */
  readonly alerting?: BurnRateAlerting | undefined;
}

/** A period removed from the error budget (maintenance), one-off or recurring. */
export interface BudgetAdjustmentDefinition extends ObjectMeta {
  /** Local wall-clock start in `timeZone`. */
  readonly start: string;
  readonly timeZone: string;
  readonly duration: Duration;
  /** RFC 5545 RRULE body (without DTSTART), e.g. `FREQ=WEEKLY;BYDAY=SU`; absent for one-off. */
  readonly rrule?: string | undefined;
  /** SLO ids this adjustment applies to; empty means every SLO of `services` (or all SLOs if both are empty). */
  readonly slos: readonly string[];
  readonly services: readonly string[];
}

/** How a risk is being handled: `open` (to decide), `accepted` (lived with), `mitigated` (fixed). */
export type RiskStatus = 'open' | 'accepted' | 'mitigated';

/**
 * A risk to a service's SLOs (`shinrai.dev/v1` kind Risk): how long its incidents take to detect
 * (ETTD) and repair (ETTR), the share of users they hit, and how often they happen (ETTF).
 */
export interface RiskDefinition extends ObjectMeta {
  readonly service: string;
  readonly description?: string | undefined;
  readonly ettdMinutes: number;
  readonly ettrMinutes: number;
  /** Fraction of users affected while it lasts (0 < impact ≤ 1). */
  readonly impact: number;
  readonly ettfDays: number;
  /** SLO ids whose budget it consumes; empty: every SLO of the service. */
  readonly slos: readonly string[];
  /** RiskFactor names that apply to it. */
  readonly factors: readonly string[];
  readonly status: RiskStatus;
  /** Where each of `slos` and `factors` is written, so a wrong name is reported at itself. */
  readonly refLocations?:
    | { readonly slos: readonly SourceLocation[]; readonly factors: readonly SourceLocation[] }
    | undefined;
}

/** Something that makes several risks worse (kind RiskFactor), e.g. "no runbook: +30 min ETTR". */
export interface RiskFactorDefinition extends ObjectMeta {
  readonly description?: string | undefined;
  readonly addEttdMinutes: number;
  readonly addEttrMinutes: number;
  /** Multiplies ETTF (0.5: happens twice as often). */
  readonly ettfMultiplier: number;
}

/** A Sloth `AlertWindows` catalog: the burn-rate alert windows for one SLO period. */
export interface AlertWindowsDefinition {
  readonly name: string;
  readonly periodMs: number;
  readonly page: { readonly quick: AlertWindowSpec; readonly slow: AlertWindowSpec };
  readonly ticket: { readonly quick: AlertWindowSpec; readonly slow: AlertWindowSpec };
  readonly location: SourceLocation;
}

export interface AlertWindowSpec {
  /** Percentage of the period's budget the alert consumes before firing, e.g. 2 for the 1 h page. */
  readonly errorBudgetPercent: number;
  readonly shortWindowMs: number;
  readonly longWindowMs: number;
}

/** Everything loaded from a spec tree, after references are resolved. */
export interface Catalog {
  readonly services: readonly ServiceDefinition[];
  readonly slis: readonly SliDefinition[];
  readonly slos: readonly SloDefinition[];
  readonly dataSources: readonly DataSourceDefinition[];
  readonly alertPolicies: readonly AlertPolicyDefinition[];
  readonly alertConditions: readonly AlertConditionDefinition[];
  readonly notificationTargets: readonly NotificationTargetDefinition[];
  readonly budgetAdjustments: readonly BudgetAdjustmentDefinition[];
  /** Custom alert windows (Sloth `AlertWindows`), chosen by SLO period before the defaults. */
  readonly alertWindows?: readonly AlertWindowsDefinition[] | undefined;
  /** The risk catalog written next to the specs. */
  readonly risks?: readonly RiskDefinition[] | undefined;
  readonly riskFactors?: readonly RiskFactorDefinition[] | undefined;
}

/** A catalog with nothing loaded. */
export const EMPTY_CATALOG: Catalog = {
  services: [],
  slis: [],
  slos: [],
  dataSources: [],
  alertPolicies: [],
  alertConditions: [],
  notificationTargets: [],
  budgetAdjustments: [],
};
