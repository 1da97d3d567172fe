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
import type { Page } from './paging.js';
import { requirePermission, type Actor } from './roles.js';
import { hidden } from './scope.js';

export type CaStatus = 'current' | 'next' | 'previous';

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
  readonly current: Pick<CaKeys, 'certificateDer'>;
  /** The CA that issued before the last activation (still trusted for renewals). */
  readonly previous?: Pick<CaKeys, 'certificateDer'> | undefined;
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
    const next = await this.d.next?.current();
    return [
      { der: this.d.current.certificateDer, status: 'current' },
      ...(next ? [{ der: next.certificateDer, status: 'next' as const }] : []),
      ...(this.d.previous ? [{ der: this.d.previous.certificateDer, status: 'previous' as const }] : []),
    ];
  }

  async list(actor: Actor): Promise<Page<CaCertificateSummary>> {
    requirePermission(actor, 'read');
    return { value: (await this.certificates()).map((c) => summary(c.der, c.status)) };
  }

  async download(actor: Actor, thumbprint: string, format: 'der' | 'pem'): Promise<CertificateFile> {
    requirePermission(actor, 'read');
    const want = thumbprint.toUpperCase();
    const c = (await this.certificates()).find((x) => summary(x.der, x.status).thumbprintSha256 === want);
    if (!c) throw hidden(`CA certificate '${thumbprint}'`);
    return certificateFile(c.der, `ca-${want.slice(0, 16).toLowerCase()}`, format);
  }

  /** Create the next CA: a new key where the current one is, and a self-signed root. */
  async createNext(actor: Actor, body: unknown): Promise<CaCertificateSummary> {
    requireCaWide(actor);
    const next = this.d?.next;
    if (!this.d || !next)
      throw new AppError('METHOD_NOT_ALLOWED', 'the next CA is managed by the running app');
    const r = nextCaRequest(body, this.d.defaults);
    const created = await next.createRoot({ ...r, now: this.d.clock() });
    const s = summary(created.certificateDer, 'next');
    this.changes.recordChange(actor, 'ca.next.create', 'ca-certificates/next', null, {
      thumbprintSha256: s.thumbprintSha256,
      subject: s.subject,
      notAfter: s.notAfter,
      location: next.location,
    });
    return s;
  }

  /**
   * Make the next CA the issuing CA: recorded in the state collection (If-Match), effective at
   * each instance's next start. Until then this instance keeps issuing with the current CA.
   */
  async activateNext(actor: Actor): Promise<CaCertificateSummary & { readonly effective: string }> {
    requireCaWide(actor);
    const next = await this.d?.next?.current();
    if (!this.d?.documents || !this.d.next)
      throw new AppError('METHOD_NOT_ALLOWED', 'the next CA is managed by the running app');
    if (!next) throw new AppError('CONFLICT', 'there is no next CA to activate: create one first');
    const now = this.d.clock();
    if (new Date(new X509Certificate(next.certificateDer).validFrom) > now)
      throw new AppError('CONFLICT', 'the next CA certificate is not valid yet');
    const rec = await recordActivation(
      this.d.documents,
      this.d.current.certificateDer,
      next.certificateDer,
      now,
    );
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
    return { ...s, effective: 'at the next start of each instance (restart the app)' };
  }
}

/** CA-wide changes: CA.Admin over everything, not an administrator of some organizations. */
export function requireCaWide(actor: Actor): void {
  requirePermission(actor, 'configure');
  if (actor.scope !== 'all')
    throw new AppError('FORBIDDEN', 'only an administrator of the whole CA may change the CA', {
      detail: { reason: 'scope' },
    });
}

function nextCaRequest(
  body: unknown,
  defaults: CaApiDeps['defaults'],
): { subject: string; validityDays: number } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalid('next CA', ['expected a JSON object {"subject"?, "validityDays"?}']);
  const {
    subject = defaults.subject,
    validityDays = defaults.validityDays,
    ...rest
  } = body as Record<string, unknown>;
  const problems = Object.keys(rest).map((k) => `${k}: not a setting of the next CA`);
  if (typeof subject !== 'string' || subject.length > 400 || !isName(subject))
    problems.push('subject: expected an RFC 4514 name, e.g. "CN=Contoso SCEP CA 2, O=Contoso"');
  if (
    typeof validityDays !== 'number' ||
    !Number.isInteger(validityDays) ||
    validityDays < 30 ||
    validityDays > 36500
  )
    problems.push('validityDays: expected a whole number of days from 30 to 36500');
  if (problems.length > 0) throw invalid('next CA', problems);
  return { subject: String(subject).trim(), validityDays: Number(validityDays) };
}

function isName(dn: string): boolean {
  try {
    return dn.trim() !== '' && parseName(dn.trim()).length > 0;
  } catch {
    return false;
  }
}
