/**
 * XEP-0045 occupant use cases through a real Prosody: leaving (§7.14), nick
 * changes and conflicts (§7.6, §7.2.9), groupchat (§7.4), private messages
 * and IQs between occupants (§7.5), subject (§8.1), several sessions under
 * one nick, refusals for non-occupants, occupants removed by their server
 * (a dropped connection, a presence error: 333), temporary rooms destroyed
 * when empty, and the muc#admin kick (§8.2).
 */
import { describe, expect, test } from "bun:test";
import {
  groupchat,
  joinPresence,
  leavePresence,
  NS_MUC_USER,
  privateMessage,
  statusCodes,
  xml,
  type Element,
  type TestClient,
} from "./harness/client.ts";
import { useRig } from "./harness/rig.ts";
import {
  errorOf,
  fromRoom,
  groupchatFrom,
  isSubject,
  join,
  mucItem,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_MUC_ADMIN,
  occupantId,
  presenceFrom,
  aliceAndBob,
} from "./muc-fixture.ts";

const rig = useRig();


/** Alice, and Bob with two sessions (desk, phone) under one nick, in a fresh room. */
async function aliceAndTwoBobs(label: string): Promise<{ room: string; alice: TestClient; desk: TestClient; phone: TestClient }> {
  const room = rig.room(label);
  const alice = await rig.client("alice");
  const desk = await rig.client("bob", "desk");
  const phone = await rig.client("bob", "phone");
  await join(alice, room, "Alice");
  await join(desk, room, "Bob");
  await join(phone, room, "Bob");
  return { room, alice, desk, phone };
}

describe("leaving (§7.14)", () => {
  test("unavailable with 110 to the leaver, without 110 and with the status text to the others; then silence", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "leave");
    await bob.send(leavePresence(`${room}/Bob`, "gone fishing"));

    const own = await bob.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(own)).toEqual([110]);
    expect(mucItem(own)).toMatchObject({ role: "none", affiliation: "none" });
    expect(own.attrs.to).toBe(bob.jid);

    const seen = await alice.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(seen)).toEqual([]);
    expect(mucItem(seen)).toMatchObject({ role: "none", jid: bob.jid });
    expect(seen.getChildText("status")).toBe("gone fishing");
    expect(occupantId(seen)).toBe(occupantId(own)!);

    await alice.send(groupchat(room, "still here?"));
    await alice.waitFor(groupchatFrom(`${room}/Alice`, "still here?"));
    await bob.expectNothing(fromRoom(room), 300);
  });
});

