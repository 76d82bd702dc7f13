/** An incident's cause: the confirmed deployment or commit, or the suggested suspects to confirm (editors). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type CausedBy, type DeploymentDetail, type Suspect } from '../api';
import { signed } from '../delivery';
import { dateTime, number, percent } from '../format';
import { Link } from '../router';
import { useAccess } from '../whoami';
import { ErrorNotice, Loading } from './common';

/** The abbreviation a commit is shown by; the full sha is in its title. */
const SHORT_SHA_CHARS = 10;

type CauseInput = { deployment: string } | { commit: string } | null;

/** The server's reason names the suspect window ("… (within 24 h)"): its hours, if it does. */
function windowHours(reason: string): string | null {
  return /\(within (\d+(?:\.\d+)?) h\)/.exec(reason)?.[1] ?? null;
}

export function IncidentCause({
  reference,
  causedBy,
}: {
  reference: string;
  causedBy: CausedBy | undefined;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const access = useAccess();
  const [changing, setChanging] = useState(false);
  const set = useMutation({
    mutationFn: (cause: CauseInput) =>
      api(`/api/v1/incidents/${encodeURIComponent(reference)}`, {
        method: 'PATCH',
        body: { causedBy: cause },
      }),
    onSuccess: () => {
      setChanging(false);
      void client.invalidateQueries({ queryKey: ['incident', reference] });
      void client.invalidateQueries({ queryKey: ['incidents'] });
      void client.invalidateQueries({ queryKey: ['deployments'] });
      void client.invalidateQueries({ queryKey: ['deployment'] });
      void client.invalidateQueries({ queryKey: ['delivery-metrics'] });
    },
  });
  const choosing = !causedBy || changing;
  const canWrite = access === 'write';

  return (
    <section className="cause" data-testid="cause" data-access={access} aria-labelledby="cause-title">
      <h2 id="cause-title">{t('cause.title')}</h2>
      <p className="small muted">{t('cause.help')}</p>
      {causedBy && (
        <ConfirmedCause
          causedBy={causedBy}
          actions={
            canWrite && !changing ? (
              <span className="row inline">
                <button type="button" onClick={() => setChanging(true)} disabled={set.isPending}>
                  {t('cause.change')}
                </button>
                <button type="button" onClick={() => set.mutate(null)} disabled={set.isPending}>
                  {t('cause.remove')}
                </button>
              </span>
            ) : null
          }
        />
      )}
      {choosing && (
        <Suggestions
          reference={reference}
          canWrite={canWrite}
          pending={set.isPending}
          onConfirm={(cause) => set.mutate(cause)}
        />
      )}
      {choosing && canWrite && (
        <CauseForm
          pending={set.isPending}
          onSubmit={(cause) => set.mutate(cause)}
          onCancel={changing ? () => setChanging(false) : undefined}
        />
      )}
      {choosing && access === 'read' && <p className="small muted">{t('cause.editorsOnly')}</p>}
      <ErrorNotice error={set.error} />
    </section>
  );
}

/** The confirmed cause, who confirmed it and when; a deployment also shows its budget impact. */
function ConfirmedCause({ causedBy, actions }: { causedBy: CausedBy; actions: ReactNode }) {
  const { t } = useTranslation();
  return (
    <div className="confirmed" data-testid="confirmed-cause">
      {causedBy.deployment ? (
        <ConfirmedDeployment id={causedBy.deployment} />
      ) : causedBy.commit ? (
        <p>
          {t('cause.commit')}{' '}
          <code className="mono" title={causedBy.commit} data-field="commit">
            {causedBy.commit.slice(0, SHORT_SHA_CHARS)}
          </code>
        </p>
      ) : null}
      <p className="small muted" data-field="confirmed-by">
        {t('cause.confirmedBy', { who: causedBy.confirmedBy, time: dateTime(causedBy.confirmedAt) })}
      </p>
      {actions}
    </div>
  );
}

function ConfirmedDeployment({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const deployment = useQuery({
    queryKey: ['deployment', id],
    queryFn: () => api<DeploymentDetail>(`/api/v1/deployments/${encodeURIComponent(id)}`),
  });
  const d = deployment.data;
  return (
    <>
      <p data-field="deployment">
        {t('cause.deployment')} <code className="mono">{id}</code>
        {d && (
          <>
            {' · '}
            <Link href={`/delivery?service=${encodeURIComponent(d.service)}`}>{d.service}</Link>
            {d.version && <> {d.version}</>}
            {' · '}
            {t('cause.finished', { time: dateTime(d.finishedAt) })}
          </>
        )}
      </p>
      {deployment.isPending && <Loading />}
      <ErrorNotice error={deployment.error} />
      {d && d.budget.length > 0 && (
        <>
          <p className="small">{t('cause.budgetIntro')}</p>
          <ul className="shares" data-testid="cause-budget">
            {d.budget.map((b) => (
              <li key={b.slo} data-slo={b.slo}>
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
        </>
      )}
    </>
  );
}

/** The suggested causes from /suspects, each with its reason and (for editors) a Confirm button. */
function Suggestions({
  reference,
  canWrite,
  pending,
  onConfirm,
}: {
  reference: string;
  canWrite: boolean;
  pending: boolean;
  onConfirm: (cause: CauseInput) => void;
}) {
  const { t } = useTranslation();
  const suspects = useQuery({
    queryKey: ['incident', reference, 'suspects'],
    queryFn: () =>
      api<{ suspects: Suspect[] }>(`/api/v1/incidents/${encodeURIComponent(reference)}/suspects`),
  });
  return (
    <>
      <h3>{t('cause.suggested')}</h3>
      {suspects.isPending ? (
        <Loading />
      ) : suspects.error ? (
        <ErrorNotice error={suspects.error} />
      ) : suspects.data.suspects.length === 0 ? (
        <p className="muted" data-testid="no-suspects">
          {t('cause.noSuspects')}
        </p>
      ) : (
        <ul className="suspects" data-testid="suspects">
          {suspects.data.suspects.map((s) => {
            const hours = windowHours(s.reason);
            return (
              <li key={s.id} data-suspect={s.id}>
                <div>
                  <Link href={`/delivery?service=${encodeURIComponent(s.service)}`}>{s.service}</Link>{' '}
                  <strong>{s.version ?? s.id}</strong>{' '}
                  <span className="muted small">
                    {s.version && (
                      <>
                        <code className="mono">{s.id}</code> ·{' '}
                      </>
                    )}
                    {t('cause.finished', { time: dateTime(s.finishedAt) })}
                  </span>
                </div>
                <div className="small" data-field="reason" title={s.reason}>
                  {hours
                    ? t('cause.reason', { service: s.service, hours })
                    : t('cause.reasonNoWindow', { service: s.service })}
                </div>
                {canWrite && (
                  <button
                    type="button"
                    disabled={pending}
                    onClick={() => onConfirm({ deployment: s.id })}
                    aria-label={t('cause.confirmLabel', { id: s.id })}
                  >
                    {t('cause.confirm')}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}

/** Name the cause by hand: a deployment id or a commit sha (an abbreviated sha is completed by the server). */
function CauseForm({
  pending,
  onSubmit,
  onCancel,
}: {
  pending: boolean;
  onSubmit: (cause: CauseInput) => void;
  onCancel: (() => void) | undefined;
}) {
  const { t } = useTranslation();
  const [kind, setKind] = useState<'deployment' | 'commit'>('deployment');
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const text = value.trim();
    if (!text) return;
    onSubmit(kind === 'deployment' ? { deployment: text } : { commit: text });
  };
  return (
    <form className="row cause-form" onSubmit={submit} data-testid="cause-form">
      <label>
        {t('cause.kind')}
        <select value={kind} onChange={(e) => setKind(e.target.value as 'deployment' | 'commit')}>
          <option value="deployment">{t('cause.kindDeployment')}</option>
          <option value="commit">{t('cause.kindCommit')}</option>
        </select>
      </label>
      <label>
        {kind === 'deployment' ? t('cause.deploymentId') : t('cause.commitSha')}
        <input
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder={kind === 'deployment' ? 'checkout-1042' : '9fceb02'}
          required
          maxLength={200}
          className="mono"
        />
      </label>
      <button type="submit" disabled={pending}>
        {t('cause.name')}
      </button>
      {onCancel && (
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      )}
    </form>
  );
}
