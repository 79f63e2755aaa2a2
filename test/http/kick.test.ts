import { describe, expect, test } from "bun:test";
import { AUTH, DOMAIN, answer, httpFixture, reasonOf, statuses, to } from "./fixture.ts";

const ROOM = `lobby@${DOMAIN}`;

/** Alice (two sessions) and Bob in lobby; nothing sent yet. */
function lobby() {
  const f = httpFixture();
  f.join("alice@a.test/phone", "lobby", "Alice");
  f.join("alice@a.test/laptop", "lobby", "Alice");
  f.join("bob@b.test/pc", "lobby", "Bob");
  return f;
}

describe("POST /muc_kick by nickname (mod_http_muc_kick parity)", () => {
  test("kicks the nick: 200 with who was kicked and from where", async () => {
    const f = lobby();
    const res = await answer(await f.kick({ nickname: "Bob", muc: ROOM, reason: "spam" }));
    expect(res.status).toBe(200);
    expect(res.type).toStartWith("application/json");
    expect(res.body).toEqual({ kicked: ["Bob"], muc: ROOM });
    expect([...f.service.room(ROOM)!.occupants.keys()]).toEqual(["Alice"]);
  });

  test("sends unavailable presence with 307, 110 and the reason to every session of the kicked nick", async () => {
    const f = lobby();
    await f.kick({ nickname: "Alice", muc: ROOM, reason: "revoked" });
    for (const session of ["alice@a.test/phone", "alice@a.test/laptop"]) {
      const mine = to(f.sent, session);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.attrs).toMatchObject({ type: "unavailable", from: `${ROOM}/Alice` });
      expect(statuses(mine[0]!).sort()).toEqual(["110", "307"]);
      expect(reasonOf(mine[0]!)).toBe("revoked");
      expect(mine[0]!.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("item")!.attrs.role).toBe("none");
    }
  });

  test("tells every other occupant, with 307 and the reason but without 110", async () => {
    const f = lobby();
    await f.kick({ nickname: "Alice", muc: ROOM, reason: "revoked" });
    const bobs = to(f.sent, "bob@b.test/pc");
    expect(bobs).toHaveLength(1);
    expect(bobs[0]!.attrs).toMatchObject({ type: "unavailable", from: `${ROOM}/Alice` });
    expect(statuses(bobs[0]!)).toEqual(["307"]);
    expect(reasonOf(bobs[0]!)).toBe("revoked");
    expect(f.sent).toHaveLength(3);
  });

  test("without a reason the presence carries none", async () => {
    const f = lobby();
    expect((await f.kick({ nickname: "Bob", muc: ROOM })).status).toBe(200);
    expect(reasonOf(to(f.sent, "bob@b.test/pc")[0]!)).toBeUndefined();
  });

  test("the room JID is matched case-insensitively and answered normalised", async () => {
    const f = lobby();
    const res = await answer(await f.kick({ nickname: "Bob", muc: `LoBBy@Rooms.Test` }));
    expect(res).toMatchObject({ status: 200, body: { kicked: ["Bob"], muc: ROOM } });
  });

  test("kicking the last occupant removes the room", async () => {
    const f = httpFixture();
    f.join("bob@b.test/pc", "solo", "Bob");
    expect((await f.kick({ nickname: "Bob", muc: `solo@${DOMAIN}` })).status).toBe(200);
    expect(f.service.room(`solo@${DOMAIN}`)).toBeUndefined();
  });

  test("counts HTTP kicks in mucgate_kicks_total{via=http}", async () => {
    const f = lobby();
    await f.kick({ nickname: "Bob", muc: ROOM });
    expect(await f.metrics.render()).toContain('mucgate_kicks_total{via="http"} 1');
  });

  test("missing nickname or muc is 400 with the seed's wording", async () => {
    const f = lobby();
    for (const body of [{}, { muc: ROOM }, { nickname: "Bob" }, { reason: "x" }]) {
      expect(await answer(await f.kick(body))).toMatchObject({ status: 400, body: { error: "Missing nickname and/or MUC" } });
    }
  });

  test("non-string nickname, muc or reason is 400 naming the field", async () => {
    const f = lobby();
    for (const bad of [42, ["Bob"], { n: "Bob" }, null, true]) {
      expect(await answer(await f.kick({ nickname: bad, muc: ROOM }))).toMatchObject({
        status: 400,
        body: { error: "nickname must be a string" },
      });
      expect(await answer(await f.kick({ nickname: "Bob", muc: bad }))).toMatchObject({
        status: 400,
        body: { error: "muc must be a string" },
      });
      expect(await answer(await f.kick({ nickname: "Bob", muc: ROOM, reason: bad }))).toMatchObject({
        status: 400,
        body: { error: "reason must be a string" },
      });
    }
    expect(f.sent).toHaveLength(0);
    expect(f.service.room(ROOM)!.occupants.size).toBe(2);
  });

  test("a reason with characters XML cannot carry is 400 (it would break the component stream)", async () => {
    const f = lobby();
    for (const reason of ["a\u0000b", "\u0007", "\uD800", "\uFFFE"]) {
      const res = await answer(await f.kick({ nickname: "Bob", muc: ROOM, reason }));
      expect(res).toMatchObject({ status: 400, body: { error: "reason contains characters XML cannot carry" } });
    }
    expect(f.sent).toHaveLength(0);
  });

  test("a malformed MUC JID, a full JID or a bare domain is 400", async () => {
    const f = lobby();
    for (const muc of ["", "@rooms.test", "a@b@c", "lob by@rooms.test", `${ROOM}/Bob`, DOMAIN]) {
      const res = await answer(await f.kick({ nickname: "Bob", muc }));
      expect(res).toMatchObject({ status: 400, body: { error: "muc must be a room JID (room@service) without a resource" } });
    }
  });

  test("a MUC of another domain is 404 'No such host'", async () => {
    const f = lobby();
    expect(await answer(await f.kick({ nickname: "Bob", muc: "lobby@Elsewhere.Example" }))).toEqual({
      status: 404,
      type: expect.stringContaining("application/json"),
      body: { error: "MUC not found: No such host: elsewhere.example" },
    });
  });

  test("an unknown room is 404 with the seed's wording", async () => {
    const f = lobby();
    expect(await answer(await f.kick({ nickname: "Bob", muc: `nowhere@${DOMAIN}` }))).toMatchObject({
      status: 404,
      body: { error: `MUC not found: No MUC 'nowhere' found for host: ${DOMAIN}` },
    });
  });

  test("a nickname not in the room is 400 item-not-found, exactly as the seed answers", async () => {
    const f = lobby();
    for (const nickname of ["Carol", "bob", "", "   ", "\u0000"]) {
      expect(await answer(await f.kick({ nickname, muc: ROOM }))).toMatchObject({
        status: 400,
        body: { error: "Couldn't kick user: modify: item-not-found" },
      });
    }
    expect(f.sent).toHaveLength(0);
  });

  test("extra fields are ignored, as the seed ignores them", async () => {
    const f = lobby();
    expect((await f.kick({ nickname: "Bob", muc: ROOM, actor: "x", extra: [1, 2] })).status).toBe(200);
  });
});

