import { createHash } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { OCSPResponseStatus, type CertID } from '@peculiar/asn1-ocsp';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { NODE_HASH } from '../cms/algorithms.js';
import { describeError } from '../errors.js';
import type { CaKeys, HashAlgorithm } from '../keys/types.js';
import type { Logger } from '../log.js';
import type { CertificateStore } from '../store/types.js';
import { certView } from '../x509/cert-view.js';
import { nameDerToString } from '../x509/names.js';
import type { EpochWatcher } from './epoch.js';
import { errorResponse, parseOcspRequest, signedResponse, type CertState } from './ocsp-messages.js';
import type { ResponderCertificates } from './responder.js';

export interface OcspOptions {
  readonly store: CertificateStore;
  readonly ca: CaKeys;
  readonly responder: ResponderCertificates;
  readonly epoch: EpochWatcher;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** nextUpdate - thisUpdate of good and revoked answers. Default 1 hour. */
  readonly validitySeconds?: number;
  /** Cache-Control max-age of good and revoked answers (SCEPman: 600). */
  readonly maxAgeSeconds?: number;
  /** How long a pre-signed response is served before it is signed afresh. Default 5 minutes. */
  readonly reuseSeconds?: number;
  /** Pre-signed responses kept (per distinct request). Default 100,000. */
  readonly maxCached?: number;
}

/** What the HTTP adapter sends: the DER OCSPResponse and how long it may be cached. */
export interface OcspAnswer {
  readonly der: Uint8Array;
  /** Seconds; 0 = not cacheable (nonce, errors). */
  readonly maxAge: number;
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
}

interface Cached extends OcspAnswer {
  readonly generation: number;
  readonly reuseUntil: number;
}

const UNKNOWN_MAX_AGE = 60;

/**
 * OCSP responder (RFC 6960) over the certificate store: good / revoked / unknown for each
 * certID (SHA-1, SHA-256, SHA-384 or SHA-512 issuer hashes), nonce echoed, signed by the
 * delegated responder key in memory. Responses to requests without a nonce are pre-signed and
 * reused, keyed by the request bytes, until `reuseSeconds` pass or the revocation epoch moves
 * (EpochWatcher): a revocation through any instance is answered `revoked` everywhere within
 * the epoch interval. Failures never become HTTP errors: malformedRequest, or tryLater when
 * the store or the CA does not answer.
 */
export class OcspResponder {
  private readonly cache = new Map<string, Cached>();
  private readonly issuerHashes = new Map<HashAlgorithm, { name: Buffer; key: Buffer }>();
  private readonly caSubject: Uint8Array;
  /** The CA as its certificate records name it (`issuer`). */
  private readonly caName: string;
  private readonly caKeyBits: Uint8Array;
  private readonly now: () => Date;
  private readonly validityMs: number;
  private readonly maxAge: number;
  private readonly reuseMs: number;
  private readonly maxCached: number;

  constructor(private readonly o: OcspOptions) {
    const ca = certView(o.ca.certificateDer);
    this.caSubject = ca.subject;
    this.caName = nameDerToString(ca.subject);
    this.caKeyBits = new Uint8Array(AsnParser.parse(ca.spki, SubjectPublicKeyInfo).subjectPublicKey);
    this.now = o.now ?? (() => new Date());
    this.validityMs = (o.validitySeconds ?? 3600) * 1000;
    this.maxAge = o.maxAgeSeconds ?? 600;
    this.reuseMs = (o.reuseSeconds ?? 300) * 1000;
    this.maxCached = o.maxCached ?? 100_000;
  }

  /** The responder identity made ahead of the first request (an instance's warm-up). */
  async prepare(): Promise<void> {
    await this.o.responder.get();
  }

