import { useEffect, useState } from 'preact/hooks';

// The API key lives in sessionStorage: it survives reloads of this tab and dies with it, and no
// other tab or later visit sees it.
const STORAGE_KEY = 'crucible.apiKey';
const listeners = new Set<() => void>();

/**
 * The `Authorization` header value for every API request, or none when signed out.
 * This is the one place that decides the credential: once `POST /v1/auth/token` exists, `signIn`
 * stores the access token it returns and this hands that out (refreshing it when it expires).
 */
export function authorization(): string | undefined {
  const key = sessionStorage.getItem(STORAGE_KEY);
  return key ? `Bearer ${key}` : undefined;
}

/**
 * Keeps `key` for this tab; `verify` makes one authenticated request so a rejected key fails here
 * (it cannot yet: the API is open, so any key works).
 */
export async function signIn(key: string, verify: () => Promise<unknown>): Promise<void> {
  sessionStorage.setItem(STORAGE_KEY, key);
  try {
    await verify();
  } catch (err) {
    sessionStorage.removeItem(STORAGE_KEY);
    throw err;
  }
  notify();
}

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  notify();
}

/** The signed-in key shortened for display (a prefix is enough to tell keys apart). */
export function useSession(): { signedIn: boolean; keyHint: string } {
  const [, rerender] = useState(0);
  useEffect(() => {
    const listener = () => rerender((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  const key = sessionStorage.getItem(STORAGE_KEY) ?? '';
  return { signedIn: key !== '', keyHint: key.length > 10 ? `${key.slice(0, 8)}…` : key };
}

function notify(): void {
  for (const listener of listeners) listener();
}
