/**
 * How many new questions each user may make the gate ask the authorization
 * service per minute (joins and nick changes; cached and coalesced answers
 * cost nothing). One session renaming in a loop made 632 requests in 40 s
 * (issue 13); past the budget its entries are refused without asking.
 * Fixed one-minute windows per user, forgotten once over.
 */
export class QuestionBudget {
  readonly #perMinute: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; used: number }>();
  #sinceSweep = 0;

  constructor(perMinute: number, now: () => number = () => performance.now()) {
    if (!Number.isSafeInteger(perMinute) || perMinute < 1) throw new TypeError(`perMinute: expected an integer >= 1, got ${String(perMinute)}`);
    this.#perMinute = perMinute;
    this.#now = now;
  }

  /** Spend one question of `user`'s; false when the budget of this minute is gone. */
  take(user: string): boolean {
    const now = this.#now();
    let window = this.#windows.get(user);
    if (window === undefined || now - window.start >= 60_000) {
      window = { start: now, used: 0 };
      this.#windows.set(user, window);
      if (++this.#sinceSweep >= 10_000) this.#sweep(now);
    }
    if (window.used >= this.#perMinute) return false;
    window.used++;
    return true;
  }

  /** Users with a window open (tests, diagnostics). */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    this.#sinceSweep = 0;
    for (const [user, window] of this.#windows) if (now - window.start >= 60_000) this.#windows.delete(user);
  }
}