describe("nickname change (§7.6)", () => {
  test("303 with the new nick on the old one's unavailable, then presence under the new nick; 110 for the changer", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "nick-change");
    const idBefore = occupantId(bob.stanzas.find((s) => s.attrs.from === `${room}/Bob` && s.name === "presence")!);
    await bob.send(joinPresence(`${room}/Robert`));

    const ownOld = await bob.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(ownOld).sort()).toEqual([110, 303]);
    expect(mucItem(ownOld).nick).toBe("Robert");
    const ownNew = await bob.waitFor(presenceFrom(`${room}/Robert`));
    expect(statusCodes(ownNew)).toEqual([110]);
    expect(mucItem(ownNew)).toMatchObject({ role: "participant", jid: bob.jid });

    const old = await alice.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(old)).toEqual([303]);
    expect(mucItem(old)).toMatchObject({ nick: "Robert", role: "participant" });
    const renamed = await alice.waitFor(presenceFrom(`${room}/Robert`));
    expect(statusCodes(renamed)).toEqual([]);
    // The same occupant: the occupant id does not change with the nick (XEP-0421 §3).
    expect(occupantId(old)).toBe(idBefore!);
    expect(occupantId(renamed)).toBe(idBefore!);

    // A nick change does not look like a join: no history, no subject again.
    await bob.expectNothing(isSubject(room), 300);
    await bob.send(groupchat(room, "call me Robert"));
    await alice.waitFor(groupchatFrom(`${room}/Robert`, "call me Robert"));
  });

  test("a new nick the service normalises: 303 names the normalised nick, the new presence carries 210", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "nick-change-210");
    await bob.send(joinPresence(`${room}/ Robert  the  Bob `));
    const ownOld = await bob.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(mucItem(ownOld).nick).toBe("Robert the Bob");
    const ownNew = await bob.waitFor(presenceFrom(`${room}/Robert the Bob`));
    expect(statusCodes(ownNew).sort()).toEqual([110, 210]);
    await alice.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(await alice.waitFor(presenceFrom(`${room}/Robert the Bob`)))).toEqual([]);
  });

  test("every session of a nick follows its change", async () => {
    const { room, alice, desk, phone } = await aliceAndTwoBobs("nick-change-multi");
    await desk.send(joinPresence(`${room}/Robert`));
    for (const c of [desk, phone]) {
      expect(statusCodes(await c.waitFor(presenceFrom(`${room}/Bob`, "unavailable"))).sort()).toEqual([110, 303]);
      expect(statusCodes(await c.waitFor(presenceFrom(`${room}/Robert`)))).toEqual([110]);
    }
    await alice.send(groupchat(room, "hi Robert"));
    for (const c of [desk, phone]) await c.waitFor(groupchatFrom(`${room}/Alice`, "hi Robert"));
  });

  test("joining with a nick another user holds gets 409 conflict; the holder sees nothing", async () => {
    const { room, alice } = await aliceAndBob(rig, "conflict");
    const carol = await rig.client("carol");
    await carol.send(joinPresence(`${room}/Alice`));
    const error = await carol.waitFor({ name: "presence", type: "error" });
    expect(error.attrs.from).toBe(`${room}/Alice`);
    expect(errorOf(error)).toEqual({ type: "cancel", condition: "conflict" });
    // XEP-0045 §7.2.9 example: the error keeps the <x xmlns='…muc'/>.
    expect(error.getChild("x", "http://jabber.org/protocol/muc")).toBeDefined();
    await alice.expectNothing((s) => s.name === "presence" && (s.attrs.from ?? "").startsWith(`${room}/`), 300);
    // Carol is not in: she gets nothing from the room.
    await carol.expectNothing((s) => fromRoom(room)(s) && s.attrs.type !== "error", 100);
  });

  test("changing to a nick another user holds gets conflict; the old nick stays", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "conflict-change");
    await bob.send(joinPresence(`${room}/Alice`));
    const error = await bob.waitFor({ name: "presence", type: "error" });
    expect(error.attrs.from).toBe(`${room}/Alice`);
    expect(errorOf(error)).toEqual({ type: "cancel", condition: "conflict" });
    await bob.send(groupchat(room, "still Bob"));
    await alice.waitFor(groupchatFrom(`${room}/Bob`, "still Bob"));
    await alice.expectNothing(presenceFrom(`${room}/Bob`, "unavailable"), 100);
  });
});