describe("POST /muc_kick by account (jid extension)", () => {
  test("kicks every nick and every session whose real bare JID is jid", async () => {
    const f = lobby();
    f.join("alice@a.test/tablet", "lobby", "Alice2"); // a second nick of the same account
    const res = await answer(await f.kick({ jid: "Alice@A.test", muc: ROOM, reason: "account closed" }));
    expect(res.status).toBe(200);
    expect((res.body as { kicked: string[] }).kicked.sort()).toEqual(["Alice", "Alice2"]);
    expect([...f.service.room(ROOM)!.occupants.keys()]).toEqual(["Bob"]);
    expect([...f.service.room(ROOM)!.sessions.keys()]).toEqual(["bob@b.test/pc"]);
    for (const session of ["alice@a.test/phone", "alice@a.test/laptop", "alice@a.test/tablet"]) {
      const mine = to(f.sent, session).filter((s) => statuses(s).includes("110"));
      expect(mine.length).toBeGreaterThanOrEqual(1);
      expect(mine.every((s) => statuses(s).includes("307") && reasonOf(s) === "account closed")).toBe(true);
    }
    const bobs = to(f.sent, "bob@b.test/pc");
    expect(bobs.map((s) => s.attrs.from).sort()).toEqual([`${ROOM}/Alice`, `${ROOM}/Alice2`]);
    expect(await f.metrics.render()).toContain('mucgate_kicks_total{via="http"} 2');
  });

  test("nobody of that account in the room is 400 item-not-found", async () => {
    const f = lobby();
    expect(await answer(await f.kick({ jid: "carol@c.test", muc: ROOM }))).toMatchObject({
      status: 400,
      body: { error: "Couldn't kick user: modify: item-not-found" },
    });
  });

  test("a malformed jid, a full jid or a bare domain is 400", async () => {
    const f = lobby();
    for (const jid of ["", "a@", "@b", "x y@z", "alice@a.test/phone", "a.test"]) {
      expect(await answer(await f.kick({ jid, muc: ROOM }))).toMatchObject({
        status: 400,
        body: { error: "jid must be a bare user JID (user@host) without a resource" },
      });
    }
    expect(await answer(await f.kick({ jid: 7, muc: ROOM }))).toMatchObject({ status: 400, body: { error: "jid must be a string" } });
  });

  test("nickname and jid together are 400", async () => {
    const f = lobby();
    expect(await answer(await f.kick({ nickname: "Bob", jid: "bob@b.test", muc: ROOM }))).toMatchObject({
      status: 400,
      body: { error: "Give either nickname or jid, not both" },
    });
    expect(f.sent).toHaveLength(0);
  });

  test("jid without muc is the seed's missing-field answer", async () => {
    const f = lobby();
    expect(await answer(await f.kick({ jid: "bob@b.test" }))).toMatchObject({
      status: 400,
      body: { error: "Missing nickname and/or MUC" },
    });
  });
});

describe("POST /muc_kick authorization", () => {
  test("a wrong, missing or differently cased Authorization is 401 and kicks nobody", async () => {
    const f = lobby();
    for (const headers of [{ authorization: "Bearer wrong" }, { authorization: AUTH.toUpperCase() }, { authorization: `${AUTH}x` }, { authorization: "" }]) {
      expect(await answer(await f.kick({ nickname: "Bob", muc: ROOM }, headers))).toMatchObject({
        status: 401,
        body: { error: "Authorization failed" },
      });
    }
    const res = await f.app.request("/muc_kick", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ nickname: "Bob", muc: ROOM }),
    });
    expect(await answer(res)).toMatchObject({ status: 401, body: { error: "Authorization failed" } });
    expect(f.sent).toHaveLength(0);
    expect(f.service.room(ROOM)!.occupants.size).toBe(2);
  });

  test("authorization is checked before the body: an unauthorized oversized body is 401, not 413", async () => {
    const f = lobby();
    const res = await f.kick("x".repeat(100_000), { authorization: "nope" });
    expect(res.status).toBe(401);
  });
});
