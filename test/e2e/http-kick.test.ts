/**
 * `POST /muc_kick` over a real HTTP port, acting on rooms real clients sit in
 * (docs/http-api.md): every answer of the contract, and
 * what a kick looks like to the kicked sessions and to the room.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { NS_MUC_USER, groupchat, statusCodes, type Element, type TestClient } from "./harness/client.ts";
import { joinRoom, mucItem, scrape } from "./harness/gate-kit.ts";
import { startMucgate } from "./harness/mucgate.ts";
import { useRig } from "./harness/rig.ts";

const ROOMS = "rooms.localhost";

const rig = useRig();

/** POST to a route with the right Authorization (unless given) and a JSON content type (unless given). */
async function post(
  path: string,
  body: string | ReadableStream<Uint8Array> | null,
  headers: Record<string, string | null> = {},
): Promise<{ status: number; json: unknown; contentType: string | null }> {
  const h: Record<string, string> = { authorization: rig.mucgate.kickAuth, "content-type": "application/json" };
  for (const [k, v] of Object.entries(headers)) {
    if (v === null) delete h[k];
    else h[k] = v;
  }
  const res = await fetch(`${rig.mucgate.httpUrl}${path}`, { method: "POST", headers: h, body, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, contentType: res.headers.get("content-type") };
}
const kick = (body: unknown, headers?: Record<string, string | null>) =>
  post("/muc_kick", typeof body === "string" ? body : JSON.stringify(body), headers);

/** What a kicked occupant's presence must carry (XEP-0045 §8.2). */
function expectKickPresence(p: Element, reason: string | undefined, self: boolean): void {
  expect(p.attrs.type).toBe("unavailable");
  const codes = statusCodes(p);
  expect(codes).toContain(307);
  if (self) expect(codes).toContain(110);
  else expect(codes).not.toContain(110);
  expect(mucItem(p)).toMatchObject({ role: "none" });
  const reasonText = p.getChild("x", NS_MUC_USER)?.getChild("item")?.getChildText("reason");
  expect(reasonText ?? undefined).toBe(reason);
}

describe("answers", () => {
  const ROOM = `answers@${ROOMS}`;
  let bob: TestClient;
  beforeAll(async () => {
    // A room with an occupant, so that "no such nick" differs from "no such room".
    bob = await rig.connect("bob", "answers");
    await joinRoom(bob, `${ROOM}/bob`);
  });
  afterAll(async () => {
    await bob?.stop();
  });

  test("401 {error: Authorization failed}: missing, wrong, almost right", async () => {
    for (const authorization of [null, "", "wrong", `${rig.mucgate.kickAuth}x`, rig.mucgate.kickAuth.toUpperCase(), rig.mucgate.kickAuth.slice(0, -1)]) {
      const res = await kick({ nickname: "bob", muc: ROOM }, { authorization });
      expect(res).toEqual({ status: 401, json: { error: "Authorization failed" }, contentType: expect.stringContaining("application/json") });
    }
  });

  test("400 for bodies that are not JSON, not an object, or lack nickname/muc", async () => {
    const cases: [string, string][] = [
      ["not json", "JSON body not found"],
      ["", "JSON body not found"],
      ["{", "JSON body not found"],
      ["[1,2]", "JSON body must be an object"],
      ['"text"', "JSON body must be an object"],
      ["null", "JSON body must be an object"],
      ["42", "JSON body must be an object"],
      ["{}", "Missing nickname and/or MUC"],
      [JSON.stringify({ nickname: "bob" }), "Missing nickname and/or MUC"],
      [JSON.stringify({ muc: ROOM }), "Missing nickname and/or MUC"],
      [JSON.stringify({ nick: "bob", room: ROOM }), "Missing nickname and/or MUC"],
      [JSON.stringify({ nickname: 7, muc: ROOM }), "nickname must be a string"],
      [JSON.stringify({ nickname: "bob", muc: null }), "muc must be a string"],
      [JSON.stringify({ nickname: ["bob"], muc: ROOM }), "nickname must be a string"],
      [JSON.stringify({ nickname: "bob", muc: ROOM, reason: 1 }), "reason must be a string"],
      [JSON.stringify({ jid: {}, muc: ROOM }), "jid must be a string"],
    ];
    for (const [body, error] of cases) {
      const res = await kick(body);
      expect({ body, status: res.status, json: res.json }).toEqual({ body, status: 400, json: { error } });
    }
    // Content-Type is checked before the body.
    expect((await kick({ nickname: "bob", muc: ROOM }, { "content-type": "text/plain" })).json).toEqual({
      error: "Content-Type must be application/json",
    });
    expect((await kick({ nickname: "bob", muc: ROOM }, { "content-type": null })).status).toBe(400);
  });

  test("404 for an unknown room and for a MUC of another domain", async () => {
    expect(await kick({ nickname: "bob", muc: `nosuch@${ROOMS}` })).toMatchObject({
      status: 404,
      json: { error: `MUC not found: No MUC 'nosuch' found for host: ${ROOMS}` },
    });
    expect(await kick({ nickname: "bob", muc: "answers@conference.example.org" })).toMatchObject({
      status: 404,
      json: { error: "MUC not found: No such host: conference.example.org" },
    });
  });

  test("400 Couldn't kick user: modify: item-not-found for a nick (or account) not in the room", async () => {
    for (const body of [{ nickname: "nobody", muc: ROOM }, { nickname: "Bob", muc: ROOM }, { jid: "carol@localhost", muc: ROOM }]) {
      expect(await kick(body)).toMatchObject({ status: 400, json: { error: "Couldn't kick user: modify: item-not-found" } });
    }
    await bob.expectNothing({ name: "presence", type: "unavailable" }, 200);
  });

  test("413 for a body over 64 KiB, by Content-Length and chunked", async () => {
    const big = JSON.stringify({ nickname: "bob", muc: ROOM, reason: "x".repeat(64 * 1024) });
    expect(await kick(big)).toMatchObject({ status: 413, json: { error: "Request body is larger than 65536 bytes (64 KiB)" } });
    // Authorization is checked before the body is read.
    expect(await kick(big, { authorization: "wrong" })).toMatchObject({ status: 401, json: { error: "Authorization failed" } });
    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 6) controller.enqueue(chunk);
        else controller.close();
      },
    });
    expect(await post("/muc_kick", stream)).toMatchObject({ status: 413 });
    // Just under the limit is read (and then judged on its content).
    const fits = JSON.stringify({ nickname: "nobody", muc: ROOM, reason: "x".repeat(60 * 1024) });
    expect((await kick(fits)).status).toBe(400);
    await bob.expectNothing({ name: "presence", type: "unavailable" }, 100);
  });

  test("405 for other methods, 404 for other paths", async () => {
    const res = await fetch(`${rig.mucgate.httpUrl}/muc_kick`, { headers: { authorization: rig.mucgate.kickAuth } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(await res.json()).toEqual({ error: "Method not allowed; use POST" });
    const nf = await fetch(`${rig.mucgate.httpUrl}/muc_kick/extra`, { method: "POST" });
    expect(nf.status).toBe(404);
  });

  test("200 kicked (last, on this room)", async () => {
    expect(await kick({ nickname: "bob", muc: ROOM.toUpperCase().replace(ROOMS.toUpperCase(), ROOMS) })).toMatchObject({
      status: 200,
      json: { kicked: ["bob"], muc: ROOM },
    });
    expectKickPresence(await bob.waitFor({ name: "presence", type: "unavailable", from: `${ROOM}/bob` }), undefined, true);
  });
});

