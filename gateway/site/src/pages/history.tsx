import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { EvaluationTable } from '../components/evaluation-table';
import { navigate } from '../router';
import { STATUSES, type Evaluation } from '../types';
import { usePoll } from '../use-poll';

const PAGE_SIZE = 25;

/**
 * Every evaluation, newest first, filtered by status and language. The filters live in the URL
 * (linkable); older pages load with the API's cursor and append, so nothing already read moves.
 */
export function HistoryPage({ status, language }: { status: string; language: string }) {
  const languages = usePoll(api.languages, 30_000);
  const [items, setItems] = useState<Evaluation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState('');
  /** Answers to a request made before the filters changed are dropped. */
  const generation = useRef(0);

  async function load(from: string | null, replace: boolean) {
    const mine = ++generation.current;
    setLoading(true);
    setError('');
    try {
      const page = await api.list({ status: status as Evaluation['status'] | '', language, limit: PAGE_SIZE, cursor: from });
      if (mine !== generation.current) return;
      setItems((old) => (replace ? page.items : [...old, ...page.items]));
      setCursor(page.nextCursor);
      setLoaded(true);
    } catch (err) {
      if (mine === generation.current) setError((err as Error).message);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }

  useEffect(() => {
    setItems([]);
    setCursor(null);
    setLoaded(false);
    void load(null, true);
  }, [status, language]);

  const filter = (change: Record<string, string>) => {
    const q = new URLSearchParams({ status, language, ...change });
    for (const [k, v] of [...q]) if (!v) q.delete(k);
    const s = q.toString();
    navigate(`/history${s ? `?${s}` : ''}`, { replace: true });
  };

  return (
    <>
      <h1 tabIndex={-1}>History</h1>
      <form class="filters" role="search" aria-label="Filter evaluations" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" value={status} onChange={(e) => filter({ status: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="filter-language">Language</label>
          <select id="filter-language" value={language} onChange={(e) => filter({ language: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">any</option>
            {(languages.data ?? []).map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
            {language && !languages.data?.some((l) => l.id === language) && <option value={language}>{language}</option>}
          </select>
        </div>
        <button type="button" onClick={() => void load(null, true)}>Refresh</button>
      </form>

      {error && <p class="notice error" role="alert">{error}</p>}
      {loaded && items.length === 0 ? (
        <p class="muted">No evaluation matches.</p>
      ) : (
        <EvaluationTable items={items} caption="Evaluations" now={Date.now()} />
      )}
      <div class="actions">
        <p class="muted" role="status">{loading ? 'Loading…' : loaded ? `${items.length} shown${cursor ? '' : ', no more'}` : ''}</p>
        {cursor && (
          <button type="button" onClick={() => void load(cursor, false)} disabled={loading}>Load older</button>
        )}
      </div>
    </>
  );
}
