import { describeError } from '../errors.js';
import type { CaKeys } from '../keys/types.js';
import type { Logger } from '../log.js';
import type { CertificateStore } from '../store/types.js';
import { buildCrl } from './crl.js';
import type { EpochWatcher } from './epoch.js';

export interface PublishedCrl {
  readonly der: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly crlNumber: bigint;
}

export interface CrlPublisherOptions {
  readonly store: CertificateStore;
  readonly ca: CaKeys;
  /** The `issuer` string of this CA's certificate records. */
  readonly issuerName: string;
  readonly epoch: EpochWatcher;
  readonly logger: Logger;
  /** nextUpdate - thisUpdate, days (AppConfig__Revocation__CrlValidityDays). Default 7. */
  readonly validityDays?: number;
  /** Revocations within this window after one are collected into one new CRL. Default 1 s. */
  readonly debounceMs?: number;
  readonly now?: () => Date;
}

interface Current {
  readonly crl: PublishedCrl;
  readonly generation: number;
}

/**
 * The CA's full CRL, built from the store and kept in memory: a download never signs anything.
 * A new CRL is made (one CA signature, i.e. one Key Vault operation) when the revocation epoch
 * moves, collected over `debounceMs` so a burst of revocations costs one signature, and when half
 * of the current CRL's validity has passed, well before nextUpdate. A request that finds the
 * CRL older than the last revocation it knows of waits for the new one, so the next CRL anyone
 * downloads lists every revocation made before the epoch interval.
 *
 * CRL number (RFC 5280 §5.2.3: monotonically increasing): thisUpdate in milliseconds since
 * 1970. Every instance builds its own CRL; a time-based number increases across instances
 * without a shared counter to write.
 */
export class CrlPublisher {
  private current: Current | undefined;
  private building: Promise<Current> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly validityMs: number;
  private readonly debounceMs: number;
  private readonly now: () => Date;

  constructor(private readonly o: CrlPublisherOptions) {
    this.validityMs = (o.validityDays ?? 7) * 86_400_000;
    this.debounceMs = o.debounceMs ?? 1000;
    this.now = o.now ?? (() => new Date());
    o.epoch.onChange(() => {
      this.schedule();
    });
  }

  async get(): Promise<PublishedCrl> {
    await this.o.epoch.fresh()?.catch((e: unknown) => {
      this.o.logger.warn('crl: revocation epoch read failed', { error: describeError(e) });
    });
    const c = this.current;
    if (!c || c.generation !== this.o.epoch.generation) return (await this.build()).crl;
    // An instance that slept through its timers (a scaled-in Functions host) may hold a CRL past
    // nextUpdate, which relying parties must not use (RFC 5280 §6.3.3): wait for a new one.
    if (this.now().getTime() >= c.crl.nextUpdate.getTime()) return (await this.build()).crl;
    if (this.pastHalf(c)) this.schedule(0);
    return c.crl;
  }

  /** Build now (coalesced with a build already running); used at start and by the timer. */
  build(): Promise<Current> {
    this.building ??= this.make().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  /** Stop the pending background build (tests, shutdown). */
  close(): void {
    clearTimeout(this.timer);
  }

  private schedule(delay = this.debounceMs): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A download may have built the CRL this timer was set for: then it would sign for nothing.
      const c = this.current;
      if (c && c.generation === this.o.epoch.generation && !this.pastHalf(c)) return;
      this.build().catch((e: unknown) => {
        this.o.logger.error('crl: background build failed', { error: describeError(e) });
      });
    }, delay);
    this.timer.unref();
  }

  private pastHalf(c: Current): boolean {
    return this.now().getTime() >= c.crl.thisUpdate.getTime() + this.validityMs / 2;
  }

  private async make(): Promise<Current> {
    const generation = this.o.epoch.generation;
    const started = performance.now();
    const now = this.now();
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const previous = this.current?.crl.crlNumber ?? 0n;
    const crlNumber = BigInt(now.getTime()) > previous ? BigInt(now.getTime()) : previous + 1n;
    const der = await buildCrl({
      caCertificateDer: this.o.ca.certificateDer,
      signer: this.o.ca.signer,
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + this.validityMs),
      crlNumber,
      entries: this.o.store.listRevoked(this.o.issuerName),
    });
    const crl = { der, thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + this.validityMs), crlNumber };
    this.o.logger.info('crl: published', {
      crlNumber: crlNumber.toString(),
      bytes: der.length,
      ms: Math.round(performance.now() - started),
    });
    // A revocation seen while building is not in this CRL: keep the older generation on it.
    const next = { crl, generation };
    if (!this.current || this.current.crl.crlNumber < crlNumber) this.current = next;
    return next;
  }
}