describe("what a kick does", () => {
  test("every session of the nick and every other occupant get unavailable 307, role none, the reason; the room carries on", async () => {
    const room = `kick@${ROOMS}`;
    const [desk, phone, bob, carol] = await Promise.all([rig.client("alice", "desk"), rig.client("alice", "phone"), rig.client("bob"), rig.client("carol")]);
    await joinRoom(desk, `${room}/alice`);
    await joinRoom(phone, `${room}/alice`);
    await joinRoom(bob, `${room}/bob`);
    await joinRoom(carol, `${room}/carol`);
    const before = await scrape(rig.mucgate.httpUrl);

    const reason = "Access revoked — über & <out>";
    const res = await kick({ nickname: "alice", muc: room, reason });
    expect(res).toMatchObject({ status: 200, json: { kicked: ["alice"], muc: room } });

    for (const s of [desk, phone]) {
      expectKickPresence(await s.waitFor({ name: "presence", type: "unavailable", from: `${room}/alice` }), reason, true);
    }
    for (const o of [bob, carol]) {
      expectKickPresence(await o.waitFor({ name: "presence", type: "unavailable", from: `${room}/alice` }), reason, false);
      await o.expectNothing({ name: "presence", from: `${room}/alice` }, 200);
    }

    // The others can still talk; the kicked sessions hear nothing more.
    await bob.send(groupchat(room, "carry on"));
    await carol.waitFor((s) => s.name === "message" && s.getChildText("body") === "carry on" && s.attrs.from === `${room}/bob`);
    await Promise.all([desk, phone].map((s) => s.expectNothing((x) => x.name === "message" && x.getChildText("body") === "carry on", 300)));

    const after = await scrape(rig.mucgate.httpUrl);
    expect(after.get("mucgate_kicks_total", { via: "http" }) - before.get("mucgate_kicks_total", { via: "http" })).toBe(1);
    // Kicking again: that nick is gone.
    expect(await kick({ nickname: "alice", muc: room })).toMatchObject({ status: 400 });
  });

  test("kick by jid removes every session and every nick of that account (any case)", async () => {
    const room = `byjid@${ROOMS}`;
    const [desk, phone, bob] = await Promise.all([rig.client("alice", "desk"), rig.client("alice", "phone"), rig.client("bob")]);
    await joinRoom(desk, `${room}/alice`);
    await joinRoom(phone, `${room}/alice (phone)`);
    await joinRoom(bob, `${room}/bob`);
    const before = await scrape(rig.mucgate.httpUrl);
    const res = await kick({ jid: "Alice@LocalHost", muc: room, reason: "bye" });
    expect(res.status).toBe(200);
    expect((res.json as { kicked: string[] }).kicked.sort()).toEqual(["alice", "alice (phone)"]);

    expectKickPresence(await desk.waitFor({ name: "presence", type: "unavailable", from: `${room}/alice` }), "bye", true);
    expectKickPresence(await phone.waitFor({ name: "presence", type: "unavailable", from: `${room}/alice (phone)` }), "bye", true);
    for (const nick of ["alice", "alice (phone)"]) {
      expectKickPresence(await bob.waitFor({ name: "presence", type: "unavailable", from: `${room}/${nick}` }, { since: 0 }), "bye", false);
    }
    const after = await scrape(rig.mucgate.httpUrl);
    expect(after.get("mucgate_kicks_total", { via: "http" }) - before.get("mucgate_kicks_total", { via: "http" })).toBe(2);
    // bob is alone and still there.
    expect(await kick({ jid: "alice@localhost", muc: room })).toMatchObject({ status: 400 });
    expect(await kick({ nickname: "bob", muc: room })).toMatchObject({ status: 200, json: { kicked: ["bob"] } });
  });
});

test("mucgate refuses to start without http_muc_kick_authorization_header (exit 1, says why)", async () => {
  const m = await startMucgate({
    prosody: rig.prosody,
    authUrl: rig.auth.url,
    config: { http_muc_kick_authorization_header: undefined },
    waitForOnline: false,
  });
  try {
    expect(await m.exited).toBe(1);
    const stderr = m.stderr.join("\n");
    expect(stderr).toContain("http_muc_kick_authorization_header");
    expect(stderr).toMatch(/required/);
    expect(stderr).toMatch(/kick API/);
  } finally {
    await m.stop();
  }
});
