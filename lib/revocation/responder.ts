import { createHash, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { AsnParser } from '@peculiar/asn1-schema';
import {
  Extensions,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_kp_OCSPSigning,
} from '@peculiar/asn1-x509';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extendedKeyUsage,
  issuerKeyIdentifier,
  keyUsage,
  ocspNoCheck,
  subjectKeyIdentifier,
} from '../ca/extensions.js';
import { parseName } from '../ca/root.js';
import { randomSerial, signatureAlgorithm, signTbs } from '../ca/sign.js';
import { LocalKey } from '../keys/local.js';
import type { CaKeys, HashAlgorithm, Signer } from '../keys/types.js';
import { certView } from '../x509/cert-view.js';

/** The key and certificate that sign OCSP responses (RFC 6960 §4.2.2.2, delegated responder). */
export interface ResponderIdentity {
  readonly signer: Signer;
  readonly certificateDer: Uint8Array;
  /** SHA-1 of the responder's public key BIT STRING value: ResponderID byKey. */
  readonly keyHash: Uint8Array;
  readonly notAfter: Date;
  readonly hash: HashAlgorithm;
}

export interface ResponderOptions {
  /** Certificate lifetime; renewed when less than half of it is left. Default 2 days. */
  readonly validityHours?: number;
  readonly now?: () => Date;
  /** Told of every responder certificate issued (the key lifecycle audit event); never throws. */
  readonly onIssued?: (certificateDer: Uint8Array, previous: Uint8Array | undefined) => void;
}

const generate = promisify(generateKeyPair);

/**
 * Delegated OCSP responder certificates, one per instance. Each instance makes its own key in
 * memory at its first OCSP request and has the CA issue a short-lived certificate for it
 * (id-kp-OCSPSigning, id-pkix-ocsp-nocheck): one CA signature (one Key Vault operation) per
 * instance start and per renewal, never one per OCSP response. Nothing private is stored
 * anywhere, so there is no responder key to protect, share or rotate across instances; a
 * stolen responder key is useless after at most `validityHours`, which is why nocheck is safe.
 * The key type follows the CA's (RSA 2048 or P-256) so every client that accepts the CA's
 * signatures accepts the responder's.
 */
export class ResponderCertificates {
  private current: ResponderIdentity | undefined;
  private renewing: Promise<ResponderIdentity> | undefined;
  private readonly validityMs: number;
  private readonly now: () => Date;
  private readonly onIssued: NonNullable<ResponderOptions['onIssued']>;

  constructor(
    private readonly ca: CaKeys,
    options: ResponderOptions = {},
  ) {
    this.onIssued = options.onIssued ?? (() => undefined);
    this.validityMs = (options.validityHours ?? 48) * 3_600_000;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The identity in force; renews in the background when half its life is gone, unless it
   * already ends with the CA certificate: a new one could not outlive it, so renewing would cost
   * a CA signature (and an audit event) on every request until the CA expires.
   */
  async get(): Promise<ResponderIdentity> {
    const c = this.current;
    const now = this.now().getTime();
    if (c && c.notAfter.getTime() - now > this.validityMs / 2) return c;
    if (c && c.notAfter.getTime() >= certView(this.ca.certificateDer).notAfter.getTime()) return c;
    const next = (this.renewing ??= this.issue().finally(() => {
      this.renewing = undefined;
    }));
    // Still valid: keep answering with it while the new one is made.
    if (c && c.notAfter.getTime() - now > 60_000) {
      next.catch(() => undefined);
      return c;
    }
    return next;
  }

  private async issue(): Promise<ResponderIdentity> {
    const { privateKey } =
      this.ca.signer.keyType === 'EC'
        ? await generate('ec', { namedCurve: 'P-256' })
        : await generate('rsa', { modulusLength: 2048 });
    const signer = new LocalKey(privateKey, 'memory:ocsp-responder');
    const now = this.now();
    const ca = certView(this.ca.certificateDer);
    const hash: HashAlgorithm = 'SHA-256';
    const notAfter = new Date(Math.min(now.getTime() + this.validityMs, ca.notAfter.getTime()));
    const tbs = new TBSCertificate({
      version: Version.v3,
      serialNumber: randomSerial().buffer as ArrayBuffer,
      signature: signatureAlgorithm(this.ca.signer.keyType, hash),
      issuer: AsnParser.parse(ca.subject, Name),
      // Backdated a little: relying parties' clocks run behind too.
      validity: new Validity({ notBefore: new Date(now.getTime() - 5 * 60_000), notAfter }),
      subject: parseName(`CN=${commonName(this.ca.certificateDer)} OCSP Responder`),
      subjectPublicKeyInfo: AsnParser.parse(signer.publicKeySpki, SubjectPublicKeyInfo),
      extensions: new Extensions([
        basicConstraints(false),
        keyUsage(['DigitalSignature']),
        extendedKeyUsage([id_kp_OCSPSigning]),
        ocspNoCheck(),
        subjectKeyIdentifier(signer.publicKeySpki),
        authorityKeyIdentifier(issuerKeyIdentifier(this.ca.certificateDer)),
      ]),
    });
    const certificateDer = await signTbs(tbs, this.ca.signer, hash);
    const spki = AsnParser.parse(signer.publicKeySpki, SubjectPublicKeyInfo);
    this.onIssued(certificateDer, this.current?.certificateDer);
    this.current = {
      signer,
      certificateDer,
      keyHash: new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest()),
      notAfter: certView(certificateDer).notAfter,
      hash,
    };
    return this.current;
  }
}

function commonName(caDer: Uint8Array): string {
  const name = AsnParser.parse(certView(caDer).subject, Name);
  for (const rdn of name)
    for (const atv of rdn)
      if (atv.type === '2.5.4.3') {
        const v = atv.value.toString();
        // Escape what RFC 4514 reserves, so the name parses back.
        if (v) return v.replace(/([,+"\\<>;=])/g, '\\$1');
      }
  return 'azure-scep-ca';
}
