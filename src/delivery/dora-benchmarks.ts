/**
 * DORA benchmark tables (data): the software delivery performance clusters of the 2021–2024
 * Accelerate State of DevOps reports, transcribed cell by cell so a person can check them against
 * the reports. `text` is the report's wording; the number beside it is how levels.ts reads it.
 *
 * How a value is placed (levels.ts, docs/delivery.md "Performance levels"): each cell gives a
 * threshold, the edge of the cluster's reported range on its WORSE side (for a cell that is a single
 * value, such as 2023's and 2024's change failure rates, that value). A value goes to the BEST cluster
 * whose threshold it meets (deployments per day ≥ threshold; times and rates ≤ threshold); a value
 * meeting none goes to the year's worst cluster. The worst cluster's own threshold is informative
 * only, so it is null where the report leaves it open ("more than six months").
 *
 * Units: DAY = 24 h, WEEK = 7 days, MONTH = 365.25 / 12 days, SIX_MONTHS = 6 months.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
const MONTH_MS = (365.25 / 12) * DAY_MS;
const SIX_MONTHS_MS = 6 * MONTH_MS;

/** Deployments per day that "once per X" means. */
const PER_DAY = 1;
const PER_WEEK = DAY_MS / WEEK_MS;
const PER_MONTH = DAY_MS / MONTH_MS;
const PER_SIX_MONTHS = DAY_MS / SIX_MONTHS_MS;

export const LEVEL_NAMES = ['elite', 'high', 'medium', 'low'] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];

/** English labels of the levels (the web UI translates the names itself). */
export const LEVEL_LABELS: Readonly<Record<LevelName, string>> = {
  elite: 'Elite',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
};

/** One cell of a report's table: the report's words, and the threshold read from them. */
export interface Cell {
  readonly text: string;
  /** deploymentFrequency: deployments per day, at least; others: at most (ms, or a rate 0–1). */
  readonly threshold: number | null;
}

/** One cluster (a row of our table; a column of most reports' tables). */
export interface Cluster {
  readonly level: LevelName;
  /** Share of the year's respondents in the cluster, as the report prints it. */
  readonly respondents: string;
  readonly deploymentFrequency: Cell;
  readonly leadTime: Cell;
  readonly changeFailRate: Cell;
  readonly recoveryTime: Cell;
}

export interface BenchmarkTable {
  readonly year: number;
  readonly source: {
    readonly title: string;
    readonly publisher: string;
    /** Where in the report the table is. */
    readonly where: string;
    readonly url: string;
  };
  /** What the report calls the fourth metric that year. */
  readonly recoveryMetricName: string;
  /** Best first. */
  readonly clusters: readonly Cluster[];
  /** Why a metric has no levels this year, when it has none (rework rate: every year to 2024). */
  readonly noLevels: { readonly reworkRate: string };
  readonly notes: readonly string[];
}

const NO_REWORK_CLUSTERS =
  'The report publishes no rework-rate value per cluster (rework rate was first asked about in the 2024 survey; its clusters use the four key metrics only).';

