import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Backoff } from "../../src/xmpp/backoff.ts";

/**
 * The reconnect backoff: attempt n waits in [c/2, c] with c = min(max, base·2ⁿ)
 * ("full jitter" on the upper half), never more than max however long the
 * outage, and starts over after reset(). The end-to-end outage test sees the
 * first steps against a real server; the cap takes minutes to reach there.
 */
describe("Backoff", () => {
  test("every delay lies in [c/2, c] for c = min(max, base·2ⁿ), and never exceeds max", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 60 }),
        (base, factor, randoms) => {
          const max = base * factor;
          let i = 0;
          const b = new Backoff({ base, max, random: () => randoms[i % randoms.length]! });
          for (let n = 0; n < randoms.length; n++, i++) {
            const ceiling = Math.min(max, base * 2 ** n);
            const d = b.next();
            expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
            expect(d).toBeLessThanOrEqual(Math.ceil(ceiling));
            expect(d).toBeLessThanOrEqual(max);
            expect(b.attempts).toBe(n + 1);
          }
        },
      ),
    );
  });

  test("the defaults: 500 ms first, capped at 30 s from the 7th attempt on", () => {
    const high = new Backoff({ random: () => 0.999999 });
    const delays = Array.from({ length: 12 }, () => high.next());
    expect(delays.slice(0, 7)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000]);
    expect(new Set(delays.slice(6))).toEqual(new Set([30000]));
    const low = new Backoff({ random: () => 0 });
    expect(Array.from({ length: 8 }, () => low.next())).toEqual([250, 500, 1000, 2000, 4000, 8000, 15000, 15000]);
  });

  test("jitter: the same attempt spreads over its whole range", () => {
    const seen = new Set<number>();
    for (let k = 0; k < 200; k++) seen.add(new Backoff().next());
    expect(Math.min(...seen)).toBeLessThan(300);
    expect(Math.max(...seen)).toBeGreaterThan(450);
    expect(seen.size).toBeGreaterThan(50);
  });

  test("reset() starts over from base; huge attempt counts do not overflow", () => {
    const b = new Backoff({ base: 100, max: 1000, random: () => 0.999999 });
    for (let n = 0; n < 5000; n++) expect(b.next()).toBeLessThanOrEqual(1000);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });

  test("rejects a base ≤ 0 and a max below base", () => {
    expect(() => new Backoff({ base: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ base: 100, max: 50 })).toThrow(RangeError);
  });
});
