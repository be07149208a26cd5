import { useEffect, useRef } from 'preact/hooks';
import { whenUnauthenticated } from './api';
import { EvaluationPage } from './pages/evaluation';
import { HistoryPage } from './pages/history';
import { HomePage } from './pages/home';
import { SignInPage } from './pages/sign-in';
import { SubmitPage } from './pages/submit';
import { Link, navigate, useRoute, type Route } from './router';
import { signOut, useSession } from './session';

whenUnauthenticated(() => {
  if (location.pathname !== '/sign-in') navigate(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
});

const TITLES: Record<Route['page'], string> = {
  home: 'Overview',
  submit: 'Submit',
  history: 'History',
  evaluation: 'Evaluation',
  'sign-in': 'Sign in',
  'not-found': 'Not found',
};

export function App() {
  const route = useRoute();
  const session = useSession();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    document.title = `${TITLES[route.page]} · Crucible`;
    // A screen reader hears nothing when a page changes in place: move focus to the new heading.
    if (first.current) first.current = false;
    else main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route.page, route.page === 'evaluation' ? route.id : '']);

  const nav = (href: string, label: string, page: Route['page']) => (
    <Link href={href} aria-current={route.page === page ? 'page' : undefined}>{label}</Link>
  );

  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="site-header">
        <Link href="/" class="brand">Crucible</Link>
        <nav aria-label="Main">
          {nav('/', 'Overview', 'home')}
          {nav('/submit', 'Submit', 'submit')}
          {nav('/history', 'History', 'history')}
        </nav>
        <div class="session">
          {session.signedIn ? (
            <>
              <span class="muted" title="The API key this tab signed in with">Key <span class="mono">{session.keyHint}</span></span>
              <button type="button" class="small" onClick={() => (signOut(), navigate('/sign-in'))}>Sign out</button>
            </>
          ) : (
            <Link href="/sign-in">Sign in</Link>
          )}
        </div>
      </header>
      <main id="main" ref={main}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'home':
      return <HomePage />;
    case 'submit':
      return <SubmitPage key={route.from ?? ''} from={route.from} />;
    case 'history':
      return <HistoryPage status={route.status} language={route.language} />;
    case 'evaluation':
      return <EvaluationPage id={route.id} />;
    case 'sign-in':
      return <SignInPage next={route.next} />;
    default:
      return (
        <>
          <h1 tabIndex={-1}>Not found</h1>
          <p>
            No page here. <Link href="/">Go to the overview</Link>.
          </p>
        </>
      );
  }
}
