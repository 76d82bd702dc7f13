/** The shell: navigation, language switch, API token, and the page for the current path. */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import {
  type AuthConfig,
  api,
  getToken,
  onTokenChange,
  setToken,
  signOutOfSession,
  ssoLoginUrl,
  type Whoami,
} from './api';
import { LANGUAGES, type Language, setLanguage } from './i18n';
import { ActionItemsPage } from './pages/ActionItemsPage';
import { AdminPage } from './pages/AdminPage';
import { AlertsPage } from './pages/AlertsPage';
import { AuditPage, useIsAdmin } from './pages/AuditPage';
import { DeliveryPage } from './pages/DeliveryPage';
import { IncidentDetailPage } from './pages/IncidentDetailPage';
import { IncidentsPage } from './pages/IncidentsPage';
import { OverviewPage } from './pages/OverviewPage';
import { PostmortemPage } from './pages/PostmortemPage';
import { RisksPage } from './pages/RisksPage';
import { SloPage } from './pages/SloPage';
import { Link, match, useLocation } from './router';

function useToken(): string | null {
  return useSyncExternalStore(onTokenChange, getToken, () => null);
}

/** Single sign-on, when the server offers it: the signed-in person with "Sign out", or "Sign in with SSO". */
function SsoControl() {
  const { t } = useTranslation();
  const token = useToken();
  const config = useQuery({
    queryKey: ['auth-config'],
    queryFn: () => api<AuthConfig>('/auth/config'),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const who = useQuery({
    queryKey: ['whoami', token],
    queryFn: () => api<Whoami>('/api/v1/whoami'),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
    enabled: config.data?.sso === true,
  });
  const [error, setError] = useState<string | null>(null);
  if (!config.data?.sso) return null;
  if (who.data?.kind === 'session')
    return (
      <div className="token">
        <span className="muted" data-testid="signed-in-as">
          {t('auth.signedInAs', { name: who.data.name })}
        </span>
        <button
          type="button"
          onClick={() => {
            signOutOfSession().catch((e: Error) => setError(e.message));
          }}
        >
          {t('auth.ssoSignOut')}
        </button>
        {error && <span role="alert">{error}</span>}
      </div>
    );
  if (token) return null;
  const href = ssoLoginUrl(config.data);
  return href ? (
    <a className="button" href={href}>
      {t('auth.ssoSignIn')}
    </a>
  ) : null;
}

function TokenControl() {
  const { t } = useTranslation();
  const token = useToken();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState('');
  const save = (e: FormEvent) => {
    e.preventDefault();
    setToken(value.trim() || null);
    setValue('');
    setOpen(false);
    void client.invalidateQueries();
  };
  if (token && !open)
    return (
      <div className="token">
        <span className="muted">{t('auth.signedIn')}</span>
        <button
          type="button"
          onClick={() => {
            setToken(null);
            void client.invalidateQueries();
          }}
        >
          {t('auth.signOut')}
        </button>
      </div>
    );
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        {t('auth.signIn')}
      </button>
    );
  return (
    <form className="token" onSubmit={save}>
      <label>
        {t('auth.tokenLabel')}
        <input
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="shr_…"
        />
      </label>
      <button type="submit">{t('common.save')}</button>
      <button type="button" onClick={() => setOpen(false)}>
        {t('common.cancel')}
      </button>
    </form>
  );
}

function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="lang">
      <span className="visually-hidden">{t('nav.language')}</span>
      <select
        value={i18n.language}
        onChange={(e) => setLanguage(e.target.value as Language)}
        data-testid="language"
        aria-label={t('nav.language')}
      >
        {LANGUAGES.map((l) => (
          <option key={l} value={l}>
            {t(`languages.${l}`)}
          </option>
        ))}
      </select>
    </label>
  );
}

function Page() {
  const { path } = useLocation();
  if (path === '/' || path === '') return <OverviewPage />;
  if (path === '/alerts') return <AlertsPage />;
  if (path === '/incidents') return <IncidentsPage />;
  if (path === '/action-items') return <ActionItemsPage />;
  if (path === '/risks') return <RisksPage />;
  if (path === '/delivery') return <DeliveryPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/admin') return <AdminPage />;
  const slo = match('/slos/:id', path);
  if (slo) return <SloPage id={slo.id!} />;
  const incident = match('/incidents/:ref', path);
  if (incident) return <IncidentDetailPage reference={incident.ref!} />;
  const postmortem = match('/postmortems/:id', path);
  if (postmortem) return <PostmortemPage id={postmortem.id!} />;
  return <NotFound />;
}

function NotFound() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t('errors.pageNotFound')}</h1>
      <p>
        <Link href="/">{t('nav.overview')}</Link>
      </p>
    </section>
  );
}

export function App() {
  const { t } = useTranslation();
  const { path } = useLocation();
  const isAdmin = useIsAdmin();
  const [wall, setWall] = useState(() => new URLSearchParams(location.search).has('wall'));
  useEffect(() => {
    document.documentElement.classList.toggle('wall', wall);
  }, [wall]);
  const nav = [
    { href: '/', label: t('nav.overview'), active: path === '/' || path.startsWith('/slos') },
    { href: '/alerts', label: t('nav.alerts'), active: path.startsWith('/alerts') },
    {
      href: '/incidents',
      label: t('nav.incidents'),
      active:
        path.startsWith('/incidents') || path.startsWith('/postmortems') || path.startsWith('/action-items'),
    },
    { href: '/risks', label: t('nav.risks'), active: path.startsWith('/risks') },
    { href: '/delivery', label: t('nav.delivery'), active: path.startsWith('/delivery') },
    // The audit log and the Admin page are for admins only: nobody else sees the links (the API answers them 403).
    ...(isAdmin
      ? [
          { href: '/audit', label: t('nav.audit'), active: path.startsWith('/audit') },
          { href: '/admin', label: t('nav.admin'), active: path.startsWith('/admin') },
        ]
      : []),
  ];
  return (
    <>
      <a className="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header className="top">
        <div className="brand">
          <span aria-hidden="true">信頼</span> Shinrai
        </div>
        <nav aria-label={t('nav.main')}>
          <ul>
            {nav.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.active ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
            <li>
              <a href="/status">{t('nav.statusPage')}</a>
            </li>
          </ul>
        </nav>
        <div className="tools">
          <button type="button" aria-pressed={wall} onClick={() => setWall(!wall)}>
            {t('nav.wall')}
          </button>
          <LanguageSwitch />
          <SsoControl />
          <TokenControl />
        </div>
      </header>
      <main id="main">
        <Page />
      </main>
    </>
  );
}
