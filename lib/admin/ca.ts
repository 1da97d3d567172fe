import { X509Certificate } from 'node:crypto';
import { recordKeyEvent } from '../audit/keys.js';
import type { AuditLog } from '../audit/sink.js';
import { recordActivation } from '../ca/active.js';
import type { NextCa } from '../ca/next.js';
import { parseName } from '../ca/root.js';
import { AppError } from '../errors.js';
import type { CaKeys } from '../keys/types.js';
import { invalid } from '../model/problems.js';
import type { DocumentStore } from '../store/documents.js';
import type { ChangeLog } from './audit.js';
import { certificateFile, type CertificateFile } from './cert-file.js';
import { certificatesIn } from '../ca/subordinate.js';
import { pemBlock } from '../x509/pem.js';
import type { Page } from './paging.js';
import { requirePermission, type Actor } from './roles.js';
import { hidden } from './scope.js';

export type CaStatus = 'current' | 'next' | 'previous';

/** A next CA waiting for an external parent's signature: no certificate yet, its request instead. */
export interface PendingNextCaSummary {
  readonly status: 'pending';
  readonly subject: string;
  /** Where its PKCS#10 downloads, under api/manage/. */
  readonly request: string;
}

/** What the management API shows of a CA certificate (never where its key is). */
export interface CaCertificateSummary {
  readonly thumbprintSha256: string;
  readonly serialNumber: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly status: CaStatus;
}

export interface CaApiDeps {
  /**
   * The issuing CA (`current`) and the one before the last activation (`previous`, still trusted
   * for renewals); `reload` reads the activation record at once (this instance switches now).
   */
  readonly cas: {
    get(): Promise<{ readonly active: CaKeys; readonly previous: CaKeys | undefined }>;
    reload(): Promise<unknown>;
  };
  /** Where the activation is recorded (the `state` collection). */
  readonly documents?: DocumentStore;
  /** Absent in tools that do not serve SCEP. */
  readonly next?: NextCa;
  /** What a new next CA gets unless the request says otherwise (the CA settings). */
  readonly defaults: { readonly subject: string; readonly validityDays: number };
  readonly clock: () => Date;
  /** An activation is a key lifecycle event (`ca.rollover`) besides the management change. */
  readonly audit: AuditLog;
}

const summary = (der: Uint8Array, status: CaStatus): CaCertificateSummary => {
  const x = new X509Certificate(der);
  return {
    thumbprintSha256: x.fingerprint256.replace(/:/g, ''),
    serialNumber: x.serialNumber.toUpperCase(),
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    status,
  };
};

/**
 * `api/manage/ca-certificates[/{thumbprintSha256}]` and `POST …/next`: the CA certificates
 * (current, and the next one once created) and the creation of the next CA ahead of a rollover
 * (RFC 8894 §4.7). CA-wide, so creating one takes an unscoped CA.Admin.
 */
export class CaApi {
  constructor(
    /** Absent in tools that manage without serving SCEP (the admin CLI). */
    private readonly d: CaApiDeps | undefined,
    private readonly changes: ChangeLog,
  ) {}

  private async certificates(): Promise<{ der: Uint8Array; status: CaStatus }[]> {
    if (!this.d) return [];
    const { active, previous } = await this.d.cas.get();
    const next = await this.d.next?.current();
    return [
      { der: active.certificateDer, status: 'current' },
      ...(next ? [{ der: next.certificateDer, status: 'next' as const }] : []),
      ...(previous ? [{ der: previous.certificateDer, status: 'previous' as const }] : []),
    ];
  }

  async list(actor: Actor): Promise<Page<CaCertificateSummary | PendingNextCaSummary>> {
    requirePermission(actor, 'read');
    const listed = (await this.certificates()).map((c) => summary(c.der, c.status));
    const pending = await this.d?.next?.pending();
    return {
      value: pending
        ? [...listed, { status: 'pending', subject: pending.subject, request: REQUEST_PATH }]
        : listed,
    };
  }

