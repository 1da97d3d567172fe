import { describeError } from '../errors.js';
import type { CaKeys } from '../keys/types.js';
import type { Logger } from '../log.js';
import type { Responder } from '../ra/responder.js';
import { thumbprintOf } from './active.js';
import type { CertificateIssuer, IssuanceProfile, IssuedCertificate } from './issue.js';
import type { KnownCas } from './urls.js';
import type { ParsedCsr } from '../csr/parse.js';

/**
 * The CAs as one consistent view: the issuing CA, the one before it, and what is built on the
 * issuing CA. A certificate is issued by `issuer`, which signs with `active`'s key and names
 * `active` as issuer, so no certificate is ever signed by one CA and attributed to another.
 */
export interface CaSnapshot extends KnownCas {
  readonly issuer: CertificateIssuer;
  /** CA mode (lib/ra/responder.ts): `active` signs CertReps; requests to either CA still open. */
  readonly responder: Responder;
}

export interface LiveCaOptions {
  /** How long what was read is used before the activation record is read again. */
  readonly reloadMs: number;
  readonly clock: () => Date;
  /** The SHA-256 thumbprint the activation record names, undefined without one (one store read). */
  readonly recorded: () => Promise<string | undefined>;
  /** The issuing CA and the one before it, as the record says (loads the next CA's keys). */
  readonly resolve: () => Promise<{ active: CaKeys; previous: CaKeys | undefined }>;
  /** A snapshot for these CAs (its issuer, its CA-mode responder). */
  readonly snapshot: (active: CaKeys, previous: CaKeys | undefined) => CaSnapshot;
  readonly log: Logger;
}

/**
 * Which CA issues, picked up while the app runs: every instance reads the activation record
 * (`ca-active`, lib/ca/active.ts) at most once per `reloadMs`, lazily on the request path, and
 * loads the CAs it names only when that differs from the CA in use (one document read per
 * instance per interval otherwise). The instance that activates calls `reload()` and switches at
 * once. Users take one snapshot per operation; listeners hear of each switch synchronously.
 */
export class LiveCa {
  private snapshot: CaSnapshot;
  private activeThumbprint: string;
  private checkedAt: number;
  private reading: Promise<CaSnapshot> | undefined;
  private readonly listeners: ((s: CaSnapshot) => void)[] = [];

  constructor(
    initial: CaSnapshot,
    private readonly o: LiveCaOptions,
  ) {
    this.snapshot = initial;
    this.activeThumbprint = thumbprintOf(initial.active.certificateDer);
    this.checkedAt = o.clock().getTime();
  }

  /** The snapshot in use now, as last read (no store read). */
  get current(): CaSnapshot {
    return this.snapshot;
  }

  /** The snapshot in use, after reading the activation record when `reloadMs` has passed. */
  get(): Promise<CaSnapshot> {
    if (this.o.clock().getTime() - this.checkedAt < this.o.reloadMs) return Promise.resolve(this.snapshot);
    return this.reload();
  }

  /** Read the activation record now (shared by concurrent callers). */
  reload(): Promise<CaSnapshot> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  onSwitch(listener: (s: CaSnapshot) => void): void {
    this.listeners.push(listener);
  }

  /** Issue with one snapshot's issuer (what EnrollmentService and RA certificates call). */
  issue(csr: ParsedCsr, profile: IssuanceProfile, now?: Date): Promise<IssuedCertificate> {
    return this.get().then((s) => s.issuer.issue(csr, profile, now));
  }

  private async read(): Promise<CaSnapshot> {
    const started = this.o.clock().getTime();
    try {
      const recorded = await this.o.recorded();
      if (recorded !== undefined && recorded !== this.activeThumbprint) {
        const { active, previous } = await this.o.resolve();
        if (active !== this.snapshot.active) this.use(this.o.snapshot(active, previous));
      }
      this.checkedAt = started;
    } catch (e) {
      // Keep issuing with the CA in use; the next request after the interval reads again.
      this.checkedAt = started;
      this.o.log.warn('active CA: the activation record cannot be read; the CA in use keeps issuing', {
        error: describeError(e),
      });
    }
    return this.snapshot;
  }

  private use(s: CaSnapshot): void {
    const before = this.activeThumbprint;
    this.snapshot = s;
    this.activeThumbprint = thumbprintOf(s.active.certificateDer);
    this.o.log.info('active CA: switched', { from: before, to: this.activeThumbprint });
    for (const l of this.listeners) l(s);
  }
}
