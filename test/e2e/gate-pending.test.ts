/**
 * While the gate decides (src/xmpp/stanza-router.ts): what a user sends right
 * after a join, a leave that cancels it, a nick taken meanwhile; identical
 * questions sharing one request; the concurrency bound; registrations behind
 * the gate; and the metrics all this leaves behind.
 *
 * The auth service hangs the requests a test wants pending and releases them
 * when the test says so; mucgate's timeout is long enough never to interfere.
 * `pingService` is the barrier that tells a test mucgate has taken in what a
 * client sent (pings to the service are never held).
 */
import { describe, expect, test } from "bun:test";
import { allow, deny, hang, status } from "./harness/auth-server.ts";
import { groupchat, joinPresence, leavePresence, stanzaError, statusCodes, xml, type Element } from "./harness/client.ts";
import { expectJoinError, expectJoined, isSelfPresence, joinRoom, pingService, scrape } from "./harness/gate-kit.ts";
import { useRig } from "./harness/rig.ts";
import { waitUntil } from "./harness/wait-until.ts";

const ROOMS = "rooms.localhost";
const OPEN_REG = "openreg.localhost";

const rig = useRig({
  prosody: { components: [{ domain: ROOMS }, { domain: OPEN_REG }] },
  mucgates: {
    /** max_concurrency 2, registrations gated. */
    mucgate: {
      config: {
        muc_http_auth_timeout: 20,
        muc_http_auth_max_concurrency: 2,
        muc_http_auth_authorize_registration: true,
      },
    },
    /** Registrations not gated (the default). */
    plainReg: { slot: OPEN_REG, config: { muc_http_auth_timeout: 20 } },
  },
});

/** Requests of this user that hang; everyone else is allowed. */
function hangFor(...users: string[]): void {
  rig.auth.setBehaviour((r) => (users.some((u) => r.userJID === `${u}@localhost`) ? hang() : allow()));
}

function fromRoom(room: string): (s: Element) => boolean {
  return (s) => (s.attrs.from ?? "").split("/")[0] === room;
}

