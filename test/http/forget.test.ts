import { describe, expect, test } from "bun:test";
import { DOMAIN, RecordingGate, answer, httpFixture } from "./fixture.ts";

describe("POST /muc_auth/forget", () => {
  test("forgets a user's decisions, with the JID normalised to bare", async () => {
    const f = httpFixture();
    const res = await answer(await f.forget({ userJID: "Alice@A.Test/phone" }));
    expect(res).toMatchObject({ status: 200, body: { forgotten: 3 } });
    expect((f.gate as RecordingGate).calls).toEqual([{ userJID: "alice@a.test" }]);
  });

  test("forgets a room's decisions", async () => {
    const f = httpFixture();
    expect((await f.forget({ muc: `Lobby@${DOMAIN.toUpperCase()}` })).status).toBe(200);
    expect((f.gate as RecordingGate).calls).toEqual([{ mucJID: `lobby@${DOMAIN}` }]);
  });

  test("forgets one user's decisions in one room", async () => {
    const f = httpFixture();
    expect((await f.forget({ userJID: "alice@a.test", muc: `lobby@${DOMAIN}` })).status).toBe(200);
    expect((f.gate as RecordingGate).calls).toEqual([{ userJID: "alice@a.test", mucJID: `lobby@${DOMAIN}` }]);
  });

  test('only an explicit "all": true forgets everything', async () => {
    const f = httpFixture();
    expect(await answer(await f.forget({ all: true }))).toMatchObject({ status: 200, body: { forgotten: 3 } });
    expect((f.gate as RecordingGate).calls).toEqual([{}]);
  });

  test("a body naming nothing usable is 400 and forgets nothing", async () => {
    const f = httpFixture();
    for (const body of [{}, { all: false }, { mucJID: `lobby@${DOMAIN}` }, { user: "alice@a.test" }]) {
      expect(await answer(await f.forget(body))).toMatchObject({ status: 400, body: { error: "Give userJID and/or muc" } });
    }
    expect((f.gate as RecordingGate).calls).toEqual([]);
  });

  test('"all" with a scope, or "all" not a boolean, is 400', async () => {
    const f = httpFixture();
    expect(await answer(await f.forget({ all: true, userJID: "alice@a.test" }))).toMatchObject({
      status: 400,
      body: { error: 'Give either "all": true or userJID and/or muc, not both' },
    });
    for (const all of ["true", 1, null, {}]) {
      expect(await answer(await f.forget({ all }))).toMatchObject({ status: 400, body: { error: "all must be a boolean" } });
    }
    expect((f.gate as RecordingGate).calls).toEqual([]);
  });

  test("malformed or non-string JIDs are 400 naming the field", async () => {
    const f = httpFixture();
    for (const userJID of ["", "@a.test", "a b@c", "x@y/"]) {
      expect(await answer(await f.forget({ userJID }))).toMatchObject({ status: 400, body: { error: "userJID is not a valid JID" } });
    }
    expect(await answer(await f.forget({ muc: "@" }))).toMatchObject({ status: 400, body: { error: "muc is not a valid JID" } });
    expect(await answer(await f.forget({ userJID: ["a@b"] }))).toMatchObject({ status: 400, body: { error: "userJID must be a string" } });
    expect(await answer(await f.forget({ muc: null }))).toMatchObject({ status: 400, body: { error: "muc must be a string" } });
    expect((f.gate as RecordingGate).calls).toEqual([]);
  });

  test("without a gate it still validates, and answers 0 forgotten", async () => {
    const f = httpFixture({ gate: null });
    expect(await answer(await f.forget({ userJID: "alice@a.test" }))).toMatchObject({ status: 200, body: { forgotten: 0 } });
    expect(await answer(await f.forget({ all: true }))).toMatchObject({ status: 200, body: { forgotten: 0 } });
    expect((await f.forget({})).status).toBe(400);
  });

  test("needs the same Authorization as kicks", async () => {
    const f = httpFixture();
    expect(await answer(await f.forget({ all: true }, { authorization: "Bearer wrong" }))).toMatchObject({
      status: 401,
      body: { error: "Authorization failed" },
    });
    expect((f.gate as RecordingGate).calls).toEqual([]);
  });

  test("has the same body rules as kicks: Content-Type, JSON and size", async () => {
    const f = httpFixture();
    expect((await f.forget({ all: true }, { "content-type": "text/plain" })).status).toBe(400);
    expect(await answer(await f.forget("all"))).toMatchObject({ status: 400, body: { error: "JSON body not found" } });
    expect((await f.forget({ userJID: "a@b", pad: "x".repeat(70_000) })).status).toBe(413);
    expect((f.gate as RecordingGate).calls).toEqual([]);
  });

  test("revocation: forget then kick removes the user at once", async () => {
    const f = httpFixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    f.join("bob@b.test/pc", "lobby", "Bob");
    expect((await f.forget({ userJID: "bob@b.test", muc: `lobby@${DOMAIN}` })).status).toBe(200);
    expect(await answer(await f.kick({ jid: "bob@b.test", muc: `lobby@${DOMAIN}`, reason: "access revoked" }))).toMatchObject({
      status: 200,
      body: { kicked: ["Bob"] },
    });
    expect([...f.service.room(`lobby@${DOMAIN}`)!.occupants.keys()]).toEqual(["Alice"]);
  });
});
