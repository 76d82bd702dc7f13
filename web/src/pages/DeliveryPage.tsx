/**
 * Delivery: the five DORA metrics for a service or team over a period in a time zone, each with its
 * benchmark level and weekly trend, then the production deployments with their gate decision,
 * failure links and the error budget each SLO burned after them — all as the server computes them.
 */
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type ReactNode, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import {
  ApiError,
  api,
  type DeliveryMetrics,
  type Deployment,
  type DeploymentList,
  type Service,
} from '../api';
import { ErrorNotice, ExternalLink, Loading } from '../components/common';
import { type ChartSeries, TimeChart } from '../components/TimeChart';
import {
  browserTimeZone,
  burnedOverOf,
  DEFAULT_BURN_THRESHOLD,
  deploymentsPath,
  durationText,
  failureReason,
  isFailed,
  isLevelName,
  isTimeZone,
  levelTone,
  metricsPath,
  overBudget,
  PERIODS,
  type PeriodKey,
  periodInstants,
  periodOf,
  type Scope,
  signed,
  weeklySeries,
} from '../delivery';
import { dateTime, number, percent } from '../format';
import { Link, navigate, useLocation } from '../router';

const PAGE_SIZE = 50;
const BURN_CHOICES = [0.01, 0.02, 0.05, 0.1, 0.25, 0.5] as const;
const TREND_HEIGHT = 140;
const TREND_COLOR = '#1f5fbf';
const GATE_TONE = { allow: 'green', warn: 'amber', deny: 'red' } as const;

/** A 404 from a server that does not have the delivery API yet. */
function missing(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

function zoneChoices(current: string): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set([current, 'UTC', ...all])].sort((a, b) => a.localeCompare(b));
}

export function DeliveryPage() {
  const { t } = useTranslation();
  const { search } = useLocation();
  const service = search.get('service') ?? '';
  const team = search.get('team') ?? '';
  const periodKey: PeriodKey = (PERIODS as readonly string[]).includes(search.get('period') ?? '')
    ? (search.get('period') as PeriodKey)
    : '3m';
  const tzParam = search.get('tz');
  const timeZone = isTimeZone(tzParam) ? tzParam : browserTimeZone();
  const burnedOver = burnedOverOf(search.get('burnedOver'));
  // Today moves at midnight; the date is enough for the key.
  const nowMs = Math.floor(Date.now() / 60_000) * 60_000;
  const period = periodOf(periodKey, { from: search.get('from'), to: search.get('to') }, timeZone, nowMs);
  const scope: Scope = { service: service || undefined, team: team || undefined };

  const set = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(search);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    const q = next.toString();
    navigate(q ? `/delivery?${q}` : '/delivery', { replace: true });
  };

  const services = useQuery({ queryKey: ['services'], queryFn: () => api<Service[]>('/api/v1/services') });
  const metricsUrl = metricsPath(scope, period);
  const metrics = useQuery({
    queryKey: ['delivery-metrics', metricsUrl],
    queryFn: () => api<DeliveryMetrics>(metricsUrl),
  });

  const choices = useMemo(() => {
    const list = services.data ?? [];
    const uniq = (xs: (string | undefined)[]) =>
      [...new Set(xs.filter((x): x is string => !!x))].sort((a, b) => a.localeCompare(b));
    return { services: uniq(list.map((s) => s.name)), teams: uniq(list.map((s) => s.owner)) };
  }, [services.data]);

  return (
    <section className="delivery">
      <h1>{t('delivery.title')}</h1>
      <p className="muted">{t('delivery.intro')}</p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('overview.filters')}>
        <label>
          {t('overview.filter.service')}
          <select
            name="service"
            value={service}
            onChange={(e) => set({ service: e.target.value, team: e.target.value ? null : team })}
          >
            <option value="">{t('overview.filter.all')}</option>
            {choices.services.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('delivery.filter.team')}
          <select
            name="team"
            value={team}
            onChange={(e) => set({ team: e.target.value, service: e.target.value ? null : service })}
          >
            <option value="">{t('overview.filter.all')}</option>
            {choices.teams.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('delivery.filter.period')}
          <select
            name="period"
            value={periodKey}
            onChange={(e) =>
              set(
                e.target.value === 'custom'
                  ? { period: 'custom', from: period.from, to: period.to }
                  : { period: e.target.value === '3m' ? null : e.target.value, from: null, to: null },
              )
            }
          >
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                {t(`delivery.period.${p}`)}
              </option>
            ))}
          </select>
        </label>
        {periodKey === 'custom' && (
          <>
            <label>
              {t('delivery.filter.from')}
              <input
                type="date"
                name="from"
                value={period.from}
                max={period.to}
                onChange={(e) => e.target.value && set({ from: e.target.value })}
              />
            </label>
            <label>
              {t('delivery.filter.to')}
              <input
                type="date"
                name="to"
                value={period.to}
                min={period.from}
                onChange={(e) => e.target.value && set({ to: e.target.value })}
              />
            </label>
          </>
        )}
        <label>
          {t('delivery.filter.timeZone')}
          <select
            name="tz"
            value={timeZone}
            onChange={(e) => set({ tz: e.target.value === browserTimeZone() ? null : e.target.value })}
          >
            {zoneChoices(timeZone).map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </label>
      </form>
      <p className="muted small" data-testid="delivery-period">
        {t('delivery.periodText', { from: period.from, to: period.to, timeZone })}
      </p>

      <h2>{t('delivery.metrics.title')}</h2>
      {missing(metrics.error) ? (
        <p className="muted">{t('common.notAvailable')}</p>
      ) : (
        <ErrorNotice error={metrics.error} />
      )}
      {metrics.isPending ? <Loading /> : metrics.data && <Metrics data={metrics.data} />}

      <Deployments
        scope={scope}
        range={periodInstants(period)}
        burnedOver={burnedOver}
        setBurnedOver={(v) => set({ burnedOver: v === null ? null : String(v) })}
      />
    </section>
  );
}