  async download(actor: Actor, thumbprint: string, format: 'der' | 'pem'): Promise<CertificateFile> {
    requirePermission(actor, 'read');
    const want = thumbprint.toUpperCase();
    const c = (await this.certificates()).find((x) => summary(x.der, x.status).thumbprintSha256 === want);
    if (!c) throw hidden(`CA certificate '${thumbprint}'`);
    return certificateFile(c.der, `ca-${want.slice(0, 16).toLowerCase()}`, format);
  }

  /**
   * Create the next CA: a new key where the current one is, and a self-signed root; or, with
   * `"parent": "external"`, the key and a PKCS#10 request for an external parent CA (status
   * `pending` until `installNext`).
   */
  async createNext(actor: Actor, body: unknown): Promise<CaCertificateSummary | PendingNextCaCreated> {
    requireCaWide(actor);
    const { next, defaults, clock } = this.nextDeps();
    const r = nextCaRequest(body, defaults);
    if (r.parent === 'external') {
      const csr = await next.createRequest({ subject: r.subject });
      this.changes.recordChange(actor, 'ca.next.request', 'ca-certificates/next', null, {
        subject: r.subject,
        parent: 'external',
        location: next.location,
      });
      return {
        status: 'pending',
        subject: r.subject,
        request: REQUEST_PATH,
        csr: pemBlock('CERTIFICATE REQUEST', csr),
      };
    }
    const created = await next.createRoot({
      subject: r.subject,
      validityDays: r.validityDays,
      now: clock(),
    });
    const s = summary(created.certificateDer, 'next');
    this.changes.recordChange(actor, 'ca.next.create', 'ca-certificates/next', null, {
      thumbprintSha256: s.thumbprintSha256,
      subject: s.subject,
      notAfter: s.notAfter,
      location: next.location,
    });
    return s;
  }

  /** The pending next CA's PKCS#10 (DER, or PEM with `format`), for the parent CA. */
  async nextRequest(actor: Actor, format: 'der' | 'pem'): Promise<CertificateFile> {
    requirePermission(actor, 'read');
    const csr = await this.nextDeps().next.request();
    return format === 'pem'
      ? {
          contentType: 'application/x-pem-file',
          body: pemBlock('CERTIFICATE REQUEST', csr),
          fileName: 'next-ca.csr',
        }
      : { contentType: 'application/pkcs10', body: csr, fileName: 'next-ca.p10' };
  }

  /**
   * Install what the external parent signed for the pending next CA (PEM, DER or PKCS#7, with
   * its chain): from then on it is the next CA (GetCACaps lists GetNextCACert).
   */
  async installNext(actor: Actor, body: Uint8Array): Promise<InstalledNextCa> {
    requireCaWide(actor);
    const { next } = this.nextDeps();
    const installed = await next.install(certificatesIn(body));
    const s = summary(installed.certificateDer, 'next');
    const chain = installed.importedChainDer.map((c) => summary(c, 'next').subject);
    this.changes.recordChange(actor, 'ca.next.install', 'ca-certificates/next', null, {
      thumbprintSha256: s.thumbprintSha256,
      subject: s.subject,
      issuer: s.issuer,
      notAfter: s.notAfter,
      chain,
      location: next.location,
    });
    return { ...s, chain, ...(installed.chainSetting ? { chainSetting: installed.chainSetting } : {}) };
  }

  private nextDeps(): CaApiDeps & { readonly next: NextCa } {
    const d = this.d;
    if (!d?.next) throw new AppError('METHOD_NOT_ALLOWED', 'the next CA is managed by the running app');
    return { ...d, next: d.next };
  }

