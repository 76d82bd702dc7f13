/** Who the signed-in token is (`GET /api/v1/whoami`), asked once per token: pages hide what it may not do. */
import { useQuery } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { api, getToken, mayWrite, onTokenChange, type Whoami } from './api';
import { ownedByOtherTeams } from './teams';

export function useWhoami() {
  const token = useSyncExternalStore(onTokenChange, getToken, () => null);
  return useQuery({
    queryKey: ['whoami', token],
    queryFn: () => api<Whoami>('/api/v1/whoami'),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/**
 * What the caller may do: 'write' for an editor or admin token, 'read' for a viewer or an anonymous
 * reader, 'pending' until the server has said. A server without /whoami leaves it to the API.
 */
export function useAccess(): 'write' | 'read' | 'pending' {
  const who = useWhoami();
  if (who.isPending) return 'pending';
  if (who.error || !who.data) return 'write';
  return mayWrite(who.data) ? 'write' : 'read';
}

/**
 * Whether a page shows its write controls: not to a viewer, who could only get 403. An anonymous
 * reader keeps them: clicking one tells them to sign in (the API answers 401).
 */
export function useShowsWrites(): boolean {
  const who = useWhoami();
  return who.data?.role !== 'viewer';
}

/** The services and SLOs of `record` another team owns (empty: the caller may change it, or the API decides). */
export function useOwnedElsewhere(
  record: { readonly services: readonly string[]; readonly slos: readonly string[] } | undefined,
): string[] {
  const who = useWhoami();
  return record ? ownedByOtherTeams(who.data, record) : [];
}