describe("ordering while a join is pending", () => {
  test("a message sent right after the join is refused not-acceptable after the self-presence, never delivered", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `early@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`);
    hangFor("alice");
    await alice.send(joinPresence(`${room}/alice`));
    await alice.send(groupchat(room, "too early", "early-1"));
    await pingService(alice, ROOMS);
    await rig.auth.waitForRequests(2);
    expect(alice.stanzas.filter(fromRoom(room))).toEqual([]); // nothing yet: the join is pending

    expect(rig.auth.release(allow())).toBe(1);
    const self = await alice.waitFor((s) => isSelfPresence(s, `${room}/alice`));
    const refused = await alice.waitFor({ name: "message", type: "error", id: "early-1" });
    expect(alice.stanzas.indexOf(self)).toBeLessThan(alice.stanzas.indexOf(refused));
    expect(stanzaError(refused)).toMatchObject({ condition: "not-acceptable" });
    expect(refused.attrs.from).toBe(room);

    await bob.waitFor({ name: "presence", from: `${room}/alice`, type: "" });
    await bob.expectNothing((s) => s.name === "message" && s.getChildText("body") === "too early", 300);

    // Sent after the self-presence, a message goes through.
    await alice.send(groupchat(room, "now", "later-1"));
    await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "now");
  });

  test("the same when the join is then denied: not-authorized, then not-acceptable, nothing to the room", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `early-denied@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`);
    hangFor("alice");
    await alice.send(joinPresence(`${room}/alice`));
    await alice.send(groupchat(room, "sneaky", "early-2"));
    await pingService(alice, ROOMS);
    await rig.auth.waitForRequests(2);
    rig.auth.release(deny("no"));
    const joinError = await expectJoinError(alice, `${room}/alice`);
    expect(joinError.condition).toBe("not-authorized");
    const refused = await alice.waitFor({ name: "message", type: "error", id: "early-2" });
    expect(stanzaError(refused)).toMatchObject({ condition: "not-acceptable" });
    await bob.expectNothing(() => true, 300);
  });

  test("a leave sent right after the join cancels it: unavailable with 110 to the user, nothing to the room", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `cancel@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`);
    hangFor("alice");
    await alice.send(joinPresence(`${room}/alice`));
    await alice.send(leavePresence(`${room}/alice`));
    const gone = await alice.waitFor({ name: "presence", from: `${room}/alice`, type: "unavailable" });
    expect(statusCodes(gone)).toContain(110);
    await rig.auth.waitForRequests(2);

    // The answer arriving afterwards changes nothing.
    expect(rig.auth.release(allow())).toBe(1);
    await pingService(alice, ROOMS);
    await Promise.all([alice.expectNothing(fromRoom(room), 300), bob.expectNothing(() => true, 300)]);
    // alice is not in the room: bob's message does not reach her.
    await bob.send(groupchat(room, "anyone?"));
    await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "anyone?");
    await alice.expectNothing(fromRoom(room), 200);
  });

  test("a client that disconnects while its join is pending never shows up in the room", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `vanish@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`);
    hangFor("alice");
    await alice.send(joinPresence(`${room}/alice`));
    await pingService(alice, ROOMS);
    await rig.auth.waitForRequests(2);
    const cancelled = async () => (await scrape(rig.mucgate.httpUrl)).get("mucgate_joins_total", { outcome: "cancelled" });
    const before = await cancelled();
    // Prosody tells the room on alice's behalf (she sent it directed presence): unavailable,
    // which cancels the pending join.
    await alice.stop();
    await waitUntil(async () => (await cancelled()) === before + 1, { timeout: 3000, interval: 25, describe: () => "join not cancelled" });
    rig.auth.release(allow());
    await bob.expectNothing(fromRoom(room), 400);
    // bob is alone: a kick of alice finds nobody.
    const res = await rig.mucgate.kick({ nickname: "alice", muc: room });
    expect(res.status).toBe(400);
  });

  test("a nick taken by someone else while the decision is pending → conflict, one occupant", async () => {
    const [bob, alice, carol] = await Promise.all([rig.client("bob"), rig.client("alice"), rig.client("carol")]);
    const room = `taken@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`);
    hangFor("alice");
    await alice.send(joinPresence(`${room}/shared`));
    await pingService(alice, ROOMS);
    await joinRoom(carol, `${room}/shared`);
    await bob.waitFor({ name: "presence", from: `${room}/shared`, type: "" });

    rig.auth.release(allow());
    const error = await expectJoinError(alice, `${room}/shared`);
    expect([error.type, error.condition]).toEqual(["cancel", "conflict"]);
    await Promise.all([
      alice.expectNothing(fromRoom(room), 300),
      bob.expectNothing(fromRoom(room), 300),
      carol.expectNothing((s) => s.name === "presence", 300),
    ]);
    // The one "shared" is carol's: her messages come from it, alice gets none.
    await carol.send(groupchat(room, "it's me"));
    const got = await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "it's me");
    expect(got.attrs.from).toBe(`${room}/shared`);
  });
  test("an IQ sent right after the join is answered after the decision, as to an outsider", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `early-iq@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`);
    // Hidden: a public room shows its subject and head count to anyone (XEP-0045 §6.4, as Prosody).
    const hide = await bob.iq(
      xml("iq", { type: "set", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" },
        xml("x", { xmlns: "jabber:x:data", type: "submit" }, xml("field", { var: "muc#roomconfig_publicroom" }, xml("value", {}, "0"))))),
    );
    expect(hide.attrs.type).toBe("result");
    await bob.send(xml("message", { to: room, type: "groupchat" }, xml("subject", {}, "inside only")));
    await bob.waitFor((s) => s.name === "message" && s.getChildText("subject") === "inside only");
    hangFor("alice");
    await alice.send(joinPresence(`${room}/alice`));
    await alice.send(xml("iq", { type: "get", to: room, id: "info-1" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    await pingService(alice, ROOMS);
    await rig.auth.waitForRequests(2);
    expect(alice.stanzas.filter((s) => s.attrs.id === "info-1")).toEqual([]);
    rig.auth.release(allow());
    const self = await alice.waitFor((s) => isSelfPresence(s, `${room}/alice`));
    const info = await alice.waitFor({ name: "iq", id: "info-1" });
    expect(alice.stanzas.indexOf(self)).toBeLessThan(alice.stanzas.indexOf(info));
    expect(info.attrs.type).toBe("result");
    // Asked before alice was an occupant of the hidden room: no subject, no head count.
    expect(info.toString()).not.toContain("inside only");
    expect(info.toString()).not.toContain("muc#roominfo_occupants");
  });
});