function LevelBadge({ level, year }: { level: DeliveryMetrics['leadTime']['level']; year: number }) {
  const { t } = useTranslation();
  const tone = levelTone(level);
  const name = level ? (isLevelName(level.name) ? t(`delivery.level.${level.name}`) : level.label) : null;
  return (
    <span className={`pill level pill-${tone}`} data-level={level?.name ?? 'none'}>
      {name ? t('delivery.levelBadge', { level: name, year }) : t('delivery.noLevel', { year })}
    </span>
  );
}

interface CardProps {
  id: string;
  title: string;
  value: string;
  detail: ReactNode;
  level: DeliveryMetrics['leadTime']['level'];
  year: number;
  trend: { timesMs: number[]; values: (number | null)[] };
  trendLabel: string;
  format: (v: number) => string;
  definition: string;
}

function MetricCard(p: CardProps) {
  const { t } = useTranslation();
  const series: ChartSeries[] = useMemo(
    () => [{ label: p.trendLabel, values: p.trend.values, color: TREND_COLOR, width: 2, points: true }],
    [p.trendLabel, p.trend.values],
  );
  const known = p.trend.values.filter((v): v is number => v !== null);
  const latest = p.trend.values.at(-1);
  const summary = t('delivery.trendSummary', {
    weeks: p.trend.values.length,
    known: known.length,
    latest: latest === null || latest === undefined ? '—' : p.format(latest),
  });
  return (
    <article className="metric" data-metric={p.id} aria-labelledby={`metric-${p.id}`}>
      <h3 id={`metric-${p.id}`}>{p.title}</h3>
      <p className="metric-value" data-field="value">
        {p.value}
      </p>
      <p className="small muted" data-field="detail">
        {p.detail}
      </p>
      <LevelBadge level={p.level} year={p.year} />
      <p className="small muted definition">{p.definition}</p>
      <TimeChart
        testId={`trend-${p.id}`}
        title={t('delivery.trendTitle', { metric: p.title })}
        summary={summary}
        timesMs={p.trend.timesMs}
        series={series}
        yFormat={p.format}
        yRange={ZERO_FLOOR}
        height={TREND_HEIGHT}
        legend={false}
      />
    </article>
  );
}

const ZERO_FLOOR: [number, null] = [0, null];

