import { useState } from 'preact/hooks';
import type { Api, Page } from '../api';
import { ActionButton, date, ErrorBox, Field, Table, useLoad, formText } from '../ui';

interface Account {
  id: string;
  name: string;
  organization?: string;
  department?: string;
  enabled: boolean;
  expiresAt?: string;
  maxUses?: number;
  uses: number;
  lastUsedAt?: string;
}

/** A secret shown once: the CA keeps only its hash. */
function Secret({ label, value }: { label: string; value: string }) {
  return (
    <div class="secret" role="status">
      <p>
        {label} (shown once, copy it now): <code data-testid="secret">{value}</code>{' '}
        <button type="button" onClick={() => void navigator.clipboard.writeText(value)}>
          Copy
        </button>
      </p>
    </div>
  );
}

export function AccountsPanel({
  api,
  endpoint,
  canChange,
}: {
  api: Api;
  endpoint: string;
  canChange: boolean;
}) {
  const base = `endpoints/${endpoint}`;
  const { data, error, reload } = useLoad(
    () => api.get<Page<Account>>(`${base}/accounts?top=1000`),
    [endpoint],
  );
  const [secret, setSecret] = useState<{ label: string; value: string }>();
  const [formError, setFormError] = useState<string>();
  return (
    <section aria-labelledby="accounts">
      <h3 id="accounts">Accounts</h3>
      {secret && <Secret {...secret} />}
      {canChange && (
        <AccountForm
          api={api}
          base={base}
          setSecret={setSecret}
          setFormError={setFormError}
          reload={reload}
        />
      )}
      <ErrorBox error={formError ?? error} />
      <AccountsTable api={api} base={base} rows={data?.value} canChange={canChange} reload={reload} />
    </section>
  );
}

type SecretShown = { label: string; value: string };

/** Create an account (its challenge is shown once), or make a one-time challenge. */
function AccountForm({
  api,
  base,
  setSecret,
  setFormError,
  reload,
}: {
  api: Api;
  base: string;
  setSecret: (s: SecretShown) => void;
  setFormError: (e: string | undefined) => void;
  reload: () => void;
}) {
  return (
    <form
      class="filters"
      aria-label="Create an account"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const [organization, department] = formText(f, 'org').split('/');
        setFormError(undefined);
        api
          .call<{ name: string; challenge: string }>('POST', `${base}/accounts`, {
            name: formText(f, 'name'),
            ...(organization ? { organization } : {}),
            ...(department ? { department } : {}),
          })
          .then(
            (a) => {
              setSecret({ label: `Challenge of ${a.name}`, value: a.challenge });
              reload();
            },
            (x: unknown) => {
              setFormError(x instanceof Error ? x.message : String(x));
            },
          );
      }}
    >
      <Field label="Account name">
        <input name="name" required />
      </Field>
      <Field label="Organization/department">
        <input name="org" placeholder="contoso/retail" />
      </Field>
      <button type="submit" class="primary">
        Create account
      </button>
      <OneTimeChallengeButton api={api} base={base} setSecret={setSecret} />
    </form>
  );
}

/** A one-time challenge for the endpoint, valid 60 minutes (shown once). */
function OneTimeChallengeButton({
  api,
  base,
  setSecret,
}: {
  api: Api;
  base: string;
  setSecret: (s: SecretShown) => void;
}) {
  return (
    <ActionButton
      label="One-time challenge (60 min)"
      action={() =>
        api
          .call<{ challenge: string; expiresAt: string }>('POST', `${base}/challenges`, { minutes: 60 })
          .then((c) => {
            setSecret({
              label: `One-time challenge, valid until ${date(c.expiresAt)}`,
              value: c.challenge,
            });
          })
      }
    />
  );
}

function AccountsTable({
  api,
  base,
  rows,
  canChange,
  reload,
}: {
  api: Api;
  base: string;
  rows: Account[] | undefined;
  canChange: boolean;
  reload: () => void;
}) {
  return (
    <Table
      caption="Accounts"
      rows={rows}
      rowKey={(a) => a.id}
      empty="No account: create one for each MDM or device group."
      columns={[
        ['Name', (a) => a.name],
        ['Organization', (a) => [a.organization, a.department].filter(Boolean).join('/')],
        ['State', (a) => (a.enabled ? 'enabled' : 'disabled')],
        ['Uses', (a) => `${a.uses}${a.maxUses ? ` of ${a.maxUses}` : ''}`],
        ['Last used', (a) => date(a.lastUsedAt)],
        ['Expires', (a) => date(a.expiresAt) || 'never'],
        [
          '',
          (a) =>
            canChange && (
              <span class="actions">
                <ActionButton
                  label={a.enabled ? 'Disable' : 'Enable'}
                  action={() => api.call('PATCH', `${base}/accounts/${a.id}`, { enabled: !a.enabled })}
                  onDone={reload}
                />
                <ActionButton
                  label="Delete"
                  kind="danger"
                  confirm={`Delete the account ${a.name}? Its challenge stops working.`}
                  action={() => api.call('DELETE', `${base}/accounts/${a.id}`)}
                  onDone={reload}
                />
              </span>
            ),
        ],
      ]}
    />
  );
}

interface RaCertificate {
  subject: string;
  serialNumber: string;
  notAfter: string;
  thumbprintSha256: string;
  status: 'current' | 'previous' | 'expired';
}

/** The endpoint's RA certificates (RA mode), with their status and DER/PEM downloads. */
export function RaCertificates({ api, endpoint }: { api: Api; endpoint: string }) {
  const path = `endpoints/${endpoint}/ra-certificates`;
  const { data, error } = useLoad(() => api.get<Page<RaCertificate>>(path), [endpoint]);
  const file = (r: RaCertificate, ext: string) => `${endpoint}-ra-${r.thumbprintSha256.slice(0, 16)}.${ext}`;
  return (
    <section aria-labelledby="ra">
      <h3 id="ra">RA certificates</h3>
      <ErrorBox error={error} />
      <Table
        caption="RA certificates"
        rows={data?.value}
        rowKey={(r) => r.thumbprintSha256}
        empty="None: the endpoint is not in RA mode, or has not been asked for its CA certificates yet."
        columns={[
          ['Subject', (r) => r.subject],
          ['Status', (r) => r.status],
          ['Expires', (r) => date(r.notAfter)],
          ['SHA-256', (r) => <code>{r.thumbprintSha256}</code>],
          [
            'Download',
            (r) => (
              <span class="actions">
                <ActionButton
                  label="DER"
                  action={() => api.download(`${path}/${r.thumbprintSha256}`, file(r, 'cer'))}
                />
                <ActionButton
                  label="PEM"
                  action={() => api.download(`${path}/${r.thumbprintSha256}?format=pem`, file(r, 'pem'))}
                />
              </span>
            ),
          ],
        ]}
      />
    </section>
  );
}
