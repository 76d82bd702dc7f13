/**
 * `shinrai delivery --service checkout --from 2026-09-01 --to 2026-11-30`: the five delivery (DORA)
 * metrics of a running server for a period, with their performance levels against the DORA
 * benchmark year, as a table in English or Japanese (`--lang ja`), or the API's JSON (`--json`).
 */
import type { Command } from 'commander';
import { DateTime, IANAZone } from 'luxon';
import { call, type ServerFlags, withServerFlags } from '../api-client.js';
import { percent, table } from '../format.js';
import { CliError, type CliIo } from '../io.js';

export const LANGUAGES = ['en', 'ja'] as const;
export type Language = (typeof LANGUAGES)[number];

type Level = { name: string; label?: string } | null;

/** The answer of GET /api/v1/delivery/metrics. */
export interface DeliveryMetricsView {
  scope: { services: string[] };
  period: { from: string; to: string; timeZone: string; days: number };
  benchmark: { year: number; source: string };
  deploymentFrequency: { count: number; perDay: number; perWeek: number; level: Level };
  leadTime: {
    changes: number;
    excluded: number;
    medianMs: number | null;
    p90Ms: number | null;
    level: Level;
  };
  changeFailRate: { deployments: number; failed: number; rate: number | null; level: Level };
  recoveryTime: {
    failed: number;
    recovered: number;
    medianMs: number | null;
    p90Ms: number | null;
    level: Level;
  };
  reworkRate: { deployments: number; unplanned: number; rate: number | null; level: Level };
  weeks: Array<{
    start: string;
    deployments: number;
    leadTimeMedianMs: number | null;
    changeFailRate: number | null;
    recoveryMedianMs: number | null;
    reworkRate: number | null;
  }>;
}

const WORDS = {
  en: {
    title: (scope: string, from: string, to: string, zone: string, days: number) =>
      `Delivery of ${scope}, ${from} to ${to} (${zone}, ${days} days)`,
    benchmark: (year: number, source: string) => `Levels against the DORA benchmarks of ${year} (${source})`,
    all: 'all services',
    header: ['METRIC', 'VALUE', 'LEVEL'],
    frequency: 'Deployment frequency',
    leadTime: 'Change lead time',
    failRate: 'Change fail rate',
    recovery: 'Failed deployment recovery time',
    rework: 'Deployment rework rate',
    perDay: 'day',
    perWeek: 'week',
    deployments: (n: number) => `${n} deployment${n === 1 ? '' : 's'}`,
    changes: (n: number, excluded: number) =>
      `${n} change${n === 1 ? '' : 's'}${excluded > 0 ? `, ${excluded} left out` : ''}`,
    of: (a: number, b: number) => `${a} of ${b}`,
    recovered: (r: number, f: number) => `${r} of ${f} recovered`,
    median: 'median',
    noData: 'no data',
    weeks: ['WEEK OF', 'DEPLOYS', 'LEAD TIME', 'FAIL RATE', 'RECOVERY', 'REWORK'],
    levels: { elite: 'Elite', high: 'High', medium: 'Medium', low: 'Low' } as Record<string, string>,
    units: { s: 's', min: 'min', h: 'h', d: 'd' },
  },
  ja: {
    title: (scope: string, from: string, to: string, zone: string, days: number) =>
      `${scope} のデリバリー: ${from} 〜 ${to}(${zone}、${days} 日間)`,
    benchmark: (year: number, source: string) => `レベルは DORA ${year} 年のベンチマーク(${source})による`,
    all: '全サービス',
    header: ['指標', '値', 'レベル'],
    frequency: 'デプロイ頻度',
    leadTime: '変更のリードタイム',
    failRate: '変更失敗率',
    recovery: '失敗デプロイからの復旧時間',
    rework: 'デプロイの手戻り率',
    perDay: '日',
    perWeek: '週',
    deployments: (n: number) => `デプロイ ${n} 件`,
    changes: (n: number, excluded: number) => `変更 ${n} 件${excluded > 0 ? `、除外 ${excluded} 件` : ''}`,
    of: (a: number, b: number) => `${b} 件中 ${a} 件`,
    recovered: (r: number, f: number) => `${f} 件中 ${r} 件復旧`,
    median: '中央値',
    noData: 'データなし',
    weeks: ['週の初日', 'デプロイ', 'リードタイム', '失敗率', '復旧時間', '手戻り率'],
    levels: { elite: 'エリート', high: '高', medium: '中', low: '低' } as Record<string, string>,
    units: { s: '秒', min: '分', h: '時間', d: '日' },
  },
} as const;

/** A duration for people: "45 s", "12 min", "2.5 h", "3.1 d" (Japanese units with `ja`). */
export function humanDuration(ms: number | null, lang: Language = 'en'): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const units = WORDS[lang].units;
  const sep = lang === 'en' ? ' ' : '';
  const seconds = ms / 1000;
  if (seconds < 60) return `${Math.round(seconds)}${sep}${units.s}`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}${sep}${units.min}`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)}${sep}${units.h}`;
  return `${(seconds / 86_400).toFixed(1)}${sep}${units.d}`;
}

function rate(n: number): string {
  return n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2);
}

function levelName(level: Level, lang: Language): string {
  if (!level) return '—';
  return WORDS[lang].levels[level.name] ?? level.label ?? level.name;
}

