import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Fetches now (e.g. right after a submit) instead of waiting for the next tick. */
  refresh: () => void;
}

/**
 * Calls `load` now and every `ms` while the tab is visible (a hidden tab stops polling and
 * catches up when shown). A slow answer never overlaps the next call; `deps` restart it.
 */
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const tick = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    // A refresh asked for while a load is in flight runs right after it: its data may be newer.
    let again = false;
    const run = async () => {
      clearTimeout(timer);
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      again = false;
      try {
        const value = await load();
        if (!stopped) (setData(value), setError(undefined));
      } catch (err) {
        if (!stopped) setError(err as Error);
      } finally {
        running = false;
      }
      if (stopped) return;
      if (again) void run();
      else if (document.visibilityState === 'visible') timer = setTimeout(run, ms);
    };
    const onVisibility = () => document.visibilityState === 'visible' && void run();
    tick.current = () => void run();
    document.addEventListener('visibilitychange', onVisibility);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, deps);

  const refresh = useCallback(() => tick.current(), []);
  return { data, error, refresh };
}
