/**
 * XEP-0045 §7.2 entering a room, through a real Prosody: what a joining
 * client receives and in which order (occupants, self-presence with 110/201/
 * 210, history, subject), who owns a new room, instant rooms (§10.1.2), and
 * the discussion history limits (§7.2.15).
 */
import { describe, expect, test } from "bun:test";
import { groupchat, statusCodes, xml, type Element, type TestClient } from "./harness/client.ts";
import { useRig } from "./harness/rig.ts";
import {
  fromRoom,
  groupchatFrom,
  isSubject,
  join,
  mucItem,
  NS_DELAY,
  NS_MUC_OWNER,
  occupantId,
  presenceFrom,
} from "./muc-fixture.ts";

const rig = useRig();

/** Send groupchat messages one after another, each once echoed back (so the room has stored it). */
async function say(client: TestClient, room: string, nick: string, bodies: string[]): Promise<void> {
  for (const body of bodies) {
    await client.send(groupchat(room, body));
    await client.waitFor(groupchatFrom(`${room}/${nick}`, body));
  }
}

/** The history part of a join: the messages between the self-presence and the subject. */
function historyOf(received: readonly Element[]): Element[] {
  return received.filter((s) => s.name === "message" && s.getChild("body") !== undefined);
}

const bodies = (messages: readonly Element[]) => messages.map((m) => m.getChildText("body"));

describe("join order (§7.2.3–§7.2.16)", () => {
  test("the creator gets 110 + 201, owner/moderator, its real JID, an occupant id, then an empty subject from the room", async () => {
    const room = rig.room("create");
    const alice = await rig.client("alice");
    const { self, subject, received } = await join(alice, room, "Alice");

    expect(self.attrs.from).toBe(`${room}/Alice`);
    expect(self.attrs.to).toBe(alice.jid);
    expect(statusCodes(self).sort()).toEqual([110, 201]);
    expect(mucItem(self)).toMatchObject({ affiliation: "owner", role: "moderator", jid: alice.jid });
    expect(occupantId(self)).toBeString();

    // §7.2.16: an empty <subject/> from the room's bare JID when none is set, after the self-presence.
    expect(subject.attrs).toMatchObject({ from: room, to: alice.jid, type: "groupchat" });
    expect(subject.getChild("subject")!.children).toEqual([]);
    expect(received).toEqual([self, subject]);
  });

  test("a second occupant gets the first one's presence, then its own (110, no 201), then history, then the subject", async () => {
    const room = rig.room("order");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await say(alice, room, "Alice", ["before bob"]);

    const { self, subject, received } = await join(bob, room, "Bob");
    // Exactly: Alice's presence, Bob's self-presence, one history message, the subject.
    expect(received.map((s) => `${s.name} ${s.attrs.from}`)).toEqual([
      `presence ${room}/Alice`,
      `presence ${room}/Bob`,
      `message ${room}/Alice`,
      `message ${room}`,
    ]);
    const [alicePresence, , history] = received as [Element, Element, Element, Element];

    // Semi-anonymous (§4.2): a participant does not see Alice's real JID.
    expect(mucItem(alicePresence)).toEqual({ affiliation: "owner", role: "moderator" });
    expect(statusCodes(alicePresence)).toEqual([]);
    expect(occupantId(alicePresence)).toBeString();

    expect(statusCodes(self)).toEqual([110]);
    expect(mucItem(self)).toEqual({ affiliation: "none", role: "participant", jid: bob.jid });
    expect(history.getChildText("body")).toBe("before bob");
    expect(history.getChild("delay", NS_DELAY)?.attrs.from).toBe(room);
    expect(subject.attrs.from).toBe(room);

    // Alice, a moderator, sees Bob arrive with his real JID (§7.2.4), no 110.
    const arrival = await alice.waitFor(presenceFrom(`${room}/Bob`));
    expect(mucItem(arrival)).toEqual({ affiliation: "none", role: "participant", jid: bob.jid });
    expect(statusCodes(arrival)).toEqual([]);
    expect(occupantId(arrival)).toBe(occupantId(self)!);
  });

  test("a nick the service normalises comes back with 210 under the new nick (§7.2.3)", async () => {
    const room = rig.room("nick210");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    // RFC 8266: spaces at the ends removed, runs collapsed. Prosody's resourceprep leaves ASCII spaces alone.
    const { self } = await join(bob, room, "  Bob   the  Builder ");
    expect(self.attrs.from).toBe(`${room}/Bob the Builder`);
    expect(statusCodes(self).sort()).toEqual([110, 210]);
    // Others only know the new nick.
    const arrival = await alice.waitFor(presenceFrom(`${room}/Bob the Builder`));
    expect(statusCodes(arrival)).toEqual([]);
    await bob.send(groupchat(room, "hi"));
    await alice.waitFor(groupchatFrom(`${room}/Bob the Builder`, "hi"));
  });

  test("a join from a session already in the room gets the whole join again (§7.2.1 resync); the room sees no one come or go", async () => {
    const room = rig.room("resync");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await say(alice, room, "Alice", ["before the resync"]);
    await join(bob, room, "Bob");
    await alice.waitFor(presenceFrom(`${room}/Bob`));

    // Bob's client lost track of the room and joins again from the same full JID.
    const { self, received } = await join(bob, room, "Bob");
    expect(received.map((s) => `${s.name} ${s.attrs.from}`)).toEqual([
      `presence ${room}/Alice`,
      `presence ${room}/Bob`,
      `message ${room}/Alice`,
      `message ${room}`,
    ]);
    expect(statusCodes(self)).toEqual([110]);
    expect(mucItem(self)).toEqual({ affiliation: "none", role: "participant", jid: bob.jid });
    expect(bodies(historyOf(received))).toEqual(["before the resync"]);

    // Its <history/> limits apply as on any join.
    expect(historyOf((await join(bob, room, "Bob", { history: { maxstanzas: 0 } })).received)).toEqual([]);
    await alice.expectNothing(presenceFrom(`${room}/Bob`, "unavailable"), 200);
    await bob.send(groupchat(room, "still one Bob"));
    await alice.waitFor(groupchatFrom(`${room}/Bob`, "still one Bob"));
  });

  test("a subject set before the join is the last thing the joiner gets, from the occupant who set it", async () => {
    const room = rig.room("subject-join");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await alice.send(xml("message", { to: room, type: "groupchat" }, xml("subject", {}, "Today: tests")));
    await alice.waitFor(isSubject(room));
    await say(alice, room, "Alice", ["after subject"]);

    const { subject, received } = await join(bob, room, "Bob");
    expect(subject.attrs.from).toBe(`${room}/Alice`);
    expect(subject.getChildText("subject")).toBe("Today: tests");
    expect(received.at(-1)).toBe(subject);
    expect(bodies(historyOf(received))).toEqual(["after subject"]);
  });
});

