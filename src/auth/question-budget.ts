/**
 * How many new questions each user may make the gate ask the authorization
 * service per minute (joins and nick changes; cached and coalesced answers
 * cost nothing). One session renaming in a loop made 632 requests in 40 s
 * (issue 13); past the budget its entries are refused without asking.
 *
 * Minutes are shared by every user (fixed windows of the clock), so a count
 * is one number per user and a new minute forgets them all at once: no
 * sweep. Users are keyed by a 53-bit hash of their JID, not the string, so
 * an entry holds no copy of it (bench/memory.bench.ts measures the gate with
 * the budget of 100,000 users: 321 bytes per cached decision keyed by
 * string). Two users whose hashes collide (about one pair in 10^6 among
 * 100,000 asking in one minute) share a budget. A user may spend two budgets
 * across a minute's boundary.
 */
export class QuestionBudget {
  readonly #perMinute: number;
  readonly #now: () => number;
  #minute = -1;
  #used = new Map<number, number>();

  constructor(perMinute: number, now: () => number = () => performance.now()) {
    if (!Number.isSafeInteger(perMinute) || perMinute < 1) throw new TypeError(`perMinute: expected an integer >= 1, got ${String(perMinute)}`);
    this.#perMinute = perMinute;
    this.#now = now;
  }

  /** Spend one question of `user`'s; false when the budget of this minute is gone. */
  take(user: string): boolean {
    const minute = Math.floor(this.#now() / 60_000);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#used = new Map();
    }
    const key = Number(Bun.hash.wyhash(user) & 0x1f_ffff_ffff_ffffn);
    const used = this.#used.get(key) ?? 0;
    if (used >= this.#perMinute) return false;
    this.#used.set(key, used + 1);
    return true;
  }

  /** Users who asked this minute (tests, diagnostics). */
  get size(): number {
    return this.#used.size;
  }
}
