/** Small shared pieces: error notices that explain 401/403, loading text, RAG badges, budget bars, outside links. */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import { percent } from '../format';
import type { Rag } from '../rag';

export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  let text: string;
  if (error instanceof ApiError && error.status === 401) text = t('auth.unauthorized');
  else if (error instanceof ApiError && error.status === 403) text = t('auth.forbidden');
  else if (error instanceof ApiError && error.status === 404) text = t('errors.notFound');
  else text = t('errors.failed');
  const detail = error instanceof Error ? error.message : String(error);
  return (
    <div className="notice error" role="alert">
      <strong>{text}</strong>
      {detail && <span className="detail"> {detail}</span>}
    </div>
  );
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="muted" aria-live="polite">
      {t('common.loading')}
    </p>
  );
}

export function RagBadge({ rag }: { rag: Rag }) {
  const { t } = useTranslation();
  return (
    <span className={`rag rag-${rag}`} data-rag={rag}>
      <span className="rag-dot" aria-hidden="true" />
      {t(`rag.${rag}`)}
    </span>
  );
}

export function BudgetBar({ remaining }: { remaining: number | null | undefined }) {
  const { t } = useTranslation();
  const value = remaining ?? 0;
  const width = Math.max(0, Math.min(1, value)) * 100;
  const tone = value <= 0 ? 'red' : value < 0.25 ? 'amber' : 'green';
  return (
    <span className="budget">
      {/* The bar repeats the number beside it, which is what screen readers read. */}
      <span className="bar" aria-hidden="true" title={t('slo.budgetRemaining')}>
        <span className={`fill fill-${tone}`} style={{ width: `${width}%` }} />
      </span>
      <span className="num" data-field="remaining">
        {remaining === null || remaining === undefined ? '—' : percent(remaining)}
      </span>
    </span>
  );
}

/** True for an absolute http(s) URL: the only kind rendered as a link. */
function isHttpUrl(url: string | null | undefined): url is string {
  if (!url) return false;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * A link to another site (runbook, ticket) in a new tab. The server accepts only http(s) URLs;
 * anything else is shown as text here too, so a `javascript:` URL can never become a link.
 */
export function ExternalLink({ href, children }: { href: string; children?: ReactNode }) {
  if (!isHttpUrl(href)) return <>{children ?? href}</>;
  return (
    <a href={href} rel="noopener noreferrer" target="_blank">
      {children ?? href}
    </a>
  );
}