function Metrics({ data }: { data: DeliveryMetrics }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const year = data.benchmark.year;
  const tz = data.period.timeZone;
  const weeks = data.weeks;
  const trends = useMemo(
    () => ({
      deployments: weeklySeries(weeks, (w) => w.deployments, tz),
      leadTime: weeklySeries(weeks, (w) => w.leadTimeMedianMs, tz),
      changeFail: weeklySeries(weeks, (w) => w.changeFailRate, tz),
      recovery: weeklySeries(weeks, (w) => w.recoveryMedianMs, tz),
      rework: weeklySeries(weeks, (w) => w.reworkRate, tz),
    }),
    [weeks, tz],
  );
  const formats = useMemo(
    () => ({
      count: (v: number) => number(v, 1),
      duration: (v: number) => durationText(v, lang),
      rate: (v: number) => percent(v, 0),
    }),
    [lang],
  );
  const f = data.deploymentFrequency;
  const l = data.leadTime;
  const c = data.changeFailRate;
  const r = data.recoveryTime;
  const w = data.reworkRate;
  const empty = f.count === 0 && c.deployments === 0;
  return (
    <>
      <p className="small muted" data-testid="delivery-scope">
        {t('delivery.scope', {
          services: data.scope.services ? data.scope.services.join(', ') || '—' : t('delivery.allServices'),
          days: data.period.days,
        })}{' '}
        {t('delivery.benchmark', { source: data.benchmark.source })}
      </p>
      {empty && (
        <p className="notice" data-testid="delivery-empty">
          {t('delivery.empty')}
        </p>
      )}
      <div className="metrics" data-testid="delivery-metrics">
        <MetricCard
          id="deploymentFrequency"
          title={t('delivery.metric.deploymentFrequency')}
          value={t('delivery.perDay', { value: number(f.perDay, 2) })}
          detail={t('delivery.frequencyDetail', { total: f.count, perWeek: number(f.perWeek, 1) })}
          level={f.level}
          year={year}
          trend={trends.deployments}
          trendLabel={t('delivery.trend.deployments')}
          format={formats.count}
          definition={t('delivery.definition.deploymentFrequency')}
        />
        <MetricCard
          id="leadTime"
          title={t('delivery.metric.leadTime')}
          value={durationText(l.medianMs, lang)}
          detail={t('delivery.leadTimeDetail', {
            p90: durationText(l.p90Ms, lang),
            changes: l.changes,
            excluded: l.excluded,
          })}
          level={l.level}
          year={year}
          trend={trends.leadTime}
          trendLabel={t('delivery.trend.median')}
          format={formats.duration}
          definition={t('delivery.definition.leadTime')}
        />
        <MetricCard
          id="changeFailRate"
          title={t('delivery.metric.changeFailRate')}
          value={percent(c.rate, 1, 0)}
          detail={t('delivery.changeFailDetail', { failed: c.failed, deployments: c.deployments })}
          level={c.level}
          year={year}
          trend={trends.changeFail}
          trendLabel={t('delivery.trend.rate')}
          format={formats.rate}
          definition={t('delivery.definition.changeFailRate')}
        />
        <MetricCard
          id="recoveryTime"
          title={t('delivery.metric.recoveryTime')}
          value={durationText(r.medianMs, lang)}
          detail={t('delivery.recoveryDetail', {
            p90: durationText(r.p90Ms, lang),
            failed: r.failed,
            recovered: r.recovered,
          })}
          level={r.level}
          year={year}
          trend={trends.recovery}
          trendLabel={t('delivery.trend.median')}
          format={formats.duration}
          definition={t('delivery.definition.recoveryTime')}
        />
        <MetricCard
          id="reworkRate"
          title={t('delivery.metric.reworkRate')}
          value={percent(w.rate, 1, 0)}
          detail={t('delivery.reworkDetail', { unplanned: w.unplanned, deployments: w.deployments })}
          level={w.level}
          year={year}
          trend={trends.rework}
          trendLabel={t('delivery.trend.rate')}
          format={formats.rate}
          definition={t('delivery.definition.reworkRate')}
        />
      </div>
    </>
  );
}

