import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import parse from "ltx/lib/parse.js";
import { ROOM_COMMANDS } from "../../src/http/room-api/room-commands.ts";
import { AUTH, DOMAIN, httpFixture } from "./fixture.ts";

/** Fuzzed room API requests (docs/room-api.md): never a 5xx, always JSON, every stanza sent well-formed. */

const COMMANDS = [...ROOM_COMMANDS.keys()];
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const OPTION_NAMES = ["title", "description", "persistent", "public", "members_only", "max_users", "mam", "lang", "bogus"];

const text = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("lobby", "LOBBY", DOMAIN, "h.test", "bob@b.test", "alice@a.test/x", "owner", "outcast", "member", "none", "true", "false", "a:b@c.test", "") },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.string({ unit: "binary" }) },
);
const value = fc.oneof({ weight: 6, arbitrary: text }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
const options = fc.oneof(
  fc.array(fc.record({ name: fc.oneof(fc.constantFrom(...OPTION_NAMES), value), value }), { maxLength: 4 }),
  fc.dictionary(fc.constantFrom(...OPTION_NAMES), value, { maxKeys: 4 }),
  value,
);

/** A body with the command's argument names (some missing, some junk) and sometimes an extra one. */
const body = (command: string) => {
  const names = ROOM_COMMANDS.get(command)?.args.map((a) => a.name) ?? ["name", "service"];
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) shape[name] = name === "options" ? options : name === "service" ? fc.oneof(fc.constant(DOMAIN), value) : value;
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ ...shape, extra: value }, { requiredKeys: names.filter((n) => n !== "options") as never[] }).map((o) => JSON.stringify(o)) },
    { weight: 2, arbitrary: fc.record({ ...shape, extra: value }, { requiredKeys: [] }).map((o) => JSON.stringify(o)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary" }) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? "") },
  );
};

const request = fc
  .record({
    command: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 1, arbitrary: fc.string() }),
    prefix: fc.constantFrom("/api/", "/api/v1/"),
    method: fc.oneof({ weight: 9, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "OPTIONS", "DELETE") }),
    authorized: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  })
  .chain((r) => body(r.command).map((text) => ({ ...r, body: text })));

describe("fuzzing the room API", () => {
  test("any request gets a 2xx or 4xx answer, JSON unless a preflight, and well-formed stanzas", async () => {
    const f = httpFixture();
    let succeeded = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        f.join("bob@b.test/pc", "lobby", "Bob");
        f.sent.length = 0;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (r.authorized) headers.authorization = AUTH;
        const res = await f.app.request(r.prefix + encodeURIComponent(r.command), {
          method: r.method,
          headers,
          ...(r.method === "GET" || r.method === "OPTIONS" ? {} : { body: r.body }),
        });
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        if (r.method === "OPTIONS") return;
        expect(res.headers.get("content-type")).toBe("application/json");
        await res.json();
        if (res.status === 200) succeeded++;
        else expect(f.sent).toHaveLength(0);
        for (const stanza of f.sent) {
          expect(stanza.toString()).not.toMatch(NOT_XML_CHAR);
          expect(parse(stanza.toString()).toString()).toBe(stanza.toString());
        }
      }),
      { numRuns: 500 },
    );
    expect(succeeded).toBeGreaterThan(0);
  }, 60_000);
});
