/**
 * Bad input through a real Prosody: unknown stanza types, missing and invalid
 * addresses, nicks that are too long or carry forbidden characters, IQs mucgate
 * does not serve. Each gets the XMPP error RFC 6120 §8.3 / XEP-0045 name —
 * whether Prosody refuses it before it reaches mucgate or mucgate does — and
 * the service keeps serving everyone else.
 *
 * Prosody vets what its clients send (IQ types, ids and child counts, presence
 * types, address syntax). To put the same stanzas in front of mucgate itself,
 * a bare component on a second slot sends them: Prosody routes component to
 * component traffic without those checks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { groupchat, joinPresence, NS_MUC_USER, statusCodes, xml, type Element, type TestClient } from "./harness/client.ts";
import { useRig } from "./harness/rig.ts";
import {
  connectProbe,
  errorOf,
  fromRoom,
  groupchatFrom,
  join,
  NS_DISCO_INFO,
  NS_MUC_ADMIN,
  presenceFrom,
  type Probe,
} from "./muc-fixture.ts";

const rig = useRig({ prosody: { components: [{ domain: "rooms.localhost" }, { domain: "probe.localhost" }] } });
let probe: Probe;
beforeAll(async () => {
  probe = await connectProbe(rig.prosody.slot("probe.localhost"));
});
afterAll(async () => {
  await probe?.stop();
});

const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** The error answer to `stanza` (sent now) with this id. */
async function refusal(client: TestClient, stanza: Element): Promise<Element> {
  stanza.attrs.id ??= `bad-${Math.random().toString(36).slice(2)}`;
  await client.send(stanza);
  return client.waitFor({ name: stanza.name as "message" | "presence" | "iq", type: "error", id: stanza.attrs.id });
}

/** After bad input: someone else still joins and chats, the process runs, /health is 200. */
async function stillServing(): Promise<void> {
  const room = rig.room("afterwards");
  const carol = await rig.client("carol");
  const dave = await rig.client("dave");
  await join(carol, room, "Carol");
  await join(dave, room, "Dave");
  await dave.send(groupchat(room, "all good"));
  await carol.waitFor(groupchatFrom(`${room}/Dave`, "all good"));
  expect(rig.mucgate.exitCode).toBeNull();
  const health = await rig.mucgate.health();
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: "ok", xmpp: "online", storage: "ok" });
  expect(rig.mucgate.output()).not.toMatch(/"bug: |uncaught exception|unhandled rejection/);
}

