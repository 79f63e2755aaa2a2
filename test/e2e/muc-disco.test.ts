/**
 * Discovery and liveness through a real Prosody: XEP-0030 on the service and
 * its rooms (XEP-0045 §6), XEP-0199 ping, XEP-0410 self-ping, and the
 * XEP-0421 occupant id on every occupant presence and message.
 */
import { describe, expect, test } from "bun:test";
import {
  groupchat,
  joinPresence,
  leavePresence,
  privateMessage,
  xml,
  type Element,
} from "./harness/client.ts";
import { useRig } from "./harness/rig.ts";
import {
  errorOf,
  fromRoom,
  groupchatFrom,
  isSubject,
  join,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_MUC_ADMIN,
  NS_MUC_OWNER,
  NS_OCCUPANT_ID,
  NS_PING,
  occupantId,
  presenceFrom,
} from "./muc-fixture.ts";

const rig = useRig();

const discoInfo = (to: string) => xml("iq", { type: "get", to }, xml("query", { xmlns: NS_DISCO_INFO }));
const discoItems = (to: string) => xml("iq", { type: "get", to }, xml("query", { xmlns: NS_DISCO_ITEMS }));
const ping = (to: string) => xml("iq", { type: "get", to }, xml("ping", { xmlns: NS_PING }));

function features(answer: Element): string[] {
  return answer
    .getChild("query", NS_DISCO_INFO)!
    .getChildren("feature")
    .map((f) => f.attrs.var!);
}

describe("service discovery (XEP-0030, XEP-0045 §6)", () => {
  test("disco#info on the service: identity conference/text and the muc feature", async () => {
    const alice = await rig.client("alice");
    const answer = await alice.iq(discoInfo(rig.service));
    expect(answer.attrs).toMatchObject({ type: "result", from: rig.service, to: alice.jid });
    const identities = answer.getChild("query", NS_DISCO_INFO)!.getChildren("identity");
    expect(identities.map((i) => [i.attrs.category, i.attrs.type])).toContainEqual(["conference", "text"]);
    expect(features(answer)).toEqual(expect.arrayContaining(["http://jabber.org/protocol/muc", NS_DISCO_INFO]));
  });

  test("disco#info on a room: the room's identity and every promised feature, for occupants and outsiders", async () => {
    const room = rig.room("info");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    for (const asker of [alice, bob]) {
      const answer = await asker.iq(discoInfo(room));
      expect(answer.attrs).toMatchObject({ type: "result", from: room, to: asker.jid });
      const identity = answer.getChild("query", NS_DISCO_INFO)!.getChild("identity")!;
      expect(identity.attrs).toMatchObject({ category: "conference", type: "text" });
      expect(features(answer)).toEqual(
        expect.arrayContaining([
          "http://jabber.org/protocol/muc",
          "muc_open",
          "muc_public",
          "muc_semianonymous",
          "muc_temporary",
          "http://jabber.org/protocol/muc#self-ping-optimization",
          NS_OCCUPANT_ID,
          "http://jabber.org/protocol/muc#stable_id",
        ]),
      );
      // §6.4: one of each opposite pair.
      expect(features(answer)).not.toContain("muc_hidden");
      expect(features(answer)).not.toContain("muc_persistent");
      expect(features(answer)).not.toContain("muc_nonanonymous");
    }
  });

  test("disco#items on the service lists the public rooms that exist, not hidden ones", async () => {
    const open = rig.room("listed");
    const hidden = rig.room("hidden");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, open, "Alice");
    await join(alice, hidden, "Alice");
    const hide = await alice.iq(
      xml(
        "iq",
        { type: "set", to: hidden },
        xml(
          "query",
          { xmlns: NS_MUC_OWNER },
          xml(
            "x",
            { xmlns: "jabber:x:data", type: "submit" },
            xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#roomconfig")),
            xml("field", { var: "muc#roomconfig_publicroom" }, xml("value", {}, "0")),
          ),
        ),
      ),
    );
    expect(hide.attrs.type).toBe("result");

    const answer = await bob.iq(discoItems(rig.service));
    expect(answer.attrs).toMatchObject({ type: "result", from: rig.service });
    const jids = answer.getChild("query", NS_DISCO_ITEMS)!.getChildren("item").map((i) => i.attrs.jid);
    expect(jids).toContain(open);
    expect(jids).not.toContain(hidden);
    // XEP-0059 backwards: the last page, of the same count.
    const last = await bob.iq(
      xml("iq", { type: "get", to: rig.service }, xml("query", { xmlns: NS_DISCO_ITEMS }, xml("set", { xmlns: "http://jabber.org/protocol/rsm" }, xml("max", {}, "1"), xml("before")))),
    );
    const page = last.getChild("query", NS_DISCO_ITEMS)!;
    expect(page.getChildren("item").map((i) => i.attrs.jid)).toEqual([jids.at(-1)]);
    expect(page.getChild("set", "http://jabber.org/protocol/rsm")!.getChildText("count")).toBe(String(jids.length));
    // The hidden room says so.
    expect(features(await bob.iq(discoInfo(hidden)))).toContain("muc_hidden");
  });

  test("disco#info on a room that does not exist is item-not-found from that room", async () => {
    const bob = await rig.client("bob");
    const room = rig.room("nowhere");
    const answer = await bob.iq(discoInfo(room));
    expect(answer.attrs.from).toBe(room);
    expect(errorOf(answer)).toEqual({ type: "cancel", condition: "item-not-found" });
  });
});

