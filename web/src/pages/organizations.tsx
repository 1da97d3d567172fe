import { useState } from 'preact/hooks';
import type { Api, Page } from '../api';
import {
  ActionButton,
  ErrorBox,
  Field,
  Table,
  useLoad,
  formText,
  message,
  parseOrgs,
  type Load,
} from '../ui';

interface Organization {
  id: string;
  displayName: string;
  departments: { id: string; displayName: string }[];
}
interface Administrator {
  principalId: string;
  kind: 'user' | 'group';
  role?: string;
  scopes: { organization: string; department?: string }[];
}

const scopes = parseOrgs;

/** Organizations, their departments and administrators' scopes: CA.Admin only. */
export function OrganizationsPage({ api }: { api: Api }) {
  const orgs = useLoad(() => api.get<Page<Organization>>('organizations?top=1000'), []);
  const admins = useLoad(() => api.get<Page<Administrator>>('administrators?top=1000'), []);
  // Each form's error is shown under it, and cleared when it is sent again.
  const [error, setError] = useState<string>();
  const [adminError, setAdminError] = useState<string>();
  const failWith = (set: (e: string) => void) => (x: unknown) => {
    set(message(x));
  };
  return (
    <>
      <OrganizationForm api={api} onDone={orgs.reload} fail={failWith(setError)} setError={setError} />
      <ErrorBox error={error ?? orgs.error} />
      <OrganizationsTable api={api} orgs={orgs} />
      <h2>Administrators' scopes</h2>
      <AdministratorForm
        api={api}
        onDone={admins.reload}
        fail={failWith(setAdminError)}
        setError={setAdminError}
      />
      <ErrorBox error={adminError ?? admins.error} />
      <AdministratorsTable api={api} admins={admins} />
    </>
  );
}

function OrganizationForm(p: {
  api: Api;
  onDone: () => void;
  fail: (x: unknown) => void;
  setError: (e: string | undefined) => void;
}) {
  return (
    <form
      class="filters"
      aria-label="Add an organization"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const departments = formText(f, 'departments')
          .split(',')
          .map((d) => d.trim())
          .filter(Boolean)
          .map((d) => ({ id: d, displayName: d }));
        p.setError(undefined);
        p.api
          .call('POST', 'organizations', {
            id: formText(f, 'id'),
            displayName: formText(f, 'displayName') || formText(f, 'id'),
            departments,
          })
          .then(p.onDone, p.fail);
      }}
    >
      <Field label="Organization id">
        <input name="id" required />
      </Field>
      <Field label="Display name">
        <input name="displayName" />
      </Field>
      <Field label="Departments" hint="ids, comma separated">
        <input name="departments" />
      </Field>
      <button type="submit" class="primary">
        Add organization
      </button>
    </form>
  );
}

function OrganizationsTable({ api, orgs }: { api: Api; orgs: Load<Page<Organization>> }) {
  return (
    <Table
      caption="Organizations"
      rows={orgs.data?.value}
      rowKey={(o) => o.id}
      columns={[
        ['Id', (o) => o.id],
        ['Name', (o) => o.displayName],
        ['Departments', (o) => o.departments.map((d) => d.id).join(', ')],
        [
          '',
          (o) => (
            <ActionButton
              label="Delete"
              kind="danger"
              confirm={`Delete the organization ${o.id}?`}
              action={() => api.call('DELETE', `organizations/${o.id}`)}
              onDone={orgs.reload}
            />
          ),
        ],
      ]}
    />
  );
}

function AdministratorForm(p: {
  api: Api;
  onDone: () => void;
  fail: (x: unknown) => void;
  setError: (e: string | undefined) => void;
}) {
  return (
    <form
      class="filters"
      aria-label="Set an administrator's scope"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        p.setError(undefined);
        p.api
          .call('PUT', `administrators/${formText(f, 'objectId')}`, {
            kind: formText(f, 'kind'),
            role: formText(f, 'role'),
            scopes: scopes(formText(f, 'scopes')),
          })
          .then(p.onDone, p.fail);
      }}
    >
      <Field label="Entra object id">
        <input name="objectId" required />
      </Field>
      <Field label="Kind">
        <select name="kind">
          <option>user</option>
          <option>group</option>
        </select>
      </Field>
      <Field label="Role limit" hint="the token's app role, lowered to this">
        <select name="role">
          <option>CA.Operator</option>
          <option>CA.Auditor</option>
          <option>CA.Admin</option>
        </select>
      </Field>
      <Field label="Scopes" hint="organization or organization/department, comma separated">
        <input name="scopes" />
      </Field>
      <button type="submit" class="primary">
        Save scope
      </button>
    </form>
  );
}

function AdministratorsTable({ api, admins }: { api: Api; admins: Load<Page<Administrator>> }) {
  return (
    <Table
      caption="Administrators"
      rows={admins.data?.value}
      rowKey={(a) => a.principalId}
      empty="No administrator scope yet."
      columns={[
        ['Object id', (a) => <code>{a.principalId}</code>],
        ['Kind', (a) => a.kind],
        ['Role limit', (a) => a.role ?? 'from the token'],
        [
          'Scopes',
          (a) => a.scopes.map((s) => [s.organization, s.department].filter(Boolean).join('/')).join(', '),
        ],
        [
          '',
          (a) => (
            <ActionButton
              label="Remove"
              kind="danger"
              confirm={`Remove the scope of ${a.principalId}?`}
              action={() => api.call('DELETE', `administrators/${a.principalId}`)}
              onDone={admins.reload}
            />
          ),
        ],
      ]}
    />
  );
}
