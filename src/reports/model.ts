/**
 * The monthly reliability report (pure types): what one product's month holds, in the order the
 * report shows it. The data service fills it from the same services as the API; the renderers
 * (JSON, Markdown, HTML with charts, PDF) turn it into a document in English or Japanese.
 * Times are epoch milliseconds; shares are fractions (0.25 = 25%).
 */

export type ReportLanguage = 'en' | 'ja';
export const REPORT_FORMATS = ['json', 'md', 'html', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** What a product is: one service, or the services whose specs share a label/owner/journey. */
export interface ReportProduct {
  /** As asked for: a service name, or `owner:team-payments`, `journey:checkout`, `label:tier=1`. */
  readonly name: string;
  readonly services: readonly string[];
}

/** One SLO's month: met or missed, attainment against target, budget used, policy step reached. */
export interface SloVerdict {
  /** The evaluation target (`slo` or `slo/objective`). */
  readonly slo: string;
  readonly displayName?: string | undefined;
  readonly service: string;
  readonly target: number;
  /** Calendar-month attainment from the stored minutes (good/total, or good slices/slices); null without data. */
  readonly attainment: number | null;
  /** null without data. */
  readonly met: boolean | null;
  readonly budget: {
    readonly unit: 'events' | 'minutes';
    /** The month's whole budget in `unit`. */
    readonly allowed: number;
    readonly consumed: number;
    /** consumed ÷ allowed; null when nothing was allowed. */
    readonly consumedShare: number | null;
  };
  /** The deepest error-budget policy step the month's remaining budget reached, with its action. */
  readonly policyStep?:
    | { readonly below: number; readonly action: string; readonly gate: 'allow' | 'warn' | 'deny' }
    | undefined;
  /** Link (path on the server, e.g. `/slos/checkout-availability`). */
  readonly link: string;
}

/** One item of "what to do this month": each points at its source; the renderer words it. */
export type TodoItem =
  | {
      readonly kind: 'policy';
      readonly slo: string;
      readonly action: string;
      readonly gate: 'allow' | 'warn' | 'deny';
      readonly link: string;
    }
  | {
      readonly kind: 'overdue-action-item';
      readonly id: string;
      readonly title: string;
      readonly priority: string;
      readonly dueDate: string;
      readonly link: string;
    }
  | {
      readonly kind: 'risk-too-big';
      readonly risk: string;
      readonly slo?: string | undefined;
      readonly shareOfYearlyBudget: number;
      readonly link: string;
    }
  | {
      readonly kind: 'noisy-alert';
      readonly slo: string;
      readonly rule: string;
      readonly noiseShare: number;
      readonly link: string;
    };

/** One month of the 6-month trend (the report's month last). */
export interface TrendMonth {
  /** `YYYY-MM`. */
  readonly month: string;
  readonly slos: ReadonlyArray<{
    readonly slo: string;
    readonly attainment: number | null;
    readonly consumedShare: number | null;
  }>;
}

export interface ReportIncident {
  readonly reference: string;
  readonly title: string;
  readonly severity: string;
  readonly status: string;
  /** Impact start (or detection, or declaration). */
  readonly startedAtMs: number;
  /** To mitigation or resolution; null while open. */
  readonly durationMs: number | null;
  readonly budgetImpact: ReadonlyArray<{
    readonly slo: string;
    readonly unit: 'events' | 'minutes';
    readonly consumed: number;
    readonly shareOfBudget: number | null;
  }>;
  /** `none`, or the postmortem's status (draft, in-review, published…). */
  readonly postmortem: string;
  readonly link: string;
}

export interface ActionItemCounts {
  /** Per priority (P0…P3), items opened in the month. */
  readonly opened: Readonly<Record<string, number>>;
  readonly closed: Readonly<Record<string, number>>;
  /** Open at the month's end with a due date before it. */
  readonly overdue: Readonly<Record<string, number>>;
}

export interface ReportRisk {
  readonly name: string;
  readonly service: string;
  readonly slo?: string | undefined;
  readonly badMinutesPerYear: number;
  readonly yearlyBudgetMinutes: number;
  readonly shareOfYearlyBudget: number;
  readonly tooBig: boolean;
  readonly link: string;
}

export interface ReportAlerts {
  /** Weeks (Monday start, in the zone) overlapping the month. */
  readonly weeks: ReadonlyArray<{ readonly start: string; readonly pages: number; readonly tickets: number }>;
  /** Share of the month's alerts people marked as noise; null when none was marked. */
  readonly noiseShare: number | null;
  /** Median time from a burn's start to its alert firing; null when none. */
  readonly medianDetectionMs: number | null;
}

/** The DORA figures of the month (as GET /api/v1/delivery/metrics answers them), when deployments are recorded. */
export interface ReportDelivery {
  readonly deployments: number;
  readonly leadTimeMedianMs: number | null;
  readonly changeFailRate: number | null;
  readonly recoveryMedianMs: number | null;
  readonly reworkRate: number | null;
  readonly benchmarkYear: number;
  readonly levels: Readonly<Record<string, string | null>>;
}

export interface MonthlyReport {
  readonly product: ReportProduct;
  /** `YYYY-MM`. */
  readonly month: string;
  readonly timeZone: string;
  /** `[fromMs, toMs)`: the month's first midnight to the next month's, in the zone. */
  readonly period: { readonly fromMs: number; readonly toMs: number };
  readonly language: ReportLanguage;
  readonly generatedAtMs: number;
  readonly verdict: readonly SloVerdict[];
  readonly todo: readonly TodoItem[];
  readonly trend: readonly TrendMonth[];
  readonly incidents: readonly ReportIncident[];
  readonly actionItems: ActionItemCounts;
  readonly risks: readonly ReportRisk[];
  readonly alerts: ReportAlerts;
  readonly delivery: ReportDelivery | null;
}
