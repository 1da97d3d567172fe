import type { ComparedValue } from '../audit/event.js';
import type { ReasonCode } from '../audit/reasons.js';
import type { ParsedCsr } from './parse.js';

/**
 * CSR policy: small single-purpose validators composed per endpoint. Each returns undefined
 * when the request passes, or a refusal with a stable machine-readable reason.
 */
export interface PolicyRefusal {
  /** A catalogue code (lib/audit/reasons.ts). */
  readonly reason: ReasonCode;
  readonly message: string;
  /** What was compared with what the endpoint requires, for the audit trail. */
  readonly compared?: readonly ComparedValue[];
}
export type CsrValidator = (csr: ParsedCsr) => PolicyRefusal | undefined;

export const proofOfPossession: CsrValidator = (csr) =>
  csr.verifySignature()
    ? undefined
    : { reason: 'csr-signature-invalid', message: 'the CSR signature does not verify with its public key' };

export function allowedKeys(o: {
  minRsaBits: number;
  maxRsaBits: number;
  curves: readonly string[];
}): CsrValidator {
  return (csr) => {
    const k = csr.key;
    if (k.type === 'RSA') {
      if (k.bits < o.minRsaBits)
        return {
          reason: 'key-too-small',
          message: `RSA keys must have at least ${o.minRsaBits} bits (got ${k.bits})`,
          compared: [{ name: 'rsaBits', actual: k.bits, required: `>= ${o.minRsaBits}` }],
        };
      // RFC 8017 §3.1: 3 <= e, and e odd. With e = 1 any padded digest is a valid signature,
      // so proof of possession proves nothing; Node imports and verifies such keys.
      if (k.exponent < 3n || k.exponent % 2n === 0n)
        return {
          reason: 'key-exponent-invalid',
          message: `the RSA public exponent ${k.exponent} is not an odd number of at least 3`,
          compared: [{ name: 'rsaExponent', actual: String(k.exponent), required: 'odd, >= 3' }],
        };
      if (k.bits > o.maxRsaBits)
        return {
          reason: 'key-too-large',
          message: `RSA keys may have at most ${o.maxRsaBits} bits (got ${k.bits})`,
          compared: [{ name: 'rsaBits', actual: k.bits, required: `<= ${o.maxRsaBits}` }],
        };
      return undefined;
    }
    if (k.type === 'EC') {
      return o.curves.includes(k.curve)
        ? undefined
        : {
            reason: 'curve-not-allowed',
            message: `EC curve ${k.curve} is not allowed (allowed: ${o.curves.join(', ')})`,
            compared: [{ name: 'curve', actual: k.curve, required: o.curves.join(' | ') }],
          };
    }
    return {
      reason: 'key-type-not-allowed',
      message: `key algorithm ${k.oid} is not allowed`,
      compared: [{ name: 'keyAlgorithm', actual: k.oid, required: 'RSA | EC' }],
    };
  };
}

export const subjectOrSan: CsrValidator = (csr) =>
  !csr.subjectEmpty || csr.sans.length > 0
    ? undefined
    : { reason: 'subject-missing', message: 'the CSR has neither a subject nor a subjectAltName' };

export const DEFAULT_POLICY: readonly CsrValidator[] = [
  proofOfPossession,
  allowedKeys({ minRsaBits: 2048, maxRsaBits: 8192, curves: ['P-256', 'P-384'] }),
  subjectOrSan,
];

export function checkPolicy(csr: ParsedCsr, validators: readonly CsrValidator[]): PolicyRefusal | undefined {
  for (const v of validators) {
    const r = v(csr);
    if (r) return r;
  }
  return undefined;
}