describe("messages (§7.4, §7.5)", () => {
  test("groupchat goes to every occupant, the sender too, from the sender's occupant JID with its id and occupant id", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "groupchat");
    const carol = await rig.client("carol");
    await join(carol, room, "Carol");
    await bob.send(groupchat(room, "hello all", "msg-1"));
    const got: Element[] = [];
    for (const c of [alice, bob, carol]) {
      const m = await c.waitFor(groupchatFrom(`${room}/Bob`, "hello all"));
      expect(m.attrs).toMatchObject({ id: "msg-1", to: c.jid, type: "groupchat" });
      got.push(m);
    }
    expect(new Set(got.map(occupantId)).size).toBe(1);
    expect(occupantId(got[0]!)).toBeString();
    // Exactly once each.
    for (const c of [alice, bob, carol]) await c.expectNothing(groupchatFrom(`${room}/Bob`, "hello all"), 100);
  });

  test("a private message reaches only its recipient, from the sender's occupant JID, marked muc#user", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "pm");
    const carol = await rig.client("carol");
    await join(carol, room, "Carol");
    await alice.send(privateMessage(`${room}/Bob`, "psst", "pm-1"));
    const pm = await bob.waitFor((s) => s.name === "message" && s.attrs.id === "pm-1");
    expect(pm.attrs).toMatchObject({ from: `${room}/Alice`, to: bob.jid, type: "chat" });
    expect(pm.getChildText("body")).toBe("psst");
    expect(pm.getChild("x", NS_MUC_USER)).toBeDefined();
    expect(occupantId(pm)).toBeString();
    // Bob answers the same way; Carol hears nothing of it.
    await bob.send(privateMessage(`${room}/Alice`, "what?", "pm-2"));
    expect((await alice.waitFor((s) => s.name === "message" && s.attrs.id === "pm-2")).attrs.from).toBe(`${room}/Bob`);
    await carol.expectNothing((s) => s.name === "message" && (s.attrs.id === "pm-1" || s.attrs.id === "pm-2"), 200);

    await alice.send(privateMessage(`${room}/Nobody`, "hello?", "pm-3"));
    const error = await alice.waitFor({ name: "message", type: "error", id: "pm-3" });
    expect(error.attrs.from).toBe(`${room}/Nobody`);
    expect(errorOf(error)).toEqual({ type: "cancel", condition: "item-not-found" });

    // §7.5: a private message of type groupchat is refused with bad-request.
    await alice.send(xml("message", { to: `${room}/Bob`, type: "groupchat", id: "pm-4" }, xml("body", {}, "not like this")));
    const wrongType = await alice.waitFor({ name: "message", type: "error", id: "pm-4" });
    expect(errorOf(wrongType)).toEqual({ type: "modify", condition: "bad-request" });
    await bob.expectNothing((s) => s.name === "message" && s.attrs.id === "pm-4", 200);
  });

  test("an IQ to an occupant JID reaches that occupant from the asker's occupant JID; the answer comes back under the original id", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "iq");
    const asked = alice.iq(xml("iq", { type: "get", to: `${room}/Bob`, id: "ver-1" }, xml("query", { xmlns: "jabber:iq:version" })));
    const request = await bob.waitFor((s) => s.name === "iq" && s.attrs.type === "get");
    expect(request.attrs.from).toBe(`${room}/Alice`); // not Alice's real JID
    expect(request.getChild("query", "jabber:iq:version")).toBeDefined();
    await bob.send(
      xml(
        "iq",
        { type: "result", to: request.attrs.from!, id: request.attrs.id! },
        xml("query", { xmlns: "jabber:iq:version" }, xml("name", {}, "bobclient"), xml("version", {}, "1.0")),
      ),
    );
    const answer = await asked;
    expect(answer.attrs).toMatchObject({ type: "result", from: `${room}/Bob`, to: alice.jid, id: "ver-1" });
    expect(answer.getChild("query", "jabber:iq:version")?.getChildText("name")).toBe("bobclient");

    // An error answer travels back the same way.
    const asked2 = alice.iq(xml("iq", { type: "get", to: `${room}/Bob`, id: "vcard-1" }, xml("vCard", { xmlns: "vcard-temp" })));
    const request2 = await bob.waitFor((s) => s.name === "iq" && s.attrs.type === "get");
    await bob.send(
      xml(
        "iq",
        { type: "error", to: request2.attrs.from!, id: request2.attrs.id! },
        xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })),
      ),
    );
    const answer2 = await asked2;
    expect(answer2.attrs).toMatchObject({ from: `${room}/Bob`, id: "vcard-1" });
    expect(errorOf(answer2)).toEqual({ type: "cancel", condition: "service-unavailable" });
  });
});

describe("subject (§8.1)", () => {
  test("a moderator changes the subject for everyone; a participant is refused with forbidden", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "subject");
    await alice.send(xml("message", { to: room, type: "groupchat", id: "s1" }, xml("subject", {}, "Release day")));
    for (const c of [alice, bob]) {
      const m = await c.waitFor(isSubject(room));
      expect(m.attrs.from).toBe(`${room}/Alice`);
      expect(m.getChildText("subject")).toBe("Release day");
      expect(occupantId(m)).toBeString();
    }

    await bob.send(xml("message", { to: room, type: "groupchat", id: "s2" }, xml("subject", {}, "Party")));
    const error = await bob.waitFor({ name: "message", type: "error", id: "s2" });
    expect(error.attrs.from).toBe(room);
    expect(errorOf(error)).toEqual({ type: "auth", condition: "forbidden" });
    await alice.expectNothing(isSubject(room), 200);

    // The subject stays Alice's: a newcomer gets it last.
    const carol = await rig.client("carol");
    const { subject } = await join(carol, room, "Carol");
    expect(subject.getChildText("subject")).toBe("Release day");
  });
});

