import type { IssuanceProfile } from '../ca/issue.js';
import type { ParsedCsr } from '../csr/parse.js';
import { allowedKeys, proofOfPossession, subjectOrSan, type CsrValidator } from '../csr/policy.js';
import type { CertificateProfile, RdnName, SanType } from '../model/profile.js';
import { generalNameToString } from '../x509/names.js';

/**
 * A stored certificate profile as small single-purpose CSR validators (smallstep's
 * sign_options shape): key rules, subject rules, SAN rules; and its issuing half.
 */

const RDN_OIDS: Record<RdnName, string> = {
  CN: '2.5.4.3',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  E: '1.2.840.113549.1.9.1',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  SERIALNUMBER: '2.5.4.5',
};

/** The values of every attribute of type `oid` in the CSR subject. */
function rdnValues(csr: ParsedCsr, oid: string): string[] {
  return csr.subject.flatMap((rdn) =>
    rdn.filter((atv) => atv.type === oid).map((atv) => atv.value.toString()),
  );
}

const fullMatch = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`, 'u');

export function subjectRules(s: CertificateProfile['subject']): CsrValidator {
  const cn = s.cnPattern === undefined ? undefined : fullMatch(s.cnPattern);
  return (csr) => {
    for (const r of s.required)
      if (rdnValues(csr, RDN_OIDS[r]).length === 0)
        return { reason: 'subject-rdn-required', message: `the subject must contain ${r}` };
    for (const r of s.forbidden)
      if (rdnValues(csr, RDN_OIDS[r]).length > 0)
        return { reason: 'subject-rdn-forbidden', message: `the subject must not contain ${r}` };
    if (cn)
      for (const v of rdnValues(csr, RDN_OIDS.CN))
        if (!cn.test(v))
          return {
            reason: 'subject-cn-pattern',
            message: `the CN "${v}" does not match the endpoint's pattern`,
          };
    return undefined;
  };
}

export function sanRules(s: CertificateProfile['san']): CsrValidator {
  const patterns = new Map(Object.entries(s.patterns).map(([t, p]) => [t, fullMatch(p)]));
  return (csr) => {
    for (const gn of csr.sans) {
      const text = generalNameToString(gn);
      const colon = text.indexOf(':');
      const type = text.slice(0, colon);
      const value = text.slice(colon + 1);
      if (!s.allowedTypes.includes(type as SanType))
        return { reason: 'san-type-not-allowed', message: `subjectAltName type ${type} is not allowed here` };
      const p = patterns.get(type);
      if (p && !p.test(value))
        return {
          reason: 'san-pattern',
          message: `the subjectAltName ${text} does not match the endpoint's pattern`,
        };
    }
    return undefined;
  };
}

/** Every validator of a profile, cheapest first; proof of possession always applies. */
export function profileValidators(p: CertificateProfile): readonly CsrValidator[] {
  return [
    allowedKeys({ minRsaBits: p.key.rsaMinBits, maxRsaBits: 8192, curves: p.key.ecCurves }),
    subjectOrSan,
    subjectRules(p.subject),
    sanRules(p.san),
    proofOfPossession,
  ];
}

/** What the issuer puts into the certificate: from the profile, never from the request. */
export const issuanceOf = (p: CertificateProfile): IssuanceProfile => ({
  validityDays: p.validityDays,
  keyUsage: p.keyUsage,
  ekus: p.ekus,
});
