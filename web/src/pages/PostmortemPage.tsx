/**
 * The postmortem editor: markdown on the left, a live preview on the right rendered and sanitised
 * by the server (the same code that renders the stored postmortem), review status, action items.
 */
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  ACTION_CATEGORIES,
  ACTION_PRIORITIES,
  ACTION_STATUSES,
  type ActionItem,
  api,
  type IncidentDetail,
  type MarkdownPreview,
  type Postmortem,
} from '../api';
import { ActionItemsTable } from '../components/ActionItemsTable';
import { ErrorNotice, Loading } from '../components/common';
import { OtherTeamNotice } from '../components/TeamNotice';
import { dateTime } from '../format';
import { Link } from '../router';
import { useOwnedElsewhere, useShowsWrites, useWhoami } from '../whoami';

const NEXT: Record<Postmortem['status'], Postmortem['status'][]> = {
  draft: ['in-review'],
  'in-review': ['draft', 'published'],
  published: [],
};

/** The server's rendering of the edited markdown; null until something was edited (the stored HTML shows). */
function usePreview(markdown: string | undefined) {
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (markdown === undefined) {
      setHtml(null);
      setError(null);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      api<MarkdownPreview>('/api/v1/markdown/preview', { method: 'POST', body: { markdown } })
        .then((r) => {
          if (!cancelled) {
            setHtml(r.html);
            setError(null);
          }
        })
        .catch((e: unknown) => !cancelled && setError(e));
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [markdown]);
  return { html, error };
}

