import { useState } from 'preact/hooks';
import { api } from '../api';
import { navigate } from '../router';
import { signIn } from '../session';

/** Exchanges an API key for this tab's session tokens (the key itself is not kept). */
export function SignInPage({ next }: { next?: string }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await signIn(key.trim(), api.queue);
      // Only same-site paths: `next` comes from the URL, so it must not send anyone elsewhere.
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <div class="narrow">
      <h1 tabIndex={-1}>Sign in</h1>
      <form onSubmit={submit}>
        <div class="field">
          <label for="api-key">API key</label>
          <input id="api-key" type="password" autocomplete="current-password" class="mono" required value={key} placeholder="crk_…" onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)} aria-describedby="api-key-hint" />
          <p id="api-key-hint" class="hint">Exchanged for short-lived tokens kept only in this tab (session storage); the key itself is not stored.</p>
        </div>
        {error && <p class="notice error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>Sign in</button>
      </form>
    </div>
  );
}
