/** Incidents (open first), declaring one, and the postmortems. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  api,
  type Incident,
  OPEN_STATUSES,
  type Postmortem,
  SEVERITIES,
  type Slo,
  serverSeverities,
} from '../api';
import { ErrorNotice, Loading } from '../components/common';
import { dateTime } from '../format';
import { Link, navigate } from '../router';
import { useShowsWrites } from '../whoami';

function DeclareForm() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const slos = useQuery({ queryKey: ['slos'], queryFn: () => api<Slo[]>('/api/v1/slos') });
  const [title, setTitle] = useState('');
  const severities = useQuery({
    queryKey: ['severities'],
    queryFn: serverSeverities,
    refetchInterval: false,
  });
  const scale = severities.data ?? SEVERITIES;
  const [chosenSeverity, setSeverity] = useState<string | null>(null);
  // The second most severe by default (SEV2 on the default scale): most declared incidents are not the worst kind.
  const severity = chosenSeverity ?? scale[Math.min(1, scale.length - 1)] ?? 'SEV2';
  const [summary, setSummary] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const declare = useMutation({
    mutationFn: () => {
      const picked = (slos.data ?? []).filter((s) => chosen.includes(s.id));
      return api<Incident>('/api/v1/incidents', {
        method: 'POST',
        body: {
          title,
          severity,
          ...(summary ? { summary } : {}),
          slos: picked.map((s) => s.id),
          services: [...new Set(picked.map((s) => s.service))],
        },
      });
    },
    onSuccess: (incident) => {
      void client.invalidateQueries({ queryKey: ['incidents'] });
      navigate(`/incidents/${encodeURIComponent(incident.reference)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    declare.mutate();
  };
  return (
    <form className="stack declare" onSubmit={submit} data-testid="declare-form">
      <h2>{t('incidents.declare')}</h2>
      <label>
        {t('incidents.field.title')}
        <input
          name="title"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          required
          maxLength={200}
        />
      </label>
      <label>
        {t('incidents.field.severity')}
        <select name="severity" value={severity} onChange={(e) => setSeverity(e.target.value)}>
          {scale.map((s) => (
            <option key={s} value={s}>
              {SEVERITIES.includes(s) ? `${s} — ${t(`incidents.severity.${s}`)}` : s}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>{t('incidents.field.slos')}</legend>
        <div className="checks">
          {(slos.data ?? []).map((s) => (
            <label key={s.id} className="check">
              <input
                type="checkbox"
                name="slos"
                value={s.id}
                checked={chosen.includes(s.id)}
                onChange={(e) =>
                  setChosen(e.target.checked ? [...chosen, s.id] : chosen.filter((c) => c !== s.id))
                }
              />
              {s.displayName ?? s.name} <span className="muted small">({s.service})</span>
            </label>
          ))}
        </div>
      </fieldset>
      <label>
        {t('incidents.field.summary')}
        <textarea name="summary" value={summary} onChange={(e) => setSummary(e.target.value)} rows={3} />
      </label>
      <div>
        <button type="submit" className="primary" disabled={declare.isPending}>
          {t('incidents.declareSubmit')}
        </button>
      </div>
      <ErrorNotice error={declare.error} />
    </form>
  );
}

export function IncidentsPage() {
  const { t } = useTranslation();
  const [declaring, setDeclaring] = useState(false);
  const incidents = useQuery({
    queryKey: ['incidents', 'all'],
    queryFn: () => api<Incident[]>('/api/v1/incidents?state=all'),
  });
  const postmortems = useQuery({
    queryKey: ['postmortems'],
    queryFn: () => api<Postmortem[]>('/api/v1/postmortems'),
  });
  const showsWrites = useShowsWrites();
  const list = [...(incidents.data ?? [])].sort(
    (a, b) => Number(OPEN_STATUSES.includes(b.status)) - Number(OPEN_STATUSES.includes(a.status)),
  );
  return (
    <section>
      <h1>{t('incidents.title')}</h1>
      {showsWrites && (
        <p>
          <button
            type="button"
            className="primary"
            onClick={() => setDeclaring(!declaring)}
            aria-expanded={declaring}
          >
            {t('incidents.declare')}
          </button>
        </p>
      )}
      {showsWrites && declaring && <DeclareForm />}
      <ErrorNotice error={incidents.error} />
      {incidents.isPending ? (
        <Loading />
      ) : list.length === 0 ? (
        <p className="muted">{t('incidents.none')}</p>
      ) : (
        <table data-testid="incidents">
          <thead>
            <tr>
              <th scope="col">{t('incidents.col.reference')}</th>
              <th scope="col">{t('incidents.col.title')}</th>
              <th scope="col">{t('incidents.col.severity')}</th>
              <th scope="col">{t('incidents.col.status')}</th>
              <th scope="col">{t('incidents.col.services')}</th>
              <th scope="col">{t('incidents.col.declared')}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((i) => (
              <tr key={i.id} data-ref={i.reference}>
                <td>
                  <Link href={`/incidents/${encodeURIComponent(i.reference)}`}>{i.reference}</Link>
                </td>
                <td>
                  {i.title}
                  {i.drill && <span className="pill pill-grey">{t('incidents.drill')}</span>}
                </td>
                <td>
                  <span className={`pill sev-${i.severity}`}>{i.severity}</span>
                </td>
                <td>{t(`incidents.status.${i.status}`)}</td>
                <td>{i.services.join(', ') || '—'}</td>
                <td>{dateTime(i.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('postmortems.title')}</h2>
      <p>
        <Link href="/action-items?status=open">{t('actionItems.allOpen')}</Link> ·{' '}
        <Link href="/action-items?status=open&overdue=true">{t('actionItems.allOverdue')}</Link>
      </p>
      <ErrorNotice error={postmortems.error} />
      {postmortems.data && postmortems.data.length > 0 ? (
        <ul>
          {postmortems.data.map((p) => (
            <li key={p.id}>
              <Link href={`/postmortems/${encodeURIComponent(p.id)}`}>
                {t('postmortems.for', { incidents: p.incidents.join(', ') })}
              </Link>{' '}
              <span className="muted small">
                {t(`postmortems.status.${p.status}`)} · {dateTime(p.updatedAt)}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{t('postmortems.none')}</p>
      )}
    </section>
  );
}
