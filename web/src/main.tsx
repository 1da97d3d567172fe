import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Api } from './api';
import { entraSession, keySession, storedKey, type ConsoleConfig, type Session } from './auth';
import { AuditPage } from './pages/audit';
import { CertificatesPage } from './pages/certificates';
import { EndpointsPage } from './pages/endpoints';
import { OrganizationsPage } from './pages/organizations';
import { ErrorBox, Field, message } from './ui';
import './style.css';

interface PageDef {
  readonly id: string;
  readonly title: string;
  readonly adminOnly?: boolean;
}
const PAGES: PageDef[] = [
  { id: 'certificates', title: 'Certificates' },
  { id: 'endpoints', title: 'SCEP endpoints' },
  { id: 'audit', title: 'Audit' },
  { id: 'organizations', title: 'Organizations', adminOnly: true },
];

/** `#/page?query`: the page and its parameters (filters survive a reload). */
function useRoute(): [string, URLSearchParams] {
  const read = (): [string, URLSearchParams] => {
    const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
    return [path || 'certificates', new URLSearchParams(query)];
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => {
      setRoute(read());
    };
    addEventListener('hashchange', on);
    return () => {
      removeEventListener('hashchange', on);
    };
  }, []);
  return route;
}

function SignIn({ onKey }: { onKey: (key: string) => void }) {
  const [key, setKey] = useState('');
  return (
    <main class="signin">
      <h1>SCEP CA console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onKey(key.trim());
        }}
      >
        <Field label="Admin key" hint="Printed by npm start; kept in .data/admin-key.txt.">
          <input
            type="password"
            name="adminKey"
            autoComplete="off"
            required
            value={key}
            onInput={(e) => {
              setKey(e.currentTarget.value);
            }}
          />
        </Field>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}

function Shell({ session }: { session: Session }) {
  const [page, params] = useRoute();
  const api = new Api(session.token);
  const visible = PAGES.filter((p) => !p.adminOnly || session.role === 'CA.Admin');
  const current = visible.find((p) => p.id === page) ?? visible[0];
  useEffect(() => {
    document.title = `${current?.title ?? ''} · SCEP CA console`;
    document.getElementById('main')?.focus();
  }, [current]);
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}
      >
        Skip to content
      </a>
      <header>
        <span class="brand">SCEP CA</span>
        <nav aria-label="Console">
          {visible.map((p) => (
            <a key={p.id} href={`#/${p.id}`} aria-current={p === current ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
          <a href="/">Status page</a>
        </nav>
        <span class="who">
          {session.user} ({session.role}){' '}
          <button type="button" onClick={() => void session.signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{current?.title}</h1>
        {current?.id === 'certificates' && <CertificatesPage api={api} role={session.role} params={params} />}
        {current?.id === 'endpoints' && <EndpointsPage api={api} role={session.role} params={params} />}
        {current?.id === 'audit' && <AuditPage api={api} params={params} />}
        {current?.id === 'organizations' && <OrganizationsPage api={api} />}
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session>();
  const [config, setConfig] = useState<ConsoleConfig>();
  const [error, setError] = useState<string>();
  const signOut = () => {
    setSession(undefined);
  };
  useEffect(() => {
    fetch('/admin/config.json')
      .then((r) => r.json() as Promise<ConsoleConfig>)
      .then(async (c) => {
        setConfig(c);
        if (c.signIn === 'entra') setSession(await entraSession(c));
        else {
          const key = storedKey();
          if (key) setSession(keySession(key, signOut));
        }
      })
      .catch((e: unknown) => {
        setError(message(e));
      });
  }, []);
  const tryKey = (key: string) => {
    const s = keySession(key, signOut);
    new Api(s.token).get('endpoints?top=1').then(
      () => {
        setError(undefined);
        setSession(s);
      },
      (e: unknown) => {
        void s.signOut();
        setError(`Sign-in failed: ${message(e)}`);
      },
    );
  };
  if (session) return <Shell session={session} />;
  return (
    <>
      {config?.signIn === 'key' && <SignIn onKey={tryKey} />}
      {config?.signIn === 'entra' && !error && <p>Signing in with Microsoft Entra ID…</p>}
      <ErrorBox error={error} />
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
