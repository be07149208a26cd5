import { useEffect, useState } from 'preact/hooks';

/**
 * The tab's session: the API key is exchanged once for a short-lived JWT access token and a refresh
 * token (POST /v1/auth/token); the key itself is never kept. Tokens live in sessionStorage: they
 * survive reloads of this tab and die with it; no other tab or later visit sees them.
 */
const STORAGE_KEY = 'crucible.session';
/**
 * Refresh this long before the access token expires (30 s, or a quarter of a short lifetime), so
 * no request goes out with a dying one.
 */
const earlyMs = (session: Session) => Math.min(30_000, session.lifetimeMs / 4);
const listeners = new Set<() => void>();

interface Session {
  accessToken: string;
  refreshToken: string;
  /** ms since the epoch. */
  expiresAt: number;
  lifetimeMs: number;
  /** The key's first characters, to show which key signed in. */
  keyHint: string;
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

function load(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

function save(pair: TokenPair, keyHint: string): void {
  const lifetimeMs = pair.expiresIn * 1000;
  const session: Session = { accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: Date.now() + lifetimeMs, lifetimeMs, keyHint };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

let refreshing: Promise<Session | undefined> | undefined;

/**
 * Spends the refresh token for a new pair. One refresh at a time: a refresh token works once, and
 * two concurrent spends would look like a replay and revoke the session.
 */
function refresh(session: Session): Promise<Session | undefined> {
  refreshing ??= (async () => {
    try {
      const res = await fetch('/v1/auth/refresh', {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: session.refreshToken }),
      });
      if (!res.ok) {
        // Refused (expired, revoked, reused): signed out; the next 401 sends the user to sign in.
        if (res.status === 401 || res.status === 400) signOut();
        return undefined;
      }
      save((await res.json()) as TokenPair, session.keyHint);
      return load();
    } catch {
      return undefined;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/**
 * The `Authorization` header value for every API request, or none when signed out. The one place
 * that decides the credential: it hands out the access token, refreshing it when it is about to expire.
 */
export async function authorization(): Promise<string | undefined> {
  let session = load();
  if (!session) return undefined;
  if (session.expiresAt - Date.now() < earlyMs(session)) session = (await refresh(session)) ?? load();
  return session ? `Bearer ${session.accessToken}` : undefined;
}

/** Exchanges `key` for tokens, then `verify` makes one authenticated request. The key is not kept. */
export async function signIn(key: string, verify: () => Promise<unknown>): Promise<void> {
  const res = await fetch('/v1/auth/token', { method: 'POST', headers: { accept: 'application/json', authorization: `Bearer ${key}` } });
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new Error(body?.error?.message ?? `sign-in failed (HTTP ${res.status})`);
  }
  save((await res.json()) as TokenPair, key.slice(0, 12));
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

/** Whether this tab is signed in, and the key's prefix for display (a prefix is enough to tell keys apart). */
export function useSession(): { signedIn: boolean; keyHint: string } {
  const [, rerender] = useState(0);
  useEffect(() => {
    const listener = () => rerender((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  const session = load();
  return { signedIn: session !== undefined, keyHint: session ? `${session.keyHint}…` : '' };
}

function notify(): void {
  for (const listener of listeners) listener();
}
