import { useState } from 'preact/hooks';
import { q, type Api, type Page } from '../api';
import {
  ActionButton,
  date,
  ErrorBox,
  Field,
  FilterForm,
  formText,
  pick,
  Table,
  useLoad,
  Pager,
} from '../ui';

export interface AuditEvent {
  id: string;
  time: string;
  endpoint?: string;
  account?: string;
  organization?: string;
  actor?: string;
  operation: string;
  transactionId?: string;
  subject?: string;
  serialNumber?: string;
  device?: string;
  outcome: string;
  reason: string;
  message: string;
  fix?: string;
  compared?: { name: string; actual?: unknown; required?: unknown }[];
}

const FILTERS = [
  'endpoint',
  'account',
  'organization',
  'outcome',
  'reason',
  'transactionId',
  'subject',
  'serial',
  'device',
  'from',
  'to',
] as const;
const OUTCOMES = [
  '',
  'issued',
  'renewed',
  'replayed',
  'pending',
  'refused',
  'failed',
  'revoked',
  'changed',
  'notified',
];

export function AuditTimeline({ api, query }: { api: Api; query: Record<string, string> }) {
  const { data, error } = useLoad(
    () => api.get<Page<AuditEvent>>(`audit${q({ ...query, top: 100 })}`),
    [JSON.stringify(query)],
  );
  return (
    <>
      <ErrorBox error={error} />
      <EventTable rows={data?.value} />
    </>
  );
}

function EventTable({ rows }: { rows: AuditEvent[] | undefined }) {
  return (
    <Table
      caption="Audit events"
      rows={rows}
      rowKey={(e) => e.id}
      empty="No event matches."
      columns={[
        ['Time', (e) => date(e.time)],
        ['Endpoint', (e) => e.endpoint ?? ''],
        ['Operation', (e) => e.operation],
        ['Outcome', (e) => <span class={`out-${e.outcome}`}>{e.outcome}</span>],
        ['Reason', (e) => <code>{e.reason}</code>],
        [
          'Subject / serial',
          (e) =>
            e.serialNumber ? (
              <a href={`#/certificates?show=${e.serialNumber}`}>{e.subject ?? e.serialNumber}</a>
            ) : (
              (e.subject ?? '')
            ),
        ],
        [
          'Transaction',
          (e) =>
            e.transactionId ? (
              <a href={`#/audit?explain=${encodeURIComponent(e.transactionId)}`}>
                {e.transactionId.slice(0, 16)}
              </a>
            ) : (
              ''
            ),
        ],
        ['Message', (e) => e.message],
      ]}
    />
  );
}

/** "Why did this device not get a certificate?": every attempt of one transaction/device/serial. */
function Explainer({ api, by, value }: { api: Api; by: string; value: string }) {
  const { data, error } = useLoad(
    () => api.get<{ attempts: (AuditEvent & { check?: string })[] }>(`explain${q({ [by]: value })}`),
    [by, value],
  );
  return (
    <section aria-labelledby="explained">
      <h2 id="explained">
        Explanation for {by} <code>{value}</code>
      </h2>
      <ErrorBox error={error} />
      {data && data.attempts.length === 0 && <p>No attempt recorded.</p>}
      <ol class="timeline">
        {data?.attempts.map((a) => (
          <li key={a.id}>
            <strong class={`out-${a.outcome}`}>{a.outcome}</strong> {date(a.time)} at {a.endpoint ?? '?'}:{' '}
            {a.message}
            {a.fix && <p class="fix">Fix: {a.fix}</p>}
            {a.compared && a.compared.length > 0 && (
              <ul>
                {a.compared.map((c) => (
                  <li key={c.name}>
                    {c.name}: got {JSON.stringify(c.actual ?? '–')}, needs {JSON.stringify(c.required ?? '–')}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function AuditPage({ api, params }: { api: Api; params: URLSearchParams }) {
  const filters = pick(FILTERS, (f) => params.get(f));
  const [tokens, setTokens] = useState<string[]>([]);
  const token = tokens[tokens.length - 1];
  const { data, error } = useLoad(
    () => api.get<Page<AuditEvent>>(`audit${q({ ...filters, top: 50, continuationToken: token })}`),
    [params.toString(), token],
  );
  const explain = params.get('explain');
  const [by, setBy] = useState('transactionId');
  return (
    <>
      <ExplainForm filters={filters} explain={explain} by={by} setBy={setBy} />
      {explain && <Explainer api={api} by={params.get('explainBy') ?? 'transactionId'} value={explain} />}
      <h2>Events</h2>
      <EventFilters api={api} filters={filters} setTokens={setTokens} />
      <ErrorBox error={error} />
      <EventTable rows={data?.value} />
      <Pager tokens={tokens} next={data?.continuationToken} set={setTokens} />
    </>
  );
}

/** Explain one transaction, device, serial or subject: opens the Explainer through the URL. */
function ExplainForm({
  filters,
  explain,
  by,
  setBy,
}: {
  filters: Record<string, string>;
  explain: string | null;
  by: string;
  setBy: (by: string) => void;
}) {
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        const v = formText(new FormData(e.currentTarget), 'value');
        if (v) location.hash = `#/audit${q({ ...filters, explainBy: by, explain: v })}`;
      }}
    >
      <Field label="Explain by">
        <select
          value={by}
          onChange={(e) => {
            setBy(e.currentTarget.value);
          }}
        >
          <option value="transactionId">transaction ID</option>
          <option value="device">device</option>
          <option value="serial">serial</option>
          <option value="subject">subject</option>
        </select>
      </Field>
      <Field label="Value">
        <input name="value" defaultValue={explain ?? ''} />
      </Field>
      <button type="submit">Explain</button>
    </form>
  );
}

/** The event filters (kept in the URL) and the CSV download of what they select. */
function EventFilters({
  api,
  filters,
  setTokens,
}: {
  api: Api;
  filters: Record<string, string>;
  setTokens: (t: string[]) => void;
}) {
  return (
    <FilterForm
      keys={FILTERS}
      setTokens={setTokens}
      search={(chosen) => (location.hash = `#/audit${q(chosen)}`)}
    >
      {FILTERS.filter((f) => f !== 'outcome').map((f) => (
        <Field key={f} label={f}>
          {f === 'from' || f === 'to' ? (
            <input name={f} type="date" defaultValue={filters[f] ?? ''} />
          ) : (
            <input name={f} defaultValue={filters[f] ?? ''} />
          )}
        </Field>
      ))}
      <Field label="outcome">
        <select name="outcome" defaultValue={filters.outcome ?? ''}>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o || 'any'}
            </option>
          ))}
        </select>
      </Field>
      <button type="submit" class="primary">
        Filter
      </button>
      <ActionButton
        label="Download CSV"
        action={() => api.download(`audit${q({ ...filters, format: 'csv' })}`, 'audit.csv')}
      />
    </FilterForm>
  );
}