  async respond(request: Uint8Array): Promise<OcspAnswer> {
    const wait = this.o.epoch.fresh();
    if (wait) {
      // The store is unreachable: keep answering from what is cached (lookups fail anyway).
      await wait.catch((e: unknown) => {
        this.o.logger.warn('ocsp: revocation epoch read failed', { error: describeError(e) });
      });
    }
    const generation = this.o.epoch.generation;
    const key = Buffer.from(request).toString('latin1');
    const hit = this.cache.get(key);
    const nowMs = this.now().getTime();
    if (hit && hit.generation === generation && nowMs < hit.reuseUntil) {
      const maxAge = Math.max(0, Math.min(hit.maxAge, Math.floor((hit.reuseUntil - nowMs) / 1000)));
      return { ...hit, maxAge };
    }
    const parsed = parseOcspRequest(request);
    if (!parsed) return { der: errorResponse(OCSPResponseStatus.malformedRequest), maxAge: 0 };
    let states: CertState[];
    try {
      states = await Promise.all(parsed.certIds.map((c) => this.state(c.certId, c.hash, c.serialHex)));
    } catch (e) {
      this.o.logger.warn('ocsp: certificate store lookup failed', { error: describeError(e) });
      return { der: errorResponse(OCSPResponseStatus.tryLater), maxAge: 0 };
    }
    let responder;
    try {
      responder = await this.o.responder.get();
    } catch (e) {
      this.o.logger.error('ocsp: no responder certificate', { error: describeError(e) });
      return { der: errorResponse(OCSPResponseStatus.tryLater), maxAge: 0 };
    }
    const producedAt = new Date(Math.floor(nowMs / 1000) * 1000);
    const nextUpdate = new Date(producedAt.getTime() + this.validityMs);
    const der = await signedResponse(
      responder,
      parsed.certIds.map((c, i) => ({
        certId: c.certId,
        state: states[i] ?? { kind: 'unknown' },
        thisUpdate: producedAt,
        nextUpdate,
      })),
      producedAt,
      parsed.nonce,
    );
    const anyUnknown = states.some((s) => s.kind === 'unknown');
    const answer = {
      der,
      maxAge: parsed.nonce ? 0 : anyUnknown ? UNKNOWN_MAX_AGE : this.maxAge,
      thisUpdate: producedAt,
      nextUpdate,
    };
    if (!parsed.nonce) {
      if (this.cache.size >= this.maxCached) this.cache.clear();
      const reuse = anyUnknown ? Math.min(this.reuseMs, UNKNOWN_MAX_AGE * 1000) : this.reuseMs;
      this.cache.set(key, { ...answer, generation, reuseUntil: nowMs + reuse });
    }
    return answer;
  }

  private async state(certId: CertID, hash: HashAlgorithm | undefined, serial: string): Promise<CertState> {
    if (!hash || !this.answersFor(certId, hash)) return { kind: 'unknown' };
    const record = await this.o.store.getBySerial(serial);
    // Serials are looked up across CAs: one another CA issued is not this CA's to answer.
    if (!record || record.issuer !== this.caName) return { kind: 'unknown' };
    if (record.status === 'revoked' && record.revocation) {
      return { kind: 'revoked', date: new Date(record.revocation.date), reason: record.revocation.reason };
    }
    return { kind: 'good' };
  }

  /** RFC 6960 §4.1.1: issuerNameHash and issuerKeyHash computed with the certID's own hash. */
  answersFor(certId: CertID, hash: HashAlgorithm): boolean {
    let h = this.issuerHashes.get(hash);
    if (!h) {
      const digest = (b: Uint8Array): Buffer => createHash(NODE_HASH[hash]).update(b).digest();
      h = { name: digest(this.caSubject), key: digest(this.caKeyBits) };
      this.issuerHashes.set(hash, h);
    }
    return (
      h.name.equals(new Uint8Array(certId.issuerNameHash.buffer)) &&
      h.key.equals(new Uint8Array(certId.issuerKeyHash.buffer))
    );
  }
}

/**
 * After a CA rollover one OCSP URL serves two CAs (the certificates of both carry it): each
 * request goes to the responder of the CA its first certID names (RFC 6960 §4.1.1
 * issuerNameHash and issuerKeyHash), so the answer is signed by a responder that CA delegated.
 * A request naming neither goes to the first (the issuing CA), which answers `unknown`.
 */
export class OcspByIssuer {
  constructor(private readonly responders: readonly [OcspResponder, ...OcspResponder[]]) {}

  respond(request: Uint8Array): Promise<OcspAnswer> {
    const first = parseOcspRequest(request)?.certIds[0];
    const hash = first?.hash;
    const chosen = first && hash ? this.responders.find((r) => r.answersFor(first.certId, hash)) : undefined;
    return (chosen ?? this.responders[0]).respond(request);
  }
}