describe("nick changes pass the gate too", () => {
  test("a denied nick change gets not-authorized and the occupant keeps its nick; an allowed one goes through", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `renick@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`);
    await joinRoom(alice, `${room}/alice`);
    await bob.waitFor({ name: "presence", from: `${room}/alice`, type: "" });
    rig.auth.setBehaviour((r) => (r.nickname === "forbidden" ? deny("not that nick") : allow()));

    await alice.send(xml("presence", { to: `${room}/forbidden` }));
    const error = await expectJoinError(alice, `${room}/forbidden`);
    expect([error.type, error.condition]).toEqual(["auth", "not-authorized"]);
    expect(rig.auth.requests.at(-1)).toMatchObject({ userJID: "alice@localhost", mucJID: room, nickname: "forbidden" });
    await bob.expectNothing(fromRoom(room), 300);
    await alice.send(groupchat(room, "still alice"));
    expect((await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "still alice")).attrs.from).toBe(`${room}/alice`);

    await alice.send(xml("presence", { to: `${room}/allowed` }));
    const renamed = await bob.waitFor({ name: "presence", from: `${room}/alice`, type: "unavailable" });
    expect(statusCodes(renamed)).toContain(303);
    await bob.waitFor({ name: "presence", from: `${room}/allowed`, type: "" });
    expect(rig.auth.requests.at(-1)).toMatchObject({ nickname: "allowed" });
  });
});

describe("identical questions at once", () => {
  test("two sessions of one account, one room, one nick: ONE request, both admitted, one occupant", async () => {
    const [bob, desk, phone] = await Promise.all([rig.client("bob"), rig.client("dave", "desk"), rig.client("dave", "phone")]);
    const room = `coalesce@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`);
    hangFor("dave");
    await desk.send(joinPresence(`${room}/dave`));
    await phone.send(joinPresence(`${room}/dave`));
    await Promise.all([pingService(desk, ROOMS), pingService(phone, ROOMS)]);
    await rig.auth.waitForRequests(2);
    expect(rig.auth.requests.map((r) => r.userJID)).toEqual(["bob@localhost", "dave@localhost"]);

    expect(rig.auth.release(allow())).toBe(1);
    await Promise.all([expectJoined(desk, `${room}/dave`), expectJoined(phone, `${room}/dave`)]);
    await bob.waitFor({ name: "presence", from: `${room}/dave`, type: "" });
    await bob.expectNothing({ name: "presence", from: `${room}/dave` }, 300);
    expect(rig.auth.requests).toHaveLength(2);

    // Both sessions share the nick: each gets what the room says.
    await bob.send(groupchat(room, "hi dave"));
    await Promise.all([desk, phone].map((c) => c.waitFor((s) => s.name === "message" && s.getChildText("body") === "hi dave")));
  });

  test("denied for one, denied for both: ONE request, not-authorized to each session", async () => {
    const [desk, phone] = await Promise.all([rig.client("erin", "desk"), rig.client("erin", "phone")]);
    const room = `coalesce-no@${ROOMS}`;
    hangFor("erin");
    await desk.send(joinPresence(`${room}/erin`));
    await phone.send(joinPresence(`${room}/erin`));
    await Promise.all([pingService(desk, ROOMS), pingService(phone, ROOMS)]);
    await rig.auth.waitForRequests(1);
    expect(rig.auth.release(deny("neither"))).toBe(1);
    const errors = await Promise.all([desk, phone].map((c) => expectJoinError(c, `${room}/erin`)));
    for (const e of errors) expect([e.type, e.condition]).toEqual(["auth", "not-authorized"]);
    expect(rig.auth.requests).toHaveLength(1);
  });
});

