import { createHash, X509Certificate } from 'node:crypto';
import { Name, RelativeDistinguishedName, type Certificate } from '@peculiar/asn1-x509';
import { recordKeyEvent } from '../audit/keys.js';
import type { AuditLog } from '../audit/sink.js';
import type { CaSnapshot } from '../ca/holder.js';
import type { CertificateIssuer } from '../ca/issue.js';
import { createCsr } from '../ca/csr-builder.js';
import { subjectKeyIdentifier } from '../ca/extensions.js';
import { parseCsr } from '../csr/parse.js';
import { isAppError } from '../errors.js';
import type { CaKeys } from '../keys/types.js';
import type { DocumentCollection, DocumentStore } from '../store/documents.js';
import { nameToString } from '../x509/names.js';
import type { RaKey, RaKeyStore } from './keys.js';
import { raResponder, type Responder } from './responder.js';

/** One RA certificate of an endpoint, as kept in its RA state document. */
export interface RaCertificate {
  readonly thumbprintSha256: string;
  readonly serialNumber: string;
  readonly subject: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly createdAt: string;
  /** Where its key is (RaKeyStore ref): a Key Vault key id, or a local key file. */
  readonly key: string;
  /** The certificate, DER base64. */
  readonly der: string;
}

/** `current`: published and signing; `previous`: still decrypts (overlap); `expired`. */
export type RaStatus = 'current' | 'previous' | 'expired';

interface RaState {
  readonly id: string;
  readonly endpoint: string;
  /** Newest first. */
  readonly certificates: readonly RaCertificate[];
}

export interface RaSettings {
  /** RA certificate validity (default 365 days; never beyond the CA's). */
  readonly validityDays: number;
  /** Renew this many days before the current RA certificate expires (default 30). */
  readonly renewBeforeDays: number;
  /** Reuse a loaded responder this long before looking at the state again (1 min: one state read per endpoint per minute). */
  readonly reloadMs: number;
}

/**
 * Per-endpoint RA certificates: created on first use, renewed automatically `renewBeforeDays`
 * before expiry, kept (and still decrypting) until they expire. The state is a document in the
 * `state` collection (`ra:<endpoint>`), written with If-Match so that two instances renewing at
 * once settle on one certificate.
 */
export class RaCertificates {
  private readonly docs: DocumentCollection<RaState>;
  private readonly loaded = new Map<string, { at: number; cas: CaSnapshot; responder: Promise<Responder> }>();
  private readonly keys = new Map<string, Promise<RaKey>>();

  constructor(
    private readonly d: {
      readonly documents: DocumentStore;
      /**
       * The issuing CA (issues RA certificates, published with them) and the one before the
       * last activation (RA certificates it issued are renewed at once), one snapshot per load.
       */
      readonly cas: { get(): Promise<CaSnapshot> };
      readonly keyStore: RaKeyStore;
      readonly settings: RaSettings;
      readonly clock: () => Date;
      /** Every RA certificate issued or renewed is a key lifecycle audit event. */
      readonly audit: AuditLog;
    },
  ) {
    this.docs = d.documents.collection<RaState>('state');
  }

  /**
   * The endpoint's RA responder (creating or renewing its RA certificate when due); loaded again
   * after `reloadMs`, and at once when another CA has started issuing.
   */
  async responder(endpoint: string): Promise<Responder> {
    const cas = await this.d.cas.get();
    const now = this.d.clock().getTime();
    const hit = this.loaded.get(endpoint);
    if (hit && hit.cas === cas && now - hit.at < this.d.settings.reloadMs) return hit.responder;
    const responder = this.load(endpoint, cas);
    this.loaded.set(endpoint, { at: now, cas, responder });
    responder.catch(() => this.loaded.delete(endpoint));
    return responder;
  }

  /**
   * Issue a new RA certificate now (an operator's rotation), ahead of the automatic renewal.
   * The previous one keeps decrypting until it expires; other instances publish the new one
   * within `reloadMs`.
   */
  async renew(endpoint: string, actor?: string): Promise<RaCertificate> {
    const certs = await this.ensure(endpoint, await this.d.cas.get(), actor ?? 'azure-scep-ca');
    this.loaded.delete(endpoint);
    const [fresh] = certs;
    if (!fresh) throw new Error(`endpoint "${endpoint}" has no RA certificate`);
    return fresh;
  }

  /** The endpoint's RA certificates, newest first, with their status. */
  async list(endpoint: string): Promise<(RaCertificate & { status: RaStatus })[]> {
    const state = await this.docs.get(stateId(endpoint), stateId(endpoint));
    const now = this.d.clock().toISOString();
    return (state?.certificates ?? []).map((c, i) => ({
      ...c,
      status: c.notAfter <= now ? 'expired' : i === 0 ? 'current' : 'previous',
    }));
  }

