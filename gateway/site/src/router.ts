import { h, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

// A few routes need no router library: the History API plus one listener.
// The gateway answers each of these paths with index.html (static.ts), so every page is linkable.

export type Route =
  | { page: 'home' }
  | { page: 'submit'; from?: string }
  | { page: 'history'; status: string; language: string }
  | { page: 'evaluation'; id: string }
  | { page: 'sign-in'; next?: string }
  | { page: 'not-found' };

export function parseRoute(url: URL): Route {
  const q = url.searchParams;
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { page: 'home' };
  if (path === '/submit') return { page: 'submit', from: q.get('from') ?? undefined };
  if (path === '/history') return { page: 'history', status: q.get('status') ?? '', language: q.get('language') ?? '' };
  if (path === '/sign-in') return { page: 'sign-in', next: q.get('next') ?? undefined };
  const evaluation = /^\/evaluations\/([^/]+)$/.exec(path);
  if (evaluation) return { page: 'evaluation', id: decodeURIComponent(evaluation[1]!) };
  return { page: 'not-found' };
}

const listeners = new Set<() => void>();
addEventListener('popstate', () => listeners.forEach((l) => l()));

/** Goes to `href` without reloading; `replace` for redirects that should not add a Back step. */
export function navigate(href: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  scrollTo(0, 0);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(new URL(location.href)));
  useEffect(() => {
    const listener = () => setRoute(parseRoute(new URL(location.href)));
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return route;
}

/** A real `<a href>` (so opening in a new tab, copying and middle-clicking work) routed in-page. */
export function Link(props: { href: string; class?: string; children: ComponentChildren; 'aria-current'?: 'page' }) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return h('a', { ...props, onClick }, props.children);
}
