/** Every SLO at a glance: RAG reading, budget remaining, current burn, firing alerts, open incidents. */
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { type Alert, api, type Incident, type Slo, type SloStatus } from '../api';
import { BudgetBar, ErrorNotice, Loading, RagBadge } from '../components/common';
import { dateTime, nines, number } from '../format';
import { CURRENT_BURN_WINDOW, currentBurn, type Rag, ragOf } from '../rag';
import { Link, navigate, useLocation } from '../router';

export interface OverviewRow {
  key: string;
  slo: Slo;
  status: SloStatus | undefined;
  title: string;
  rag: Rag;
  firing: number;
  incidents: number;
}

/** One row per evaluation target (an SLO, or each objective of a multi-objective SLO). */
export function overviewRows(slos: Slo[], alerts: Alert[], incidents: Incident[]): OverviewRow[] {
  return slos.flatMap((slo) => {
    const firing = alerts.filter((a) => a.slo === slo.id && a.state === 'firing').length;
    const open = incidents.filter(
      (i) => i.slos.includes(slo.id) || (i.slos.length === 0 && i.services.includes(slo.service)),
    ).length;
    const name = slo.displayName ?? slo.name;
    const statuses: (SloStatus | undefined)[] = slo.status.length ? slo.status : [undefined];
    return statuses.map((status) => ({
      key: status?.id ?? slo.id,
      slo,
      status,
      title: slo.status.length > 1 && status?.displayName ? `${name} — ${status.displayName}` : name,
      rag: ragOf(status),
      firing,
      incidents: open,
    }));
  });
}

const RAG_ORDER: Record<Rag, number> = { red: 0, amber: 1, green: 2, unknown: 3 };