  /**
   * Make the next CA the issuing CA: recorded in the state collection (If-Match). This instance
   * issues with it at once; the others read the record within a minute (lib/ca/holder.ts).
   */
  async activateNext(actor: Actor): Promise<CaCertificateSummary & { readonly effective: string }> {
    requireCaWide(actor);
    const next = await this.d?.next?.current();
    if (!this.d?.documents || !this.d.next)
      throw new AppError('METHOD_NOT_ALLOWED', 'the next CA is managed by the running app');
    if (!next && (await this.d.next.pending()))
      throw new AppError(
        'CONFLICT',
        "the next CA's certificate is not installed yet: install what the parent CA signed",
      );
    if (!next) throw new AppError('CONFLICT', 'there is no next CA to activate: create one first');
    const now = this.d.clock();
    if (new Date(new X509Certificate(next.certificateDer).validFrom) > now)
      throw new AppError('CONFLICT', 'the next CA certificate is not valid yet');
    const { active } = await this.d.cas.get();
    const rec = await recordActivation(this.d.documents, active.certificateDer, next.certificateDer, now);
    const s = summary(next.certificateDer, 'next');
    this.changes.recordChange(
      actor,
      'ca.activate',
      'ca-certificates/next',
      { thumbprintSha256: rec.previousThumbprintSha256 },
      { thumbprintSha256: s.thumbprintSha256, subject: s.subject, activatedAt: rec.activatedAt },
    );
    recordKeyEvent(this.d.audit, {
      role: 'ca',
      action: 'rollover',
      certificateDer: next.certificateDer,
      key: this.d.next.location,
      previous: rec.previousThumbprintSha256,
      actor: actor.id,
    });
    await this.d.cas.reload();
    return { ...s, effective: ACTIVATION_EFFECT };
  }
}

/** When an activation takes effect (the activation's answer says it). */
export const ACTIVATION_EFFECT =
  'at once on this instance; every other instance issues with it within a minute (no restart)';

/** CA-wide changes: CA.Admin over everything, not an administrator of some organizations. */
export function requireCaWide(actor: Actor): void {
  requirePermission(actor, 'configure');
  if (actor.scope !== 'all')
    throw new AppError('FORBIDDEN', 'only an administrator of the whole CA may change the CA', {
      detail: { reason: 'scope' },
    });
}

const REQUEST_PATH = 'ca-certificates/next/request';

/** What `POST …/next` answers for an external parent: the request to send it. */
export interface PendingNextCaCreated extends PendingNextCaSummary {
  /** PKCS#10 (RFC 2986), PEM. */
  readonly csr: string;
}

export interface InstalledNextCa extends CaCertificateSummary {
  /** Subjects of the issuer certificates sent with it (served with it), nearest first. */
  readonly chain: readonly string[];
  /** Set when the chain sent must still be configured (Key Vault: an app setting). */
  readonly chainSetting?: { readonly name: string; readonly value: string };
}

function nextCaRequest(
  body: unknown,
  defaults: CaApiDeps['defaults'],
): { subject: string; validityDays: number; parent: 'self' | 'external' } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalid('next CA', ['expected a JSON object {"subject"?, "validityDays"?, "parent"?}']);
  const {
    subject = defaults.subject,
    validityDays,
    parent = 'self',
    ...rest
  } = body as Record<string, unknown>;
  const problems = Object.keys(rest).map((k) => `${k}: not a setting of the next CA`);
  if (typeof subject !== 'string' || subject.length > 400 || !isName(subject))
    problems.push('subject: expected an RFC 4514 name, e.g. "CN=Contoso SCEP CA 2, O=Contoso"');
  if (parent !== 'self' && parent !== 'external')
    problems.push('parent: expected "self" (a self-signed root) or "external" (a request for a parent CA)');
  if (parent === 'external' && validityDays !== undefined)
    problems.push('validityDays: the external parent CA decides the validity of what it signs');
  const days = validityDays ?? defaults.validityDays;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 30 || days > 36500)
    problems.push('validityDays: expected a whole number of days from 30 to 36500');
  if (problems.length > 0) throw invalid('next CA', problems);
  return {
    subject: String(subject).trim(),
    validityDays: Number(days),
    parent: parent === 'external' ? 'external' : 'self',
  };
}

function isName(dn: string): boolean {
  try {
    return dn.trim() !== '' && parseName(dn.trim()).length > 0;
  } catch {
    return false;
  }
}