describe("from clients, through Prosody", () => {
  test("presence of an unknown type gets bad-request; the occupant stays", async () => {
    const room = rig.room("bogus-presence");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await join(bob, room, "Bob");
    const error = await refusal(bob, xml("presence", { to: `${room}/Bob`, type: "bogus" }));
    expect(fromRoom(room)(error)).toBe(true);
    expect(errorOf(error)).toEqual({ type: "modify", condition: "bad-request" });
    await alice.expectNothing(presenceFrom(`${room}/Bob`, "unavailable"), 200);
    await bob.send(groupchat(room, "still in"));
    await alice.waitFor(groupchatFrom(`${room}/Bob`, "still in"));
  });

  test("a message of an unknown type to the room gets bad-request and reaches nobody", async () => {
    const room = rig.room("bogus-message");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await join(bob, room, "Bob");
    const error = await refusal(bob, xml("message", { to: room, type: "bogus" }, xml("body", {}, "??")));
    expect(error.attrs.from).toBe(room);
    expect(errorOf(error)).toEqual({ type: "modify", condition: "bad-request" });
    await alice.expectNothing((s) => s.name === "message" && fromRoom(room)(s), 200);
  });

  test("an IQ of an unknown type, with two children, or without an id gets bad-request", async () => {
    const room = rig.room("bogus-iq");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    const unknownType = await refusal(alice, xml("iq", { to: room, type: "bogus" }, xml("query", { xmlns: NS_DISCO_INFO })));
    expect(errorOf(unknownType)).toEqual({ type: "modify", condition: "bad-request" });
    const twoChildren = await refusal(
      alice,
      xml("iq", { to: room, type: "get" }, xml("query", { xmlns: NS_DISCO_INFO }), xml("ping", { xmlns: "urn:xmpp:ping" })),
    );
    expect(errorOf(twoChildren)).toEqual({ type: "modify", condition: "bad-request" });
    // No id to match the answer by: the next IQ error without one.
    await alice.send(xml("iq", { to: room, type: "get" }, xml("query", { xmlns: NS_DISCO_INFO })));
    const noId = await alice.waitFor((s) => s.name === "iq" && s.attrs.type === "error" && s.attrs.id === undefined);
    expect(fromRoom(room)(noId)).toBe(true);
    expect(errorOf(noId)).toEqual({ type: "modify", condition: "bad-request" });
  });

  test("presence to the room without a nick, or to the service, is jid-malformed (§7.2.1)", async () => {
    const room = rig.room("no-nick");
    const alice = await rig.client("alice");
    const noNick = await refusal(alice, joinPresence(room));
    expect(noNick.attrs.from).toBe(room);
    expect(errorOf(noNick)).toEqual({ type: "modify", condition: "jid-malformed" });
    const service = await refusal(alice, joinPresence(rig.service));
    expect(errorOf(service)).toEqual({ type: "modify", condition: "jid-malformed" });
    // No room came of it.
    const info = await alice.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_DISCO_INFO })));
    expect(errorOf(info).condition).toBe("item-not-found");
  });

  test("invalid destination addresses are jid-malformed", async () => {
    const alice = await rig.client("alice");
    for (const to of [
      `room one@${rig.service}/Alice`, // space in a localpart
      `a"b@${rig.service}/Alice`, // quote in a localpart
      `${"r".repeat(1024)}@${rig.service}/Alice`, // localpart over 1023 bytes
      `${rig.room("empty-nick")}/`, // empty resourcepart
    ]) {
      const error = await refusal(alice, joinPresence(to));
      expect({ to, ...errorOf(error) }).toEqual({ to, type: "modify", condition: "jid-malformed" });
    }
  });

  test("an invitation without a valid invitee address is jid-malformed; nobody is invited", async () => {
    const room = rig.room("invite");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    for (const invite of [xml("invite", {}), xml("invite", { to: "not a jid@localhost" })]) {
      const error = await refusal(alice, xml("message", { to: room }, xml("x", { xmlns: NS_MUC_USER }, invite)));
      expect(error.attrs.from).toBe(room);
      expect(errorOf(error)).toEqual({ type: "modify", condition: "jid-malformed" });
    }
  });

  test("nicks: 1023 bytes join, 1024+ bytes are jid-malformed", async () => {
    const room = rig.room("long-nick");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    // 341 × "€" (3 bytes each) = 1023 bytes: the largest nick RFC 7622 allows.
    const longest = "€".repeat(341);
    const { self } = await join(bob, room, longest);
    expect(self.attrs.from).toBe(`${room}/${longest}`);
    expect(statusCodes(self)).toEqual([110]);
    await bob.send(groupchat(room, "long name, short message"));
    await alice.waitFor(groupchatFrom(`${room}/${longest}`, "long name, short message"));

    const carol = await rig.client("carol");
    for (const nick of ["€".repeat(342), "x".repeat(1024), "x".repeat(5000)]) {
      const error = await refusal(carol, joinPresence(`${room}/${nick}`));
      expect(errorOf(error)).toEqual({ type: "modify", condition: "jid-malformed" });
    }
    await alice.expectNothing((s) => s.name === "presence" && s.attrs.from !== `${room}/Alice` && !s.attrs.from?.endsWith(longest), 200);
  });

  test("nicks with forbidden characters or nothing but spaces are jid-malformed; nobody sees them", async () => {
    const room = rig.room("bad-nick");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    for (const nick of [
      "evil\u202Eeman", // right-to-left override (bidi control)
      "\uE000private", // private use
      "ghost\u0378", // unassigned code point
      "evil\u2067eman", // right-to-left isolate (newer than Prosody's tables: mucgate refuses it)
      "line\u2028break", // line separator
      "   ", // empty once spaces are trimmed (RFC 8266)
    ]) {
      const error = await refusal(bob, joinPresence(`${room}/${nick}`));
      expect({ nick, ...errorOf(error) }).toEqual({ nick, type: "modify", condition: "jid-malformed" });
    }
    await alice.expectNothing((s) => s.name === "presence" && s.attrs.from !== `${room}/Alice`, 200);
    // Bob can still join under a proper nick.
    await join(bob, room, "Bob");
  });

  test("unusual but valid nicks (XML specials, a slash, non-Latin, emoji) work end to end", async () => {
    const room = rig.room("odd-nicks");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    for (const [user, nick] of [
      ["bob", `O'Brien <&> "quoted"`],
      ["carol", "a/b/c"],
      ["dave", "Zoë 日本 🎉"],
    ] as const) {
      const c = await rig.client(user);
      const { self } = await join(c, room, nick);
      expect(self.attrs.from).toBe(`${room}/${nick}`);
      expect(statusCodes(self)).toEqual([110]);
      await c.send(groupchat(room, `I am ${nick}`));
      await alice.waitFor(groupchatFrom(`${room}/${nick}`, `I am ${nick}`));
    }
  });

  test("IQs mucgate does not serve: unknown namespace service-unavailable; muc#admin lists nobody has: bad-request", async () => {
    const room = rig.room("unknown-iq");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    for (const to of [room, rig.service]) {
      const answer = await alice.iq(xml("iq", { type: "get", to }, xml("query", { xmlns: "urn:example:unknown" })));
      expect(answer.attrs.from).toBe(to);
      expect(errorOf(answer)).toEqual({ type: "cancel", condition: "service-unavailable" });
    }
    // There is no list of unaffiliated users, nor an item that is neither role nor affiliation.
    for (const item of [xml("item", { affiliation: "none" }), xml("item", {})]) {
      const admin = await alice.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_ADMIN }, item)));
      expect(admin.attrs.from).toBe(room);
      expect(errorOf(admin)).toEqual({ type: "modify", condition: "bad-request" });
    }
  });

  test("messages to the service itself or to a room that does not exist are refused", async () => {
    const alice = await rig.client("alice");
    const toService = await refusal(alice, xml("message", { to: rig.service, type: "chat" }, xml("body", {}, "hi service")));
    expect(errorOf(toService)).toEqual({ type: "cancel", condition: "service-unavailable" });
    const room = rig.room("ghost");
    const toGhost = await refusal(alice, groupchat(room, "anyone?"));
    expect(toGhost.attrs.from).toBe(room);
    expect(errorOf(toGhost)).toEqual({ type: "cancel", condition: "not-acceptable" });
  });

  test("errors are never answered with errors (RFC 6120 §8.3.1)", async () => {
    const room = rig.room("error-to-error");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    const err = () => xml("error", { type: "cancel" }, xml("bad-request", { xmlns: STANZAS }));
    await alice.send(xml("message", { to: rig.room("nowhere"), type: "error", id: "e1" }, err()));
    await alice.send(xml("iq", { to: rig.room("nowhere"), type: "error", id: "e2" }, err()));
    await alice.send(xml("message", { to: `${room}/Nobody`, type: "error", id: "e3" }, err()));
    await alice.expectNothing((s) => ["e1", "e2", "e3"].includes(s.attrs.id ?? ""), 300);
  });

  test("after all of that the service still serves everyone", async () => {
    await stillServing();
  });
});

