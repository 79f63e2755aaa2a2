import { describe, expect, test } from "bun:test";
import { AUTH, DOMAIN, httpFixture, statuses, to } from "./fixture.ts";

/**
 * The ejabberd-compatible room API (docs/room-api.md) over the real app and
 * a real MucService in memory: answers in ejabberd's shapes, and every
 * command acting through the core (the stanzas occupants get).
 */

const ROOM = `lobby@${DOMAIN}`;
const CORS = { "access-control-allow-origin": "*", "access-control-allow-headers": "Content-Type, Authorization, X-Admin" };

function api(f: ReturnType<typeof httpFixture>, command: string, args: unknown, headers: Record<string, string> = {}) {
  return f.post(`/api/${command}`, args, headers);
}

async function answer(res: Response): Promise<[number, unknown]> {
  return [res.status, await res.json()];
}

const room = { name: "lobby", service: DOMAIN };

describe("the HTTP layer", () => {
  test("success is 200 with the JSON number 0, application/json and ejabberd's CORS headers", async () => {
    const f = httpFixture();
    const res = await api(f, "create_room", { ...room, host: "example.org" });
    expect(await answer(res)).toEqual([200, 0]);
    expect(res.headers.get("content-type")).toBe("application/json");
    for (const [k, v] of Object.entries(CORS)) expect(res.headers.get(k)).toBe(v);
    expect(f.service.room(ROOM)).toBeDefined();
  });

  test("/api/v1/<command> is the same command", async () => {
    const f = httpFixture();
    expect(await answer(await f.post("/api/v1/create_room", { ...room, host: "example.org" }))).toEqual([200, 0]);
    expect(await answer(await f.post("/api/v1/muc_online_rooms", { service: DOMAIN }))).toEqual([200, [ROOM]]);
  });

  test("a wrong or missing Authorization is 401 code 10, checked before anything else, with CORS headers", async () => {
    const f = httpFixture();
    for (const headers of [{ authorization: "Bearer nope" }, { authorization: "" }]) {
      const res = await f.post("/api/no_such_command", "not json", headers);
      expect(await answer(res)).toEqual([401, { status: "error", code: 10, message: "You are not authorized to call this command." }]);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    }
  });

  test("http_api_authorization_header replaces the kick's value for /api only", async () => {
    const f = httpFixture({ apiAuthorization: "Bearer api-only" });
    expect((await api(f, "muc_online_rooms", { service: DOMAIN })).status).toBe(401);
    expect((await api(f, "muc_online_rooms", { service: DOMAIN }, { authorization: "Bearer api-only" })).status).toBe(200);
    expect((await f.kick({ nickname: "x", muc: ROOM })).status).toBe(404); // the kick still takes AUTH
  });

  test("OPTIONS is the CORS preflight, without credentials", async () => {
    const f = httpFixture();
    const res = await f.app.request("/api/create_room", { method: "OPTIONS" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
    expect(res.headers.get("access-control-max-age")).toBe("86400");
  });

  test("unknown command 404, no command, a path below it or PUT 400 code 40", async () => {
    const f = httpFixture();
    expect(await answer(await api(f, "no_such_command", {}))).toEqual([404, { status: "error", code: 40, message: "Endpoint not found." }]);
    const missing: [number, unknown] = [400, { status: "error", code: 40, message: "Missing command name." }];
    expect(await answer(await f.post("/api/", {}))).toEqual(missing);
    expect(await answer(await f.post("/api/v1", {}))).toEqual(missing);
    expect(await answer(await f.post("/api/muc_online_rooms/extra", { service: DOMAIN }))).toEqual(missing);
    const put = await f.app.request("/api/muc_online_rooms", { method: "PUT", headers: { authorization: AUTH }, body: "{}" });
    expect(await answer(put)).toEqual(missing);
  });

  test("a body that is not JSON, or empty, is 400 \"400 Bad Request\"; an array is no arguments", async () => {
    const f = httpFixture();
    expect(await answer(await api(f, "create_room", "not json"))).toEqual([400, "400 Bad Request"]);
    expect(await answer(await api(f, "create_room", ""))).toEqual([400, "400 Bad Request"]);
    expect(await answer(await api(f, "create_room", "[1,2]"))).toEqual([400, "Request have missing argument: name"]);
  });

  test("the Content-Type is not looked at; GET takes the arguments from the query", async () => {
    const f = httpFixture();
    const form = await api(f, "create_room", { ...room, host: "h.test" }, { "content-type": "application/x-www-form-urlencoded" });
    expect(await answer(form)).toEqual([200, 0]);
    const get = await f.app.request(`/api/muc_online_rooms?service=${DOMAIN}`, { headers: { authorization: AUTH } });
    expect(await answer(get)).toEqual([200, [ROOM]]);
  });

  test("a body over 64 KiB is 413", async () => {
    const f = httpFixture();
    const res = await api(f, "create_room", { ...room, host: "h.test", pad: "x".repeat(70 * 1024) });
    expect(res.status).toBe(413);
  });

  test("arguments: missing, unknown, duplicate and not strings, in ejabberd's words", async () => {
    const f = httpFixture();
    expect(await answer(await api(f, "create_room", room))).toEqual([400, "Request have missing argument: host"]);
    expect(await answer(await api(f, "create_room", { ...room, host: "h", extra: 1 }))).toEqual([400, "Request have unknown arguments: [extra]"]);
    expect(await answer(await api(f, "create_room", '{"name":"a","name":"b","service":"x","host":"y"}'))).toEqual([
      400,
      "Request have duplicate argument: name",
    ]);
    expect(await answer(await api(f, "create_room", { ...room, host: "h", name: 9 }))).toEqual([400, "Arg 9 is not in format binary"]);
    expect(await answer(await api(f, "create_room", { ...room, host: "h", name: null }))).toEqual([400, "Arg null is not in format binary"]);
    expect((await api(f, "create_room", { ...room, host: "h", name: ["lobby"] })).status).toBe(400);
    const nul = await answer(await api(f, "send_direct_invitation", { ...room, password: "", reason: "a\u0000b", users: "c@c.test" }));
    expect(nul).toEqual([400, 'Arg "a\\u0000b" contains characters XML cannot carry']);
    expect(f.service.rooms.size).toBe(0);
  });
});

describe("rooms", () => {
  test("create_room: lower-cased name; Room already exists; Invalid 'name' and 'service'", async () => {
    const f = httpFixture();
    expect(await answer(await api(f, "create_room", { ...room, name: "LOBBY", host: "h.test" }))).toEqual([200, 0]);
    expect(await answer(await api(f, "create_room", { ...room, host: "h.test" }))).toEqual([400, "Room already exists"]);
    expect(await answer(await api(f, "create_room", { ...room, name: "no spaces@here", host: "h.test" }))).toEqual([400, "Invalid 'name'"]);
    expect(await answer(await api(f, "create_room", { ...room, service: "other.test", host: "h.test" }))).toEqual([400, "Invalid 'service'"]);
  });

  test("a room made over the API has no owner: who joins it is a participant", async () => {
    const f = httpFixture();
    await api(f, "create_room", { ...room, host: "h.test" });
    const out = f.join("alice@a.test/x", "lobby", "Alice");
    const self = to(out, "alice@a.test/x").find((s) => s.name === "presence")!;
    expect(self.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("item")!.attrs).toMatchObject({ affiliation: "none", role: "participant" });
    expect(statuses(self)).not.toContain("201");
  });

  test("create_room_with_opts sets options (list or object), ignores unknown names, refuses what mucgate does not do", async () => {
    const f = httpFixture();
    const options = [
      { name: "title", value: "Planning" },
      { name: "persistent", value: "true" },
      { name: "public", value: "false" },
      { name: "mam", value: "false" },
      { name: "lang", value: "en" },
      { name: "bogus", value: "x" },
    ];
    expect(await answer(await api(f, "create_room_with_opts", { ...room, host: "h", options }))).toEqual([200, 0]);
    expect(f.service.room(ROOM)!.config).toMatchObject({ name: "Planning", persistent: true, public: false, archiving: false, language: "en" });
    const [, opts] = await answer(await api(f, "get_room_options", room));
    expect(opts).toMatchObject({ title: "Planning", persistent: "true", public: "false", mam: "false", lang: "en", members_only: "false" });
    expect(Object.values(opts as object).every((v) => typeof v === "string")).toBe(true);

    expect(await answer(await api(f, "create_room_with_opts", { name: "obj", service: DOMAIN, host: "h", options: { title: "T" } }))).toEqual([200, 0]);
    expect(f.service.room(`obj@${DOMAIN}`)!.config.name).toBe("T");

    const closed = { members_only: "true", moderated: "true", anonymous: "false", password_protected: "true", password: "s3cret", max_users: "25", allow_private_messages: "false" };
    expect(await answer(await api(f, "create_room_with_opts", { name: "closed", service: DOMAIN, host: "h", options: closed }))).toEqual([200, 0]);
    expect(f.service.room(`closed@${DOMAIN}`)!.config).toMatchObject({ membersOnly: true, moderated: true, whois: "anyone", password: "s3cret", maxUsers: 25, allowPm: "none" });
    const [, closedOpts] = await answer(await api(f, "get_room_options", { name: "closed", service: DOMAIN }));
    expect(closedOpts).toMatchObject(closed);
    // What mucgate cannot do is refused, never dropped: the room is not made.
    const [status, body] = await answer(await api(f, "create_room_with_opts", { name: "locked", service: DOMAIN, host: "h", options: { password_protected: "true" } }));
    expect(status).toBe(400);
    expect(body).toContain("password");
    expect(f.service.room(`locked@${DOMAIN}`)).toBeUndefined();
    expect((await api(f, "create_room_with_opts", { name: "cap", service: DOMAIN, host: "h", options: { captcha_protected: "true" } })).status).toBe(400);
    expect((await api(f, "create_room_with_opts", { name: "maybe", service: DOMAIN, host: "h", options: { public: "maybe" } })).status).toBe(400);
    expect(await answer(await api(f, "create_room_with_opts", { name: "n", service: DOMAIN, host: "h", options: [{ name: "max_users", value: 30 }] }))).toEqual([
      400,
      "Arg 30 is not in format binary",
    ]);
  });

  test("destroy_room sends every occupant the §10.9 destroy presence; then the room is gone", async () => {
    const f = httpFixture();
    f.join("alice@a.test/x", "lobby", "Alice");
    f.join("bob@b.test/y", "lobby", "Bob");
    f.sent.length = 0;
    expect(await answer(await api(f, "destroy_room", room))).toEqual([200, 0]);
    for (const session of ["alice@a.test/x", "bob@b.test/y"]) {
      const [p] = to(f.sent, session);
      expect(p!.attrs.type).toBe("unavailable");
      expect(p!.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("destroy")).toBeDefined();
    }
    expect(f.sent).toHaveLength(2);
    expect(await answer(await api(f, "destroy_room", room))).toEqual([400, "Room doesn't exists"]);
    expect(await answer(await api(f, "get_room_occupants_number", room))).toEqual([400, "room_not_found"]);
  });

  test("change_room_option configures the room and tells occupants with 104; unknown room or option refused", async () => {
    const f = httpFixture();
    f.join("alice@a.test/x", "lobby", "Alice");
    f.sent.length = 0;
    expect(await answer(await api(f, "change_room_option", { ...room, option: "title", value: "Renamed" }))).toEqual([200, 0]);
    expect(f.service.room(ROOM)!.config.name).toBe("Renamed");
    const [m] = to(f.sent, "alice@a.test/x");
    expect(m!.name).toBe("message");
    expect(m!.attrs).toMatchObject({ type: "groupchat", from: ROOM });
    expect(statuses(m!)).toEqual(["104"]);
    expect(await answer(await api(f, "change_room_option", { ...room, name: "nope", option: "title", value: "x" }))).toEqual([400, "Room not found"]);
    expect((await api(f, "change_room_option", { ...room, option: "bogus", value: "x" })).status).toBe(400);
    expect(await answer(await api(f, "change_room_option", { ...room, option: "public", value: true }))).toEqual([400, "Arg true is not in format binary"]);
  });

  test("an empty temporary room made over the API is destroyed 30 s later; occupied or persistent ones stay", async () => {
    const f = httpFixture();
    await api(f, "create_room", { ...room, host: "h" });
    await api(f, "create_room", { name: "used", service: DOMAIN, host: "h" });
    await api(f, "create_room_with_opts", { name: "kept", service: DOMAIN, host: "h", options: { persistent: "true" } });
    f.join("alice@a.test/x", "used", "Alice");
    expect(f.timers.map((t) => t.ms)).toEqual([30_000, 30_000, 30_000]);
    for (const t of f.timers.splice(0)) t.fn();
    await Bun.sleep(0);
    expect(f.service.room(ROOM)).toBeUndefined();
    expect(f.service.room(`used@${DOMAIN}`)).toBeDefined();
    expect(f.service.room(`kept@${DOMAIN}`)).toBeDefined();
  });

  test("get_room_options of an unknown room is {}", async () => {
    expect(await answer(await api(httpFixture(), "get_room_options", room))).toEqual([200, {}]);
  });
});

describe("occupants and affiliations", () => {
  test("get_room_occupants lists full JID, nick and role; the number is {occupants: N}; get_user_rooms lists occupancy", async () => {
    const f = httpFixture();
    f.join("alice@a.test/x", "lobby", "Alice");
    expect(await answer(await api(f, "get_room_occupants", room))).toEqual([200, [{ jid: "alice@a.test/x", nick: "Alice", role: "moderator" }]]);
    expect(await answer(await api(f, "get_room_occupants_number", room))).toEqual([200, { occupants: 1 }]);
    expect(await answer(await api(f, "get_user_rooms", { user: "alice", host: "a.test" }))).toEqual([200, [ROOM]]);
    expect(await answer(await api(f, "get_user_rooms", { user: "bob", host: "a.test" }))).toEqual([200, []]);
    expect(await answer(await api(f, "get_room_occupants", { ...room, name: "nope" }))).toEqual([400, "room_not_found"]);
  });

  test("set_room_affiliation stores the bare JID lower-cased; none removes it; get_room_affiliations lists them", async () => {
    const f = httpFixture();
    await api(f, "create_room", { ...room, host: "h" });
    expect(await answer(await api(f, "set_room_affiliation", { ...room, jid: "BOB@B.TEST/Res", affiliation: "member" }))).toEqual([200, 0]);
    expect(await answer(await api(f, "get_room_affiliations", room))).toEqual([200, [{ username: "bob", domain: "b.test", affiliation: "member", reason: "" }]]);
    await api(f, "set_room_affiliation", { ...room, jid: "bob@b.test", affiliation: "none" });
    expect(await answer(await api(f, "get_room_affiliations", room))).toEqual([200, []]);
    expect(await answer(await api(f, "set_room_affiliation", { ...room, jid: "bob@b.test", affiliation: "king" }))).toEqual([400, "Invalid affiliation"]);
    expect(await answer(await api(f, "set_room_affiliation", { ...room, name: "nope", jid: "bob@b.test", affiliation: "member" }))).toEqual([400, "Room doesn't exists"]);
    expect(await answer(await api(f, "get_room_affiliations", { ...room, name: "nope" }))).toEqual([400, "The room does not exist."]);
  });

  test("outcast bans an occupant: it and the room get one unavailable with 301", async () => {
    const f = httpFixture();
    f.join("alice@a.test/x", "lobby", "Alice");
    f.join("bob@b.test/y", "lobby", "Bob");
    f.sent.length = 0;
    expect(await answer(await api(f, "set_room_affiliation", { ...room, jid: "bob@b.test", affiliation: "outcast" }))).toEqual([200, 0]);
    const [own] = to(f.sent, "bob@b.test/y");
    expect(own!.attrs.type).toBe("unavailable");
    expect(statuses(own!).sort()).toEqual(["110", "301"]);
    expect(own!.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("item")!.attrs).toMatchObject({ affiliation: "outcast", role: "none" });
    const others = to(f.sent, "alice@a.test/x");
    expect(others).toHaveLength(1);
    expect(statuses(others[0]!)).toEqual(["301"]);
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
    // Banned: a rejoin is refused (§7.2.8 forbidden).
    const [refusal] = f.join("bob@b.test/y", "lobby", "Bob");
    expect(refusal!.attrs.type).toBe("error");
    expect(refusal!.getChild("error")!.getChild("forbidden")).toBeDefined();
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
  });

  test("admin makes an occupant moderator; member takes it back to participant", async () => {
    const f = httpFixture();
    await api(f, "create_room", { ...room, host: "h" });
    f.join("alice@a.test/x", "lobby", "Alice");
    f.sent.length = 0;
    await api(f, "set_room_affiliation", { ...room, jid: "alice@a.test", affiliation: "admin" });
    expect(f.service.room(ROOM)!.occupants.get("Alice")!.role).toBe("moderator");
    // One presence with both (§10.6), as muc#admin sends it; not the affiliation, then the role.
    const presences = f.sent.filter((s) => s.name === "presence");
    expect(presences).toHaveLength(1);
    expect(presences[0]!.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("item")!.attrs).toMatchObject({ affiliation: "admin", role: "moderator" });
    await api(f, "set_room_affiliation", { ...room, jid: "alice@a.test", affiliation: "member" });
    expect(f.service.room(ROOM)!.occupants.get("Alice")!.role).toBe("participant");
  });

  test("send_direct_invitation sends XEP-0249 invitations to each bare JID not in the room", async () => {
    const f = httpFixture();
    f.join("alice@a.test/x", "lobby", "Alice");
    f.sent.length = 0;
    const args = { ...room, password: "sesame", reason: "Join us", users: "alice@a.test:carol@c.test:DAVE@d.test/r" };
    expect(await answer(await api(f, "send_direct_invitation", args))).toEqual([200, 0]);
    expect(f.sent.map((s) => s.attrs.to)).toEqual(["carol@c.test", "dave@d.test"]);
    expect(f.sent[0]!.getChild("x", "jabber:x:conference")!.attrs).toEqual({ xmlns: "jabber:x:conference", jid: ROOM, password: "sesame", reason: "Join us" });
    f.sent.length = 0;
    await api(f, "send_direct_invitation", { ...args, password: "", reason: "" });
    expect(f.sent[0]!.getChild("x", "jabber:x:conference")!.attrs).toEqual({ xmlns: "jabber:x:conference", jid: ROOM });
    expect(await answer(await api(f, "send_direct_invitation", { ...args, name: "nope" }))).toEqual([400, "room_not_found"]);
  });
});