  private async load(endpoint: string, cas: CaSnapshot): Promise<Responder> {
    const certs = await this.ensure(endpoint, cas);
    const now = this.d.clock().toISOString();
    const live = certs.filter((c) => c.notAfter > now);
    const ras = await Promise.all(
      live.map(async (c) => ({ der: Buffer.from(c.der, 'base64'), key: await this.open(c.key) })),
    );
    return raResponder(cas.active, ras);
  }

  private open(ref: string): Promise<RaKey> {
    let k = this.keys.get(ref);
    if (!k) {
      k = this.d.keyStore.open(ref);
      this.keys.set(ref, k);
      k.catch(() => this.keys.delete(ref));
    }
    return k;
  }

  /**
   * The state's certificates, after issuing a new one if there is none or renewal is due;
   * `rotatedBy` forces a new one now, on that actor's request.
   */
  private async ensure(
    endpoint: string,
    cas: CaSnapshot,
    rotatedBy?: string,
  ): Promise<readonly RaCertificate[]> {
    const id = stateId(endpoint);
    for (let attempt = 0; attempt < 3; attempt++) {
      const state = await this.docs.get(id, id);
      const now = this.d.clock();
      const current = state?.certificates[0];
      const renewAt = current
        ? new Date(current.notAfter).getTime() - this.d.settings.renewBeforeDays * 86_400_000
        : 0;
      const stale = current !== undefined && cas.previous !== undefined && issuedBy(current, cas.previous);
      if (current && now.getTime() < renewAt && rotatedBy === undefined && !stale) return state.certificates;
      const fresh = await this.issue(endpoint, cas.issuer, now);
      // Expired ones are dropped; older ones keep decrypting until they expire.
      const kept = (state?.certificates ?? []).filter((c) => c.notAfter > now.toISOString());
      const next: RaState = { id, endpoint, certificates: [fresh, ...kept] };
      try {
        if (state) await this.docs.replace(next, state.etag);
        else await this.docs.create(next);
      } catch (e) {
        // Another instance renewed first: use its certificate (this key stays unused).
        if (isAppError(e) && (e.code === 'PRECONDITION_FAILED' || e.code === 'CONFLICT')) continue;
        throw e;
      }
      recordKeyEvent(this.d.audit, {
        role: 'ra',
        action: !current ? 'issued' : rotatedBy !== undefined ? 'rotated' : 'renewed',
        certificateDer: Buffer.from(fresh.der, 'base64'),
        key: fresh.key,
        previous: current?.thumbprintSha256,
        endpoint,
        actor: rotatedBy,
      });
      return next.certificates;
    }
    throw new Error(`the RA state of endpoint "${endpoint}" keeps changing; retry`);
  }

  /** A new RA key and its certificate: keyEncipherment + digitalSignature, naming the endpoint. */
  private async issue(endpoint: string, issuer: CertificateIssuer, now: Date): Promise<RaCertificate> {
    const { ref, key } = await this.d.keyStore.create(endpoint);
    const subject = `CN=${endpoint} SCEP RA, ${organizationOf(issuer.caCertificate)}`;
    const csr = parseCsr(
      await createCsr({ signer: key, subject, extensions: [subjectKeyIdentifier(key.publicKeySpki)] }),
    );
    const issued = await issuer.issue(
      csr,
      { validityDays: this.d.settings.validityDays, keyUsage: RA_KEY_USAGE, ekus: [] },
      now,
    );
    return {
      thumbprintSha256: createHash('sha256').update(issued.der).digest('hex').toUpperCase(),
      serialNumber: issued.serialNumber,
      subject: issued.subject,
      notBefore: issued.notBefore.toISOString(),
      notAfter: issued.notAfter.toISOString(),
      createdAt: now.toISOString(),
      key: ref,
      der: Buffer.from(issued.der).toString('base64'),
    };
  }
}

/**
 * RFC 8894 §2.2: the RA decrypts requests (keyEncipherment) and signs replies
 * (digitalSignature). micromdm scepclient picks the certificates with keyEncipherment as
 * recipients; strongSwan pki and certmonger use the RA certificate GetCACert returns first.
 * None of them asks for an EKU, so none is set.
 */
const RA_KEY_USAGE = ['DigitalSignature', 'KeyEncipherment'] as const;

const stateId = (endpoint: string): string => `ra:${endpoint}`;

/** The CA's organization as RFC 4514 text (`O=Contoso\, Inc.`, escaped), or the default. */
function organizationOf(ca: Certificate): string {
  for (const rdn of ca.tbsCertificate.subject) {
    const o = rdn.find((atv) => atv.type === ORGANIZATION_OID);
    if (o) return nameToString(new Name([new RelativeDistinguishedName([o])]));
  }
  return 'O=azure-scep-ca';
}

const ORGANIZATION_OID = '2.5.4.10';

/** After a CA activation, an RA certificate of the previous CA no longer chains to GetCACert's CA. */
function issuedBy(c: RaCertificate, ca: Pick<CaKeys, 'certificateDer'>): boolean {
  return new X509Certificate(Buffer.from(c.der, 'base64')).verify(
    new X509Certificate(ca.certificateDer).publicKey,
  );
}