describe("several sessions under one nick", () => {
  test("a second resource joins the same nick silently, shares messages, and leaves without the room noticing", async () => {
    const room = rig.room("multi");
    const desk = await rig.client("alice", "desk");
    const phone = await rig.client("alice", "phone");
    const bob = await rig.client("bob");
    await join(desk, room, "Alice");
    await join(bob, room, "Bob");

    const second = await join(phone, room, "Alice");
    expect(statusCodes(second.self)).toEqual([110]); // the room exists: no 201
    expect(second.received.some(presenceFrom(`${room}/Bob`))).toBe(true);
    expect(mucItem(second.self).affiliation).toBe("owner");
    await bob.expectNothing(presenceFrom(`${room}/Alice`), 300);

    // Everything for the nick reaches both sessions.
    await bob.send(groupchat(room, "to everyone"));
    for (const c of [desk, phone]) await c.waitFor(groupchatFrom(`${room}/Bob`, "to everyone"));
    await bob.send(privateMessage(`${room}/Alice`, "to alice", "pm-multi"));
    for (const c of [desk, phone]) expect((await c.waitFor({ name: "message", id: "pm-multi" })).attrs.from).toBe(`${room}/Bob`);
    // Either session speaks as the nick.
    await phone.send(groupchat(room, "from my phone"));
    for (const c of [desk, phone, bob]) await c.waitFor(groupchatFrom(`${room}/Alice`, "from my phone"));

    // One session leaves: only it hears about it.
    await phone.send(leavePresence(`${room}/Alice`));
    const gone = await phone.waitFor(presenceFrom(`${room}/Alice`, "unavailable"));
    expect(statusCodes(gone)).toEqual([110]);
    await bob.expectNothing(presenceFrom(`${room}/Alice`, "unavailable"), 300);
    await desk.expectNothing(presenceFrom(`${room}/Alice`, "unavailable"), 0);
    await bob.send(groupchat(room, "after phone left"));
    await desk.waitFor(groupchatFrom(`${room}/Bob`, "after phone left"));
    await phone.expectNothing(groupchatFrom(`${room}/Bob`, "after phone left"), 200);

    // The last session leaves: now the room sees Alice go.
    await desk.send(leavePresence(`${room}/Alice`));
    expect(statusCodes(await bob.waitFor(presenceFrom(`${room}/Alice`, "unavailable")))).toEqual([]);
  });
});

describe("non-occupants", () => {
  test("groupchat and private messages from someone not in the room are refused with not-acceptable, and reach nobody", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "outsider");
    const carol = await rig.client("carol");
    await carol.send(groupchat(room, "let me in", "out-1"));
    const e1 = await carol.waitFor({ name: "message", type: "error", id: "out-1" });
    expect(e1.attrs.from).toBe(room);
    expect(errorOf(e1)).toEqual({ type: "cancel", condition: "not-acceptable" });

    await carol.send(privateMessage(`${room}/Alice`, "psst", "out-2"));
    const e2 = await carol.waitFor({ name: "message", type: "error", id: "out-2" });
    expect(e2.attrs.from).toBe(`${room}/Alice`);
    expect(errorOf(e2)).toEqual({ type: "cancel", condition: "not-acceptable" });

    for (const c of [alice, bob]) await c.expectNothing((s) => s.name === "message" && fromRoom(room)(s), 200);

    // Same after leaving: Bob is an outsider again.
    await bob.send(leavePresence(`${room}/Bob`));
    await bob.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    await bob.send(groupchat(room, "one more thing", "out-3"));
    expect(errorOf(await bob.waitFor({ name: "message", type: "error", id: "out-3" }))).toEqual({
      type: "cancel",
      condition: "not-acceptable",
    });
    await alice.expectNothing(groupchatFrom(`${room}/Bob`, "one more thing"), 200);
  });
});

