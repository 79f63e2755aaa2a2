import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { topLevelKeys } from "../../src/auth/top-level-keys.ts";

describe("topLevelKeys", () => {
  test("lists exactly the names JSON.stringify wrote at the top level, whatever is nested or quoted", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: "grapheme" }), fc.jsonValue()), (object) => {
        const text = JSON.stringify(object);
        expect(topLevelKeys(text)).toEqual(Object.keys(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  test("keeps duplicates, which JSON.parse hides; whitespace does not matter", () => {
    expect(topLevelKeys(' { "allowed" : false , "a\\"b" : [ { "allowed": 1 } ], "allowed":true } ')).toEqual(["allowed", 'a"b', "allowed"]);
  });
});
