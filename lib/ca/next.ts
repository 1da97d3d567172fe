import { AppError } from '../errors.js';
import type { Logger } from '../log.js';

/** The next CA (RFC 8894 §4.7 "rollover certificate"): its certificate and the chain above it. */
export interface NextCaCertificate {
  readonly certificateDer: Uint8Array;
  readonly chainDer: readonly Uint8Array[];
}

export interface NextCaRequest {
  /** RFC 4514 subject of the new CA. */
  readonly subject: string;
  readonly validityDays: number;
  readonly now: Date;
}

/**
 * An installed next CA. `chainSetting`: where the chain the operator sent must be configured
 * when the store cannot keep it itself (Key Vault: an app setting), while it is not yet set.
 */
export interface NextCaInstalled extends NextCaCertificate {
  /** The chain as the operator sent it (`chainDer`: as served, once configured). */
  readonly importedChainDer: readonly Uint8Array[];
  readonly chainSetting?: { readonly name: string; readonly value: string };
}

/** A next CA whose key exists and whose certificate an external parent CA has yet to sign. */
export interface PendingNextCa {
  /** RFC 4514 subject the request asks for. */
  readonly subject: string;
}

/**
 * Where the next CA's key and certificate are made and kept: a second Key Vault certificate
 * object in Azure, a `next/` folder beside the local CA key otherwise. Its key is created the
 * way the current CA key was (non-exportable in Key Vault, a 0600 key file locally).
 */
export interface NextCaStore {
  /** Where it lives, for logs and the management API (never a secret). */
  readonly location: string;
  read(): Promise<NextCaCertificate | undefined>;
  /** A new key and a self-signed root for it. */
  createRoot(r: NextCaRequest): Promise<NextCaCertificate>;
  /** The request waiting for an external parent's signature, or undefined. */
  pending(): Promise<PendingNextCa | undefined>;
  /**
   * A new key and a PKCS#10 request (RFC 2986) for an external parent CA to sign; CONFLICT when
   * a next CA or a request already exists.
   */
  createRequest(r: { readonly subject: string }): Promise<Uint8Array>;
  /** The pending request's PKCS#10 (DER) again; NOT_FOUND when none is pending. */
  request(): Promise<Uint8Array>;
  /**
   * Install the parent-signed certificate (with its chain, any order, see chooseSubordinate);
   * BAD_REQUEST when it does not fit the pending key, CONFLICT when nothing is pending.
   */
  install(certs: readonly Uint8Array[], now: Date): Promise<NextCaInstalled>;
}

/**
 * The next CA as SCEP sees it: GetCACaps lists GetNextCACert while one exists, and
 * GetNextCACert hands it out (RFC 8894 §3.5.2, §4.7). GetCACaps precedes every enrollment, so
 * what the store says is reused for `reloadMs`; a next CA created in another instance shows up
 * here within that time, one created here at once.
 */
export class NextCa {
  private cached: { at: number; value: Promise<NextCaCertificate | undefined> } | undefined;

  constructor(
    private readonly store: NextCaStore,
    private readonly o: {
      readonly reloadMs: number;
      readonly clock: () => Date;
      readonly log: Logger;
      /** The issuing CA's certificate: a next CA that has become it is no longer the next. */
      readonly activeDer?: () => Uint8Array;
    },
  ) {}

  get location(): string {
    return this.store.location;
  }

  /** The next CA, or undefined; a store that cannot be read counts as none (logged). */
  async current(): Promise<NextCaCertificate | undefined> {
    const now = this.o.clock().getTime();
    if (!this.cached || now - this.cached.at >= this.o.reloadMs) {
      const value = this.store.read().catch((e: unknown) => {
        this.cached = undefined;
        throw e;
      });
      this.cached = { at: now, value };
    }
    try {
      const next = await this.cached.value;
      const active = this.o.activeDer?.();
      return next && active && Buffer.from(next.certificateDer).equals(active) ? undefined : next;
    } catch (e) {
      this.o.log.warn('next CA: its store cannot be read; GetNextCACert is not offered', {
        location: this.store.location,
        error: e instanceof Error ? e.message : String(e),
      });
      return undefined;
    }
  }

  /** Create the next CA (a self-signed root); CONFLICT when one already waits. */
  async createRoot(r: NextCaRequest): Promise<NextCaCertificate> {
    await this.requireNone();
    return this.remember(await this.store.createRoot(r));
  }

  /** The next CA's key and a PKCS#10 request for an external parent CA; CONFLICT when one exists. */
  async createRequest(r: { readonly subject: string }): Promise<Uint8Array> {
    await this.requireNone();
    return this.store.createRequest(r);
  }

  pending(): Promise<PendingNextCa | undefined> {
    return this.store.pending();
  }

  request(): Promise<Uint8Array> {
    return this.store.request();
  }

  /** Install the parent-signed certificate; from then on GetCACaps lists GetNextCACert. */
  async install(certs: readonly Uint8Array[]): Promise<NextCaInstalled> {
    if (!(await this.store.pending()))
      throw new AppError('CONFLICT', 'no next CA request is pending: create one with "parent": "external"');
    const installed = await this.store.install(certs, this.o.clock());
    this.remember({ certificateDer: installed.certificateDer, chainDer: installed.chainDer });
    return installed;
  }

  private async requireNone(): Promise<void> {
    if (await this.store.read())
      throw new AppError(
        'CONFLICT',
        'a next CA already exists (or was activated and is still kept as the next CA object)',
      );
    if (await this.store.pending())
      throw new AppError(
        'CONFLICT',
        'a next CA request for an external parent is pending: install its signed certificate first',
      );
  }

  private remember(next: NextCaCertificate): NextCaCertificate {
    this.cached = { at: this.o.clock().getTime(), value: Promise.resolve(next) };
    return next;
  }

  /** Forget what was read (after an activation moved the next CA away). */
  forget(): void {
    this.cached = undefined;
  }
}
