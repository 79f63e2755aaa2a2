import { describe, expect, test } from "bun:test";
import { Turn } from "../../src/muc/turn.ts";
import { DOMAIN, MUC_ADMIN, errorCondition, errorType, fixture, itemOf, lobby, recipients, statuses, to } from "./fixture.ts";

/** XEP-0045 §8.2 kicking an occupant: by a moderator over muc#admin, and by the service (HTTP kick). */

const ALICE = "alice@a.test/phone"; // owner
const BOB = "bob@b.test/pc";
const BOB2 = "bob@b.test/phone";
const CAROL = "carol@c.test/home";
const ROOM = `lobby@${DOMAIN}`;

const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"], [BOB2, "Bob"], [CAROL, "Carol"]);

describe("kicking over muc#admin", () => {
  test("every session of the kicked occupant gets unavailable with 307 + 110, the reason and the actor", () => {
    const f = room();
    const out = f.kick(ALICE, "lobby", "Bob", "Avaunt, you cullion!");
    for (const session of [BOB, BOB2]) {
      const mine = to(out, session);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.attrs).toMatchObject({ type: "unavailable", from: `${ROOM}/Bob` });
      expect(statuses(mine[0]!).sort()).toEqual(["110", "307"]);
      const item = itemOf(mine[0]!)!;
      expect(item.attrs.role).toBe("none");
      expect(item.getChildText("reason")).toBe("Avaunt, you cullion!");
      expect(item.getChild("actor")!.attrs.nick).toBe("Alice");
    }
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
    expect(f.service.room(ROOM)!.sessions.has(BOB2)).toBe(false);
  });

  test("every remaining occupant is told, with 307 and no 110", () => {
    const f = room();
    const out = f.kick(ALICE, "lobby", "Bob", "bye");
    const carol = to(out, CAROL);
    expect(carol).toHaveLength(1);
    expect(statuses(carol[0]!)).toEqual(["307"]);
    expect(itemOf(carol[0]!)!.getChildText("reason")).toBe("bye");
    expect(itemOf(carol[0]!)!.attrs.jid).toBeUndefined(); // semi-anonymous
    expect(recipients(out).sort()).toEqual([ALICE, BOB, BOB2, CAROL].sort());
  });

  test("the moderator gets an IQ result, after the kicked occupant was removed", () => {
    const f = room();
    const out = f.kick(ALICE, "lobby", "Bob", undefined, "k9");
    const result = out.find((s) => s.name === "iq")!;
    expect(result.attrs).toEqual({ type: "result", from: ROOM, to: ALICE, id: "k9" });
    const lastToKicked = out.findLastIndex((s) => s.attrs.to === BOB || s.attrs.to === BOB2);
    expect(lastToKicked).toBeLessThan(out.indexOf(result));
  });

  test("the order is the one §8.2 prescribes: the kicked occupant, then the moderator's result, then the remaining occupants", () => {
    const f = room();
    const out = f.kick(ALICE, "lobby", "Bob", "bye", "k1");
    const kind = (s: (typeof out)[number]) =>
      s.name === "iq" ? "result" : s.attrs.to === BOB || s.attrs.to === BOB2 ? "kicked" : "remaining";
    expect(out.map(kind)).toEqual(["kicked", "kicked", "result", "remaining", "remaining"]);
    // The moderator is told of success before it sees the occupant go.
    expect(to(out, ALICE).map((s) => s.name)).toEqual(["iq", "presence"]);
  });

  test("a kick without a reason has no <reason/>", () => {
    const f = room();
    const out = f.kick(ALICE, "lobby", "Carol");
    expect(itemOf(to(out, CAROL)[0]!)!.getChild("reason")).toBeUndefined();
  });

  test("the kicked user is gone, but may join again (a kick is not a ban)", () => {
    const f = room();
    f.kick(ALICE, "lobby", "Carol");
    expect(f.say(CAROL, "lobby", "hey")[0]!.attrs.type).toBe("error");
    const again = to(f.join(CAROL, "lobby", "Carol"), CAROL);
    expect(again.some((s) => statuses(s).includes("110"))).toBe(true);
  });

  test("a participant may not kick (forbidden)", () => {
    const f = room();
    const out = f.kick(CAROL, "lobby", "Bob");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: CAROL });
    expect(errorCondition(out[0]!)).toBe("forbidden");
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(true);
  });

  test("a participant may not kick the owner", () => {
    const f = room();
    expect(errorCondition(f.kick(BOB, "lobby", "Alice")[0]!)).toBe("forbidden");
    expect(f.service.room(ROOM)!.occupants.has("Alice")).toBe(true);
  });

  test("an owner cannot be kicked, even by an owner (not-allowed)", () => {
    const f = room();
    f.service.room(ROOM)!.setAffiliation("dave@d.test", "owner", {}, new Turn(0));
    f.join("dave@d.test/x", "lobby", "Dave");
    const out = f.kick(ALICE, "lobby", "Dave");
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("not-allowed");
    expect(errorType(out[0]!)).toBe("cancel");
    expect(errorCondition(f.kick(ALICE, "lobby", "Alice")[0]!)).toBe("not-allowed");
    expect(f.service.room(ROOM)!.occupants.has("Dave")).toBe(true);
  });

  test("someone outside the room cannot kick, and nothing happens", () => {
    const f = room();
    const out = f.kick("mallory@m.test/x", "lobby", "Bob");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs.type).toBe("error");
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(true);
  });

  test("kicking a nick nobody holds: item-not-found", () => {
    const f = room();
    expect(errorCondition(f.kick(ALICE, "lobby", "Nobody")[0]!)).toBe("item-not-found");
  });

  test("a request with several items is all or nothing", () => {
    const f = room();
    const out = f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item nick='Bob' role='none'/><item nick='Nobody' role='none'/></query>`);
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("item-not-found");
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(true);
    const both = f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item nick='Bob' role='none'/><item nick='Carol' role='none'/><item nick='Bob' role='none'/></query>`);
    expect(both.filter((s) => s.name === "iq")).toHaveLength(1);
    expect([...f.service.room(ROOM)!.occupants.keys()]).toEqual(["Alice"]);
  });

  test("kicking several at once: each kicked session hears only of its own removal; the rest of the room hears of all, after the result", () => {
    const f = room();
    f.join("dave@d.test/x", "lobby", "Dave");
    const out = f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item nick='Bob' role='none'/><item nick='Carol' role='none'/></query>`, "k2");
    expect(to(out, CAROL).map((s) => s.attrs.from)).toEqual([`${ROOM}/Carol`]);
    expect(to(out, BOB).map((s) => s.attrs.from)).toEqual([`${ROOM}/Bob`]);
    expect(to(out, "dave@d.test/x").map((s) => s.attrs.from)).toEqual([`${ROOM}/Bob`, `${ROOM}/Carol`]);
    expect(to(out, ALICE).map((s) => s.name)).toEqual(["iq", "presence", "presence"]);
  });

  test("an item naming both a role and an affiliation is bad-request, and nothing happens", () => {
    const f = room();
    const out = f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item nick='Bob' role='none' affiliation='none'/></query>`);
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("bad-request");
    expect(f.service.room(ROOM)!.occupants.size).toBe(3);
  });

  test("a kick without items, or an item without a nick, is bad-request", () => {
    const f = room();
    expect(errorCondition(f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'/>`)[0]!)).toBe("bad-request");
    expect(errorCondition(f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item role='none'/></query>`)[0]!)).toBe("bad-request");
  });

  test("kicking the last other occupant leaves the room to the moderator", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.join(BOB, "lobby", "Bob");
    f.kick(ALICE, "lobby", "Bob");
    expect([...f.service.room(ROOM)!.occupants.keys()]).toEqual(["Alice"]);
  });
});

describe("kicking by the service (HTTP /muc_kick)", () => {
  test("307 with the reason and no actor, to the kicked sessions and the room; no IQ", () => {
    const f = room();
    const r = f.service.room(ROOM)!;
    const out: import("@xmpp/xml").Element[] = [];
    f.service.kick(r, [r.occupants.get("Bob")!], { reason: "policy" }, out);
    expect(out.every((s) => s.name === "presence" && s.attrs.type === "unavailable")).toBe(true);
    expect(recipients(out).sort()).toEqual([ALICE, BOB, BOB2, CAROL].sort());
    for (const s of out) {
      expect(statuses(s)).toContain("307");
      expect(itemOf(s)!.getChildText("reason")).toBe("policy");
      expect(itemOf(s)!.getChild("actor")).toBeUndefined();
    }
    expect(statuses(to(out, BOB)[0]!).sort()).toEqual(["110", "307"]);
    expect(r.occupants.has("Bob")).toBe(false);
  });

  test("kicking the last occupant removes the room", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const r = f.service.room(ROOM)!;
    const out: import("@xmpp/xml").Element[] = [];
    f.service.kick(r, [r.occupants.get("Alice")!], {}, out);
    expect(out).toHaveLength(1);
    expect(f.service.room(ROOM)).toBeUndefined();
  });

  test("an occupant that already left is not kicked twice", () => {
    const f = room();
    const r = f.service.room(ROOM)!;
    const carol = r.occupants.get("Carol")!;
    f.leave(CAROL, "lobby", "Carol");
    const out: import("@xmpp/xml").Element[] = [];
    f.service.kick(r, [carol], {}, out);
    expect(out).toEqual([]);
  });
});