describe("occupants removed by their server", () => {
  test("a client that loses its connection: Prosody sends unavailable, the room sees the occupant leave", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "drop");
    await bob.drop();
    const seen = await alice.waitFor(presenceFrom(`${room}/Bob`, "unavailable"), { timeout: 5000 });
    expect(mucItem(seen).role).toBe("none");
    // The room goes on without Bob.
    const carol = await rig.client("carol");
    const { received } = await join(carol, room, "Carol");
    expect(received.some(presenceFrom(`${room}/Bob`))).toBe(false);
    expect(received.some(presenceFrom(`${room}/Alice`))).toBe(true);
  });

  test("a presence error from a session removes it: the others see 333", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "presence-error");
    await bob.send(
      xml(
        "presence",
        { to: `${room}/Bob`, type: "error" },
        xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })),
      ),
    );
    const seen = await alice.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(seen)).toEqual([333]);
    expect(mucItem(seen).role).toBe("none");
    // Bob is out: his groupchat is refused.
    await bob.send(groupchat(room, "am I in?", "after-333"));
    expect(errorOf(await bob.waitFor({ name: "message", type: "error", id: "after-333" })).condition).toBe("not-acceptable");
  });

  test("a message bounce that means the session is gone removes it (333); other errors do not", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "message-bounce");
    const carol = await rig.client("carol");
    await join(carol, room, "Carol");
    const bounce = (condition: string) =>
      xml("message", { to: room, type: "error" }, xml("error", { type: "cancel" }, xml(condition, { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })));
    // A client refusing one message (policy) is still there.
    await carol.send(bounce("policy-violation"));
    await bob.send(bounce("recipient-unavailable"));
    const seen = await alice.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(seen)).toEqual([333]);
    await alice.expectNothing(presenceFrom(`${room}/Carol`, "unavailable"), 200);
    await carol.send(groupchat(room, "still here"));
    await alice.waitFor(groupchatFrom(`${room}/Carol`, "still here"));
  });

  test("a presence error from one of two sessions removes only that session", async () => {
    const { room, alice, desk, phone } = await aliceAndTwoBobs("presence-error-multi");
    await alice.waitFor(presenceFrom(`${room}/Bob`));
    await phone.send(
      xml("presence", { to: `${room}/Bob`, type: "error" }, xml("error", { type: "cancel" }, xml("gone", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }))),
    );
    await alice.expectNothing(presenceFrom(`${room}/Bob`, "unavailable"), 300);
    await alice.send(groupchat(room, "bob?"));
    await desk.waitFor(groupchatFrom(`${room}/Alice`, "bob?"));
    await phone.expectNothing(groupchatFrom(`${room}/Alice`, "bob?"), 200);
  });
});

