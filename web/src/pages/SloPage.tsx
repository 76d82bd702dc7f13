/**
 * One SLO: tiles, budget burn-down, SLI and burn-rate charts with incidents and the service's
 * production deployments, alerts, policy, spec.
 */
import { useQueries, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  type Alert,
  type AlertDetail,
  ApiError,
  api,
  type DeploymentList,
  type Incident,
  type Slo,
  type SloHistory,
  type SloSpec,
} from '../api';
import { ErrorNotice, ExternalLink, Loading, RagBadge } from '../components/common';
import { OtherTeamNotice } from '../components/TeamNotice';
import { type ChartBand, type ChartMarker, type ChartSeries, TimeChart } from '../components/TimeChart';
import { deploymentMarkers, deploymentsPath } from '../delivery';
import { dateTime, nines, number, percent, relative } from '../format';
import { chartEndMs, RANGES, type RangeKey, refreshMsFor, stepFor } from '../history';
import { ragOf } from '../rag';
import { Link, useLocation } from '../router';
import { useOwnedElsewhere } from '../whoami';

const COLORS = ['#1f5fbf', '#b3261e', '#1b7f3b', '#7a3fb0', '#9a5b00', '#006d77'];

// Chart options live outside the component: a new function or array on every render would make
// each chart rebuild itself on every refresh of the SLO's status (130 ms at 30 days, bench/ui).
const budgetFormat = (v: number) => percent(v, 1);
const sliFormat = (v: number) => nines(v);
const burnFormat = (v: number) => `${number(v, 1)}×`;
const BURN_RANGE: [number, null] = [0, null];
/** Deployments drawn on the charts at most: more than this in 30 days would be a solid band anyway. */
const DEPLOYMENT_LIMIT = 500;