export const DORA_BENCHMARKS: readonly BenchmarkTable[] = [
  {
    year: 2021,
    source: {
      title: 'Accelerate State of DevOps 2021',
      publisher: 'DORA, Google Cloud',
      where:
        'Chapter 2 "How do we compare?", section "Software delivery and operational performance" (p. 9 in the contents), table of the four metrics per cluster',
      url: 'https://services.google.com/fh/files/misc/state-of-devops-2021.pdf',
    },
    recoveryMetricName: 'Time to restore service',
    clusters: [
      {
        level: 'elite',
        respondents: '26%',
        deploymentFrequency: { text: 'On-demand (multiple deploys per day)', threshold: PER_DAY },
        leadTime: { text: 'Less than one hour', threshold: HOUR_MS },
        changeFailRate: { text: '0%-15%', threshold: 0.15 },
        recoveryTime: { text: 'Less than one hour', threshold: HOUR_MS },
      },
      {
        level: 'high',
        respondents: '40%',
        deploymentFrequency: { text: 'Between once per week and once per month', threshold: PER_MONTH },
        leadTime: { text: 'Between one day and one week', threshold: WEEK_MS },
        changeFailRate: { text: '16%-30%', threshold: 0.3 },
        recoveryTime: { text: 'Less than one day', threshold: DAY_MS },
      },
      {
        level: 'medium',
        respondents: '28%',
        deploymentFrequency: {
          text: 'Between once per month and once every 6 months',
          threshold: PER_SIX_MONTHS,
        },
        leadTime: { text: 'Between one month and six months', threshold: SIX_MONTHS_MS },
        changeFailRate: { text: '16%-30%', threshold: 0.3 },
        recoveryTime: { text: 'Between one day and one week', threshold: WEEK_MS },
      },
      {
        level: 'low',
        respondents: '7%',
        deploymentFrequency: { text: 'Fewer than once per six months', threshold: null },
        leadTime: { text: 'More than six months', threshold: null },
        changeFailRate: { text: '16%-30%', threshold: 0.3 },
        recoveryTime: { text: 'More than six months', threshold: null },
      },
    ],
    noLevels: { reworkRate: NO_REWORK_CLUSTERS },
    notes: [
      'High, medium and low share the change failure rate 16%-30%: a rate up to 30% is high, above 30% low; medium is never given for this metric.',
      'Gaps between clusters (e.g. lead time between one hour and one day) fall to the better cluster whose worse edge the value meets.',
    ],
  },
  {
    year: 2022,
    source: {
      title: '2022 Accelerate State of DevOps Report',
      publisher: 'DORA, Google Cloud',
      where:
        'Chapter 02 "How do you compare?" (p. 8 in the contents), table of the software delivery performance clusters',
      url: 'https://services.google.com/fh/files/misc/2022_state_of_devops_report.pdf',
    },
    recoveryMetricName: 'Time to restore service',
    clusters: [
      {
        level: 'high',
        respondents: '11%',
        deploymentFrequency: { text: 'On-demand (multiple deploys per day)', threshold: PER_DAY },
        leadTime: { text: 'Between one day and one week', threshold: WEEK_MS },
        changeFailRate: { text: '0%-15%', threshold: 0.15 },
        recoveryTime: { text: 'Less than one day', threshold: DAY_MS },
      },
      {
        level: 'medium',
        respondents: '69%',
        deploymentFrequency: { text: 'Between once per week and once per month', threshold: PER_MONTH },
        leadTime: { text: 'Between one week and one month', threshold: MONTH_MS },
        changeFailRate: { text: '16%-30%', threshold: 0.3 },
        recoveryTime: { text: 'Between one day and one week', threshold: WEEK_MS },
      },
      {
        level: 'low',
        respondents: '19%',
        deploymentFrequency: {
          text: 'Between once per month and once every six months',
          threshold: PER_SIX_MONTHS,
        },
        leadTime: { text: 'Between one month and six months', threshold: SIX_MONTHS_MS },
        changeFailRate: { text: '46%-60%', threshold: 0.6 },
        recoveryTime: { text: 'Between one week and one month', threshold: MONTH_MS },
      },
    ],
    noLevels: { reworkRate: NO_REWORK_CLUSTERS },
    notes: ['No elite cluster emerged from the 2022 data: the best level that year is high.'],
  },
  {
    year: 2023,
    source: {
      title: 'Accelerate State of DevOps Report 2023',
      publisher: 'DORA, Google Cloud',
      where:
        'Chapter "How do you compare?", section "Software delivery performance", table of the performance levels',
      url: 'https://services.google.com/fh/files/misc/2023_final_report_sodr.pdf',
    },
    recoveryMetricName: 'Failed deployment recovery time',
    clusters: [
      {
        level: 'elite',
        respondents: '18%',
        deploymentFrequency: { text: 'On demand', threshold: PER_DAY },
        leadTime: { text: 'Less than one day', threshold: DAY_MS },
        changeFailRate: { text: '5%', threshold: 0.05 },
        recoveryTime: { text: 'Less than one hour', threshold: HOUR_MS },
      },
      {
        level: 'high',
        respondents: '31%',
        deploymentFrequency: { text: 'Between once per day and once per week', threshold: PER_WEEK },
        leadTime: { text: 'Between one day and one week', threshold: WEEK_MS },
        changeFailRate: { text: '10%', threshold: 0.1 },
        recoveryTime: { text: 'Less than one day', threshold: DAY_MS },
      },
      {
        level: 'medium',
        respondents: '33%',
        deploymentFrequency: { text: 'Between once per week and once per month', threshold: PER_MONTH },
        leadTime: { text: 'Between one week and one month', threshold: MONTH_MS },
        changeFailRate: { text: '15%', threshold: 0.15 },
        recoveryTime: { text: 'Between one day and one week', threshold: WEEK_MS },
      },
      {
        level: 'low',
        respondents: '17%',
        deploymentFrequency: { text: 'Between once per week and once per month', threshold: PER_MONTH },
        leadTime: { text: 'Between one week and one month', threshold: MONTH_MS },
        changeFailRate: { text: '64%', threshold: 0.64 },
        recoveryTime: { text: 'Between one month and six months', threshold: SIX_MONTHS_MS },
      },
    ],
    noLevels: { reworkRate: NO_REWORK_CLUSTERS },
    notes: [
      'Low has the same deployment frequency and lead time ranges as medium: those values are medium, and low holds only what is worse than medium.',
      'Change failure rates are single values per cluster, read as each cluster’s upper edge.',
    ],
  },
  {
    year: 2024,
    source: {
      title: 'Accelerate State of DevOps Report 2024',
      publisher: 'DORA, Google Cloud',
      where: 'Chapter "Software delivery performance", table of the software delivery performance levels',
      url: 'https://services.google.com/fh/files/misc/2024_final_dora_report.pdf',
    },
    recoveryMetricName: 'Failed deployment recovery time',
    clusters: [
      {
        level: 'elite',
        respondents: '19%',
        deploymentFrequency: { text: 'On demand (multiple deploys per day)', threshold: PER_DAY },
        leadTime: { text: 'Less than one day', threshold: DAY_MS },
        changeFailRate: { text: '5%', threshold: 0.05 },
        recoveryTime: { text: 'Less than one hour', threshold: HOUR_MS },
      },
      {
        level: 'high',
        respondents: '22%',
        deploymentFrequency: { text: 'Between once per day and once per week', threshold: PER_WEEK },
        leadTime: { text: 'Between one day and one week', threshold: WEEK_MS },
        changeFailRate: { text: '20%', threshold: 0.2 },
        recoveryTime: { text: 'Less than one day', threshold: DAY_MS },
      },
      {
        level: 'medium',
        respondents: '35%',
        deploymentFrequency: { text: 'Between once per week and once per month', threshold: PER_MONTH },
        leadTime: { text: 'Between one week and one month', threshold: MONTH_MS },
        changeFailRate: { text: '10%', threshold: 0.1 },
        recoveryTime: { text: 'Less than one day', threshold: DAY_MS },
      },
      {
        level: 'low',
        respondents: '25%',
        deploymentFrequency: {
          text: 'Between once per month and once every six months',
          threshold: PER_SIX_MONTHS,
        },
        leadTime: { text: 'Between one month and six months', threshold: SIX_MONTHS_MS },
        changeFailRate: { text: '40%', threshold: 0.4 },
        recoveryTime: { text: 'Between one week and one month', threshold: MONTH_MS },
      },
    ],
    noLevels: { reworkRate: NO_REWORK_CLUSTERS },
    notes: [
      'The change failure rate is not monotonic across clusters (medium 10% < high 20%): a cluster is defined by all four metrics together, so a rate alone cannot rank medium above high. Read as upper edges from the best cluster down, a rate up to 5% is elite, up to 20% high, above 20% low; medium is never given for this metric in 2024.',
      'Medium and high share the recovery time "less than one day": up to one day is high, more is low; medium is never given for this metric in 2024.',
    ],
  },
];