describe("muc_http_auth_max_concurrency = 2", () => {
  test("at most 2 requests in flight; the rest queue, in order, and complete after release", async () => {
    const users = ["u1", "u2", "u3", "u4", "u5"];
    const cs = await Promise.all(users.map((u) => rig.client(u)));
    rig.auth.setBehaviour(hang());
    // One after another, so mucgate takes them in this order.
    for (const [i, c] of cs.entries()) {
      await c.send(joinPresence(`bounded-${i}@${ROOMS}/${users[i]}`));
      await pingService(c, ROOMS);
    }
    await rig.auth.waitForRequests(2);
    const m = await scrape(rig.mucgate.httpUrl);
    expect(m.get("mucgate_auth_requests_in_flight")).toBe(2);
    expect(m.get("mucgate_auth_requests_queued")).toBe(3);
    expect(rig.auth.requests.map((r) => r.userJID)).toEqual(["u1@localhost", "u2@localhost"]);
    expect(rig.auth.maxInFlight).toBe(2);

    // Answer the two in flight: the three queued follow, in the order they came.
    rig.auth.setBehaviour(allow());
    rig.auth.release(allow());
    await Promise.all(cs.map((c, i) => expectJoined(c, `bounded-${i}@${ROOMS}/${users[i]}`, 5000)));
    expect(rig.auth.requests.map((r) => r.userJID)).toEqual(users.map((u) => `${u}@localhost`));
    expect(rig.auth.maxInFlight).toBe(2);
    const after = await scrape(rig.mucgate.httpUrl);
    expect(after.get("mucgate_auth_requests_in_flight")).toBe(0);
    expect(after.get("mucgate_auth_requests_queued")).toBe(0);
  });

  test("queued joins wait for a slot, not for the timeout of the hanging ones: released one by one", async () => {
    const users = ["u1", "u2", "u3"];
    const cs = await Promise.all(users.map((u) => rig.client(u)));
    rig.auth.setBehaviour(hang());
    for (const [i, c] of cs.entries()) {
      await c.send(joinPresence(`slot-${i}@${ROOMS}/${users[i]}`));
      await pingService(c, ROOMS);
    }
    await rig.auth.waitForRequests(2);
    await cs[2]!.expectNothing(fromRoom(`slot-2@${ROOMS}`), 200);
    expect(rig.auth.requests).toHaveLength(2);
    // Free both slots; the third request then arrives, hangs too, and is released in turn.
    rig.auth.release(allow());
    await rig.auth.waitForRequests(3);
    expect(rig.auth.requests[2]!.userJID).toBe("u3@localhost");
    rig.auth.release(allow());
    await Promise.all(cs.map((c, i) => expectJoined(c, `slot-${i}@${ROOMS}/${users[i]}`)));
  });
});

describe("XEP-0045 §7.10 registration", () => {
  function register(room: string, nick: string): Element {
    return xml(
      "iq",
      { type: "set", to: room },
      xml(
        "query",
        { xmlns: "jabber:iq:register" },
        xml(
          "x",
          { xmlns: "jabber:x:data", type: "submit" },
          xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#register")),
          xml("field", { var: "muc#register_roomnick" }, xml("value", {}, nick)),
        ),
      ),
    );
  }

  test("with muc_http_auth_authorize_registration = true: a denied registration gets not-authorized", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `reg@${ROOMS}`;
    await joinRoom(bob, `${room}/bob`); // registration needs an existing room
    rig.auth.setBehaviour((r) => (r.userJID === "alice@localhost" ? deny("no registration for you") : allow()));
    const answer = await alice.iq(register(room, "Alice"));
    expect(answer.attrs.type).toBe("error");
    expect(stanzaError(answer)).toMatchObject({ type: "auth", condition: "not-authorized" });
    expect(answer.toString()).not.toContain("no registration for you");
    expect(rig.auth.requests.at(-1)).toMatchObject({ userJID: "alice@localhost", mucJID: room, nickname: "Alice" });

    // Allowed, it registers.
    const carol = await rig.client("carol");
    const ok = await carol.iq(register(room, "Carol"));
    expect(ok.attrs.type).toBe("result");
    expect(rig.auth.requests.at(-1)).toMatchObject({ userJID: "carol@localhost", mucJID: room, nickname: "Carol" });
  });

  test("without the option, registration is not gated: no request, registered", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `reg@${OPEN_REG}`;
    await joinRoom(bob, `${room}/bob`);
    rig.auth.setBehaviour(deny("would deny"));
    const before = rig.auth.requests.length;
    const answer = await alice.iq(register(room, "Alice"));
    expect(answer.attrs.type).toBe("result");
    expect(rig.auth.requests.length).toBe(before);
  });
});

