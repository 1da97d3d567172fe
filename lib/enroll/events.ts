import type { ParsedCsr } from '../csr/parse.js';
import type { EnrollmentRequest, EnrollmentResult } from './request.js';

/** The decision a delivered certificate records: issued, renewed or replayed. */
export function deliveredEvent(endpoint: string, r: Extract<EnrollmentResult, { ok: true }>) {
  const { record } = r;
  if (r.replayed) {
    return {
      outcome: 'replayed',
      reason: 'replayed',
      message: `endpoint '${endpoint}' sent certificate ${record.serialNumber} again for a retried transaction`,
    } as const;
  }
  const renewed = record.authorization === 'renewal';
  return {
    outcome: renewed ? 'renewed' : 'issued',
    reason: renewed ? 'renewed' : 'issued',
    message: `endpoint '${endpoint}' ${renewed ? 'renewed' : 'issued'} certificate ${record.serialNumber} for ${record.subject || 'an empty subject'} (${record.authorization})`,
  } as const;
}

/** The audit fields every event of one enrollment request shares. */
export function auditBase(req: EnrollmentRequest) {
  return {
    kind: 'enrollment',
    endpoint: req.endpoint,
    operation: req.operation,
    transactionId: req.transactionId,
    actor: req.csr.subjectString,
    subject: req.csr.subjectString,
    device: intuneDeviceId(req.csr),
    ...req.context,
  } as const;
}

/**
 * The Intune device id a CSR names: Intune SCEP profiles put it in a URI SAN
 * `IntuneDeviceId://{{DeviceId}}` (Microsoft Learn, "Use SCEP certificate profiles with
 * Microsoft Intune", Subject alternative name: URI), so an explainer can find a device's requests.
 */
function intuneDeviceId(csr: Pick<ParsedCsr, 'sans'>): string | undefined {
  for (const gn of csr.sans) {
    const uri = gn.uniformResourceIdentifier;
    const m = uri === undefined ? null : /^IntuneDeviceId:\/\/(.+)$/i.exec(uri);
    if (m?.[1]) return m[1];
  }
  return undefined;
}
