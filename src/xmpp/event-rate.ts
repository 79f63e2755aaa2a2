/**
 * Prosody mod_muc_limits' throttle: each occupant session may send
 * `rate` messages and presences a second to a room, in bursts of up to
 * `rate × burst` (`muc_event_rate`, `muc_burst_factor`; Prosody's defaults
 * when the module is loaded: 0.5 and 6). A token bucket per (session, room),
 * refilled continuously; full buckets are forgotten.
 */
export class EventRate {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #sinceSweep = 0;

  constructor(options: { rate: number; burst: number; now?: () => number }) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new TypeError(`rate: expected a number > 0, got ${String(options.rate)}`);
    if (!(options.burst >= 1) || !Number.isFinite(options.burst)) throw new TypeError(`burst: expected a number >= 1, got ${String(options.burst)}`);
    this.#rate = options.rate / 1000;
    // At least one event, so a rate below one a second with a small burst still lets one through.
    this.#capacity = Math.max(1, options.rate * options.burst);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Spend one event of `key`'s; false when it is over the rate. */
  take(key: string): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#capacity, at: now };
      this.#buckets.set(key, bucket);
      if (++this.#sinceSweep >= 10_000) this.#sweep(now);
    } else {
      bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Buckets kept (tests, diagnostics). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    this.#sinceSweep = 0;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#rate >= this.#capacity) this.#buckets.delete(key);
    }
  }
}
