/**
 * Cross-instance cache invalidation. Every instance reads the store's revocation epoch (one
 * point read) at most every `intervalMs`, lazily on the request path; when the value changes,
 * `generation` is bumped and every cache keyed on it misses. A request arriving more than
 * `intervalMs` after the last read waits for a fresh one (shared by concurrent requests), so
 * a revocation written through any instance is seen within intervalMs + one store read. The
 * instance that revokes calls `changed()` and sees it at once.
 */
export class EpochWatcher {
  private value: string | undefined;
  private checkedAt = -Infinity;
  private inFlight: Promise<void> | undefined;
  private gen = 0;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly read: () => Promise<string>,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Incremented on every observed change; caches tag their entries with it. */
  get generation(): number {
    return this.gen;
  }

  /** Call when something changed here; also invoked for changes seen in the store. */
  changed(): void {
    this.gen += 1;
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Resolves once the epoch was read within the interval (immediately in the common case). */
  fresh(): Promise<void> | undefined {
    if (this.now() - this.checkedAt < this.intervalMs) return undefined;
    this.inFlight ??= this.check().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async check(): Promise<void> {
    const started = this.now();
    const value = await this.read();
    if (this.value !== undefined && value !== this.value) this.changed();
    this.value = value;
    this.checkedAt = started;
  }
}
