import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../api/client';
import type { Account } from '../api/types';

export const ACCOUNT_KEY = ['account'] as const;

// The session cookie is HttpOnly, so the page cannot see it. This flag remembers that this
// browser signed in, so a signed-out visit goes straight to the sign-in form instead of
// asking the api (and getting the 401 every browser logs as a console error).
const SIGNED_IN_HINT = 'aia.signed-in';

export function rememberSignedIn(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(SIGNED_IN_HINT, '1');
    else localStorage.removeItem(SIGNED_IN_HINT);
  } catch {
    // storage disabled: every visit asks the api
  }
}

function maybeSignedIn(): boolean {
  try {
    return localStorage.getItem(SIGNED_IN_HINT) !== null;
  } catch {
    return true;
  }
}

/** The signed-in account, or null when nobody is signed in. */
export function useAccount() {
  return useQuery({
    queryKey: ACCOUNT_KEY,
    queryFn: async (): Promise<Account | null> => {
      if (!maybeSignedIn()) return null;
      try {
        return await api<Account>('/api/auth/me');
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          rememberSignedIn(false);
          return null;
        }
        throw error;
      }
    },
    staleTime: 5 * 60_000,
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return async () => {
    try {
      await api('/api/auth/logout', { method: 'POST' });
    } finally {
      rememberSignedIn(false);
      // Nothing of the previous account may stay on screen or in the cache.
      queryClient.clear();
      queryClient.setQueryData(ACCOUNT_KEY, null);
    }
  };
}