describe("straight to mucgate, from another component", () => {
  const from = () => `tester@${probe.domain}/probe`;

  test("presence of an unknown type: bad-request from mucgate", async () => {
    const room = rig.room("probe-presence");
    await probe.send(xml("presence", { from: from(), to: `${room}/P`, type: "bogus", id: "p1" }));
    const error = await probe.waitFor((s) => s.name === "presence" && s.attrs.id === "p1");
    expect(error.attrs).toMatchObject({ type: "error", from: `${room}/P`, to: from() });
    expect(errorOf(error)).toEqual({ type: "modify", condition: "bad-request" });
  });

  test("IQ set with two children, IQ of an unknown type, IQ without id: bad-request from mucgate", async () => {
    const room = rig.room("probe-iq");
    await probe.send(xml("presence", { from: from(), to: `${room}/P` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })));
    await probe.waitFor((s) => s.name === "message" && s.getChild("subject") !== undefined);
    await probe.send(
      xml(
        "iq",
        { from: from(), to: room, type: "set", id: "two" },
        xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, xml("x", { xmlns: "jabber:x:data", type: "submit" })),
        xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, xml("x", { xmlns: "jabber:x:data", type: "submit" })),
      ),
    );
    const two = await probe.waitFor((s) => s.name === "iq" && s.attrs.id === "two");
    expect(errorOf(two)).toEqual({ type: "modify", condition: "bad-request" });
    expect(two.getChild("error")?.attrs.by).toBe(room); // mucgate's answer, not Prosody's
    await probe.send(xml("iq", { from: from(), to: room, type: "bogus", id: "bogus" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(errorOf(await probe.waitFor((s) => s.name === "iq" && s.attrs.id === "bogus"))).toEqual({ type: "modify", condition: "bad-request" });
    await probe.send(xml("iq", { from: from(), to: room, type: "get" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    const noId = await probe.waitFor((s) => s.name === "iq" && s.attrs.type === "error" && s.attrs.id === undefined);
    expect(errorOf(noId)).toEqual({ type: "modify", condition: "bad-request" });
    await probe.send(xml("presence", { from: from(), to: `${room}/P`, type: "unavailable" }));
    await probe.waitFor((s) => s.name === "presence" && s.attrs.type === "unavailable");
  });

  test("nicks Prosody passes on but mucgate refuses: jid-malformed from mucgate", async () => {
    // Prosody's resourceprep (Unicode 3.2 tables) already refuses nicks over 1023 bytes and the
    // bidi controls and private use it knows; U+2067 (an isolate, Unicode 6.3) is new to it.
    const room = rig.room("probe-nick");
    for (const [i, nick] of ["   ", "ghost\u0378", "evil\u2067eman"].entries()) {
      const id = `n${i}`;
      await probe.send(xml("presence", { from: from(), to: `${room}/${nick}`, id }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })));
      const error = await probe.waitFor((s) => s.name === "presence" && s.attrs.id === id);
      expect({ nick, ...errorOf(error) }).toEqual({ nick, type: "modify", condition: "jid-malformed" });
      expect(error.getChild("error")?.attrs.by).toBe(`${room}/${nick}`);
    }
  });

  test("an unknown stanza name is ignored, and the service keeps serving", async () => {
    await probe.send(xml("foo", { from: from(), to: rig.service }));
    await stillServing();
  });
});
