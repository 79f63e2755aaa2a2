import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compilePolicy, type PolicyOptions } from "../../src/auth/policy.ts";

describe("must_be_authorized (mod_muc_http_auth semantics)", () => {
  test("neither map set: every room needs authorization", () => {
    const p = compilePolicy({});
    expect(p("lobby", "example.org")).toBe(true);
    expect(p("anything", "other.net")).toBe(true);
  });

  test("enabled_for: only rooms listed for the user's host", () => {
    const p = compilePolicy({ enabledFor: { "example.org": ["secret"] } });
    expect(p("secret", "example.org")).toBe(true);
    expect(p("lobby", "example.org")).toBe(false);
    expect(p("secret", "other.net")).toBe(false);
  });

  test("enabled_for: rooms listed for `all` apply to every user host", () => {
    const p = compilePolicy({ enabledFor: { all: ["board"], "example.org": ["secret"] } });
    expect(p("board", "example.org")).toBe(true);
    expect(p("board", "other.net")).toBe(true);
    expect(p("secret", "other.net")).toBe(false);
  });

  test("disabled_for: every room except those listed for the user's host", () => {
    const p = compilePolicy({ disabledFor: { "example.org": ["open"] } });
    expect(p("open", "example.org")).toBe(false);
    expect(p("open", "other.net")).toBe(true);
    expect(p("lobby", "example.org")).toBe(true);
  });

  test("disabled_for: rooms listed for `all` are exempt for every user host", () => {
    const p = compilePolicy({ disabledFor: { all: ["open"] } });
    expect(p("open", "example.org")).toBe(false);
    expect(p("open", "other.net")).toBe(false);
    expect(p("lobby", "other.net")).toBe(true);
  });

  test("an empty enabled_for map is still set (as in Lua, where {} is truthy): no room is asked about", () => {
    const p = compilePolicy({ enabledFor: {} });
    expect(p("lobby", "example.org")).toBe(false);
  });

  test("an empty disabled_for map exempts nothing", () => {
    expect(compilePolicy({ disabledFor: {} })("lobby", "example.org")).toBe(true);
  });

  test("host names that are Object.prototype properties are ordinary hosts", () => {
    const p = compilePolicy({ enabledFor: { "example.org": ["x"] } });
    expect(p("x", "__proto__")).toBe(false);
    expect(p("x", "constructor")).toBe(false);
  });

  test("both maps set is refused with a TypeError (the configuration reports it to operators)", () => {
    expect(() => compilePolicy({ enabledFor: {}, disabledFor: {} })).toThrow(TypeError);
  });
});

/** The seed's Lua, transcribed literally (linear scans, no precompilation). */
function reference(opts: PolicyOptions, room: string, host: string): boolean {
  const { enabledFor, disabledFor } = opts;
  if (!enabledFor && !disabledFor) return true;
  const listed = (map: Readonly<Record<string, readonly string[]>>, h: string) =>
    Object.hasOwn(map, h) ? map[h]!.includes(room) : false;
  if (enabledFor) return listed(enabledFor, host) || listed(enabledFor, "all");
  return !listed(disabledFor!, host) && !listed(disabledFor!, "all");
}

describe("property: compiled policy agrees with the reference model", () => {
  const hosts = fc.constantFrom("example.org", "other.net", "all", "x.y", "__proto__");
  const rooms = fc.constantFrom("lobby", "secret", "open", "board", "");
  const map = fc.dictionary(hosts, fc.array(rooms, { maxLength: 4 }), { maxKeys: 4 });
  const options: fc.Arbitrary<PolicyOptions> = fc.oneof(
    fc.constant({}),
    map.map((enabledFor) => ({ enabledFor })),
    map.map((disabledFor) => ({ disabledFor })),
  );

  test("for random maps, hosts and rooms", () => {
    fc.assert(
      fc.property(options, fc.array(fc.tuple(rooms, hosts), { minLength: 1, maxLength: 20 }), (opts, asks) => {
        const p = compilePolicy(opts);
        for (const [room, host] of asks) expect(p(room, host)).toBe(reference(opts, room, host));
      }),
      { numRuns: 500 },
    );
  });
});
