/**
 * Administration (admins): the teams Shinrai knows, API tokens (create with a role and teams, the
 * secret shown once, revoke after a confirmation) and, with single sign-on, the roles assigned to
 * people. Everything goes through the admin API (docs/api.md), which audits each change.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  type ApiToken,
  type AuthConfig,
  api,
  type CreatedToken,
  type NewToken,
  type PersonAssignment,
  ROLES,
  type Team,
} from '../api';
import { ErrorNotice, Loading } from '../components/common';
import { useTeams } from '../components/TeamNotice';
import { dateTime } from '../format';
import { useWhoami } from '../whoami';

type Role = (typeof ROLES)[number];

export function AdminPage() {
  const { t } = useTranslation();
  const who = useWhoami();
  const config = useQuery({
    queryKey: ['auth-config'],
    queryFn: () => api<AuthConfig>('/auth/config'),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  if (who.isPending) return <Loading />;
  if (who.data?.role !== 'admin')
    return (
      <section>
        <h1>{t('admin.title')}</h1>
        <p className="notice">{t('admin.adminsOnly')}</p>
      </section>
    );
  return (
    <section className="admin">
      <h1>{t('admin.title')}</h1>
      <p className="muted">{t('admin.intro')}</p>
      <Teams />
      <Tokens />
      {config.data?.sso && <People />}
    </section>
  );
}

function Teams() {
  const { t } = useTranslation();
  const teams = useTeams();
  return (
    <>
      <h2>{t('admin.teams.title')}</h2>
      <p className="muted small">{t('admin.teams.intro')}</p>
      <ErrorNotice error={teams.error} />
      {teams.isPending ? (
        <Loading />
      ) : teams.data?.length ? (
        <table data-testid="teams" className="compact">
          <thead>
            <tr>
              <th scope="col">{t('admin.teams.team')}</th>
              <th scope="col">{t('admin.teams.services')}</th>
            </tr>
          </thead>
          <tbody>
            {teams.data.map((team) => (
              <tr key={team.team}>
                <td>{team.team}</td>
                <td>{team.services.join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{t('admin.teams.none')}</p>
      )}
    </>
  );
}

/** A role picker and one checkbox per known team; no team ticked means every team. */
function RoleAndTeams({
  role,
  setRole,
  teams,
  setTeams,
}: {
  role: Role;
  setRole: (role: Role) => void;
  teams: string[];
  setTeams: (teams: string[]) => void;
}) {
  const { t } = useTranslation();
  const known = useTeams();
  return (
    <>
      <label>
        {t('admin.role')}
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`admin.roles.${r}`)}
            </option>
          ))}
        </select>
      </label>
      <fieldset className="plain">
        <legend>{t('admin.teamsField')}</legend>
        {(known.data ?? []).map((team: Team) => (
          <label key={team.team} className="check">
            <input
              type="checkbox"
              checked={teams.includes(team.team)}
              onChange={(e) =>
                setTeams(e.target.checked ? [...teams, team.team] : teams.filter((x) => x !== team.team))
              }
            />
            {team.team}
          </label>
        ))}
        <span className="muted small">{t('admin.teamsHelp')}</span>
      </fieldset>
    </>
  );
}

