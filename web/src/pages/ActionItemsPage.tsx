/** Action items across postmortems: open, overdue or by owner, each linked to its postmortem. */
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ACTION_STATUSES, type ActionItem, ApiError, api } from '../api';
import { ActionItemsTable } from '../components/ActionItemsTable';
import { ErrorNotice, Loading } from '../components/common';
import { Link, navigate, useLocation } from '../router';

export function ActionItemsPage() {
  const { t } = useTranslation();
  const { search } = useLocation();
  const status = search.get('status') ?? 'open';
  const overdue = search.get('overdue') === 'true';
  const owner = search.get('owner') ?? '';
  const query = new URLSearchParams();
  if (status) query.set('status', status);
  if (overdue) query.set('overdue', 'true');
  if (owner) query.set('owner', owner);
  const items = useQuery({
    queryKey: ['action-items', query.toString()],
    queryFn: () => api<ActionItem[]>(`/api/v1/action-items?${query}`),
  });
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    next.set(key, value);
    navigate(`/action-items?${next}`, { replace: true });
  };
  return (
    <section>
      <p className="crumbs">
        <Link href="/incidents">{t('nav.incidents')}</Link>
      </p>
      <h1>{t('actionItems.title')}</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('actionItems.status')}
          <select value={status} onChange={(e) => set('status', e.target.value)}>
            <option value="">{t('overview.filter.all')}</option>
            {ACTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`actionItems.statuses.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('actionItems.owner')}
          <input defaultValue={owner} onBlur={(e) => set('owner', e.target.value.trim())} />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={overdue}
            onChange={(e) => set('overdue', String(e.target.checked))}
          />
          {t('actionItems.onlyOverdue')}
        </label>
      </form>
      {items.error instanceof ApiError && items.error.status === 404 ? (
        <p className="muted">{t('actionItems.unavailable')}</p>
      ) : (
        <ErrorNotice error={items.error} />
      )}
      {items.isPending ? (
        <Loading />
      ) : (items.data ?? []).length === 0 ? (
        <p className="muted">{t('actionItems.none')}</p>
      ) : (
        <ActionItemsTable
          items={items.data ?? []}
          testId="all-action-items"
          extraColumn={{
            heading: t('postmortems.one'),
            cell: (a) => (
              <Link href={`/postmortems/${encodeURIComponent(a.postmortemId)}`}>{t('postmortems.open')}</Link>
            ),
          }}
        />
      )}
    </section>
  );
}