describe("ping (XEP-0199) and self-ping (XEP-0410)", () => {
  test("the service and a room answer ping with an empty result", async () => {
    const room = rig.room("ping");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    for (const to of [rig.service, room]) {
      const answer = await alice.iq(ping(to));
      expect(answer.attrs).toMatchObject({ type: "result", from: to, to: alice.jid });
      expect(answer.children.filter((c) => typeof c !== "string")).toEqual([]);
    }
  });

  test("self-ping: a result while joined, not-acceptable when not (never joined, left, other room)", async () => {
    const room = rig.room("selfping");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await join(bob, room, "Bob");

    const joined = await bob.iq(ping(`${room}/Bob`));
    expect(joined.attrs).toMatchObject({ type: "result", from: `${room}/Bob`, to: bob.jid });
    // Answered by the room itself (muc#self-ping-optimization): Bob's client never sees the ping.
    expect(bob.stanzas.some((s) => s.name === "iq" && s.attrs.type === "get")).toBe(false);

    const carol = await rig.client("carol");
    const outsider = await carol.iq(ping(`${room}/Carol`));
    expect(outsider.attrs.from).toBe(`${room}/Carol`);
    expect(errorOf(outsider)).toEqual({ type: "cancel", condition: "not-acceptable" });
    // Pinging someone else's nick while not joined: still not-acceptable, and Alice hears nothing.
    expect(errorOf(await carol.iq(ping(`${room}/Alice`)))).toEqual({ type: "cancel", condition: "not-acceptable" });
    await alice.expectNothing((s) => s.name === "iq", 200);

    // Joined elsewhere is not joined here.
    const other = rig.room("selfping-other");
    await join(carol, other, "Carol");
    expect(errorOf(await bob.iq(ping(`${other}/Bob`)))).toEqual({ type: "cancel", condition: "not-acceptable" });

    await bob.send(leavePresence(`${room}/Bob`));
    await bob.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(errorOf(await bob.iq(ping(`${room}/Bob`)))).toEqual({ type: "cancel", condition: "not-acceptable" });
  });

  test("self-ping after a kick tells the client it is out", async () => {
    const room = rig.room("selfping-kick");
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await join(bob, room, "Bob");
    const kick = await alice.iq(
      xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { nick: "Bob", role: "none" }))),
    );
    expect(kick.attrs.type).toBe("result");
    await bob.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(errorOf(await bob.iq(ping(`${room}/Bob`)))).toEqual({ type: "cancel", condition: "not-acceptable" });
  });
});

