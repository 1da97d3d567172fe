import { useState } from 'preact/hooks';
import type { Api } from '../api';
import type { Role } from '../auth';
import { decodeCertificate } from '../der';
import { AuditTimeline } from './audit';
import type { Certificate } from './certificates';
import { ActionButton, date, ErrorBox, Field, useLoad } from '../ui';

const REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
];
const DEFAULT_REASON = 'keyCompromise';

/** One certificate: its record, its decoded fields and downloads, revocation, its audit timeline. */
export function CertificateDetail({ api, role, serial }: { api: Api; role: Role; serial: string }) {
  const {
    data: c,
    error,
    reload,
  } = useLoad(() => api.get<Certificate>(`certificates/${encodeURIComponent(serial)}`), [serial]);
  const [reason, setReason] = useState(DEFAULT_REASON);
  const held = c?.revocation?.reason === 'certificateHold';
  // A certificate on hold can still be revoked for good (RFC 5280 §3.3), with a permanent reason.
  const canRevoke = role !== 'CA.Auditor' && (c?.status === 'issued' || held);
  const canRelease = role !== 'CA.Auditor' && held;
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
  // On hold: only a permanent reason is left to choose.
  const held = c.revocation?.reason === 'certificateHold';
  const reasons = held ? REASONS.filter((r) => r !== 'certificateHold') : REASONS;
  // The reason chosen for the hold is not offered any more: the default takes its place.
  const chosen = reasons.includes(reason) ? reason : DEFAULT_REASON;
  return (
    <section aria-labelledby="revoke">
      <h3 id="revoke">{held ? 'Revoke for good' : 'Revoke'}</h3>
      <Field label="Reason">
        <select
          value={chosen}
          onChange={(e) => {
            setReason(e.currentTarget.value);
          }}
        >
          {reasons.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </Field>
      <ActionButton
        label="Revoke certificate"
        kind="danger"
        confirm={`Revoke ${c.subject} (${chosen})?`}
        action={() => api.call('POST', `certificates/${c.serialNumber}/revoke`, { reason: chosen })}
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
