import { AppError } from '../errors.js';

/**
 * At most `limit` PKIOperations in flight per SCEP endpoint (SCEPman:
 * AppConfig:ConcurrentSCEPRequestLimit, default 50). Excess requests are shed at once with
 * AppError OVERLOADED (HTTP 503 + Retry-After) instead of queuing for the CA key: a flood of
 * unauthenticated messages cannot hold every Key Vault call slot, and SCEP clients retry.
 */
export class ConcurrencyLimit {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const n = this.inFlight.get(key) ?? 0;
    if (n >= this.limit) {
      throw new AppError('OVERLOADED', 'too many requests in progress; retry shortly', {
        detail: { endpoint: key, limit: this.limit },
      });
    }
    this.inFlight.set(key, n + 1);
    try {
      return await fn();
    } finally {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    }
  }
}
