import type { CertificateRecord } from './types.js';

/**
 * AppConfig__StaticValidation__EnableCertificateStorage (SCEPman's name, default true here).
 *
 * In SCEPman the setting decides whether issued certificates are stored at all. Here every issued
 * certificate is recorded before it is returned: revocation, OCSP, audit and
 * Intune reporting depend on the record. So `false` only drops the certificate itself: the record
 * keeps serial, thumbprints, subject, SANs, validity, endpoint, authorization, requester,
 * transaction and status, and `der` is stored as the empty string.
 *
 * What that costs: nothing can hand the certificate out a second time. A retried transaction
 * (same endpoint + transactionID) finds a record without `der` and must be refused
 * (FAILURE/badRequest: "this transaction was completed; enroll with a new transactionID"),
 * never answered with a newly signed certificate; GetCert/CertPoll for it
 * fail with badCertId. The caller that just issued the certificate still gets `der` back from
 * `create`, so the first delivery is unaffected. Applied per endpoint by the issuance path
 * (lib/enroll/service.ts), so the static and Intune endpoints can differ as in SCEPman.
 */
/** `der` of a record kept without its certificate (EnableCertificateStorage=false). */
export const NOT_STORED_DER = '';

export function hasStoredCertificate(record: CertificateRecord): boolean {
  return record.der !== NOT_STORED_DER;
}
