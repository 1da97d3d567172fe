import { useState } from 'preact/hooks';
import { q, type Api, type Page } from '../api';
import type { Role } from '../auth';
import { decodeCertificate } from '../der';
import { AuditTimeline } from './audit';
import { ActionButton, date, ErrorBox, Field, FilterForm, Table, useLoad, Pager } from '../ui';

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

const REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
];
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

function CertificateDetail({ api, role, serial }: { api: Api; role: Role; serial: string }) {
  const {
    data: c,
    error,
    reload,
  } = useLoad(() => api.get<Certificate>(`certificates/${encodeURIComponent(serial)}`), [serial]);
  const [reason, setReason] = useState('keyCompromise');
  const canRevoke = role !== 'CA.Auditor' && c?.status === 'issued';
  const canRelease = role !== 'CA.Auditor' && c?.revocation?.reason === 'certificateHold';
  return (
    <>
      <p>
        <a href="#/certificates">← All certificates</a>
      </p>
      <ErrorBox error={error} />
      {c && (
        <>
          <h2>{c.subject}</h2>
          <Facts c={c} />
          {c.certificate && <Decoded pem={c.certificate} serial={c.serialNumber} />}
          {canRevoke && (
            <RevokeSection api={api} c={c} reason={reason} setReason={setReason} reload={reload} />
          )}
          {canRelease && (
            <ActionButton
              label="Release hold"
              confirm={`Release the hold on ${c.subject}? It becomes valid again.`}
              action={() => api.call('POST', `certificates/${c.serialNumber}/unrevoke`)}
              onDone={reload}
            />
          )}
          <details>
            <summary>Record (JSON)</summary>
            <pre>{JSON.stringify({ ...c, certificate: undefined }, null, 2)}</pre>
          </details>
          <h3>Audit timeline</h3>
          <AuditTimeline api={api} query={{ serial: c.serialNumber }} />
        </>
      )}
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

/** The record's facts: status, identifiers, validity, where and for whom it was issued. */
function Facts({ c }: { c: Certificate }) {
  return (
    <dl class="facts">
      <dt>Status</dt>
      <dd class={`st-${c.status}`}>
        {c.status}
        {c.revocation && ` (${c.revocation.reason}, ${date(c.revocation.date)})`}
      </dd>
      <dt>Serial</dt>
      <dd>
        <code>{c.serialNumber}</code>
      </dd>
      <dt>Issuer</dt>
      <dd>{c.issuer}</dd>
      <dt>SANs</dt>
      <dd>{c.sans.join(', ') || 'none'}</dd>
      <dt>Valid</dt>
      <dd>
        {date(c.notBefore)} to {date(c.notAfter)}
      </dd>
      <dt>SHA-256</dt>
      <dd>
        <code>{c.thumbprintSha256}</code>
      </dd>
      <dt>SHA-1</dt>
      <dd>
        <code>{c.thumbprintSha1}</code>
      </dd>
      <dt>Endpoint</dt>
      <dd>{c.endpoint}</dd>
      <dt>Account</dt>
      <dd>{c.accountId ?? ''}</dd>
      <dt>Organization</dt>
      <dd>{[c.organization, c.department].filter(Boolean).join(' / ')}</dd>
      <dt>Authorized by</dt>
      <dd>
        {c.authorization}
        {c.requester ? ` (${c.requester})` : ''}
      </dd>
      <dt>Issued</dt>
      <dd>{date(c.createdAt)}</dd>
    </dl>
  );
}

function RevokeSection({
  api,
  c,
  reason,
  setReason,
  reload,
}: {
  api: Api;
  c: Certificate;
  reason: string;
  setReason: (r: string) => void;
  reload: () => void;
}) {
  return (
    <section aria-labelledby="revoke">
      <h3 id="revoke">Revoke</h3>
      <Field label="Reason">
        <select
          value={reason}
          onChange={(e) => {
            setReason(e.currentTarget.value);
          }}
        >
          {REASONS.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </Field>
      <ActionButton
        label="Revoke certificate"
        kind="danger"
        confirm={`Revoke ${c.subject} (${reason})?`}
        action={() => api.call('POST', `certificates/${c.serialNumber}/revoke`, { reason })}
        onDone={reload}
      />
    </section>
  );
}

/** The certificate's own fields (decoded in the browser) and its downloads. */
function Decoded({ pem, serial }: { pem: string; serial: string }) {
  const d = decodeCertificate(pem);
  const der = pem.replace(/-----[^-]+-----|\s/g, '');
  return (
    <section aria-labelledby="decoded">
      <h3 id="decoded">Certificate</h3>
      {d && (
        <dl class="facts">
          <dt>Version</dt>
          <dd>{d.version}</dd>
          <dt>Signature</dt>
          <dd>{d.signatureAlgorithm}</dd>
          <dt>Public key</dt>
          <dd>{d.publicKey}</dd>
          {d.extensions.map((e) => [
            <dt key={`${e.name}-t`}>
              {e.name}
              {e.critical ? ' (critical)' : ''}
            </dt>,
            <dd key={`${e.name}-d`}>{e.value}</dd>,
          ])}
        </dl>
      )}
      <p class="actions">
        <a download={`${serial}.cer`} href={`data:application/pkix-cert;base64,${der}`}>
          Download DER (.cer)
        </a>
        <a download={`${serial}.pem`} href={`data:application/x-pem-file,${encodeURIComponent(pem)}`}>
          Download PEM
        </a>
      </p>
    </section>
  );
}
