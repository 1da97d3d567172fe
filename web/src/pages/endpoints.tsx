import { useState } from 'preact/hooks';
import { q, type Api, type Page } from '../api';
import type { Role } from '../auth';
import { ActionButton, ErrorBox, Field, Table, useLoad, formText, parseOrgs } from '../ui';
import { AccountsPanel, RaCertificates } from './accounts';

export interface Delegation {
  organization: string;
  department?: string;
}
export interface Endpoint {
  name: string;
  displayName: string;
  type: string;
  enabled: boolean;
  builtIn?: boolean;
  delegatedTo: Delegation[];
}

const TYPES = ['device-scep', 'client-scep', 'device-intune', 'client-intune'];
export const scepUrl = (name: string): string => `${location.origin}/scep/${name}`;
const delegation = (d: Delegation[]): string =>
  d.map((x) => [x.organization, x.department].filter(Boolean).join('/')).join(', ');
const parseDelegation = (s: string): Delegation[] => parseOrgs(s);

function EndpointForm({ api, existing, onDone }: { api: Api; existing?: Endpoint; onDone: () => void }) {
  const [error, setError] = useState<string>();
  return (
    <form
      class="card"
      aria-label={existing ? `Edit ${existing.name}` : 'Add an endpoint'}
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const body = {
          displayName: formText(f, 'displayName') || undefined,
          enabled: formText(f, 'enabled') === 'on',
          delegatedTo: parseDelegation(formText(f, 'delegatedTo')),
        };
        const r = existing
          ? api.call('PATCH', `endpoints/${existing.name}`, body)
          : api.call('POST', 'endpoints', { ...body, name: formText(f, 'name'), type: formText(f, 'type') });
        r.then(onDone, (x: unknown) => {
          setError(String(x instanceof Error ? x.message : x));
        });
      }}
    >
      <h2>{existing ? `Edit ${existing.name}` : 'Add an endpoint'}</h2>
      {!existing && (
        <>
          <Field label="Name" hint="Lower-case letters, digits and hyphens: the URL is /scep/<name>.">
            <input name="name" required pattern="[a-z0-9-]{1,63}" />
          </Field>
          <Field label="Type">
            <select name="type">
              {TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </Field>
        </>
      )}
      <Field label="Display name">
        <input name="displayName" defaultValue={existing?.displayName ?? ''} />
      </Field>
      <Field label="Delegated to" hint="organization or organization/department, comma separated">
        <input name="delegatedTo" defaultValue={delegation(existing?.delegatedTo ?? [])} />
      </Field>
      <label class="check">
        <input type="checkbox" name="enabled" defaultChecked={existing?.enabled ?? true} /> Enabled
      </label>
      <ErrorBox error={error} />
      <button type="submit" class="primary">
        {existing ? 'Save' : 'Add endpoint'}
      </button>{' '}
      <button type="button" onClick={onDone}>
        Cancel
      </button>
    </form>
  );
}

export function EndpointsPage({ api, role, params }: { api: Api; role: Role; params: URLSearchParams }) {
  const { data, error, reload } = useLoad(() => api.get<Page<Endpoint>>('endpoints?top=1000'), []);
  const [filter, setFilter] = useState('');
  const [group, setGroup] = useState<GroupBy>('none');
  const [editing, setEditing] = useState<Endpoint | 'new'>();
  // The form is keyed by it: another endpoint's form starts with its own values, no earlier error.
  const existing = editing === 'new' ? undefined : editing;
  const open = params.get('name');
  const admin = role === 'CA.Admin';
  const rows = (data?.value ?? []).filter((e) =>
    `${e.name} ${e.displayName} ${e.type}`.toLowerCase().includes(filter.toLowerCase()),
  );
  const keyOf = (e: Endpoint) =>
    group === 'type' ? e.type : group === 'organization' ? (e.delegatedTo[0]?.organization ?? '(none)') : '';
  const groups = [...new Set(rows.map(keyOf))].sort();
  const done = () => {
    setEditing(undefined);
    reload();
  };
  const selected = data?.value.find((e) => e.name === open);
  return (
    <>
      <Toolbar
        filter={filter}
        setFilter={setFilter}
        group={group}
        setGroup={setGroup}
        reload={reload}
        onAdd={
          admin
            ? () => {
                setEditing('new');
              }
            : undefined
        }
      />
      {editing && <EndpointForm key={existing?.name ?? ''} api={api} existing={existing} onDone={done} />}
      <ErrorBox error={error} />
      {groups.map((g) => (
        <section key={g} aria-label={g || 'Endpoints'}>
          {g && <h2>{g}</h2>}
          <EndpointsTable
            api={api}
            caption={`SCEP endpoints ${g}`}
            rows={rows.filter((e) => keyOf(e) === g)}
            admin={admin}
            setEditing={setEditing}
            reload={reload}
          />
        </section>
      ))}
      {/* Keyed: a challenge shown once for one endpoint must not stay on the next one opened. */}
      {selected && <EndpointDetail key={selected.name} api={api} role={role} e={selected} />}
    </>
  );
}

