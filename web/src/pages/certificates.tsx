import { useState } from 'preact/hooks';
import { q, type Api, type Page } from '../api';
import type { Role } from '../auth';
import { date, ErrorBox, Field, FilterForm, Table, useLoad, Pager } from '../ui';
import { CertificateDetail } from './certificate-detail';

export interface Certificate {
  serialNumber: string;
  subject: string;
  sans: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  endpoint: string;
  accountId?: string;
  organization?: string;
  department?: string;
  authorization: string;
  requester?: string;
  status: 'issued' | 'revoked';
  revocation?: { reason: string; date: string };
  createdAt: string;
  certificate?: string;
}

const FILTERS = [
  'search',
  'subject',
  'san',
  'serial',
  'thumbprint',
  'endpoint',
  'organization',
  'status',
  'days',
] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/** Fingerprints are often pasted with colons or spaces. */
const hexOnly = (s: string): string => s.replace(/[^0-9a-fA-F]/g, '');

const go = (params: Record<string, string>) => {
  location.hash = `#/certificates${q(params)}`;
};

export function CertificatesPage({ api, role, params }: { api: Api; role: Role; params: URLSearchParams }) {
  const serial = params.get('show');
  if (serial) return <CertificateDetail api={api} role={role} serial={serial} />;
  return <CertificateSearch api={api} params={params} />;
}

function CertificateSearch({ api, params }: { api: Api; params: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Filters;
  const [tokens, setTokens] = useState<string[]>([]);
  const token = tokens[tokens.length - 1];
  const { data, error, loading } = useLoad(() => {
    const days = Number(filters.days);
    const expiringBefore =
      filters.days !== '' && days >= 0 ? new Date(Date.now() + days * 86_400_000).toISOString() : undefined;
    return api.get<Page<Certificate>>(
      `certificates${q({ ...filters, serial: hexOnly(filters.serial), thumbprint: hexOnly(filters.thumbprint), days: undefined, expiringBefore, top: 25, continuationToken: token })}`,
    );
  }, [params.toString(), token]);
  return (
    <>
      <SearchForm filters={filters} setTokens={setTokens} />
      <ErrorBox error={error} />
      <p aria-live="polite" class="sr-only">
        {loading ? 'Loading' : `${data?.value.length ?? 0} certificates on this page`}
      </p>
      <CertificatesTable rows={data?.value} />
      <Pager tokens={tokens} next={data?.continuationToken} set={setTokens} />
    </>
  );
}

function SearchForm({ filters, setTokens }: { filters: Filters; setTokens: (t: string[]) => void }) {
  return (
    <FilterForm keys={FILTERS} setTokens={setTokens} search={go}>
      <Field label="Subject, SAN, serial or thumbprint">
        <input name="search" type="search" defaultValue={filters.search} />
      </Field>
      <Field label="Subject contains">
        <input name="subject" defaultValue={filters.subject} />
      </Field>
      <Field label="SAN contains">
        <input name="san" defaultValue={filters.san} />
      </Field>
      <Field label="Serial (hex)">
        <input name="serial" defaultValue={filters.serial} pattern="[0-9a-fA-F:]*" />
      </Field>
      <Field label="Thumbprint (SHA-1 or SHA-256, hex)">
        <input name="thumbprint" defaultValue={filters.thumbprint} pattern="[0-9a-fA-F:]*" />
      </Field>
      <Field label="Endpoint">
        <input name="endpoint" defaultValue={filters.endpoint} />
      </Field>
      <Field label="Organization">
        <input name="organization" defaultValue={filters.organization} />
      </Field>
      <Field label="Status">
        <select name="status" defaultValue={filters.status}>
          <option value="">any</option>
          <option value="issued">issued</option>
          <option value="revoked">revoked</option>
        </select>
      </Field>
      <Field label="Expiring within (days)">
        <input name="days" type="number" min="0" inputMode="numeric" defaultValue={filters.days} />
      </Field>
      <button type="submit" class="primary">
        Search
      </button>
    </FilterForm>
  );
}

function CertificatesTable({ rows }: { rows: Certificate[] | undefined }) {
  return (
    <Table
      caption="Certificates"
      rows={rows}
      rowKey={(c) => c.serialNumber}
      empty="No certificate matches."
      columns={[
        [
          'Subject',
          (c) => <a href={`#/certificates?show=${c.serialNumber}`}>{c.subject || '(empty subject)'}</a>,
        ],
        ['Serial', (c) => <code>{c.serialNumber}</code>],
        ['Endpoint', (c) => c.endpoint],
        ['Organization', (c) => c.organization ?? ''],
        ['Status', (c) => <span class={`st-${c.status}`}>{c.status}</span>],
        ['Expires', (c) => date(c.notAfter)],
      ]}
    />
  );
}
