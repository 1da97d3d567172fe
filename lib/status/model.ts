import { X509Certificate } from 'node:crypto';
import { revocationUrls } from '../ca/urls.js';

/** One SCEP endpoint as the public status page lists it (enabled endpoints only). */
export interface StatusEndpoint {
  readonly name: string;
  readonly displayName: string;
  readonly type: string;
  /** RA mode: the endpoint publishes its own RA certificate (listed with the RA certificates). */
  readonly ra?: boolean;
  readonly url: string;
}

/** An RA certificate an endpoint publishes (RA mode), downloadable from the status page. */
export interface StatusRaCertificate {
  readonly endpoint: string;
  readonly subject: string;
  readonly notAfter: string;
  readonly sha256: string;
  readonly url: string;
}

/** A certificate shown on the status page: what an administrator compares and pastes. */
export interface StatusCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sha256: string;
  readonly sha1: string;
  readonly pem: string;
}

/** Health as words only: no error text, host names or versions on a public page. */
export type HealthWord = 'ok' | 'unavailable' | 'not configured';

export interface StatusModel {
  readonly baseUrl: string;
  readonly ca: StatusCertificate;
  /** Certificates above the CA (subordinate CA), nearest first. */
  readonly chain: readonly StatusCertificate[];
  readonly endpoints: readonly StatusEndpoint[];
  readonly raCertificates: readonly StatusRaCertificate[];
  /** The issuing CA's certificate, DER: `/ca.cer`, or `/ca/<CA id>.cer` after an activation. */
  readonly caCerPath: string;
  readonly crlUrl: string | undefined;
  readonly ocspUrl: string | undefined;
  readonly health: Readonly<Record<string, HealthWord>>;
}

/** What the page is built from; the function file fills it from the composition root. */
export interface StatusSources {
  readonly baseUrl: string;
  readonly caDer: Uint8Array;
  readonly chainDer: readonly Uint8Array[];
  /** The issuing CA's id in its CRL and certificate URLs (lib/ca/urls.ts); undefined for the configured CA. */
  readonly caUrlId?: string | undefined;
  readonly endpoints: () => Promise<readonly Omit<StatusEndpoint, 'url'>[]>;
  /** The live RA certificates of the RA-mode endpoints among them. */
  readonly raCertificates: (
    endpoints: readonly Omit<StatusEndpoint, 'url'>[],
  ) => Promise<readonly Omit<StatusRaCertificate, 'url'>[]>;
  /** Raw check results: 'ok', or anything else (never shown). */
  readonly checks: () => Promise<Readonly<Record<string, string>>>;
  readonly revocation: boolean;
  readonly intuneEnabled: boolean;
}

export function describeCertificate(der: Uint8Array): StatusCertificate {
  const x = new X509Certificate(der);
  const name = (s: string): string => s.split('\n').join(', ');
  return {
    subject: name(x.subject),
    issuer: name(x.issuer),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    sha256: x.fingerprint256,
    sha1: x.fingerprint,
    pem: x.toString(),
  };
}

export async function statusModel(s: StatusSources): Promise<StatusModel> {
  const base = s.baseUrl.replace(/\/+$/, '');
  const urls = revocationUrls(base, s.caUrlId);
  const [endpoints, checks] = await Promise.all([
    s.endpoints().catch(() => undefined),
    s.checks().catch((): Readonly<Record<string, string>> => ({})),
  ]);
  const ras = await s.raCertificates(endpoints ?? []).catch(() => []);
  const word = (v: string | undefined): HealthWord => (v === 'ok' ? 'ok' : 'unavailable');
  return {
    baseUrl: base,
    ca: describeCertificate(s.caDer),
    chain: s.chainDer.map(describeCertificate),
    endpoints: (endpoints ?? []).map((e) => ({ ...e, url: `${base}/scep/${e.name}` })),
    raCertificates: ras.map((r) => ({ ...r, url: `${base}/ra/${r.endpoint}.pem` })),
    caCerPath: s.caUrlId === undefined ? '/ca.cer' : `/ca/${s.caUrlId}.cer`,
    crlUrl: s.revocation ? urls.crl : undefined,
    ocspUrl: s.revocation ? urls.ocsp : undefined,
    health: {
      settings: word(checks.settings),
      'CA key': word(checks.caCertificate),
      store: word(endpoints === undefined ? 'no' : checks.store),
      Intune: s.intuneEnabled ? 'ok' : 'not configured',
    },
  };
}
