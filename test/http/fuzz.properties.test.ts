import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import parse from "ltx/lib/parse.js";
import { AUTH, DOMAIN, httpFixture } from "./fixture.ts";

/** Characters a Headers value can hold (Latin-1, no controls: the Fetch API itself rejects CR, LF and NUL). */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 80 });

const authorization = fc.oneof(
  { weight: 4, arbitrary: fc.constant<string | undefined>(AUTH) },
  { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
  { weight: 2, arbitrary: headerText.map((s): string | undefined => s) },
  { weight: 1, arbitrary: fc.constantFrom<string | undefined>(`${AUTH} `, AUTH.toLowerCase(), AUTH.slice(0, -1), `${AUTH}\u00e9`) },
);

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant<string | undefined>("application/json") },
  {
    weight: 2,
    arbitrary: fc.constantFrom<string | undefined>(
      undefined,
      "application/json; charset=utf-8",
      "APPLICATION/JSON;charset=\"UTF-8\"",
      "application/json; charset=latin1",
      "application/json;",
      ";",
      "text/plain",
      "multipart/form-data; boundary=x",
    ),
  },
  { weight: 1, arbitrary: headerText.map((s): string | undefined => s) },
);

/** Strings that hit the interesting paths: real rooms, nicks and JIDs, near misses, and junk. */
const jidish = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(
    `lobby@${DOMAIN}`,
    `LOBBY@${DOMAIN}`,
    `lobby@${DOMAIN}/Bob`,
    `nowhere@${DOMAIN}`,
    "lobby@elsewhere.test",
    DOMAIN,
    "bob@b.test",
    "alice@a.test/phone",
    "",
    "@",
    "a@b@c",
  ) },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.string({ unit: "binary" }) },
);
const nickish = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("Bob", "Alice", "bob", "", " Bob ") },
  { weight: 1, arbitrary: fc.string({ unit: "binary" }) },
);
const anyValue = fc.oneof(jidish, nickish, fc.jsonValue({ maxDepth: 3 }), fc.constant(null));
const field = <T>(arb: fc.Arbitrary<T>) => fc.option(fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: anyValue }), { nil: undefined });

/** Kick-shaped bodies: one of nickname/jid, a muc, maybe a reason (the paths that reach the MUC core). */
const kickShaped = fc
  .record({
    who: fc.oneof(nickish.map((nickname) => ({ nickname })), jidish.map((jid) => ({ jid }))),
    muc: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(`lobby@${DOMAIN}`, `Lobby@${DOMAIN.toUpperCase()}`) }, { weight: 2, arbitrary: jidish }),
    reason: fc.option(fc.oneof({ weight: 3, arbitrary: fc.string() }, { weight: 1, arbitrary: fc.string({ unit: "binary" }) }), {
      nil: undefined,
    }),
  })
  .map(({ who, muc, reason }) => JSON.stringify({ ...who, muc, reason }));

/** Kicks that succeed when the headers are right: the success path under random reasons. */
const validKick = fc
  .record({
    who: fc.constantFrom({ nickname: "Bob" }, { nickname: "Alice" }, { jid: "bob@b.test" }, { jid: "ALICE@a.test" }),
    reason: fc.option(fc.string(), { nil: undefined }),
  })
  .map(({ who, reason }) => JSON.stringify({ ...who, muc: `lobby@${DOMAIN}`, reason }));

const structured = fc
  .record(
    {
      nickname: field(nickish),
      jid: field(jidish),
      muc: field(jidish),
      reason: field(fc.string({ unit: "binary" })),
      userJID: field(jidish),
      all: field(fc.boolean()),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

const huge = fc
  .record({ size: fc.integer({ min: 60_000, max: 140_000 }), char: fc.constantFrom("x", "[", "{", "\"", "é", "\u0000") })
  .map(({ size, char }) => char.repeat(size));

const body: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: validKick },
  { weight: 4, arbitrary: kickShaped },
  { weight: 3, arbitrary: structured },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? "") },
  { weight: 2, arbitrary: fc.string({ unit: "binary" }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  { weight: 1, arbitrary: huge },
);

const request = fc.record({
  path: fc.constantFrom("/muc_kick", "/muc_auth/forget"),
  method: fc.oneof({ weight: 9, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH") }),
  authorization,
  contentType,
  body,
});

describe("fuzzing /muc_kick and /muc_auth/forget", () => {
  test("any request gets a JSON 2xx/4xx answer, never a 5xx, and every stanza sent is well-formed XML", async () => {
    const f = httpFixture();
    let kicked = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // Keep the room populated so kicks can succeed.
        f.join("bob@b.test/pc", "lobby", "Bob");
        f.join("alice@a.test/phone", "lobby", "Alice");
        f.sent.length = 0;
        const headers: Record<string, string> = {};
        if (r.authorization !== undefined) headers.authorization = r.authorization;
        if (r.contentType !== undefined) headers["content-type"] = r.contentType;
        const res = await f.app.request(r.path, {
          method: r.method,
          headers,
          ...(r.method === "GET" ? {} : { body: r.body }),
        });
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        expect(res.headers.get("content-type")).toStartWith("application/json");
        const json = (await res.json()) as Record<string, unknown>;
        expect(typeof json).toBe("object");
        if (res.status >= 400) expect(typeof json.error).toBe("string");
        if (res.status === 200 && r.path === "/muc_kick") {
          kicked++;
          expect(f.sent.length).toBeGreaterThan(0);
        }
        if (res.status !== 200) expect(f.sent).toHaveLength(0);
        for (const stanza of f.sent) expect(parse(stanza.toString()).toString()).toBe(stanza.toString());
      }),
      { numRuns: 400 },
    );
    expect(kicked).toBeGreaterThan(0); // the success path was exercised too

    // Still answering, and still kicking.
    expect((await f.app.request("/health")).status).toBe(200);
    f.join("bob@b.test/pc", "lobby", "Bob");
    expect((await f.kick({ nickname: "Bob", muc: `lobby@${DOMAIN}` })).status).toBe(200);
  }, 60_000);

  test("with the right headers, random kick bodies never yield a 5xx", async () => {
    const f = httpFixture();
    await fc.assert(
      fc.asyncProperty(fc.oneof(kickShaped, structured, fc.jsonValue().map((v) => JSON.stringify(v) ?? "")), async (text) => {
        f.join("bob@b.test/pc", "lobby", "Bob");
        const kick = await f.kick(text);
        const forget = await f.forget(text);
        for (const res of [kick, forget]) {
          expect([200, 400, 404, 413]).toContain(res.status);
          const json = (await res.json()) as Record<string, unknown>;
          if (res.status !== 200) expect(typeof json.error).toBe("string");
        }
      }),
      { numRuns: 400 },
    );
    expect((await f.app.request("/health")).status).toBe(200);
  }, 60_000);
});
