/** Who the signed-in token is (`GET /api/v1/whoami`), asked once per token: pages hide what it may not do. */
import { useQuery } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { api, getToken, onTokenChange, type Whoami } from './api';

export function useWhoami() {
  const token = useSyncExternalStore(onTokenChange, getToken, () => null);
  return useQuery({
    queryKey: ['whoami', token],
    queryFn: () => api<Whoami>('/api/v1/whoami'),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
}
