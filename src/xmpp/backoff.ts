/**
 * Capped exponential backoff with full jitter (the AWS architecture blog's
 * "full jitter"): attempt n waits a random time in [base·2ⁿ/2, base·2ⁿ],
 * never more than `max`. Half the delay is fixed so a flapping server still
 * sees spaced attempts; the random half keeps many mucgate instances that
 * lost the same server from reconnecting in lockstep.
 */
export interface BackoffOptions {
  /** First delay, ms. */
  base?: number;
  /** Cap, ms. */
  max?: number;
  /** [0, 1), injectable for tests. */
  random?: () => number;
}

export class Backoff {
  readonly base: number;
  readonly max: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.base = options.base ?? 500;
    this.max = options.max ?? 30_000;
    if (!(this.base > 0)) throw new RangeError("base: must be > 0");
    if (!(this.max >= this.base)) throw new RangeError("max: must be >= base");
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call backs off further. */
  next(): number {
    const ceiling = Math.min(this.max, this.base * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  /** After a success: start from `base` again. */
  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