describe("temporary rooms", () => {
  test("the last leave destroys the room: disco answers item-not-found, disco#items forgets it, a new join re-creates it (201)", async () => {
    const room = rig.room("ephemeral");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await alice.send(groupchat(room, "to be forgotten"));
    await alice.waitFor(groupchatFrom(`${room}/Alice`, "to be forgotten"));
    const listed = await bob.iq(xml("iq", { type: "get", to: rig.service }, xml("query", { xmlns: NS_DISCO_ITEMS })));
    expect(listed.getChild("query")!.getChildren("item").map((i) => i.attrs.jid)).toContain(room);

    await alice.send(leavePresence(`${room}/Alice`));
    await alice.waitFor(presenceFrom(`${room}/Alice`, "unavailable"));

    const info = await bob.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_DISCO_INFO })));
    expect(info.attrs.from).toBe(room);
    expect(errorOf(info)).toEqual({ type: "cancel", condition: "item-not-found" });
    const items = await bob.iq(xml("iq", { type: "get", to: rig.service }, xml("query", { xmlns: NS_DISCO_ITEMS })));
    expect(items.getChild("query")!.getChildren("item").map((i) => i.attrs.jid)).not.toContain(room);

    // A fresh room: Bob creates and owns it, and no history survived.
    const { self, received } = await join(bob, room, "Bob");
    expect(statusCodes(self).sort()).toEqual([110, 201]);
    expect(mucItem(self).affiliation).toBe("owner");
    expect(received.filter((s) => s.name === "message" && s.getChild("body"))).toEqual([]);
  });

  test("a room emptied by a dropped connection is destroyed too", async () => {
    const room = rig.room("ephemeral-drop");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await alice.drop();
    // Prosody's unavailable on Alice's behalf is asynchronous: ask until the room is gone.
    const deadline = performance.now() + 5000;
    let info: Element;
    do {
      info = await bob.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_DISCO_INFO })));
    } while (info.attrs.type === "result" && performance.now() < deadline && (await Bun.sleep(20), true));
    expect(errorOf(info)).toEqual({ type: "cancel", condition: "item-not-found" });
  });
});

describe("kick from XMPP (§8.2)", () => {
  function kickIq(room: string, nick: string, reason?: string): Element {
    return xml(
      "iq",
      { type: "set", to: room },
      xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { nick, role: "none" }, reason ? xml("reason", {}, reason) : null)),
    );
  }

  test("a moderator kicks: 307 + 110 with reason and actor to the kicked, result to the moderator, 307 with reason to the room", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "kick");
    const carol = await rig.client("carol");
    await join(carol, room, "Carol");
    await alice.waitFor(presenceFrom(`${room}/Carol`));

    const aliceMark = alice.mark();
    const result = await alice.iq(kickIq(room, "Bob", "Be nice"));
    expect(result.attrs).toMatchObject({ type: "result", from: room, to: alice.jid });

    const kicked = await bob.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(kicked).sort()).toEqual([110, 307]);
    const item = kicked.getChild("x", NS_MUC_USER)!.getChild("item")!;
    expect(item.attrs).toMatchObject({ role: "none" });
    expect(item.getChildText("reason")).toBe("Be nice");
    expect(item.getChild("actor")?.attrs.nick).toBe("Alice");

    for (const c of [alice, carol]) {
      const seen = await c.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
      expect(statusCodes(seen)).toEqual([307]);
      expect(seen.getChild("x", NS_MUC_USER)!.getChild("item")!.getChildText("reason")).toBe("Be nice");
    }
    // §8.2 order: the moderator gets the result before the room's notice.
    const resultAt = alice.stanzas.indexOf(result);
    const noticeAt = alice.stanzas.findIndex((s, i) => i >= aliceMark && presenceFrom(`${room}/Bob`, "unavailable")(s));
    expect(resultAt).toBeLessThan(noticeAt);

    // Bob is out.
    await carol.send(groupchat(room, "bye bob"));
    await alice.waitFor(groupchatFrom(`${room}/Carol`, "bye bob"));
    await bob.expectNothing(fromRoom(room), 200);
  });

  test("a participant may not kick (forbidden); an absent nick is item-not-found; an owner cannot be kicked (not-allowed)", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "kick-refused");
    const refused = await bob.iq(kickIq(room, "Alice"));
    expect(refused.attrs.from).toBe(room);
    expect(errorOf(refused)).toEqual({ type: "auth", condition: "forbidden" });
    await alice.expectNothing(presenceFrom(`${room}/Alice`, "unavailable"), 200);

    const missing = await alice.iq(kickIq(room, "Nobody"));
    expect(errorOf(missing)).toEqual({ type: "cancel", condition: "item-not-found" });

    // An owner is above every kick, its own included: not-allowed.
    const self = await alice.iq(kickIq(room, "Alice"));
    expect(errorOf(self)).toEqual({ type: "cancel", condition: "not-allowed" });
    await alice.expectNothing(presenceFrom(`${room}/Alice`, "unavailable"), 100);
    await bob.expectNothing(presenceFrom(`${room}/Bob`, "unavailable"), 100);
  });
});
