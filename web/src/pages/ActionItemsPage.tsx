/** Action items across postmortems: open, overdue or by owner, each linked to its postmortem. */
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ACTION_STATUSES, type ActionItem, ApiError, api } from '../api';
import { ErrorNotice, ExternalLink, Loading } from '../components/common';
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
        <table data-testid="all-action-items">
          <thead>
            <tr>
              <th scope="col">{t('actionItems.priority')}</th>
              <th scope="col">{t('actionItems.titleField')}</th>
              <th scope="col">{t('actionItems.category')}</th>
              <th scope="col">{t('actionItems.owner')}</th>
              <th scope="col">{t('actionItems.due')}</th>
              <th scope="col">{t('actionItems.status')}</th>
              <th scope="col">{t('postmortems.one')}</th>
            </tr>
          </thead>
          <tbody>
            {(items.data ?? []).map((a) => (
              <tr key={a.id}>
                <td>{a.priority}</td>
                <td>{a.ticketUrl ? <ExternalLink href={a.ticketUrl}>{a.title}</ExternalLink> : a.title}</td>
                <td>{t(`actionItems.categories.${a.category}`)}</td>
                <td>{a.owner ?? '—'}</td>
                <td>
                  {a.dueDate ?? '—'}
                  {a.overdue && <span className="pill pill-red">{t('actionItems.overdue')}</span>}
                </td>
                <td>{t(`actionItems.statuses.${a.status}`)}</td>
                <td>
                  <Link href={`/postmortems/${encodeURIComponent(a.postmortemId)}`}>
                    {t('postmortems.open')}
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