type GroupBy = 'none' | 'type' | 'organization';

function Toolbar({
  filter,
  setFilter,
  group,
  setGroup,
  reload,
  onAdd,
}: {
  filter: string;
  setFilter: (f: string) => void;
  group: GroupBy;
  setGroup: (g: GroupBy) => void;
  reload: () => void;
  /** Set for administrators: opens the form for a new endpoint. */
  onAdd: (() => void) | undefined;
}) {
  return (
    <div class="toolbar">
      <Field label="Filter">
        <input
          type="search"
          value={filter}
          onInput={(e) => {
            setFilter(e.currentTarget.value);
          }}
        />
      </Field>
      <Field label="Group by">
        <select
          value={group}
          onChange={(e) => {
            setGroup(e.currentTarget.value as GroupBy);
          }}
        >
          <option value="none">nothing</option>
          <option value="type">type</option>
          <option value="organization">organization</option>
        </select>
      </Field>
      <button type="button" onClick={reload}>
        Refresh
      </button>
      {onAdd && (
        <button type="button" class="primary" onClick={onAdd}>
          Add endpoint
        </button>
      )}
    </div>
  );
}

function EndpointsTable({
  api,
  caption,
  rows,
  admin,
  setEditing,
  reload,
}: {
  api: Api;
  caption: string;
  rows: Endpoint[];
  admin: boolean;
  setEditing: (e: Endpoint) => void;
  reload: () => void;
}) {
  return (
    <Table
      caption={caption}
      rows={rows}
      rowKey={(e) => e.name}
      columns={[
        ['Name', (e) => <a href={`#/endpoints?name=${e.name}`}>{e.displayName}</a>],
        ['URL', (e) => <code>{scepUrl(e.name)}</code>],
        ['Type', (e) => e.type],
        ['State', (e) => (e.enabled ? 'enabled' : 'disabled') + (e.builtIn ? ' (built-in)' : '')],
        ['Delegated to', (e) => delegation(e.delegatedTo)],
        [
          '',
          (e) => (
            <EndpointActions
              api={api}
              e={e}
              admin={admin}
              onEdit={() => {
                setEditing(e);
              }}
              onDone={reload}
            />
          ),
        ],
      ]}
    />
  );
}

function EndpointActions(p: {
  api: Api;
  e: Endpoint;
  admin: boolean;
  onEdit: () => void;
  onDone: () => void;
}) {
  const { api, e } = p;
  return (
    <span class="actions">
      <a href={`#/audit?endpoint=${e.name}`}>View audit</a>
      <ActionButton
        label="CSV"
        action={() => api.download(`audit${q({ endpoint: e.name, format: 'csv' })}`, `audit-${e.name}.csv`)}
      />
      {p.admin && !e.builtIn && (
        <>
          <button type="button" onClick={p.onEdit}>
            Edit / delegate
          </button>
          <ActionButton
            label="Delete"
            kind="danger"
            confirm={`Delete the endpoint ${e.name}? Devices using /scep/${e.name} stop enrolling.`}
            action={() => api.call('DELETE', `endpoints/${e.name}`)}
            onDone={p.onDone}
          />
        </>
      )}
    </span>
  );
}

function EndpointDetail({ api, role, e }: { api: Api; role: Role; e: Endpoint }) {
  return (
    <section class="card" aria-labelledby="ep-detail">
      <h2 id="ep-detail">{e.displayName}</h2>
      <p>
        SCEP URL <code>{scepUrl(e.name)}</code> · {e.type}
      </p>
      {e.type.endsWith('-scep') && !e.builtIn && (
        <AccountsPanel api={api} endpoint={e.name} canChange={role !== 'CA.Auditor'} />
      )}
      <RaCertificates api={api} endpoint={e.name} />
    </section>
  );
}
