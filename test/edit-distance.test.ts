import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { closest, editDistance } from "../src/edit-distance.ts";

describe("editDistance", () => {
  test("counts insertions, deletions and substitutions", () => {
    expect(editDistance("", "")).toBe(0);
    expect(editDistance("port", "")).toBe(4);
    expect(editDistance("http_prot", "http_port")).toBe(2);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  test("is a metric: zero only for equal strings, symmetric, triangle inequality", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        expect(editDistance(a, b) === 0).toBe(a === b);
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c));
      }),
    );
  });
});

describe("closest", () => {
  const keys = ["http_port", "http_interface", "log_level"];

  test("suggests the nearest candidate within the limit, ignoring case", () => {
    expect(closest("http_prot", keys, 3)).toBe("http_port");
    expect(closest("LOG_LEVEL", keys, 3)).toBe("log_level");
  });

  test("suggests nothing when every candidate is too far", () => {
    expect(closest("frobnicate", keys, 3)).toBeUndefined();
  });
});
