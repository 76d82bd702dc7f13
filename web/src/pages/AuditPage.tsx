/** The audit log (admins): every write with who, which credential, what changed and from where. */
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { type AuditPage as AuditAnswer, type AuditEvent, api, apiFile, mayAudit, saveBlob } from '../api';
import { ErrorNotice, Loading } from '../components/common';
import { dateTime } from '../format';
import { navigate, useLocation } from '../router';
import { useWhoami } from '../whoami';

/** Filters kept in the address, so a filtered view can be shared with another admin. */
const FILTERS = ['actor', 'action', 'targetType', 'targetId', 'team', 'since', 'until'] as const;
/** The text filters, in the form's order. */
const TEXT_FILTERS = ['actor', 'action', 'targetType', 'targetId', 'team'] as const;
const PAGE_SIZE = 100;

/** True once the server says the token is an admin's; the navigation shows the page only then. */
export function useIsAdmin(): boolean {
  const who = useWhoami();
  return who.data !== undefined && mayAudit(who.data);
}

/** A date input's day as the start of that day in UTC (ISO), or undefined when empty. */
function dayStart(day: string | null, plusDays = 0): string | undefined {
  if (!day) return undefined;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms + plusDays * 86_400_000).toISOString();
}

/** The API query of the filters: `until` is inclusive of its day in the form. */
function queryOf(search: URLSearchParams): URLSearchParams {
  const query = new URLSearchParams();
  for (const key of TEXT_FILTERS) {
    const value = search.get(key)?.trim();
    if (value) query.set(key, value);
  }
  const since = dayStart(search.get('since'));
  const until = dayStart(search.get('until'), 1);
  if (since) query.set('since', since);
  if (until) query.set('until', until);
  return query;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function Changes({ event }: { event: AuditEvent }) {
  const { t } = useTranslation();
  const fields = [...new Set([...Object.keys(event.changes.before), ...Object.keys(event.changes.after)])];
  if (!fields.length) return <span className="muted">{t('audit.noChanges')}</span>;
  return (
    <dl className="audit-changes">
      {fields.map((field) => {
        const before = event.changes.before[field];
        const after = event.changes.after[field];
        // A field added shows only its value, one removed only its old value struck through.
        return (
          <div key={field}>
            <dt>{field}</dt>
            <dd>
              {before === null || before === undefined ? null : <del>{show(before)}</del>}
              {before !== null && before !== undefined && after !== null && after !== undefined
                ? ' → '
                : null}
              {after === null || after === undefined ? null : <ins>{show(after)}</ins>}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

export function AuditPage() {
  const { t } = useTranslation();
  const { search } = useLocation();
  const isAdmin = useIsAdmin();
  const query = queryOf(search);
  const events = useInfiniteQuery({
    queryKey: ['audit', query.toString()],
    queryFn: ({ pageParam }) => {
      const page = new URLSearchParams(query);
      page.set('limit', String(PAGE_SIZE));
      if (pageParam) page.set('cursor', pageParam);
      return api<AuditAnswer>(`/api/v1/audit?${page}`);
    },
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: isAdmin,
  });
  const exported = useMutation({
    mutationFn: async () => {
      const all = new URLSearchParams(query);
      all.set('format', 'ndjson');
      saveBlob(await apiFile(`/api/v1/audit?${all}`), 'shinrai-audit.ndjson');
    },
  });
  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const next = new URLSearchParams();
    for (const key of FILTERS) {
      const value = String(form.get(key) ?? '').trim();
      if (value) next.set(key, value);
    }
    navigate(`/audit${next.size ? `?${next}` : ''}`, { replace: true });
  };

  if (!isAdmin)
    return (
      <section>
        <h1>{t('audit.title')}</h1>
        <p className="muted">{t('audit.adminsOnly')}</p>
      </section>
    );
  const rows = events.data?.pages.flatMap((p) => p.events) ?? [];
  return (
    <section>
      <h1>{t('audit.title')}</h1>
      <p className="muted">{t('audit.intro')}</p>
      <form className="filters" onSubmit={apply} key={search.toString()}>
        {TEXT_FILTERS.map((key) => (
          <label key={key}>
            {t(`audit.filter.${key}`)}
            <input name={key} defaultValue={search.get(key) ?? ''} />
          </label>
        ))}
        {(['since', 'until'] as const).map((key) => (
          <label key={key}>
            {t(`audit.filter.${key}`)}
            <input type="date" name={key} defaultValue={search.get(key) ?? ''} />
          </label>
        ))}
        <button type="submit">{t('audit.apply')}</button>
        <button type="button" onClick={() => exported.mutate()} disabled={exported.isPending}>
          {t('audit.export')}
        </button>
      </form>
      <ErrorNotice error={events.error ?? exported.error} />
      {events.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">{t('audit.none')}</p>
      ) : (
        <table data-testid="audit-events">
          <caption className="visually-hidden">{t('audit.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('audit.at')}</th>
              <th scope="col">{t('audit.actor')}</th>
              <th scope="col">{t('audit.action')}</th>
              <th scope="col">{t('audit.target')}</th>
              <th scope="col">{t('audit.changes')}</th>
              <th scope="col">{t('audit.from')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id}>
                <td>{dateTime(e.at)}</td>
                <td>
                  {e.actor}
                  <br />
                  <span className="muted">
                    {e.credential}
                    {e.role ? ` (${e.role})` : ''}
                  </span>
                </td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>
                  {e.target.type} <code>{e.target.id}</code>
                  {e.teams.length > 0 && (
                    <>
                      <br />
                      <span className="muted" data-testid="audit-teams">
                        {t('audit.teams', { teams: e.teams.join(', ') })}
                      </span>
                    </>
                  )}
                </td>
                <td>
                  <Changes event={e} />
                </td>
                <td>{e.clientAddress ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {events.hasNextPage && (
        <p>
          <button
            type="button"
            onClick={() => void events.fetchNextPage()}
            disabled={events.isFetchingNextPage}
          >
            {t('audit.more')}
          </button>
        </p>
      )}
    </section>
  );
}
