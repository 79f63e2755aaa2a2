import { describe, expect, test } from "bun:test";
import { DISCO_ITEMS, DOMAIN, itemOf, lobby, recipients, statuses, to } from "./fixture.ts";

/** XEP-0045 §7.14 exiting a room, and temporary rooms disappearing when empty (§10.1.3 muc_temporary). */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/home";

describe("leaving a room", () => {
  test("the leaver gets unavailable with 110 and role none; every other occupant gets it without 110", () => {
    const f = lobby([ALICE, "Alice"], [BOB, "Bob"], [CAROL, "Carol"]);
    const out = f.leave(BOB, "lobby", "Bob");
    expect(recipients(out).sort()).toEqual([ALICE, BOB, CAROL].sort());
    for (const s of out) {
      expect(s.attrs).toMatchObject({ type: "unavailable", from: `lobby@${DOMAIN}/Bob` });
      expect(itemOf(s)!.attrs.role).toBe("none");
    }
    expect(statuses(to(out, BOB)[0]!)).toEqual(["110"]);
    expect(statuses(to(out, CAROL)[0]!)).toEqual([]);
    // semi-anonymous: the moderator (Alice) sees Bob's JID, Carol does not.
    expect(itemOf(to(out, ALICE)[0]!)!.attrs.jid).toBe(BOB);
    expect(itemOf(to(out, CAROL)[0]!)!.attrs.jid).toBeUndefined();
    expect(f.service.room(`lobby@${DOMAIN}`)!.occupants.has("Bob")).toBe(false);
  });

  test("a custom exit status is relayed to everyone", () => {
    const f = lobby([ALICE, "Alice"], [BOB, "Bob"]);
    const out = f.leave(BOB, "lobby", "Bob", "<status>gone where the goblins go</status>");
    expect(out.map((s) => s.getChildText("status"))).toEqual(["gone where the goblins go", "gone where the goblins go"]);
  });

  test("the leave names the nick, but any unavailable from the session removes it (the server sends it to the nick it knows)", () => {
    const f = lobby([ALICE, "Alice"], [BOB, "Bob"]);
    const out = f.leave(BOB, "lobby", "SomethingElse");
    expect(out.map((s) => s.attrs.from)).toEqual([`lobby@${DOMAIN}/Bob`, `lobby@${DOMAIN}/Bob`]);
  });

  test("an unavailable from someone not in the room is ignored", () => {
    const f = lobby([ALICE, "Alice"]);
    expect(f.leave(BOB, "lobby", "Bob")).toEqual([]);
    expect(f.leave(BOB, "nowhere", "Bob")).toEqual([]);
  });

  test("the last occupant leaving destroys the temporary room; joining again creates it afresh (201)", () => {
    const f = lobby([ALICE, "Alice"], [BOB, "Bob"]);
    f.leave(ALICE, "lobby", "Alice");
    expect(f.service.room(`lobby@${DOMAIN}`)).toBeDefined();
    f.leave(BOB, "lobby", "Bob");
    expect(f.service.room(`lobby@${DOMAIN}`)).toBeUndefined();
    expect(f.service.rooms.size).toBe(0);
    const items = f.iq(CAROL, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'/>`);
    expect(items[0]!.getChild("query")!.getChildren("item")).toHaveLength(0);
    const again = f.join(BOB, "lobby", "Bob");
    expect(statuses(again[0]!).sort()).toEqual(["110", "201"]);
    expect(itemOf(again[0]!)!.attrs.affiliation).toBe("owner");
  });
});

describe("leaving with several sessions under one nick", () => {
  test("only the leaving session hears of it while another session stays; the room still shows the nick", () => {
    const f = lobby([ALICE, "Alice"], ["alice@a.test/laptop", "Alice"], [BOB, "Bob"]);
    const out = f.leave(ALICE, "lobby", "Alice");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ to: ALICE, type: "unavailable", from: `lobby@${DOMAIN}/Alice` });
    expect(statuses(out[0]!)).toEqual(["110"]);
    expect(itemOf(out[0]!)!.attrs.role).toBe("none");
    expect(f.service.room(`lobby@${DOMAIN}`)!.occupants.has("Alice")).toBe(true);
    // The remaining session still gets the room's traffic, the departed one does not.
    const said = f.say(BOB, "lobby", "hi");
    expect(recipients(said).sort()).toEqual(["alice@a.test/laptop", BOB].sort());
  });

  test("the last session's leave is broadcast to the room", () => {
    const f = lobby([ALICE, "Alice"], ["alice@a.test/laptop", "Alice"], [BOB, "Bob"]);
    f.leave(ALICE, "lobby", "Alice");
    const out = f.leave("alice@a.test/laptop", "lobby", "Alice");
    expect(recipients(out).sort()).toEqual(["alice@a.test/laptop", BOB].sort());
    expect(statuses(to(out, "alice@a.test/laptop")[0]!)).toEqual(["110"]);
    expect(f.service.room(`lobby@${DOMAIN}`)!.occupants.has("Alice")).toBe(false);
  });

  test("a session that left can no longer speak, though its other session can", () => {
    const f = lobby([ALICE, "Alice"], ["alice@a.test/laptop", "Alice"]);
    f.leave(ALICE, "lobby", "Alice");
    const refused = f.say(ALICE, "lobby", "still here?");
    expect(refused).toHaveLength(1);
    expect(refused[0]!.attrs.type).toBe("error");
    expect(f.say("alice@a.test/laptop", "lobby", "yes")).toHaveLength(1);
  });
});