function Deployments(props: {
  scope: Scope;
  range: { fromMs: number; toMs: number };
  burnedOver: number | null;
  setBurnedOver: (value: number | null) => void;
}) {
  const { t } = useTranslation();
  const { scope, range, burnedOver, setBurnedOver } = props;
  const firstPage = deploymentsPath(scope, range, { burnedOver, limit: PAGE_SIZE });
  const list = useInfiniteQuery({
    queryKey: ['deployments', firstPage],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<DeploymentList>(deploymentsPath(scope, range, { burnedOver, limit: PAGE_SIZE, before: pageParam })),
    getNextPageParam: (last) => last.nextBefore ?? null,
  });
  const rows = list.data?.pages.flatMap((p) => p.deployments) ?? [];
  const threshold = burnedOver ?? DEFAULT_BURN_THRESHOLD;
  return (
    <>
      <h2>{t('delivery.deployments.title')}</h2>
      <form
        className="filters"
        onSubmit={(e) => e.preventDefault()}
        aria-label={t('delivery.deployments.filter')}
      >
        <label>
          {t('delivery.deployments.burnedOver')}
          <select
            name="burnedOver"
            value={burnedOver === null ? '' : String(burnedOver)}
            onChange={(e) => setBurnedOver(e.target.value ? Number(e.target.value) : null)}
          >
            <option value="">{t('delivery.deployments.anyBurn')}</option>
            {BURN_CHOICES.map((b) => (
              <option key={b} value={String(b)}>
                {t('delivery.deployments.burnedMoreThan', { share: percent(b, 0) })}
              </option>
            ))}
          </select>
        </label>
      </form>
      <p className="small muted">{t('delivery.deployments.highlight', { share: percent(threshold, 0) })}</p>
      {missing(list.error) ? (
        <p className="muted">{t('common.notAvailable')}</p>
      ) : (
        <ErrorNotice error={list.error} />
      )}
      {list.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        list.error ? null : (
          <p className="muted" data-testid="deployments-empty">
            {burnedOver !== null
              ? t('delivery.deployments.noneBurned', { share: percent(burnedOver, 0) })
              : t('delivery.empty')}
          </p>
        )
      ) : (
        <div className="table-wrap">
          <table className="compact deployments" data-testid="deployment-table">
            <caption className="visually-hidden">{t('delivery.deployments.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('delivery.col.finishedAt')}</th>
                <th scope="col">{t('delivery.col.service')}</th>
                <th scope="col">{t('delivery.col.version')}</th>
                <th scope="col">{t('delivery.col.status')}</th>
                <th scope="col">{t('delivery.col.kind')}</th>
                <th scope="col">{t('delivery.col.changes')}</th>
                <th scope="col">{t('delivery.col.gate')}</th>
                <th scope="col">{t('delivery.col.failed')}</th>
                <th scope="col">{t('delivery.col.budget')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <DeploymentRow key={d.id} deployment={d} threshold={threshold} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasNextPage && (
        <p>
          <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            {t('delivery.deployments.older')}
          </button>
        </p>
      )}
    </>
  );
}

function DeploymentRow({ deployment: d, threshold }: { deployment: Deployment; threshold: number }) {
  const { t, i18n } = useTranslation();
  const failed = isFailed(d);
  const reason = failureReason(d);
  const burned = overBudget(d.budget, threshold);
  const classes = [failed ? 'failed' : '', burned.length > 0 ? 'burned' : ''].filter(Boolean).join(' ');
  return (
    <tr
      data-deployment={d.id}
      data-failed={failed ? 'true' : 'false'}
      data-burned={burned.length > 0 ? 'true' : 'false'}
      className={classes || undefined}
    >
      <td className="nowrap">{dateTime(d.finishedAt)}</td>
      <td>
        <Link href={`/delivery?service=${encodeURIComponent(d.service)}`}>{d.service}</Link>
      </td>
      <td>
        {d.url ? <ExternalLink href={d.url}>{d.version ?? d.id}</ExternalLink> : (d.version ?? '—')}
        {d.headSha && <div className="small muted mono">{d.headSha.slice(0, 10)}</div>}
      </td>
      <td data-field="status">{t(`delivery.status.${d.status}`)}</td>
      <td data-field="kind">{t(`delivery.kind.${d.kind}`)}</td>
      <td data-field="changes">{number(d.changes, 0)}</td>
      <td data-field="gate">
        {d.gate ? (
          <span className={`pill pill-${GATE_TONE[d.gate.decision]}`} title={d.gate.summary}>
            {t(`delivery.gate.${d.gate.decision}`)}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td data-field="failed">
        {reason ? (
          <>
            <strong className="failed-text">{t('delivery.failedYes')}</strong>
            <div className="small muted" data-field="reason">
              {t(`delivery.failure.${reason}`)}
            </div>
          </>
        ) : (
          t('delivery.failedNo')
        )}
        {d.causedIncidents.length > 0 && (
          <ul className="linked">
            {d.causedIncidents.map((ref) => (
              <li key={ref}>
                <Link href={`/incidents/${encodeURIComponent(ref)}`}>{ref}</Link>
              </li>
            ))}
          </ul>
        )}
        {d.fixes.length > 0 && (
          <div className="small muted">{t('delivery.fixes', { incidents: d.fixes.join(', ') })}</div>
        )}
      </td>
      <td data-field="budget">
        {d.budget.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="shares">
            {d.budget.map((b) => (
              <li key={b.slo} data-slo={b.slo} className={burned.includes(b.slo) ? 'over' : undefined}>
                <Link href={`/slos/${encodeURIComponent(b.slo)}`}>{b.slo}</Link>{' '}
                {t('delivery.budgetShare', {
                  before: percent(b.before.shareOfBudget, 1, 0),
                  after: percent(b.after.shareOfBudget, 1, 0),
                })}
                <span className="small muted">
                  {' '}
                  {t('delivery.burnChange', {
                    before: number(b.before.burnRate, 1),
                    after: number(b.after.burnRate, 1),
                    change: signed(b.burnRateChange, i18n.language),
                  })}
                </span>
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}
