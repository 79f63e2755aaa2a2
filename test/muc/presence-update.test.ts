import { describe, expect, test } from "bun:test";
import { DOMAIN, MUC_USER, OCCUPANT_ID, errorCondition, itemOf, lobby, occupantIds, statuses, to } from "./fixture.ts";

/** XEP-0045 §7.7 changing availability status, and presence types a room ignores or refuses. */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const ROOM = `lobby@${DOMAIN}`;

const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"]);

describe("presence updates", () => {
  test("are passed to every occupant with show/status, 110 for the sender itself", () => {
    const f = room();
    const out = f.presence(BOB, "lobby", "Bob", "<show>xa</show><status>gone where the goblins go</status>");
    expect(out.map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB].sort());
    for (const p of out) {
      expect(p.attrs.from).toBe(`${ROOM}/Bob`);
      expect(p.attrs.type).toBeUndefined();
      expect(p.getChildText("show")).toBe("xa");
      expect(p.getChildText("status")).toBe("gone where the goblins go");
    }
    expect(statuses(to(out, BOB)[0]!)).toEqual(["110"]);
    expect(statuses(to(out, ALICE)[0]!)).toEqual([]);
    expect(itemOf(to(out, ALICE)[0]!)!.attrs.jid).toBe(BOB);
  });

  test("the payload comes first, then the room's muc#user x and occupant-id; forged ones are dropped", () => {
    const f = room();
    const out = f.presence(
      BOB,
      "lobby",
      "Bob",
      `<show>dnd</show><x xmlns='${MUC_USER}'><item role='moderator'/></x><occupant-id xmlns='${OCCUPANT_ID}' id='forged'/>`,
    );
    const p = to(out, ALICE)[0]!;
    const names = p.children.filter((c) => typeof c !== "string").map((c) => (c as { name: string }).name);
    expect(names).toEqual(["show", "x", "occupant-id"]);
    expect(itemOf(p)!.attrs.role).toBe("participant");
    expect(occupantIds(p)).not.toContain("forged");
  });

  test("newcomers see the latest presence of each occupant", () => {
    const f = room();
    f.presence(BOB, "lobby", "Bob", "<show>away</show>");
    const seen = to(f.join("carol@c.test/home", "lobby", "Carol"), "carol@c.test/home")[1]!;
    expect(seen.attrs.from).toBe(`${ROOM}/Bob`);
    expect(seen.getChildText("show")).toBe("away");
  });

  test("subscription and probe presence types are ignored", () => {
    const f = room();
    for (const type of ["probe", "subscribe", "subscribed", "unsubscribe", "unsubscribed"]) {
      expect(f.send(`<presence type='${type}' from='${BOB}' to='${ROOM}/Bob'/>`)).toEqual([]);
    }
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(true);
  });

  test("an unknown presence type is bad-request and changes nothing", () => {
    const f = room();
    const out = f.send(`<presence type='available' id='p1' from='${BOB}' to='${ROOM}/Bob'/>`);
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: BOB, id: "p1" });
    expect(errorCondition(out[0]!)).toBe("bad-request");
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(true);
  });

  test("presence to the bare room or the service is jid-malformed", () => {
    const f = room();
    expect(errorCondition(f.send(`<presence from='${BOB}' to='${ROOM}'/>`)[0]!)).toBe("jid-malformed");
    expect(errorCondition(f.send(`<presence from='${BOB}' to='${DOMAIN}'/>`)[0]!)).toBe("jid-malformed");
  });
});
