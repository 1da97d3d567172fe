import type { CaKeys } from '../keys/types.js';
import { certView } from '../x509/cert-view.js';
import { nameDerToString } from '../x509/names.js';
import { keyIdentifier } from './extensions.js';

/** Where relying parties check revocation (from AppConfig__BaseUrl): AIA and CDP of every certificate. */
export interface RevocationUrls {
  readonly ocsp: string;
  readonly caIssuers: string;
  readonly crl: string;
}

/**
 * A CA's stable id in URLs: its key identifier (SHA-1 of the subjectPublicKey BIT STRING, RFC
 * 5280 §4.2.1.2 method 1) in lower-case hex, the keyIdentifier of the authorityKeyIdentifier
 * every certificate it issues carries. It names the key, so a CA certificate re-issued for the
 * same key keeps its URLs (and its CRL, which that key signs).
 */
export function caIdOf(certificateDer: Uint8Array): string {
  let id = ids.get(certificateDer);
  if (id === undefined) {
    id = Buffer.from(keyIdentifier(certView(certificateDer).spki)).toString('hex');
    ids.set(certificateDer, id);
  }
  return id;
}

const ids = new WeakMap<Uint8Array, string>();

/**
 * The URLs this app serves for a CA's certificates (functions/ocsp.ts, functions/crl.ts). The
 * configured CA's certificates carry `<BaseUrl>/crl` and `<BaseUrl>/ca.cer` (what they always
 * carried); any other CA's (a next CA once activated) carry `<BaseUrl>/crl/<CA id>` and
 * `<BaseUrl>/ca/<CA id>.cer`. OCSP has one URL: each request names its issuer (RFC 6960 §4.1.1).
 */
export function revocationUrls(baseUrl: string, caId?: string): RevocationUrls {
  const base = baseUrl.replace(/\/+$/, '');
  return caId === undefined
    ? { ocsp: `${base}/ocsp`, caIssuers: `${base}/ca.cer`, crl: `${base}/crl` }
    : { ocsp: `${base}/ocsp`, caIssuers: `${base}/ca/${caId}.cer`, crl: `${base}/crl/${caId}` };
}

/** The CAs an instance knows: the configured one, the one that issues, and the one before it. */
export interface KnownCas {
  /** The CA of the settings (Key Vault `<CertificateName>`, or `.data/ca/`): served at `/crl`, `/ca.cer`. */
  readonly configured: CaKeys;
  readonly active: CaKeys;
  readonly previous: CaKeys | undefined;
}

/** The CAs whose certificates are in use: the issuing one, then the one before an activation. */
export function trustedCas(cas: Pick<KnownCas, 'active' | 'previous'>): [CaKeys, ...CaKeys[]] {
  return cas.previous ? [cas.active, cas.previous] : [cas.active];
}

/** A CA's name as the `issuer` of the certificate records it issued (RFC 4514). */
export function caNameOf(ca: Pick<CaKeys, 'certificateDer'>): string {
  return nameDerToString(certView(ca.certificateDer).subject);
}

/** The path of a CA's certificates' URLs: undefined for the configured CA, else its id. */
export function urlIdOf(cas: KnownCas, ca: CaKeys): string | undefined {
  return ca === cas.configured ? undefined : caIdOf(ca.certificateDer);
}

/** The CA a URL names: no id → the configured CA; an id → the known CA with that key identifier. */
export function caNamed(cas: KnownCas, id: string | undefined): CaKeys | undefined {
  if (id === undefined) return cas.configured;
  const want = id.toLowerCase();
  return [cas.active, cas.previous, cas.configured].find(
    (ca) => ca !== undefined && caIdOf(ca.certificateDer) === want,
  );
}
