import type { RaCertificate, RaCertificates, RaStatus } from '../ra/certificates.js';
import { certificateFile, type CertificateFile } from './cert-file.js';
import type { Endpoints } from './endpoints.js';
import type { Page } from './paging.js';
import type { Actor } from './roles.js';
import { hidden, requireWritable } from './scope.js';
import { requirePermission } from './roles.js';
import type { ChangeLog } from './audit.js';
import { endpointOwners, place } from './endpoints.js';
import { AppError } from '../errors.js';

/** What the management API shows of an RA certificate (never its key reference). */
export interface RaCertificateSummary {
  readonly thumbprintSha256: string;
  readonly serialNumber: string;
  readonly subject: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly status: RaStatus;
  readonly createdAt: string;
}

const summary = (c: RaCertificate & { status: RaStatus }): RaCertificateSummary => ({
  thumbprintSha256: c.thumbprintSha256,
  serialNumber: c.serialNumber,
  subject: c.subject,
  notBefore: c.notBefore,
  notAfter: c.notAfter,
  status: c.status,
  createdAt: c.createdAt,
});

/**
 * `api/manage/endpoints/{name}/ra-certificates[/{thumbprintSha256}]`: an endpoint's RA
 * certificates, with the endpoint's scope and read permission (Endpoints.find).
 */
export class RaCertificatesApi {
  constructor(
    private readonly endpoints: Endpoints,
    private readonly ra: RaCertificates | undefined,
    private readonly changes: ChangeLog,
  ) {}

  private async certificates(endpoint: string): Promise<(RaCertificate & { status: RaStatus })[]> {
    return this.ra ? this.ra.list(endpoint) : [];
  }

  async list(actor: Actor, endpoint: string): Promise<Page<RaCertificateSummary>> {
    await this.endpoints.find(actor, endpoint);
    return { value: (await this.certificates(endpoint)).map(summary) };
  }

  /** Rotate the endpoint's RA certificate now (CA.Admin). */
  async renew(actor: Actor, endpoint: string): Promise<RaCertificateSummary> {
    const e = await this.endpoints.find(actor, endpoint);
    requirePermission(actor, 'configure');
    requireWritable(actor, endpointOwners(e), 'the endpoint');
    if (!this.ra) throw new AppError('METHOD_NOT_ALLOWED', 'RA certificates are managed by the running app');
    const c = await this.ra.renew(endpoint, actor.id);
    this.changes.recordChange(
      actor,
      'ra-certificate.renew',
      `endpoints/${endpoint}/ra-certificates`,
      null,
      { thumbprintSha256: c.thumbprintSha256, notAfter: c.notAfter },
      place(e),
    );
    return summary({ ...c, status: 'current' });
  }

  /** One RA certificate as DER, or PEM. */
  async download(
    actor: Actor,
    endpoint: string,
    thumbprint: string,
    format: 'der' | 'pem',
  ): Promise<CertificateFile> {
    await this.endpoints.find(actor, endpoint);
    const want = thumbprint.toUpperCase();
    const c = (await this.certificates(endpoint)).find((x) => x.thumbprintSha256 === want);
    if (!c) throw hidden(`RA certificate '${thumbprint}'`);
    const der = new Uint8Array(Buffer.from(c.der, 'base64'));
    return certificateFile(der, `${endpoint}-ra-${want.slice(0, 16).toLowerCase()}`, format);
  }
}