test("metrics: decisions by source and outcome, requests by outcome, latency histogram, joins by outcome", async () => {
  const room = `metrics@${ROOMS}`;
  const before = await scrape(rig.mucgate.httpUrl);
  const [u1, u2desk, u2phone, u3, u4, u5, u6] = await Promise.all([
    rig.client("u1"),
    rig.client("u2", "desk"),
    rig.client("u2", "phone"),
    rig.client("u3"),
    rig.client("u4"),
    rig.client("u5"),
    rig.client("u6"),
  ]);
  rig.auth.setBehaviour((r) => {
    switch (r.userJID) {
      case "u2@localhost":
      case "u5@localhost":
        return hang();
      case "u3@localhost":
        return deny("u3 is out");
      case "u4@localhost":
        return status(500, { allowed: true });
      default:
        return allow();
    }
  });

  // fetch/allow, then cache/allow on a rejoin.
  await joinRoom(u1, `${room}/one`);
  await u1.send(leavePresence(`${room}/one`));
  await u1.waitFor({ name: "presence", type: "unavailable" });
  await joinRoom(u1, `${room}/one`);
  // fetch/allow + coalesced/allow: two sessions at once.
  await u2desk.send(joinPresence(`${room}/two`));
  await u2phone.send(joinPresence(`${room}/two`));
  await Promise.all([pingService(u2desk, ROOMS), pingService(u2phone, ROOMS)]);
  await rig.auth.waitForRequests(2);
  rig.auth.release(allow());
  await Promise.all([expectJoined(u2desk, `${room}/two`), expectJoined(u2phone, `${room}/two`)]);
  // fetch/deny, then cache/deny.
  for (let i = 0; i < 2; i++) {
    await u3.send(joinPresence(`${room}/three`));
    await expectJoinError(u3, `${room}/three`);
  }
  // fetch/failure.
  await u4.send(joinPresence(`${room}/four`));
  await expectJoinError(u4, `${room}/four`);
  // A cancelled join (its answer still counts as a fetched decision).
  await u5.send(joinPresence(`${room}/five`));
  await u5.send(leavePresence(`${room}/five`));
  await u5.waitFor({ name: "presence", type: "unavailable" });
  await rig.auth.waitForRequests(5);
  rig.auth.release(allow());
  await pingService(u5, ROOMS);
  // fetch/allow, then a nick conflict.
  await u6.send(joinPresence(`${room}/one`));
  await expectJoinError(u6, `${room}/one`);

  const after = await scrape(rig.mucgate.httpUrl);
  const delta = (name: string, labels?: Record<string, string>) => after.get(name, labels) - before.get(name, labels);
  const decisions = (source: string, outcome: string) => delta("mucgate_auth_decisions_total", { source, outcome });

  expect({
    fetchAllow: decisions("fetch", "allow"),
    fetchDeny: decisions("fetch", "deny"),
    fetchFailure: decisions("fetch", "failure"),
    cacheAllow: decisions("cache", "allow"),
    cacheDeny: decisions("cache", "deny"),
    cacheFailure: decisions("cache", "failure"),
    coalescedAllow: decisions("coalesced", "allow"),
    coalescedDeny: decisions("coalesced", "deny"),
  }).toEqual({ fetchAllow: 4, fetchDeny: 1, fetchFailure: 1, cacheAllow: 1, cacheDeny: 1, cacheFailure: 0, coalescedAllow: 1, coalescedDeny: 0 });

  expect({
    allow: delta("mucgate_auth_requests_total", { outcome: "allow" }),
    deny: delta("mucgate_auth_requests_total", { outcome: "deny" }),
    failure: delta("mucgate_auth_requests_total", { outcome: "failure" }),
  }).toEqual({ allow: 4, deny: 1, failure: 1 });

  expect({
    hit: delta("mucgate_auth_cache_total", { event: "hit" }),
    miss: delta("mucgate_auth_cache_total", { event: "miss" }),
    coalesced: delta("mucgate_auth_cache_total", { event: "coalesced" }),
  }).toEqual({ hit: 2, miss: 6, coalesced: 1 });

  expect(delta("mucgate_auth_request_duration_seconds_count")).toBe(6);
  expect(delta("mucgate_auth_request_duration_seconds_bucket", { le: "+Inf" })).toBe(6);
  expect(delta("mucgate_auth_request_duration_seconds_sum")).toBeGreaterThan(0);
  // Buckets are cumulative: never fewer in a wider one.
  const buckets = [...after.text.matchAll(/^mucgate_auth_request_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => Number(m[2]));
  expect(buckets.length).toBeGreaterThan(5);
  expect(buckets).toEqual([...buckets].sort((a, b) => a - b));

  expect({
    allowed: delta("mucgate_joins_total", { outcome: "allowed" }),
    denied: delta("mucgate_joins_total", { outcome: "denied" }),
    cancelled: delta("mucgate_joins_total", { outcome: "cancelled" }),
    conflict: delta("mucgate_joins_total", { outcome: "conflict" }),
  }).toEqual({ allowed: 4, denied: 3, cancelled: 1, conflict: 1 });

  expect(after.get("mucgate_auth_requests_in_flight")).toBe(0);
  expect(after.get("mucgate_auth_requests_queued")).toBe(0);
  expect(after.has("mucgate_rooms")).toBe(true);
  expect(after.has("mucgate_occupants")).toBe(true);
  expect(after.text).toContain("# TYPE mucgate_auth_request_duration_seconds histogram");
});
