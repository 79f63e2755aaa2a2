import { describe, expect, test } from "bun:test";
import { DATA, DOMAIN, REGISTER, brief, errorCondition, errorType, itemOf, lobby, recipients, statuses, to } from "./fixture.ts";

/** XEP-0045 §7.6 changing nickname. */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/home";
const ROOM = `lobby@${DOMAIN}`;

const room3 = () => lobby([ALICE, "Alice"], [BOB, "Bob"], [CAROL, "Carol"]);

describe("changing nickname", () => {
  test("everyone gets unavailable 303 for the old nick with the new nick in the item, then presence from the new nick", () => {
    const f = room3();
    const out = f.presence(BOB, "lobby", "Robert");
    for (const session of [ALICE, BOB, CAROL]) {
      const mine = to(out, session);
      expect(mine.map(brief)).toEqual([`presence(unavailable):${ROOM}/Bob`, `presence:${ROOM}/Robert`]);
      expect(itemOf(mine[0]!)!.attrs.nick).toBe("Robert");
      expect(statuses(mine[0]!)).toContain("303");
    }
    // Every 303 goes out before any new-nick presence.
    const lastOld = out.findLastIndex((s) => s.attrs.from === `${ROOM}/Bob`);
    const firstNew = out.findIndex((s) => s.attrs.from === `${ROOM}/Robert`);
    expect(lastOld).toBeLessThan(firstNew);
  });

  test("the 303 carries only the muc#user <x/> and occupant-id, not the payload: a client reading the first <x/> finds the rename", () => {
    const f = room3();
    const vcard = "<x xmlns='vcard-temp:x:update'><photo>abc</photo></x><show>away</show>";
    f.presence(BOB, "lobby", "Bob", vcard);
    const out = f.presence(BOB, "lobby", "Robert", vcard);
    const unavailable = to(out, ALICE)[0]!;
    expect(unavailable.children.map((c) => (typeof c === "string" ? c : `${c.name}:${c.attrs.xmlns}`))).toEqual([
      "x:http://jabber.org/protocol/muc#user",
      "occupant-id:urn:xmpp:occupant-id:0",
    ]);
    // The new nick's presence shows the payload again.
    expect(to(out, ALICE)[1]!.getChild("x", "vcard-temp:x:update")).toBeDefined();
  });

  test("the changer's own copies carry 110, the others' do not", () => {
    const f = room3();
    const out = f.presence(BOB, "lobby", "Robert");
    expect(to(out, BOB).map(statuses)).toEqual([["303", "110"], ["110"]]);
    expect(to(out, CAROL).map(statuses)).toEqual([["303"], []]);
  });

  test("the role stays what it was (the 303 presence keeps the role, not none)", () => {
    const f = room3();
    const out = f.presence(BOB, "lobby", "Robert");
    expect(to(out, CAROL).map((s) => itemOf(s)!.attrs.role)).toEqual(["participant", "participant"]);
  });

  test("afterwards the occupant speaks as the new nick and the old nick is free", () => {
    const f = room3();
    f.presence(BOB, "lobby", "Robert");
    expect(f.say(BOB, "lobby", "hi").map((s) => s.attrs.from)).toEqual([`${ROOM}/Robert`, `${ROOM}/Robert`, `${ROOM}/Robert`]);
    const joined = f.join("dave@d.test/x", "lobby", "Bob");
    expect(joined.some((s) => s.attrs.type === "error")).toBe(false);
  });

  test("a nick in use by another user is a conflict; nothing changes and nobody else hears of it", () => {
    const f = room3();
    const out = f.send(`<presence id='n1' from='${BOB}' to='${ROOM}/Carol'/>`);
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: BOB, id: "n1" });
    expect(errorCondition(out[0]!)).toBe("conflict");
    expect(errorType(out[0]!)).toBe("cancel");
    const room = f.service.room(ROOM)!;
    expect([...room.occupants.keys()].sort()).toEqual(["Alice", "Bob", "Carol"]);
    expect(room.occupants.get("Carol")!.bare).toBe("carol@c.test");
  });

  test("a nick registered by another user is a conflict", () => {
    const f = room3();
    f.iq("dave@d.test/x", ROOM, "set", `<query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'><field var='muc#register_roomnick'><value>Dave</value></field></x></query>`);
    expect(errorCondition(f.presence(BOB, "lobby", "Dave")[0]!)).toBe("conflict");
  });

  test("a malformed nick is jid-malformed and leaves the occupant as it was", () => {
    const f = room3();
    const out = f.presence(BOB, "lobby", "bad\u202Enick");
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("jid-malformed");
    expect(f.service.room(ROOM)!.occupants.get("Bob")!.sessions.has(BOB)).toBe(true);
  });

  test("a nick changed by normalisation gets 210 in the new self-presence", () => {
    const f = room3();
    const out = f.presence(BOB, "lobby", "  Rob  ert ");
    const mine = to(out, BOB);
    expect(mine.map(brief)).toEqual([`presence(unavailable):${ROOM}/Bob`, `presence:${ROOM}/Rob ert`]);
    expect(itemOf(mine[0]!)!.attrs.nick).toBe("Rob ert");
    expect(statuses(mine[1]!).sort()).toEqual(["110", "210"]);
    expect(statuses(to(out, CAROL)[1]!)).toEqual([]);
  });

  test("a nick that normalises to the current one is a presence update, not a change", () => {
    const f = room3();
    const out = f.presence(BOB, "lobby", " Bob", "<show>dnd</show>");
    expect(out.every((s) => s.attrs.type === undefined && s.attrs.from === `${ROOM}/Bob`)).toBe(true);
    expect(out.map((s) => s.getChildText("show"))).toEqual(["dnd", "dnd", "dnd"]);
  });

  test("a nick with several sessions moves as a whole: every session gets 303 + 110", () => {
    const f = room3();
    f.join("bob@b.test/phone", "lobby", "Bob");
    const out = f.presence(BOB, "lobby", "Robert");
    for (const session of [BOB, "bob@b.test/phone"]) {
      expect(to(out, session).map(statuses)).toEqual([["303", "110"], ["110"]]);
    }
    const room = f.service.room(ROOM)!;
    expect(room.occupants.get("Robert")!.sessions.size).toBe(2);
    expect(room.occupants.has("Bob")).toBe(false);
  });

  test("a user may not merge into a nick it holds from another session (another occupant)", () => {
    const f = room3();
    f.join("bob@b.test/phone", "lobby", "Bobby");
    const out = f.presence(BOB, "lobby", "Bobby");
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("conflict");
  });

  test("the moderator sees the changer's real JID in both presences; participants do not", () => {
    const f = room3();
    const out = f.presence(BOB, "lobby", "Robert");
    expect(to(out, ALICE).map((s) => itemOf(s)!.attrs.jid)).toEqual([BOB, BOB]);
    expect(to(out, CAROL).map((s) => itemOf(s)!.attrs.jid)).toEqual([undefined, undefined]);
    expect(recipients(out).sort()).toEqual([ALICE, BOB, CAROL].sort());
  });
});