function Tokens() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const tokens = useQuery({
    queryKey: ['admin-tokens'],
    queryFn: () => api<ApiToken[]>('/api/v1/auth/tokens'),
  });
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [teams, setTeams] = useState<string[]>([]);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ['admin-tokens'] });
  const create = useMutation({
    mutationFn: (body: NewToken) => api<CreatedToken>('/api/v1/auth/tokens', { method: 'POST', body }),
    onSuccess: (token) => {
      setCreated(token);
      setName('');
      setTeams([]);
      refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (tokenName: string) =>
      api<void>(`/api/v1/auth/tokens/${encodeURIComponent(tokenName)}`, { method: 'DELETE' }),
    onSuccess: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    create.mutate({ name: name.trim(), role, ...(teams.length ? { teams } : {}) });
  };
  return (
    <>
      <h2>{t('admin.tokens.title')}</h2>
      <ErrorNotice error={tokens.error ?? revoke.error} />
      {tokens.isPending ? (
        <Loading />
      ) : (
        <table data-testid="tokens">
          <thead>
            <tr>
              <th scope="col">{t('admin.tokens.name')}</th>
              <th scope="col">{t('admin.role')}</th>
              <th scope="col">{t('admin.teamsField')}</th>
              <th scope="col">{t('admin.tokens.created')}</th>
              <th scope="col">{t('admin.tokens.lastUsed')}</th>
              <th scope="col">{t('admin.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {(tokens.data ?? []).map((token) => (
              <tr key={token.id} data-token={token.name}>
                <td>{token.name}</td>
                <td>{t(`admin.roles.${token.role}`)}</td>
                <td>{token.teams?.join(', ') ?? t('admin.everyTeam')}</td>
                <td>{dateTime(token.createdAt)}</td>
                <td>{token.lastUsedAt ? dateTime(token.lastUsedAt) : t('admin.tokens.never')}</td>
                <td>
                  {token.revokedAt ? (
                    <span className="muted">
                      {t('admin.tokens.revokedAt', { time: dateTime(token.revokedAt) })}
                    </span>
                  ) : (
                    <ConfirmButton
                      label={t('admin.tokens.revoke')}
                      question={t('admin.tokens.confirm', { name: token.name })}
                      confirm={t('admin.tokens.confirmRevoke')}
                      pending={revoke.isPending}
                      onConfirm={() => revoke.mutate(token.name)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="stack" onSubmit={submit} data-testid="create-token">
        <h3>{t('admin.tokens.create')}</h3>
        <label>
          {t('admin.tokens.name')}
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,62}"
            placeholder="payments-ci"
          />
        </label>
        <RoleAndTeams role={role} setRole={setRole} teams={teams} setTeams={setTeams} />
        <div>
          <button type="submit" className="primary" disabled={create.isPending}>
            {t('admin.tokens.createButton')}
          </button>
        </div>
        <ErrorNotice error={create.error} />
      </form>
      {created && <NewSecret token={created} onDone={() => setCreated(null)} />}
    </>
  );
}

/** The clear token, this once: with a copy button and a warning that it is not shown again. */
function NewSecret({ token, onDone }: { token: CreatedToken; onDone: () => void }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  return (
    <div className="notice" role="status" data-testid="new-token">
      <p>
        <strong>{t('admin.tokens.createdOnce', { name: token.name })}</strong>
      </p>
      <label>
        {t('admin.tokens.secret')}
        <input
          readOnly
          value={token.token}
          size={70}
          onFocus={(e) => e.target.select()}
          data-testid="secret"
        />
      </label>{' '}
      <button
        type="button"
        onClick={() => {
          navigator.clipboard
            .writeText(token.token)
            .then(() => setCopied(true))
            .catch(() => setCopied(false));
        }}
      >
        {t('admin.tokens.copy')}
      </button>{' '}
      {copied && <span className="ok small">{t('admin.tokens.copied')}</span>}{' '}
      <button type="button" onClick={onDone}>
        {t('admin.tokens.done')}
      </button>
    </div>
  );
}

function People() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const people = useQuery({
    queryKey: ['admin-people'],
    queryFn: () => api<PersonAssignment[]>('/api/v1/auth/people'),
  });
  const [person, setPerson] = useState('');
  const [role, setRole] = useState<Role>('editor');
  const [teams, setTeams] = useState<string[]>([]);
  const refresh = () => void client.invalidateQueries({ queryKey: ['admin-people'] });
  const assign = useMutation({
    mutationFn: () =>
      api<PersonAssignment>(`/api/v1/auth/people/${encodeURIComponent(person.trim())}`, {
        method: 'PUT',
        body: { role, teams },
      }),
    onSuccess: () => {
      setPerson('');
      setTeams([]);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (who: string) =>
      api<{ endedSessions: number }>(`/api/v1/auth/people/${encodeURIComponent(who)}`, { method: 'DELETE' }),
    onSuccess: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    assign.mutate();
  };
  return (
    <>
      <h2>{t('admin.people.title')}</h2>
      <p className="muted small">{t('admin.people.intro')}</p>
      <ErrorNotice error={people.error ?? remove.error} />
      {people.isPending ? (
        <Loading />
      ) : people.data?.length ? (
        <table data-testid="people">
          <thead>
            <tr>
              <th scope="col">{t('admin.people.person')}</th>
              <th scope="col">{t('admin.role')}</th>
              <th scope="col">{t('admin.teamsField')}</th>
              <th scope="col">{t('admin.people.assigned')}</th>
              <th scope="col">{t('admin.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {people.data.map((p) => (
              <tr key={p.person} data-person={p.person}>
                <td>{p.person}</td>
                <td>{t(`admin.roles.${p.role}`)}</td>
                <td>{p.teams.join(', ') || t('admin.everyTeam')}</td>
                <td>{t('admin.people.by', { name: p.assignedBy, time: dateTime(p.assignedAt) })}</td>
                <td>
                  <ConfirmButton
                    label={t('admin.people.remove')}
                    question={t('admin.people.confirm', { person: p.person })}
                    confirm={t('admin.people.confirmRemove')}
                    pending={remove.isPending}
                    onConfirm={() => remove.mutate(p.person)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{t('admin.people.none')}</p>
      )}
      <form className="stack" onSubmit={submit} data-testid="assign-person">
        <h3>{t('admin.people.assign')}</h3>
        <label>
          {t('admin.people.person')}
          <input
            value={person}
            onChange={(e) => setPerson(e.target.value)}
            required
            placeholder="aiko@example.com"
          />
        </label>
        <RoleAndTeams role={role} setRole={setRole} teams={teams} setTeams={setTeams} />
        <div>
          <button type="submit" className="primary" disabled={assign.isPending}>
            {t('admin.people.assignButton')}
          </button>
        </div>
        <ErrorNotice error={assign.error} />
      </form>
    </>
  );
}

/** A destructive action in two steps: the button, then the question with "yes" and "cancel". */
function ConfirmButton({
  label,
  question,
  confirm,
  pending,
  onConfirm,
}: {
  label: string;
  question: string;
  confirm: string;
  pending: boolean;
  onConfirm: () => void;
}) {
  const { t } = useTranslation();
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span>
      <span role="status">{question}</span>{' '}
      <button type="button" className="danger" onClick={onConfirm} disabled={pending}>
        {confirm}
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        {t('common.cancel')}
      </button>
    </span>
  );
}
