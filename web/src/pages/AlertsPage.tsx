/** Firing and pending alerts with their burn rates, feedback, declaring an incident; silences. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type Alert, type AlertFeedback, api, type Incident, type Silence } from '../api';
import { ErrorNotice, Loading } from '../components/common';
import { OtherTeamNotice } from '../components/TeamNotice';
import { dateTime, number, relative } from '../format';
import { windowMs } from '../rag';
import { Link, navigate, useLocation } from '../router';
import { silenceOwnedByOtherTeams } from '../teams';
import { useOwnedElsewhere, useShowsWrites, useWhoami } from '../whoami';

function BurnRates({ rates }: { rates: Record<string, number | null> }) {
  const entries = Object.entries(rates).sort(([a], [b]) => windowMs(a) - windowMs(b));
  if (!entries.length) return <span className="muted">—</span>;
  return (
    <span className="burns">
      {entries.map(([w, v]) => (
        <span key={w} className="burn">
          <span className="muted">{w}</span> {v === null ? '—' : `${number(v)}×`}
        </span>
      ))}
    </span>
  );
}

function AlertRow({ alert }: { alert: Alert }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [verdict, setVerdict] = useState<string | null>(null);
  const feedback = useMutation({
    mutationFn: (v: 'actionable' | 'noise') =>
      api<AlertFeedback>(`/api/v1/alerts/${encodeURIComponent(alert.id)}/feedback`, {
        method: 'POST',
        body: { verdict: v },
      }),
    onSuccess: (r) => setVerdict(r.verdict),
  });
  const declare = useMutation({
    mutationFn: () =>
      api<Incident>(`/api/v1/alerts/${encodeURIComponent(alert.id)}/incident`, { method: 'POST', body: {} }),
    onSuccess: (incident) => {
      void client.invalidateQueries({ queryKey: ['incidents'] });
      navigate(`/incidents/${encodeURIComponent(incident.reference)}`);
    },
  });
  // A viewer gets no buttons; a team-scoped editor none on another team's alert, and is told why.
  const showsWrites = useShowsWrites();
  const owned = useOwnedElsewhere({ services: [alert.service], slos: [alert.slo] });
  const silence = () =>
    navigate(
      `/alerts?silence=${encodeURIComponent(`slo=${alert.slo},alertname=${alert.labels.alertname ?? alert.rule}`)}#silence-form`,
    );
  return (
    <tr data-alert-id={alert.id} className={`state-${alert.state}`}>
      <td>
        <span className={`pill ${alert.state === 'firing' ? 'pill-red' : 'pill-amber'}`}>
          {t(`alerts.state.${alert.state}`)}
        </span>
        {alert.silencedBy.length > 0 && <span className="pill pill-grey">{t('alerts.silenced')}</span>}
      </td>
      <td>
        <Link href={`/slos/${encodeURIComponent(alert.slo)}`}>{alert.slo}</Link>
        <div className="muted small">{alert.service}</div>
      </td>
      <td>
        {alert.rule} <span className="muted small">({t(`alerts.tier.${alert.tier}`)})</span>
      </td>
      <td>
        <BurnRates rates={alert.burnRates} />
      </td>
      <td>
        {alert.firedAt ? relative(alert.firedAt) : alert.pendingSince ? relative(alert.pendingSince) : '—'}
      </td>
      <td>
        <OtherTeamNotice owned={owned} inline />
        {showsWrites && owned.length === 0 && (
          <div className="actions">
            {alert.firedAt && (
              <>
                <button
                  type="button"
                  onClick={() => feedback.mutate('actionable')}
                  aria-pressed={verdict === 'actionable'}
                  disabled={feedback.isPending}
                >
                  {t('alerts.actionable')}
                </button>
                <button
                  type="button"
                  onClick={() => feedback.mutate('noise')}
                  aria-pressed={verdict === 'noise'}
                  disabled={feedback.isPending}
                  data-testid="noise"
                >
                  {t('alerts.noise')}
                </button>
              </>
            )}
            {alert.state === 'firing' && (
              <button type="button" onClick={() => declare.mutate()} disabled={declare.isPending}>
                {t('alerts.declare')}
              </button>
            )}
            <button type="button" onClick={silence}>
              {t('alerts.silence')}
            </button>
            {verdict && (
              <span role="status" className="ok small" data-testid="verdict">
                {t('alerts.recorded', { verdict: t(`alerts.${verdict}`) })}
              </span>
            )}
          </div>
        )}
        <ErrorNotice error={feedback.error ?? declare.error} />
      </td>
    </tr>
  );
}

const DURATIONS = { '1h': 3_600_000, '4h': 4 * 3_600_000, '1d': 86_400_000, '1w': 7 * 86_400_000 } as const;

function parseMatchers(text: string) {
  return text
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean)
    .map((m) => {
      const regex = m.includes('=~');
      const [label, value] = m.split(regex ? '=~' : '=');
      return { label: (label ?? '').trim(), value: (value ?? '').trim(), ...(regex ? { regex: true } : {}) };
    });
}

function SilenceForm({ initial }: { initial: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [matchers, setMatchers] = useState(initial);
  const [duration, setDuration] = useState<keyof typeof DURATIONS>('1h');
  const [comment, setComment] = useState('');
  const create = useMutation({
    mutationFn: () =>
      api<Silence>('/api/v1/silences', {
        method: 'POST',
        body: {
          matchers: parseMatchers(matchers),
          endsAt: new Date(Date.now() + DURATIONS[duration]).toISOString(),
          comment,
        },
      }),
    onSuccess: () => {
      setComment('');
      void client.invalidateQueries({ queryKey: ['silences'] });
      void client.invalidateQueries({ queryKey: ['alerts'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form id="silence-form" className="stack" onSubmit={submit}>
      <h3>{t('silences.create')}</h3>
      <label>
        {t('silences.matchers')}
        <input
          value={matchers}
          onChange={(e) => setMatchers(e.target.value)}
          required
          placeholder="slo=checkout-availability,severity=page"
          aria-describedby="matchers-help"
        />
      </label>
      <span id="matchers-help" className="muted small">
        {t('silences.matchersHelp')}
      </span>
      <label>
        {t('silences.duration')}
        <select value={duration} onChange={(e) => setDuration(e.target.value as keyof typeof DURATIONS)}>
          {Object.keys(DURATIONS).map((d) => (
            <option key={d} value={d}>
              {t(`silences.durations.${d}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('silences.comment')}
        <input value={comment} onChange={(e) => setComment(e.target.value)} required />
      </label>
      <div>
        <button type="submit" disabled={create.isPending}>
          {t('silences.submit')}
        </button>
      </div>
      {create.isSuccess && (
        <p role="status" className="ok">
          {t('silences.created')}
        </p>
      )}
      <ErrorNotice error={create.error} />
    </form>
  );
}

export function AlertsPage() {
  const { t } = useTranslation();
  const { search } = useLocation();
  const who = useWhoami();
  const showsWrites = useShowsWrites();
  const client = useQueryClient();
  const sloFilter = search.get('slo');
  const alerts = useQuery({ queryKey: ['alerts', 'active'], queryFn: () => api<Alert[]>('/api/v1/alerts') });
  const silences = useQuery({ queryKey: ['silences'], queryFn: () => api<Silence[]>('/api/v1/silences') });
  const expire = useMutation({
    mutationFn: (id: string) => api<void>(`/api/v1/silences/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['silences'] });
      void client.invalidateQueries({ queryKey: ['alerts'] });
    },
  });
  const list = (alerts.data ?? []).filter((a) => !sloFilter || a.slo === sloFilter);
  const firing = list.filter((a) => a.state === 'firing');
  const pending = list.filter((a) => a.state === 'pending');
  const table = (rows: Alert[], caption: string, testId: string) => (
    <table data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t('alerts.col.state')}</th>
          <th scope="col">{t('alerts.col.slo')}</th>
          <th scope="col">{t('alerts.col.rule')}</th>
          <th scope="col">{t('alerts.col.burnRates')}</th>
          <th scope="col">{t('alerts.col.since')}</th>
          <th scope="col">{t('alerts.col.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => (
          <AlertRow key={a.id} alert={a} />
        ))}
      </tbody>
    </table>
  );
  return (
    <section>
      <h1>{t('alerts.title')}</h1>
      {sloFilter && (
        <p>
          {t('alerts.filteredBy', { slo: sloFilter })} <Link href="/alerts">{t('alerts.showAll')}</Link>
        </p>
      )}
      <ErrorNotice error={alerts.error} />
      {alerts.isPending ? (
        <Loading />
      ) : (
        <>
          {firing.length ? table(firing, t('alerts.firing'), 'firing') : <p>{t('alerts.noneFiring')}</p>}
          {pending.length ? (
            table(pending, t('alerts.pending'), 'pending')
          ) : (
            <p className="muted">{t('alerts.nonePending')}</p>
          )}
        </>
      )}
      <h2>{t('silences.title')}</h2>
      <ErrorNotice error={silences.error ?? expire.error} />
      {silences.data && silences.data.length > 0 ? (
        <table data-testid="silences">
          <thead>
            <tr>
              <th scope="col">{t('silences.matchers')}</th>
              <th scope="col">{t('silences.until')}</th>
              <th scope="col">{t('silences.comment')}</th>
              <th scope="col">{t('silences.by')}</th>
              <th scope="col">{t('alerts.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {silences.data.map((s) => {
              const owned = silenceOwnedByOtherTeams(who.data, s.matchers);
              return (
                <tr key={s.id}>
                  <td>
                    <code>
                      {s.matchers.map((m) => `${m.label}${m.regex ? '=~' : '='}${m.value}`).join(', ')}
                    </code>
                  </td>
                  <td>{dateTime(s.endsAt)}</td>
                  <td>{s.comment}</td>
                  <td>{s.createdBy}</td>
                  <td>
                    {owned.length > 0 ? (
                      <OtherTeamNotice owned={owned} inline />
                    ) : (
                      showsWrites && (
                        <button type="button" onClick={() => expire.mutate(s.id)}>
                          {t('silences.expire')}
                        </button>
                      )
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="muted">{t('silences.none')}</p>
      )}
      {showsWrites && <SilenceForm key={search.get('silence') ?? ''} initial={search.get('silence') ?? ''} />}
    </section>
  );
}