export function SloPage({ id }: { id: string }) {
  const { t } = useTranslation();
  const { search } = useLocation();
  const [range, setRange] = useState<RangeKey>('7d');
  const slo = useQuery({
    queryKey: ['slo', id],
    queryFn: () => api<Slo>(`/api/v1/slos/${encodeURIComponent(id)}`),
  });
  const spec = useQuery({
    queryKey: ['slo-spec', id],
    queryFn: () => api<SloSpec>(`/api/v1/slos/${encodeURIComponent(id)}/spec`),
    refetchInterval: false,
  });
  // Another team's SLO: a team-scoped editor may read it but not silence, declare on or change it.
  const owned = useOwnedElsewhere(slo.data && { services: [slo.data.service], slos: [slo.data.id] });
  const statuses = slo.data?.status ?? [];
  const wanted = search.get('objective');
  const status = statuses.find((s) => s.id === wanted) ?? statuses[0];
  const targetId = status?.id ?? id;

  // The window moves with the clock, in steps of the chart's step: viewers share one cached range.
  const toMs = chartEndMs(Date.now(), RANGES[range]);
  const fromMs = toMs - RANGES[range];
  const step = stepFor(RANGES[range]);
  const history = useQuery({
    queryKey: ['history', targetId, range],
    queryFn: () =>
      api<SloHistory>(
        `/api/v1/slos/${encodeURIComponent(targetId)}/history?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}&step=${step}`,
      ),
    refetchInterval: refreshMsFor(RANGES[range]),
  });
  const alerts = useQuery({
    queryKey: ['alerts', 'all'],
    queryFn: () => api<Alert[]>('/api/v1/alerts?state=all'),
  });
  const incidents = useQuery({
    queryKey: ['incidents', 'all'],
    queryFn: () => api<Incident[]>('/api/v1/incidents?state=all'),
  });
  const service = slo.data?.service;
  const deployments = useQuery({
    queryKey: ['deployments', 'slo-chart', service, range],
    enabled: service !== undefined,
    queryFn: () =>
      api<DeploymentList>(deploymentsPath({ service }, { fromMs, toMs }, { limit: DEPLOYMENT_LIMIT })),
    refetchInterval: refreshMsFor(RANGES[range]),
    // A server without the delivery API (404) simply draws no markers.
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
  });
  const mine = (alerts.data ?? []).filter((a) => a.slo === id);
  const details = useQueries({
    queries: mine.map((a) => ({
      queryKey: ['alert', a.id],
      queryFn: () => api<AlertDetail>(`/api/v1/alerts/${encodeURIComponent(a.id)}`),
    })),
  });
  const linked = (incidents.data ?? []).filter((i) => i.slos.includes(id));

  const points = history.data?.points;
  const times = useMemo(() => (points ?? []).map((p) => Date.parse(p.ts)), [points]);
  const bands: ChartBand[] = useMemo(
    () =>
      (incidents.data ?? [])
        .filter((i) => i.slos.includes(id))
        .map((i) => ({
          fromMs: Date.parse(i.milestones.impactStartedAt ?? i.milestones.detectedAt ?? i.createdAt),
          toMs: Date.parse(i.milestones.resolvedAt ?? i.milestones.mitigatedAt ?? new Date().toISOString()),
          label: i.reference,
        })),
    [incidents.data, id],
  );
  const deployed = deployments.data?.deployments;
  const markers: ChartMarker[] = useMemo(
    () =>
      deploymentMarkers(deployed ?? [], { fromMs: times[0] ?? 0, toMs: times.at(-1) ?? 0 }, (d, failed) =>
        [
          t('slo.chart.deployment', {
            version: d.version ?? d.headSha?.slice(0, 7) ?? d.id,
            service: d.service,
          }),
          dateTime(d.finishedAt),
          t(`delivery.status.${d.status}`),
          failed && d.causedIncidents.length > 0
            ? t('slo.chart.deploymentCaused', { incidents: d.causedIncidents.join(', ') })
            : '',
        ]
          .filter(Boolean)
          .join(' · '),
      ),
    [deployed, times, t],
  );
  const deploySummary =
    markers.length === 0
      ? ''
      : ` ${t('slo.chart.deploymentsSummary', {
          total: markers.length,
          failed: markers.filter((m) => m.failed).length,
        })}`;
  const markerKey = useMemo(
    () => ({ normal: t('slo.chart.markerDeployment'), failed: t('slo.chart.markerFailed') }),
    [t],
  );
  const target = status?.target;
  const charts = useMemo(() => {
    if (!points || target === undefined) return null;
    const budgetSeries: ChartSeries[] = [
      {
        label: t('slo.chart.remaining'),
        values: points.map((p) => p.remaining),
        color: COLORS[0]!,
        width: 2,
      },
      { label: t('slo.chart.exhausted'), values: points.map(() => 0), color: '#b3261e', dash: [6, 4] },
      ...(spec.data?.policy ?? [])
        .filter((s) => s.below > 0)
        .map((s) => ({
          label: t('slo.chart.policyStep', { below: percent(s.below, 0) }),
          values: points.map(() => s.below),
          color: '#9a5b00',
          dash: [3, 3],
        })),
    ];
    const sliSeries: ChartSeries[] = [
      { label: t('slo.chart.sli'), values: points.map((p) => p.sli), color: COLORS[2]!, width: 2 },
      {
        label: t('slo.chart.target'),
        values: points.map(() => target),
        color: '#b3261e',
        dash: [6, 4],
      },
    ];
    const burnRules = (spec.data?.rules ?? []).filter((r) => r.conditions.length > 0);
    const burnCharts = burnRules.flatMap((rule) =>
      rule.conditions.map((c, ci) => {
        const windows = [c.longWindow, ...(c.shortWindow ? [c.shortWindow] : [])];
        return {
          key: `${rule.name}-${ci}`,
          title: t('slo.chart.burnTitle', {
            rule: rule.name,
            windows: windows.join(' / '),
            factor: number(c.factor),
          }),
          factor: c.factor,
          series: [
            ...windows.map((w, wi) => ({
              label: t('slo.chart.burnWindow', { window: w }),
              values: points.map((p) => p.burnRates[w] ?? null),
              color: COLORS[wi === 0 ? 0 : 3]!,
              width: wi === 0 ? 2 : 1.2,
            })),
            {
              label: t('slo.chart.threshold', { factor: number(c.factor) }),
              values: points.map(() => c.factor),
              color: '#b3261e',
              dash: [6, 4],
            },
          ] satisfies ChartSeries[],
        };
      }),
    );
    return { budgetSeries, sliSeries, burnCharts };
  }, [points, target, spec.data, t]);

  if (slo.isPending) return <Loading />;
  if (slo.error || !slo.data) return <ErrorNotice error={slo.error} />;
  const s = slo.data;
  const last = points?.at(-1);
  const exhaustion =
    status === undefined
      ? '—'
      : status.budget.remaining <= 0
        ? t('slo.exhaustedNow')
        : status.exhaustionAt
          ? `${relative(status.exhaustionAt)} (${dateTime(status.exhaustionAt)})`
          : t('slo.notAtThisRate');

  return (
    <section className="slo-page">
      <p className="crumbs">
        <Link href="/">{t('nav.overview')}</Link> / {s.service}
      </p>
      <h1>
        {s.displayName ?? s.name} <RagBadge rag={ragOf(status)} />
      </h1>
      {s.description && <p>{s.description}</p>}
      <dl className="meta">
        <div>
          <dt>{t('slo.owner')}</dt>
          <dd>{s.owner ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('slo.journey')}</dt>
          <dd>{s.journey ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('slo.runbook')}</dt>
          <dd>{s.runbookUrl ? <ExternalLink href={s.runbookUrl} /> : '—'}</dd>
        </div>
        <div>
          <dt>{t('slo.window')}</dt>
          <dd>
            {s.window} · {s.budgetingMethod}
          </dd>
        </div>
      </dl>
      {statuses.length > 1 && (
        <nav aria-label={t('slo.objectives')} className="objectives">
          {statuses.map((st) => (
            <Link
              key={st.id}
              href={`/slos/${encodeURIComponent(id)}?objective=${encodeURIComponent(st.id)}`}
              aria-current={st.id === status?.id ? 'page' : undefined}
            >
              {st.displayName ?? st.objective ?? st.id}
            </Link>
          ))}
        </nav>
      )}
      {status?.error && (
        <p className="notice warn" role="alert" data-field="evaluation-error">
          {t('slo.evaluationError', {
            since: dateTime(status.error.since),
            time: dateTime(status.evaluatedAt),
            reason: status.error.reason,
          })}
        </p>
      )}
      {status?.stale && !status.error && (
        <p className="notice warn" role="status">
          {t('overview.staleSince', { time: dateTime(status.evaluatedAt) })}
        </p>
      )}
      <OtherTeamNotice owned={owned} />
      <ul className="tiles" data-testid="tiles">
        <li>
          <span className="label">{t('slo.objective')}</span>
          <span className="value" data-field="target">
            {nines(status?.target ?? s.objectives[0]?.target)}
          </span>
        </li>
        <li>
          <span className="label">{t('slo.sliNow')}</span>
          <span className="value" data-field="sli">
            {nines(status?.sli)}
          </span>
        </li>
        <li>
          <span className="label">{t('slo.budgetRemaining')}</span>
          <span className="value" data-field="remaining">
            {percent(status?.budget.remaining)}
          </span>
          {status && (
            <span className="small muted">
              {t(`slo.budgetUnit.${status.budget.unit}`, {
                consumed: number(status.budget.consumed, 0),
                total: number(status.budget.total, 0),
              })}
            </span>
          )}
        </li>
        <li>
          <span className="label">{t('slo.timeToExhaustion')}</span>
          <span className="value small-value" data-field="exhaustion">
            {exhaustion}
          </span>
        </li>
      </ul>
      {status?.policy && (
        <p className="notice warn" data-testid="policy-step">
          <strong>{t('slo.policyInForce')}</strong> {status.policy.action} (
          {t(`slo.gate.${status.policy.gate}`)})
        </p>
      )}

      <fieldset className="range">
        <legend className="visually-hidden">{t('slo.range')}</legend>
        {(Object.keys(RANGES) as RangeKey[]).map((r) => (
          <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
            {t(`slo.ranges.${r}`)}
          </button>
        ))}
        <span className="muted small"> {t('slo.step', { step })}</span>
      </fieldset>
      <ErrorNotice error={history.error} />
      {history.isPending || !charts ? (
        <Loading />
      ) : (
        <div className="charts">
          <TimeChart
            testId="chart-budget"
            title={t('slo.chart.budgetTitle')}
            summary={t('slo.chart.budgetSummary', { value: percent(last?.remaining) }) + deploySummary}
            timesMs={times}
            series={charts.budgetSeries}
            bands={bands}
            markers={markers}
            markerKey={markerKey}
            yFormat={budgetFormat}
          />
          <TimeChart
            testId="chart-sli"
            title={t('slo.chart.sliTitle')}
            summary={
              t('slo.chart.sliSummary', { value: nines(last?.sli), target: nines(status?.target) }) +
              deploySummary
            }
            timesMs={times}
            series={charts.sliSeries}
            bands={bands}
            markers={markers}
            markerKey={markerKey}
            yFormat={sliFormat}
          />
          {charts.burnCharts.map((c) => (
            <TimeChart
              key={c.key}
              testId="chart-burn"
              title={c.title}
              summary={t('slo.chart.burnSummary', { factor: number(c.factor) }) + deploySummary}
              timesMs={times}
              series={c.series}
              bands={bands}
              markers={markers}
              markerKey={markerKey}
              height={180}
              yFormat={burnFormat}
              yRange={BURN_RANGE}
            />
          ))}
        </div>
      )}

      <h2>{t('slo.alertHistory')}</h2>
      {mine.length === 0 ? (
        <p className="muted">{t('slo.noAlerts')}</p>
      ) : (
        <table data-testid="alert-history">
          <thead>
            <tr>
              <th scope="col">{t('alerts.col.rule')}</th>
              <th scope="col">{t('alerts.col.state')}</th>
              <th scope="col">{t('alerts.col.firedAt')}</th>
              <th scope="col">{t('alerts.col.resolvedAt')}</th>
              <th scope="col">{t('slo.transitions')}</th>
            </tr>
          </thead>
          <tbody>
            {mine.map((a, i) => (
              <tr key={a.id}>
                <td>
                  {a.rule} <span className="muted small">({a.tier})</span>
                </td>
                <td>{t(`alerts.state.${a.state}`)}</td>
                <td>{dateTime(a.firedAt)}</td>
                <td>{dateTime(a.resolvedAt)}</td>
                <td className="small">
                  {(details[i]?.data?.events ?? []).slice(0, 5).map((e) => (
                    <div key={`${e.at}-${e.transition}`}>
                      {dateTime(e.at)} — {e.transition}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>{t('slo.incidents')}</h2>
      {linked.length === 0 ? (
        <p className="muted">{t('slo.noIncidents')}</p>
      ) : (
        <ul>
          {linked.map((i) => (
            <li key={i.id}>
              <Link href={`/incidents/${encodeURIComponent(i.reference)}`}>
                {i.reference} {i.title}
              </Link>{' '}
              <span className="muted small">
                {i.severity} · {t(`incidents.status.${i.status}`)}
              </span>
            </li>
          ))}
        </ul>
      )}

      <h2>{t('slo.policy')}</h2>
      {spec.data && spec.data.policy.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('slo.policyBelow')}</th>
              <th scope="col">{t('slo.policyAction')}</th>
              <th scope="col">{t('slo.policyGate')}</th>
            </tr>
          </thead>
          <tbody>
            {spec.data.policy.map((p) => (
              <tr key={p.below} className={status?.policy?.below === p.below ? 'in-force' : undefined}>
                <td>{percent(p.below, 0)}</td>
                <td>{p.action}</td>
                <td>{t(`slo.gate.${p.gate}`)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{t('slo.noPolicy')}</p>
      )}

      <h2>{t('slo.spec')}</h2>
      <ErrorNotice error={spec.error} />
      {spec.data && (
        <>
          <p className="muted small">
            {spec.data.file}:{spec.data.line}
          </p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the spec scrolls; keyboard users need to reach it */}
          <pre className="yaml" data-testid="spec-yaml" tabIndex={0}>
            {spec.data.yaml ?? t('slo.specUnavailable')}
          </pre>
        </>
      )}
    </section>
  );
}