/** The metrics as a readable table (and the weekly trend below it). */
export function formatDelivery(m: DeliveryMetricsView, lang: Language = 'en'): string {
  const w = WORDS[lang];
  const sep = lang === 'en' ? ', ' : '、';
  const medianP90 = (median: number | null, p90: number | null) =>
    median === null
      ? w.noData
      : `${w.median} ${humanDuration(median, lang)}${sep}p90 ${humanDuration(p90, lang)}`;
  const f = m.deploymentFrequency;
  const rows = [
    [
      w.frequency,
      `${rate(f.perDay)}/${w.perDay}${sep}${rate(f.perWeek)}/${w.perWeek} (${w.deployments(f.count)})`,
      levelName(f.level, lang),
    ],
    [
      w.leadTime,
      `${medianP90(m.leadTime.medianMs, m.leadTime.p90Ms)} (${w.changes(m.leadTime.changes, m.leadTime.excluded)})`,
      levelName(m.leadTime.level, lang),
    ],
    [
      w.failRate,
      m.changeFailRate.rate === null
        ? w.noData
        : `${percent(m.changeFailRate.rate, 1)} (${w.of(m.changeFailRate.failed, m.changeFailRate.deployments)})`,
      levelName(m.changeFailRate.level, lang),
    ],
    [
      w.recovery,
      `${medianP90(m.recoveryTime.medianMs, m.recoveryTime.p90Ms)} (${w.recovered(m.recoveryTime.recovered, m.recoveryTime.failed)})`,
      levelName(m.recoveryTime.level, lang),
    ],
    [
      w.rework,
      m.reworkRate.rate === null
        ? w.noData
        : `${percent(m.reworkRate.rate, 1)} (${w.of(m.reworkRate.unplanned, m.reworkRate.deployments)})`,
      levelName(m.reworkRate.level, lang),
    ],
  ];
  const scope = m.scope.services.length === 0 ? w.all : m.scope.services.join(', ');
  const lines = [
    w.title(scope, m.period.from, m.period.to, m.period.timeZone, m.period.days),
    w.benchmark(m.benchmark.year, m.benchmark.source),
    '',
    table(w.header, rows),
  ];
  if (m.weeks.length > 0)
    lines.push(
      '',
      table(
        w.weeks,
        m.weeks.map((week) => [
          week.start,
          String(week.deployments),
          humanDuration(week.leadTimeMedianMs, lang),
          week.changeFailRate === null ? '—' : percent(week.changeFailRate, 1),
          humanDuration(week.recoveryMedianMs, lang),
          week.reworkRate === null ? '—' : percent(week.reworkRate, 1),
        ]),
      ),
    );
  return lines.join('\n');
}

interface DeliveryFlags extends ServerFlags {
  service?: string;
  team?: string;
  from?: string;
  to?: string;
  tz?: string;
  benchmark?: string;
  lang: string;
}

/** The API query for the flags; exit 2 with one line on a bad flag. */
export function deliveryQuery(flags: DeliveryFlags): URLSearchParams {
  if (!(LANGUAGES as readonly string[]).includes(flags.lang))
    throw new CliError(`--lang must be ${LANGUAGES.join(' or ')}, not "${flags.lang}"`, 2);
  const query = new URLSearchParams();
  if (flags.service !== undefined) {
    if (!flags.service.trim()) throw new CliError('--service must name a service', 2);
    query.set('service', flags.service);
  }
  if (flags.team !== undefined) {
    if (!flags.team.trim()) throw new CliError('--team must name a team', 2);
    query.set('team', flags.team);
  }
  for (const [name, value] of [
    ['from', flags.from],
    ['to', flags.to],
  ] as const) {
    if (value === undefined) continue;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !DateTime.fromISO(value).isValid)
      throw new CliError(`--${name} "${value}" is not a calendar date (e.g. 2026-09-01)`, 2);
    query.set(name, value);
  }
  if (flags.from !== undefined && flags.to !== undefined && flags.from > flags.to)
    throw new CliError(`--from ${flags.from} is after --to ${flags.to}`, 2);
  if (flags.tz !== undefined) {
    if (!IANAZone.isValidZone(flags.tz))
      throw new CliError(`--tz "${flags.tz}" is not an IANA time zone (e.g. Asia/Tokyo, UTC)`, 2);
    query.set('tz', flags.tz);
  }
  if (flags.benchmark !== undefined) {
    if (!/^\d{4}$/.test(flags.benchmark))
      throw new CliError(`--benchmark "${flags.benchmark}" is not a year of a DORA report (e.g. 2024)`, 2);
    query.set('benchmark', flags.benchmark);
  }
  return query;
}

export function registerDelivery(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withServerFlags(
    program
      .command('delivery')
      .description('delivery (DORA) metrics for a service or team over a period, with performance levels')
      .option('--service <name>', 'the service')
      .option('--team <team>', 'every service the team owns')
      .option('--from <date>', 'first day, YYYY-MM-DD in --tz (inclusive)')
      .option('--to <date>', 'last day, YYYY-MM-DD in --tz (inclusive)')
      .option('--tz <zone>', 'IANA time zone of the days and weeks (e.g. Asia/Tokyo)')
      .option('--benchmark <year>', 'DORA report year of the level tables (2021–2024; default the latest)')
      .option('--lang <lang>', 'en or ja', 'en'),
  )
    .addHelpText(
      'after',
      `
Example:
  shinrai delivery --service checkout --from 2026-09-01 --to 2026-11-30 --tz Asia/Tokyo`,
    )
    .action(async (flags: DeliveryFlags) => {
      const query = deliveryQuery(flags);
      const metrics = (await call(
        flags,
        'GET',
        `/api/v1/delivery/metrics${query.size > 0 ? `?${query}` : ''}`,
      )) as DeliveryMetricsView;
      io.out(flags.json ? JSON.stringify(metrics, null, 2) : formatDelivery(metrics, flags.lang as Language));
      setExit(0);
    });
}