describe("new rooms (§10.1)", () => {
  test("instant room: the owner's empty muc#owner submit is accepted and another user can join right away", async () => {
    const room = rig.room("instant");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    const { self } = await join(alice, room, "Alice");
    expect(statusCodes(self)).toContain(201);

    const answer = await alice.iq(
      xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, xml("x", { xmlns: "jabber:x:data", type: "submit" }))),
    );
    expect(answer.attrs).toMatchObject({ type: "result", from: room, to: alice.jid });

    const joined = await join(bob, room, "Bob");
    expect(statusCodes(joined.self)).toEqual([110]);
    expect(mucItem(joined.self).affiliation).toBe("none");
  });

  test("rooms are never locked: others may join before the owner sends any configuration", async () => {
    const room = rig.room("unlocked");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    const { self } = await join(bob, room, "Bob");
    expect(statusCodes(self)).toEqual([110]);
    await bob.send(groupchat(room, "first"));
    await alice.waitFor(groupchatFrom(`${room}/Bob`, "first"));
  });

  test("the creator stays owner; later joiners are not owners, even after the creator's presence changes", async () => {
    const room = rig.room("owner");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await join(bob, room, "Bob");
    // A presence update (§7.7) keeps the affiliation; everyone sees it.
    await alice.send(xml("presence", { to: `${room}/Alice` }, xml("show", {}, "away")));
    const update = await bob.waitFor(presenceFrom(`${room}/Alice`));
    expect(update.getChildText("show")).toBe("away");
    expect(mucItem(update)).toEqual({ affiliation: "owner", role: "moderator" });
    // Only an owner may read the configuration form.
    const form = await alice.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_OWNER })));
    expect(form.attrs.type).toBe("result");
    expect(form.getChild("query", NS_MUC_OWNER)?.getChild("x", "jabber:x:data")?.attrs.type).toBe("form");
    const refused = await bob.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_OWNER })));
    expect(refused.attrs.type).toBe("error");
    expect(refused.getChild("error")?.getChild("forbidden")).toBeDefined();
  });
});