describe("occupant id (XEP-0421)", () => {
  test("every occupant presence and message carries one id per user: stable across nicks and sessions, distinct between users", async () => {
    const room = rig.room("occupant-id");
    const desk = await rig.client("alice", "desk");
    const phone = await rig.client("alice", "phone");
    const bob = await rig.client("bob");
    const carol = await rig.client("carol");

    const aliceJoin = await join(desk, room, "Alice");
    const bobJoin = await join(bob, room, "Bob");
    const aliceId = occupantId(aliceJoin.self)!;
    const bobId = occupantId(bobJoin.self)!;
    expect(aliceId).toBeString();
    expect(bobId).toBeString();
    expect(aliceId).not.toBe(bobId);

    const seenByAlice: Element[] = [];
    const seenByBob: Element[] = [];
    const keep = async (into: Element[], p: Promise<Element>) => into.push(await p);

    // Presence: arrival, as listed to a newcomer, update, second session, nick change, leave, kick.
    await keep(seenByAlice, desk.waitFor(presenceFrom(`${room}/Bob`)));
    seenByBob.push(...bobJoin.received.filter((s) => s.name === "presence"));
    await join(phone, room, "Alice");
    expect(occupantId((await phone.waitFor(presenceFrom(`${room}/Alice`, ""), { since: 0 })))).toBe(aliceId);
    // A presence update with a forged occupant id: the room shows Bob's own, once.
    await bob.send(xml("presence", { to: `${room}/Bob` }, xml("show", {}, "dnd"), xml("occupant-id", { xmlns: NS_OCCUPANT_ID, id: aliceId })));
    const update = await desk.waitFor(presenceFrom(`${room}/Bob`));
    expect(update.getChildText("show")).toBe("dnd");
    expect(update.getChildren("occupant-id").length).toBe(1);
    seenByAlice.push(update);
    await bob.send(joinPresence(`${room}/Robert`));
    await keep(seenByAlice, desk.waitFor(presenceFrom(`${room}/Bob`, "unavailable")));
    await keep(seenByAlice, desk.waitFor(presenceFrom(`${room}/Robert`)));

    // Messages: groupchat (with a forged occupant id, which the room replaces), private, subject.
    await bob.send(
      xml(
        "message",
        { to: room, type: "groupchat", id: "forged" },
        xml("body", {}, "trust me"),
        xml("occupant-id", { xmlns: NS_OCCUPANT_ID, id: aliceId }),
      ),
    );
    const forged = await desk.waitFor(groupchatFrom(`${room}/Robert`, "trust me"));
    expect(forged.getChildren("occupant-id").length).toBe(1);
    seenByAlice.push(forged);
    await bob.send(privateMessage(`${room}/Alice`, "private", "pm-oid"));
    await keep(seenByAlice, desk.waitFor({ name: "message", id: "pm-oid" }));
    await desk.send(xml("message", { to: room, type: "groupchat" }, xml("subject", {}, "ids")));
    await keep(seenByBob, bob.waitFor(isSubject(room)));
    await phone.send(groupchat(room, "from the phone"));
    await keep(seenByBob, bob.waitFor(groupchatFrom(`${room}/Alice`, "from the phone")));

    // A newcomer sees both in the roster and in the history.
    const carolJoin = await join(carol, room, "Carol");
    const history = carolJoin.received.filter((s) => s.name === "message" && s.getChild("body"));
    expect(history.length).toBe(2);

    // A kick, then leaves.
    const kick = await desk.iq(
      xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { nick: "Robert", role: "none" }))),
    );
    expect(kick.attrs.type).toBe("result");
    await keep(seenByAlice, desk.waitFor(presenceFrom(`${room}/Robert`, "unavailable")));
    const kicked = await bob.waitFor(presenceFrom(`${room}/Robert`, "unavailable"));
    expect(occupantId(kicked)).toBe(bobId);
    await desk.send(leavePresence(`${room}/Alice`));
    await phone.send(leavePresence(`${room}/Alice`));
    const aliceLeft = await carol.waitFor(presenceFrom(`${room}/Alice`, "unavailable"));
    expect(occupantId(aliceLeft)).toBe(aliceId);

    const ids: Record<string, string> = { Alice: aliceId, Bob: bobId, Robert: bobId, Carol: occupantId(carolJoin.self)! };
    const idOf = (s: Element) => ids[(s.attrs.from ?? "").slice(room.length + 1)];
    for (const s of [...seenByAlice, ...seenByBob, ...carolJoin.received.filter((x) => x.attrs.from !== room), ...history]) {
      if (occupantId(s) !== idOf(s)) throw new Error(`wrong or missing occupant id (want ${idOf(s)}): ${s.toString()}`);
    }
    // Carol got Alice and Robert in the roster, herself, two history messages, the subject.
    expect(carolJoin.received.filter((s) => fromRoom(room)(s) && s.attrs.from !== `${room}/Carol`).length).toBeGreaterThanOrEqual(5);
  });
});

describe("occupant id across rooms", () => {
  test("the same user has a different occupant id in each room (XEP-0421 §3: not linkable across rooms)", async () => {
    const [one, two] = [rig.room("oid-one"), rig.room("oid-two")];
    const alice = await rig.client("alice");
    const a = await join(alice, one, "Alice");
    const b = await join(alice, two, "Alice");
    expect(occupantId(a.self)).toBeString();
    expect(occupantId(b.self)).toBeString();
    expect(occupantId(a.self)).not.toBe(occupantId(b.self)!);
    // …and the same one again after leaving and coming back.
    await alice.send(leavePresence(`${one}/Alice`));
    await alice.waitFor(presenceFrom(`${one}/Alice`, "unavailable"));
    await alice.send(leavePresence(`${two}/Alice`));
    await alice.waitFor(presenceFrom(`${two}/Alice`, "unavailable"));
    const again = await join(alice, one, "Alice");
    expect(occupantId(again.self)).toBe(occupantId(a.self)!);
  });
});
