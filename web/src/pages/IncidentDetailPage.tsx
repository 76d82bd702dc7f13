/** One incident: status, milestones, roles, budget impact, catch-up, cause, timeline (star, public), postmortem. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  ApiError,
  api,
  type IncidentDetail,
  MILESTONES,
  type Postmortem,
  SEVERITIES,
  STATUSES,
  serverSeverities,
  type TimelineEvent,
} from '../api';
import { ErrorNotice, ExternalLink, Loading } from '../components/common';
import { IncidentCause } from '../components/IncidentCause';
import { dateTime, number, percent } from '../format';
import { writeUpLanguage } from '../i18n';
import { Link, navigate } from '../router';
import { ownedByOtherTeams } from '../teams';
import { useWhoami } from '../whoami';

const ROLES = ['commander', 'communications', 'operations', 'scribe'];

/** `datetime-local` works in local time without a zone: convert both ways. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A milestone: its time, or "set to now"; "edit" sets any time or clears it. */
function MilestoneEditor({
  name,
  value,
  onSet,
}: {
  name: string;
  value: string | undefined;
  onSet: (iso: string | null) => void;
}) {
  const { t } = useTranslation();
  const [editing, setEditing] = useState(false);
  const [input, setInput] = useState('');
  if (editing)
    return (
      <form
        className="row inline"
        onSubmit={(e) => {
          e.preventDefault();
          onSet(input ? new Date(input).toISOString() : null);
          setEditing(false);
        }}
      >
        <input
          type="datetime-local"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          aria-label={t(`incidents.milestone.${name}`)}
        />
        <button type="submit">{t('common.save')}</button>
        <button type="button" onClick={() => setEditing(false)}>
          {t('common.cancel')}
        </button>
      </form>
    );
  return (
    <span className="row inline">
      {value ? (
        dateTime(value)
      ) : (
        <button type="button" onClick={() => onSet(new Date().toISOString())}>
          {t('incidents.setNow')}
        </button>
      )}
      <button
        type="button"
        className="link"
        onClick={() => {
          setInput(value ? toLocalInput(value) : '');
          setEditing(true);
        }}
        aria-label={t('incidents.editMilestone', { milestone: t(`incidents.milestone.${name}`) })}
      >
        {t('common.edit')}
      </button>
    </span>
  );
}

function TimelineRow({
  reference,
  event,
  locked,
}: {
  reference: string;
  event: TimelineEvent;
  locked: boolean;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [unavailable, setUnavailable] = useState(false);
  const patch = useMutation({
    mutationFn: (body: { starred?: boolean; public?: boolean }) =>
      api(`/api/v1/incidents/${encodeURIComponent(reference)}/events/${encodeURIComponent(event.id)}`, {
        method: 'PATCH',
        body,
      }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['incident', reference] }),
    onError: (e) => {
      // Servers without the timeline-event API answer 404 (no route) or 405.
      if (e instanceof ApiError && (e.status === 404 || e.status === 405) && e.detail.startsWith('no route'))
        setUnavailable(true);
    },
  });
  return (
    <li className={`event kind-${event.kind}${event.starred ? ' starred' : ''}`} data-event-id={event.id}>
      <div className="event-head">
        <time dateTime={event.at}>{dateTime(event.at)}</time>
        <span className="muted small">
          {event.kind} · {event.actor} · {event.source}
        </span>
        {!locked && (
          <span className="event-tools">
            <button
              type="button"
              aria-pressed={event.starred}
              disabled={unavailable || patch.isPending}
              onClick={() => patch.mutate({ starred: !event.starred })}
              title={t('timeline.starHelp')}
            >
              <span aria-hidden="true">{event.starred ? '★' : '☆'}</span> {t('timeline.star')}
            </button>
            <button
              type="button"
              aria-pressed={event.public}
              disabled={unavailable || patch.isPending}
              onClick={() => patch.mutate({ public: !event.public })}
              title={t('timeline.publicHelp')}
            >
              {event.public ? t('timeline.isPublic') : t('timeline.makePublic')}
            </button>
          </span>
        )}
      </div>
      <p className="event-text">{event.text}</p>
      {unavailable ? (
        <p className="muted small" role="status">
          {t('common.notAvailable')}
        </p>
      ) : (
        <ErrorNotice error={patch.error} />
      )}
    </li>
  );
}