describe("discussion history (§7.2.15)", () => {
  /** A room where Alice said `count` numbered messages m1…mN; Alice stays in it. */
  async function roomWithHistory(label: string, count: number): Promise<{ room: string; alice: TestClient }> {
    const room = rig.room(label);
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    await say(alice, room, "Alice", Array.from({ length: count }, (_, i) => `m${i + 1}`));
    return { room, alice };
  }

  test("by default the last 20 of 25 messages, oldest first, each with a delay from the room, before the subject", async () => {
    const { room } = await roomWithHistory("history-default", 25);
    const bob = await rig.client("bob");
    const { received } = await join(bob, room, "Bob");
    const history = historyOf(received);
    expect(bodies(history)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 6}`));
    for (const m of history) {
      expect(m.attrs).toMatchObject({ type: "groupchat", from: `${room}/Alice`, to: bob.jid });
      const delay = m.getChild("delay", NS_DELAY);
      expect(delay?.attrs.from).toBe(room);
      expect(Number.isNaN(Date.parse(delay?.attrs.stamp ?? ""))).toBe(false);
      expect(occupantId(m)).toBeString();
    }
    // History sits between the self-presence and the subject.
    const selfIndex = received.findIndex((s) => s.name === "presence" && s.attrs.from === `${room}/Bob`);
    expect(received.indexOf(history[0]!)).toBeGreaterThan(selfIndex);
    expect(received.at(-1)!.getChild("subject")).toBeDefined();
  });

  test("maxstanzas: only the last N", async () => {
    const { room } = await roomWithHistory("history-maxstanzas", 5);
    const bob = await rig.client("bob");
    expect(bodies(historyOf((await join(bob, room, "Bob", { history: { maxstanzas: 2 } })).received))).toEqual(["m4", "m5"]);
    const carol = await rig.client("carol");
    expect(historyOf((await join(carol, room, "Carol", { history: { maxstanzas: 0 } })).received)).toEqual([]);
  });

  test("maxchars='0': no history at all; a large maxchars: all of it", async () => {
    const { room } = await roomWithHistory("history-maxchars", 3);
    const bob = await rig.client("bob");
    expect(historyOf((await join(bob, room, "Bob", { history: { maxchars: 0 } })).received)).toEqual([]);
    const carol = await rig.client("carol");
    expect(bodies(historyOf((await join(carol, room, "Carol", { history: { maxchars: 100_000 } })).received))).toEqual(["m1", "m2", "m3"]);
  });

  test("since: a future date gives nothing, a date between two messages gives those after it", async () => {
    const room = rig.room("history-since");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    await say(alice, room, "Alice", ["old"]);
    // mucgate stamps with its clock, the same machine's; keep a millisecond on each side.
    await Bun.sleep(2);
    const between = new Date().toISOString();
    await Bun.sleep(2);
    await say(alice, room, "Alice", ["new1", "new2"]);

    const bob = await rig.client("bob");
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    expect(historyOf((await join(bob, room, "Bob", { history: { since: future } })).received)).toEqual([]);
    const carol = await rig.client("carol");
    expect(bodies(historyOf((await join(carol, room, "Carol", { history: { since: between } })).received))).toEqual(["new1", "new2"]);
  });

  test("seconds: only messages younger than that; the limits combine (the smallest set wins)", async () => {
    const room = rig.room("history-seconds");
    const [alice, bob, carol, dave] = await Promise.all([rig.client("alice"), rig.client("bob"), rig.client("carol"), rig.client("dave")]);
    await join(alice, room, "Alice");
    await say(alice, room, "Alice", ["old"]);
    // The one deliberate wait of this file: `seconds` is about time passing.
    // "old" is then 1.5 s old; the recent ones are a few ms old when Bob joins
    // (everyone is logged in already, so nothing slow happens in between).
    await Bun.sleep(1500);
    await say(alice, room, "Alice", ["recent1", "recent2"]);

    expect(bodies(historyOf((await join(bob, room, "Bob", { history: { seconds: 1 } })).received))).toEqual(["recent1", "recent2"]);
    expect(bodies(historyOf((await join(carol, room, "Carol", { history: { seconds: 3600 } })).received))).toEqual([
      "old",
      "recent1",
      "recent2",
    ]);
    expect(bodies(historyOf((await join(dave, room, "Dave", { history: { seconds: 3600, maxstanzas: 1 } })).received))).toEqual(["recent2"]);
  });

  test("history is not replayed to occupants already in the room, and holds only messages with a body", async () => {
    const room = rig.room("history-body");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    // A chat state without body (XEP-0085) is relayed but not kept as history.
    await alice.send(xml("message", { to: room, type: "groupchat", id: "cs" }, xml("active", { xmlns: "http://jabber.org/protocol/chatstates" })));
    await alice.waitFor((s) => s.name === "message" && s.attrs.id === "cs" && fromRoom(room)(s));
    await say(alice, room, "Alice", ["kept"]);
    const bob = await rig.client("bob");
    const { received } = await join(bob, room, "Bob");
    expect(received.filter((s) => s.name === "message" && s.getChild("subject") === undefined).map((m) => m.getChildText("body"))).toEqual([
      "kept",
    ]);
    // Alice gets Bob's presence and nothing else of the join.
    await alice.waitFor(presenceFrom(`${room}/Bob`));
    await alice.expectNothing((s) => s.name === "message" && fromRoom(room)(s), 300);
  });
});