function ActionItems({ postmortem, locked }: { postmortem: Postmortem; locked: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const refresh = () => void client.invalidateQueries({ queryKey: ['postmortem', postmortem.id] });
  const [title, setTitle] = useState('');
  const [category, setCategory] = useState<ActionItem['category']>('prevent');
  const [priority, setPriority] = useState<ActionItem['priority']>('P1');
  const [owner, setOwner] = useState('');
  const [dueDate, setDueDate] = useState('');
  const [ticketUrl, setTicketUrl] = useState('');
  const create = useMutation({
    mutationFn: () =>
      api<ActionItem>(`/api/v1/postmortems/${encodeURIComponent(postmortem.id)}/action-items`, {
        method: 'POST',
        body: {
          title,
          category,
          priority,
          ...(owner ? { owner } : {}),
          ...(dueDate ? { dueDate } : {}),
          ...(ticketUrl ? { ticketUrl } : {}),
        },
      }),
    onSuccess: () => {
      setTitle('');
      setOwner('');
      setDueDate('');
      setTicketUrl('');
      refresh();
    },
  });
  const patch = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Partial<ActionItem> }) =>
      api<ActionItem>(`/api/v1/action-items/${encodeURIComponent(id)}`, { method: 'PATCH', body }),
    onSuccess: refresh,
  });
  if (postmortem.actionItems === undefined)
    return (
      <p className="muted" role="status" data-testid="action-items-unavailable">
        {t('actionItems.unavailable')}
      </p>
    );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      {postmortem.actionItems.length === 0 ? (
        <p className="muted">{t('actionItems.none')}</p>
      ) : (
        <ActionItemsTable
          items={postmortem.actionItems}
          testId="action-items"
          status={(a) =>
            locked ? (
              t(`actionItems.statuses.${a.status}`)
            ) : (
              <select
                aria-label={t('actionItems.statusOf', { title: a.title })}
                value={a.status}
                onChange={(e) =>
                  patch.mutate({ id: a.id, body: { status: e.target.value as ActionItem['status'] } })
                }
              >
                {ACTION_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {t(`actionItems.statuses.${s}`)}
                  </option>
                ))}
              </select>
            )
          }
        />
      )}
      <ErrorNotice error={patch.error} />
      {!locked && (
        <form className="row wrap" onSubmit={submit}>
          <label>
            {t('actionItems.titleField')}
            <input value={title} onChange={(e) => setTitle(e.target.value)} required />
          </label>
          <label>
            {t('actionItems.category')}
            <select value={category} onChange={(e) => setCategory(e.target.value as ActionItem['category'])}>
              {ACTION_CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {t(`actionItems.categories.${c}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('actionItems.priority')}
            <select value={priority} onChange={(e) => setPriority(e.target.value as ActionItem['priority'])}>
              {ACTION_PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('actionItems.owner')}
            <input value={owner} onChange={(e) => setOwner(e.target.value)} />
          </label>
          <label>
            {t('actionItems.due')}
            <input type="date" value={dueDate} onChange={(e) => setDueDate(e.target.value)} />
          </label>
          <label>
            {t('actionItems.ticket')}
            <input
              type="url"
              value={ticketUrl}
              onChange={(e) => setTicketUrl(e.target.value)}
              placeholder="https://"
            />
          </label>
          <button type="submit" disabled={create.isPending}>
            {t('actionItems.add')}
          </button>
        </form>
      )}
      <ErrorNotice error={create.error} />
    </>
  );
}

export function PostmortemPage({ id }: { id: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const postmortem = useQuery({
    queryKey: ['postmortem', id],
    queryFn: () => api<Postmortem>(`/api/v1/postmortems/${encodeURIComponent(id)}`),
    refetchInterval: false,
  });
  const [markdown, setMarkdown] = useState<string | undefined>(undefined);
  const text = markdown ?? postmortem.data?.markdown;
  const preview = usePreview(markdown);
  const save = useMutation({
    mutationFn: (body: { markdown?: string; status?: Postmortem['status'] }) =>
      api<Postmortem>(`/api/v1/postmortems/${encodeURIComponent(id)}`, { method: 'PATCH', body }),
    onSuccess: (p) => {
      client.setQueryData(['postmortem', id], (old: Postmortem | undefined) => ({ ...old, ...p }));
      void client.invalidateQueries({ queryKey: ['postmortems'] });
      setMarkdown(undefined);
    },
  });
  // Its incidents say whose it is: a team-scoped editor may change only its own teams' postmortems.
  // Only such an editor (whoami gave it `readOnly`) needs them asked.
  const scoped = useWhoami().data?.readOnly !== undefined;
  const incidents = useQueries({
    queries: (postmortem.data?.incidents ?? []).map((ref) => ({
      queryKey: ['postmortem-incident', ref],
      queryFn: () => api<IncidentDetail>(`/api/v1/incidents/${encodeURIComponent(ref)}`),
      enabled: scoped,
    })),
  });
  const owned = useOwnedElsewhere({
    services: incidents.flatMap((q) => q.data?.services ?? []),
    slos: incidents.flatMap((q) => q.data?.slos ?? []),
  });
  const showsWrites = useShowsWrites();
  const locked = owned.length > 0 || !showsWrites;
  if (postmortem.isPending) return <Loading />;
  if (postmortem.error || !postmortem.data) return <ErrorNotice error={postmortem.error} />;
  const p = postmortem.data;
  const dirty = markdown !== undefined && markdown !== p.markdown;
  const published = p.status === 'published';
  return (
    <section className="postmortem">
      <p className="crumbs">
        <Link href="/incidents">{t('nav.incidents')}</Link> /{' '}
        {p.incidents.map((ref) => (
          <Link key={ref} href={`/incidents/${encodeURIComponent(ref)}`}>
            {ref}{' '}
          </Link>
        ))}
      </p>
      <h1>{t('postmortems.for', { incidents: p.incidents.join(', ') })}</h1>
      <p>
        <span className="pill pill-grey" data-testid="pm-status">
          {t(`postmortems.status.${p.status}`)}
        </span>{' '}
        <span className="muted small">{t('postmortems.updated', { time: dateTime(p.updatedAt) })}</span>{' '}
        {(locked ? [] : NEXT[p.status]).map((s) => (
          <button
            key={s}
            type="button"
            onClick={() => save.mutate({ status: s })}
            disabled={dirty || save.isPending}
          >
            {t(`postmortems.moveTo.${s}`)}
          </button>
        ))}
      </p>
      <OtherTeamNotice owned={owned} />
      <ErrorNotice error={save.error} />
      <div className="editor">
        <label className="stack">
          <span>{t('postmortems.markdown')}</span>
          <textarea
            value={text ?? ''}
            onChange={(e) => setMarkdown(e.target.value)}
            readOnly={published || locked}
            rows={30}
            spellCheck
            data-testid="pm-markdown"
          />
        </label>
        <div className="stack">
          <span id="preview-label">{t('postmortems.preview')}</span>
          <ErrorNotice error={preview.error} />
          <article
            className="preview"
            aria-labelledby="preview-label"
            data-testid="pm-preview"
            // The HTML comes from the server's sanitiser (src/platform/markdown.ts).
            // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitised server-side by sanitize-html
            dangerouslySetInnerHTML={{ __html: preview.html ?? p.html }}
          />
        </div>
      </div>
      {!published && !locked && (
        <p>
          <button
            type="button"
            className="primary"
            disabled={!dirty || save.isPending}
            onClick={() => save.mutate({ markdown })}
          >
            {t('common.save')}
          </button>{' '}
          {dirty && <span className="muted small">{t('postmortems.unsaved')}</span>}
        </p>
      )}
      <h2>{t('actionItems.title')}</h2>
      <ActionItems postmortem={p} locked={locked} />
    </section>
  );
}
