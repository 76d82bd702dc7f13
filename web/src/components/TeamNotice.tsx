/** "Owned by team X — read-only for you": shown where a team-scoped editor reads another team's record. */
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Team } from '../api';
import { owningTeams } from '../teams';

/** The teams the server knows, asked once (when `enabled`): they change only with the specs or the config. */
export function useTeams(enabled = true) {
  return useQuery({
    queryKey: ['teams'],
    queryFn: () => api<Team[]>('/api/v1/teams'),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
    enabled,
  });
}

/**
 * Names the owning teams of `owned` (services and SLOs another team owns) and says the caller may
 * only read; nothing when `owned` is empty. `inline` for a table cell, else a notice paragraph.
 */
export function OtherTeamNotice({ owned, inline }: { owned: readonly string[]; inline?: boolean }) {
  const { t } = useTranslation();
  // Asked only when there is something to explain: most callers own everything they see.
  const teams = useTeams(owned.length > 0);
  if (!owned.length) return null;
  const names = [...new Set(owned)].join(', ');
  const owners = owningTeams(teams.data ?? [], owned);
  const text = owners.length
    ? t('teams.readOnly', { teams: owners.join(', '), names })
    : t('teams.readOnlyUnnamed', { names });
  return inline ? (
    <span className="muted small" data-testid="other-team">
      {text}
    </span>
  ) : (
    <p className="notice" role="status" data-testid="other-team">
      {text}
    </p>
  );
}