export function IncidentDetailPage({ reference }: { reference: string }) {
  const { t, i18n } = useTranslation();
  const client = useQueryClient();
  // The server writes the catch-up summary and the postmortem draft in the page's language.
  const lang = writeUpLanguage(i18n.language);
  const key = ['incident', reference];
  const incident = useQuery({
    queryKey: [...key, lang],
    queryFn: () => api<IncidentDetail>(`/api/v1/incidents/${encodeURIComponent(reference)}?lang=${lang}`),
  });
  const postmortems = useQuery({
    queryKey: ['postmortems'],
    queryFn: () => api<Postmortem[]>('/api/v1/postmortems'),
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: key });
    void client.invalidateQueries({ queryKey: ['incidents'] });
  };
  const change = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api(`/api/v1/incidents/${encodeURIComponent(reference)}`, { method: 'PATCH', body }),
    onSuccess: refresh,
  });
  const [note, setNote] = useState('');
  const [noteStarred, setNoteStarred] = useState(false);
  const [notePublic, setNotePublic] = useState(false);
  const addNote = useMutation({
    mutationFn: () =>
      api(`/api/v1/incidents/${encodeURIComponent(reference)}/notes`, {
        method: 'POST',
        body: { text: note, starred: noteStarred, public: notePublic },
      }),
    onSuccess: () => {
      setNote('');
      setNoteStarred(false);
      setNotePublic(false);
      refresh();
    },
  });
  const draft = useMutation({
    mutationFn: () =>
      api<Postmortem>(`/api/v1/incidents/${encodeURIComponent(reference)}/postmortem?lang=${lang}`, {
        method: 'POST',
        body: {},
      }),
    onSuccess: (p) => {
      void client.invalidateQueries({ queryKey: ['postmortems'] });
      navigate(`/postmortems/${encodeURIComponent(p.id)}`);
    },
  });
  const severities = useQuery({
    queryKey: ['severities'],
    queryFn: serverSeverities,
    refetchInterval: false,
  });
  const [roleName, setRoleName] = useState('commander');
  const [person, setPerson] = useState('');
  const who = useWhoami();

  if (incident.isPending) return <Loading />;
  if (incident.error || !incident.data) return <ErrorNotice error={incident.error} />;
  const i = incident.data;
  const postmortem = (postmortems.data ?? []).find((p) => p.incidents.includes(i.reference));
  // A team-scoped editor reads another team's incident but may not change it: its controls are off.
  const otherTeams = ownedByOtherTeams(who.data, i);
  // A viewer reads it all too: the same controls off, without a notice (nothing to explain).
  const locked = otherTeams.length > 0 || who.data?.role === 'viewer';
  const submitNote = (e: FormEvent) => {
    e.preventDefault();
    addNote.mutate();
  };
  const submitRole = (e: FormEvent) => {
    e.preventDefault();
    change.mutate({ roles: { [roleName]: person.trim() || null } });
    setPerson('');
  };

  return (
    <section className="incident">
      <p className="crumbs">
        <Link href="/incidents">{t('nav.incidents')}</Link> / {i.reference}
      </p>
      <h1>
        <span className={`pill sev-${i.severity}`}>{i.severity}</span> {i.reference} {i.title}
      </h1>
      {i.summary && <p data-testid="summary">{i.summary}</p>}
      <IncidentFacts incident={i} />
      {i.requiresPostmortem && (
        <p className="notice warn" role="status">
          {t('incidents.requiresPostmortem')}
        </p>
      )}
      {locked && (
        <p className="notice" role="status" data-testid="other-team">
          {t('incidents.otherTeam', { names: otherTeams.join(', ') })}
        </p>
      )}
      <ErrorNotice error={change.error} />
      <fieldset className="plain" disabled={locked}>
        <div className="grid2">
          <div>
            <h2>{t('incidents.state')}</h2>
            <div className="row">
              <label>
                {t('incidents.col.status')}
                <select
                  value={i.status}
                  onChange={(e) => change.mutate({ status: e.target.value })}
                  data-testid="status"
                >
                  {STATUSES.map((s) => (
                    <option key={s} value={s}>
                      {t(`incidents.status.${s}`)}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t('incidents.col.severity')}
                <select value={i.severity} onChange={(e) => change.mutate({ severity: e.target.value })}>
                  {(severities.data ?? SEVERITIES).map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <h3>{t('incidents.milestones')}</h3>
            <dl className="milestones">
              {MILESTONES.map((m) => (
                <div key={m}>
                  <dt>{t(`incidents.milestone.${m}`)}</dt>
                  <dd>
                    <MilestoneEditor
                      name={m}
                      value={i.milestones[m]}
                      onSet={(iso) => change.mutate({ milestones: { [m]: iso } })}
                    />
                  </dd>
                </div>
              ))}
            </dl>
            {i.suggestedImpactStart.some((s) => s.impactStartedAt) && (
              <p className="small">
                {i.suggestedImpactStart
                  .filter((s) => s.impactStartedAt)
                  .map((s) => (
                    <span key={s.slo}>
                      {t('incidents.suggestedStart', { slo: s.slo, time: dateTime(s.impactStartedAt) })}{' '}
                      {!i.milestones.impactStartedAt && (
                        <button
                          type="button"
                          onClick={() =>
                            change.mutate({ milestones: { impactStartedAt: s.impactStartedAt } })
                          }
                        >
                          {t('incidents.useSuggestion')}
                        </button>
                      )}
                    </span>
                  ))}
              </p>
            )}
            <h3>{t('incidents.roles')}</h3>
            {Object.keys(i.roles).length === 0 ? (
              <p className="muted">{t('incidents.noRoles')}</p>
            ) : (
              <dl className="roles">
                {Object.entries(i.roles).map(([role, who]) => (
                  <div key={role}>
                    <dt>{ROLES.includes(role) ? t(`incidents.role.${role}`) : role}</dt>
                    <dd>{who}</dd>
                  </div>
                ))}
              </dl>
            )}
            {!locked && (
              <form className="row" onSubmit={submitRole}>
                <label>
                  {t('incidents.roleLabel')}
                  <select value={roleName} onChange={(e) => setRoleName(e.target.value)}>
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {t(`incidents.role.${r}`)}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  {t('incidents.person')}
                  <input
                    value={person}
                    onChange={(e) => setPerson(e.target.value)}
                    placeholder={t('incidents.personHint')}
                  />
                </label>
                <button type="submit">{t('incidents.assign')}</button>
              </form>
            )}
          </div>
          <div>
            <h2>{t('incidents.budgetImpact')}</h2>
            {i.budgetImpact.length === 0 ? (
              <p className="muted">{t('incidents.noImpact')}</p>
            ) : (
              <table data-testid="impact">
                <thead>
                  <tr>
                    <th scope="col">{t('incidents.col.slo')}</th>
                    <th scope="col">{t('incidents.col.consumed')}</th>
                    <th scope="col">{t('incidents.col.share')}</th>
                  </tr>
                </thead>
                <tbody>
                  {i.budgetImpact.map((b) => (
                    <tr key={b.slo}>
                      <td>
                        <Link href={`/slos/${encodeURIComponent(b.slo.split('/')[0] ?? b.slo)}`}>
                          {b.slo}
                        </Link>
                      </td>
                      <td>{t(`incidents.unit.${b.unit}`, { value: number(b.consumed, 0) })}</td>
                      <td>{percent(b.shareOfBudget)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <h3>{t('incidents.catchUp')}</h3>
            <pre className="catchup">{i.catchUp}</pre>
            <h3>{t('postmortems.one')}</h3>
            {postmortem ? (
              <Link href={`/postmortems/${encodeURIComponent(postmortem.id)}`}>
                {t('postmortems.open')} ({t(`postmortems.status.${postmortem.status}`)})
              </Link>
            ) : locked ? (
              <p className="muted">{t('postmortems.none')}</p>
            ) : (
              <button type="button" onClick={() => draft.mutate()} disabled={draft.isPending}>
                {t('postmortems.draft')}
              </button>
            )}
            <ErrorNotice error={draft.error} />
          </div>
        </div>

        <IncidentCause reference={reference} causedBy={i.causedBy} />
      </fieldset>

      <h2>{t('timeline.title')}</h2>
      {!locked && (
        <form className="stack note" onSubmit={submitNote}>
          <label>
            {t('timeline.note')}
            <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} required />
          </label>
          <div className="row">
            <label className="check">
              <input
                type="checkbox"
                checked={noteStarred}
                onChange={(e) => setNoteStarred(e.target.checked)}
              />
              {t('timeline.star')}
            </label>
            <label className="check">
              <input type="checkbox" checked={notePublic} onChange={(e) => setNotePublic(e.target.checked)} />
              {t('timeline.makePublic')}
            </label>
            <button type="submit" disabled={addNote.isPending}>
              {t('timeline.add')}
            </button>
          </div>
          <ErrorNotice error={addNote.error} />
        </form>
      )}
      <ol className="timeline" data-testid="timeline">
        {[...i.timeline].reverse().map((e) => (
          <TimelineRow key={e.id} reference={i.reference} event={e} locked={locked} />
        ))}
      </ol>
    </section>
  );
}

/** What the incident is about: services, SLOs, labels, root cause and runbooks. */
function IncidentFacts({ incident: i }: { incident: IncidentDetail }) {
  const { t } = useTranslation();
  const labels = Object.entries(i.labels);
  const facts: Array<[string, ReactNode]> = [
    ['services', i.services.join(', ')],
    [
      'slos',
      i.slos.map((slo, n) => (
        <span key={slo}>
          {n > 0 && ', '}
          <Link href={`/slos/${encodeURIComponent(slo)}`}>{slo}</Link>
        </span>
      )),
    ],
    [
      'labels',
      labels.map(([k, v]) => (
        <code key={k} className="tag">
          {k}={v}
        </code>
      )),
    ],
    ['rootCause', i.rootCause],
    [
      'runbooks',
      i.runbooks.map((url) => (
        <span key={url} className="block">
          <ExternalLink href={url} />
        </span>
      )),
    ],
  ];
  return (
    <dl className="facts" data-testid="facts">
      {facts.map(([key, value]) => (
        <div key={key}>
          <dt>{t(`incidents.info.${key}`)}</dt>
          <dd>
            {(Array.isArray(value) ? value.length > 0 : Boolean(value)) ? value : t('incidents.info.noneSet')}
          </dd>
        </div>
      ))}
    </dl>
  );
}