export function OverviewPage() {
  const { t } = useTranslation();
  const { search } = useLocation();
  const slos = useQuery({ queryKey: ['slos'], queryFn: () => api<Slo[]>('/api/v1/slos') });
  const alerts = useQuery({ queryKey: ['alerts', 'active'], queryFn: () => api<Alert[]>('/api/v1/alerts') });
  const incidents = useQuery({
    queryKey: ['incidents', 'open'],
    queryFn: () => api<Incident[]>('/api/v1/incidents?state=open'),
  });

  const filters = {
    service: search.get('service') ?? '',
    owner: search.get('owner') ?? '',
    journey: search.get('journey') ?? '',
    label: search.get('label') ?? '',
    sort: search.get('sort') ?? 'budget',
  };
  const setFilter = (key: keyof typeof filters, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    const q = next.toString();
    navigate(q ? `/?${q}` : '/', { replace: true });
  };

  const all = useMemo(
    () => overviewRows(slos.data ?? [], alerts.data ?? [], incidents.data ?? []),
    [slos.data, alerts.data, incidents.data],
  );
  const choices = useMemo(() => {
    const uniq = (xs: (string | undefined)[]) =>
      [...new Set(xs.filter((x): x is string => !!x))].sort((a, b) => a.localeCompare(b));
    const list = slos.data ?? [];
    return {
      service: uniq(list.map((s) => s.service)),
      owner: uniq(list.map((s) => s.owner)),
      journey: uniq(list.map((s) => s.journey)),
      label: uniq(
        list.flatMap((s) => Object.entries(s.labels).flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`))),
      ),
    };
  }, [slos.data]);

  const rows = all
    .filter((r) => !filters.service || r.slo.service === filters.service)
    .filter((r) => !filters.owner || r.slo.owner === filters.owner)
    .filter((r) => !filters.journey || r.slo.journey === filters.journey)
    .filter((r) => {
      if (!filters.label) return true;
      const [k, v] = filters.label.split('=');
      return (r.slo.labels[k ?? ''] ?? []).includes(v ?? '');
    })
    .sort((a, b) => {
      if (filters.sort === 'name') return a.title.localeCompare(b.title);
      if (filters.sort === 'rag') return RAG_ORDER[a.rag] - RAG_ORDER[b.rag];
      const ra = a.status?.budget.remaining ?? Number.POSITIVE_INFINITY;
      const rb = b.status?.budget.remaining ?? Number.POSITIVE_INFINITY;
      return ra - rb;
    });

  const counts = { red: 0, amber: 0, green: 0, unknown: 0 } satisfies Record<Rag, number>;
  for (const r of all) counts[r.rag]++;
  const firingTotal = (alerts.data ?? []).filter((a) => a.state === 'firing').length;
  const stale = all.some((r) => r.status?.stale);

  return (
    <section>
      <h1>{t('overview.title')}</h1>
      <ErrorNotice error={slos.error ?? alerts.error ?? incidents.error} />
      <ul className="summary" aria-label={t('overview.summary')}>
        {(['red', 'amber', 'green'] as const).map((rag) => (
          <li key={rag} className={`count count-${rag}`} data-testid={`count-${rag}`}>
            <span className="big">{counts[rag]}</span> {t(`rag.${rag}`)}
          </li>
        ))}
        <li className="count">
          <Link href="/alerts">
            <span className="big" data-testid="count-firing">
              {firingTotal}
            </span>{' '}
            {t('overview.firingAlerts')}
          </Link>
        </li>
        <li className="count">
          <Link href="/incidents">
            <span className="big" data-testid="count-incidents">
              {incidents.data?.length ?? 0}
            </span>{' '}
            {t('overview.openIncidents')}
          </Link>
        </li>
      </ul>
      {stale && (
        <p className="notice warn" role="status">
          {t('overview.stale')}
        </p>
      )}
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('overview.filters')}>
        {(['service', 'owner', 'journey', 'label'] as const).map((key) => (
          <label key={key}>
            {t(`overview.filter.${key}`)}
            <select value={filters[key]} onChange={(e) => setFilter(key, e.target.value)} name={key}>
              <option value="">{t('overview.filter.all')}</option>
              {choices[key].map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        ))}
        <label>
          {t('overview.sort.label')}
          <select value={filters.sort} onChange={(e) => setFilter('sort', e.target.value)} name="sort">
            <option value="budget">{t('overview.sort.budget')}</option>
            <option value="rag">{t('overview.sort.rag')}</option>
            <option value="name">{t('overview.sort.name')}</option>
          </select>
        </label>
      </form>
      {slos.isPending ? (
        <Loading />
      ) : (
        <div className="table-wrap">
          <table className="slos" data-testid="slo-table">
            <caption className="visually-hidden">{t('overview.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('overview.col.state')}</th>
                <th scope="col">{t('overview.col.slo')}</th>
                <th scope="col">{t('overview.col.service')}</th>
                <th scope="col">{t('overview.col.target')}</th>
                <th scope="col">{t('overview.col.sli')}</th>
                <th scope="col">{t('overview.col.budget')}</th>
                <th scope="col">{t('overview.col.burn', { window: CURRENT_BURN_WINDOW })}</th>
                <th scope="col">{t('overview.col.alerts')}</th>
                <th scope="col">{t('overview.col.incidents')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key} data-slo-id={r.key} className={`row-${r.rag}`}>
                  <td>
                    <RagBadge rag={r.rag} />
                    {r.status?.error && (
                      <span className="stale" data-field="evaluation-error" title={r.status.error.reason}>
                        {' '}
                        {t('overview.evaluationError', { time: dateTime(r.status.error.since) })}
                      </span>
                    )}
                    {r.status?.stale && !r.status.error && (
                      <span className="stale" title={dateTime(r.status.evaluatedAt)}>
                        {' '}
                        {t('overview.staleSince', { time: dateTime(r.status.evaluatedAt) })}
                      </span>
                    )}
                  </td>
                  <td>
                    <Link
                      href={`/slos/${encodeURIComponent(r.slo.id)}${r.status && r.status.id !== r.slo.id ? `?objective=${encodeURIComponent(r.status.id)}` : ''}`}
                    >
                      {r.title}
                    </Link>
                    <div className="muted small">
                      {[r.slo.journey, r.slo.owner].filter(Boolean).join(' · ')}
                      {r.status?.policy && (
                        <span className="policy" data-field="policy">
                          {' '}
                          · {r.status.policy.action}
                        </span>
                      )}
                    </div>
                  </td>
                  <td>{r.slo.service}</td>
                  <td data-field="target">{nines(r.status?.target ?? r.slo.objectives[0]?.target)}</td>
                  <td data-field="sli">{nines(r.status?.sli)}</td>
                  <td>
                    <BudgetBar remaining={r.status?.budget.remaining} />
                  </td>
                  <td
                    data-field="burn"
                    className={r.status && (currentBurn(r.status) ?? 0) > 1 ? 'hot' : undefined}
                  >
                    {r.status ? `${number(currentBurn(r.status))}×` : '—'}
                  </td>
                  <td data-field="firing">
                    {r.firing > 0 ? (
                      <Link href={`/alerts?slo=${encodeURIComponent(r.slo.id)}`} className="pill pill-red">
                        {r.firing}
                      </Link>
                    ) : (
                      0
                    )}
                  </td>
                  <td data-field="incidents">
                    {r.incidents > 0 ? (
                      <Link href="/incidents" className="pill pill-red">
                        {r.incidents}
                      </Link>
                    ) : (
                      0
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small">{t('overview.ragRule')}</p>
    </section>
  );
}
