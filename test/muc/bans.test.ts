import { describe, expect, test } from "bun:test";
import { DOMAIN, MUC_ADMIN, REGISTER, DATA, MUC_REGISTER, errorCondition, itemOf, lobby, statuses, to, xml, type Fixture } from "./fixture.ts";

/** XEP-0045 §9.1–§9.2 bans: outcasts are removed with 301 and may not come back. */

const ALICE = "alice@a.test/phone"; // owner
const BOB = "bob@b.test/pc";
const BOB2 = "bob@b.test/phone";
const CAROL = "carol@c.test/home";
const ROOM = `lobby@${DOMAIN}`;

const set = (f: Fixture, from: string, items: string, id = "b1") => f.iq(from, ROOM, "set", `<query xmlns='${MUC_ADMIN}'>${items}</query>`, id);
const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"], [BOB2, "Bob"], [CAROL, "Carol"]);
const ban = (f: Fixture, jid: string, reason = "Treason", from = ALICE) => set(f, from, `<item affiliation='outcast' jid='${jid}'><reason>${reason}</reason></item>`);

describe("banning a user who is in the room", () => {
  test("every session of the outcast gets unavailable with 301 + 110, outcast/none, the actor and the reason", () => {
    const f = room();
    const out = ban(f, "bob@b.test");
    for (const session of [BOB, BOB2]) {
      const mine = to(out, session);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.attrs).toMatchObject({ type: "unavailable", from: `${ROOM}/Bob` });
      expect(statuses(mine[0]!).sort()).toEqual(["110", "301"]);
      const item = itemOf(mine[0]!)!;
      expect(item.attrs).toMatchObject({ affiliation: "outcast", role: "none" });
      expect(item.getChildText("reason")).toBe("Treason");
      expect(item.getChild("actor")!.attrs.nick).toBe("Alice");
    }
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
  });

  test("the order is §9.1's: the outcast, the admin's result, then the rest of the room with 301 — never an available presence", () => {
    const f = room();
    const out = ban(f, "bob@b.test");
    const kind = (s: (typeof out)[number]) => (s.name === "iq" ? "result" : s.attrs.to === BOB || s.attrs.to === BOB2 ? "banned" : "rest");
    expect(out.map(kind)).toEqual(["banned", "banned", "result", "rest", "rest"]);
    for (const s of out.filter((s) => s.name === "presence")) {
      expect(s.attrs.type).toBe("unavailable");
      expect(statuses(s)).toContain("301");
    }
    expect(itemOf(to(out, CAROL)[0]!)!.attrs.jid).toBeUndefined(); // semi-anonymous
  });

  test("banning someone who is not in the room sends nothing but the result", () => {
    const f = room();
    const out = ban(f, "mallory@m.test");
    expect(out.map((s) => s.name)).toEqual(["iq"]);
    expect(f.service.room(ROOM)!.affiliationOf("mallory@m.test")).toBe("outcast");
  });

  test("a ban releases the outcast's reserved nick (§9.1)", () => {
    const f = room();
    const form = `<x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_REGISTER}</value></field><field var='muc#register_roomnick'><value>Bobby</value></field></x>`;
    f.iq(BOB, ROOM, "set", `<query xmlns='${REGISTER}'>${form}</query>`);
    expect(f.service.room(ROOM)!.registrationOf("bob@b.test")).toBe("Bobby");
    ban(f, "bob@b.test");
    expect(f.service.room(ROOM)!.registrationOf("bob@b.test")).toBeUndefined();
  });

  test("admins and owners cannot ban themselves (conflict); admins cannot ban owners or admins (not-allowed)", () => {
    const f = room();
    expect(errorCondition(ban(f, "alice@a.test")[0]!)).toBe("conflict");
    set(f, ALICE, "<item affiliation='admin' jid='carol@c.test'/><item affiliation='admin' jid='dave@d.test'/>");
    expect(errorCondition(ban(f, "carol@c.test", "x", CAROL)[0]!)).toBe("conflict");
    expect(errorCondition(ban(f, "alice@a.test", "x", CAROL)[0]!)).toBe("not-allowed");
    expect(errorCondition(ban(f, "dave@d.test", "x", CAROL)[0]!)).toBe("not-allowed");
    expect(f.service.room(ROOM)!.occupants.has("Alice")).toBe(true);
  });

  test("a participant's ban attempt is forbidden and removes nobody", () => {
    const f = room();
    const out = ban(f, "carol@c.test", "x", BOB);
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("forbidden");
    expect(f.service.room(ROOM)!.occupants.has("Carol")).toBe(true);
  });
});

describe("an outcast's joins", () => {
  test("are refused with forbidden, even under a nick that is taken (it learns nothing of the occupants)", () => {
    const f = room();
    ban(f, "bob@b.test");
    for (const nick of ["Bob", "Carol"]) {
      const out = f.join(BOB, "lobby", nick);
      expect(out).toHaveLength(1);
      expect(errorCondition(out[0]!)).toBe("forbidden");
      expect(out[0]!.getChild("error")!.attrs.type).toBe("auth");
    }
  });

  test("ask the join gate nothing: entryRequest has no question for them", () => {
    const f = room();
    const join = xml(`<presence from='dave@d.test/x' to='${ROOM}/Dave'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    expect(f.service.entryRequest(join)?.kind).toBe("join");
    ban(f, "dave@d.test");
    expect(f.service.entryRequest(join)).toBeUndefined();
    // Anyone else's join still goes to the gate.
    expect(f.service.entryRequest(xml(`<presence from='erin@e.test/x' to='${ROOM}/Erin'/>`))?.kind).toBe("join");
  });

  test("and registrations are forbidden (§5.2)", () => {
    const f = room();
    ban(f, "mallory@m.test");
    const form = `<x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_REGISTER}</value></field><field var='muc#register_roomnick'><value>M</value></field></x>`;
    expect(errorCondition(f.iq("mallory@m.test/x", ROOM, "set", `<query xmlns='${REGISTER}'>${form}</query>`)[0]!)).toBe("forbidden");
  });

  test("succeed again once the ban is lifted", () => {
    const f = room();
    ban(f, "bob@b.test");
    set(f, ALICE, "<item affiliation='none' jid='bob@b.test'/>");
    expect(to(f.join(BOB, "lobby", "Bob"), BOB).some((s) => statuses(s).includes("110"))).toBe(true);
  });
});

describe("banning a domain (§9.2)", () => {
  test("removes and refuses every user of that domain, but not users with an affiliation of their own", () => {
    const f = lobby([ALICE, "Alice"], ["eve@evil.test/1", "Eve"], ["ed@evil.test/2", "Ed"], ["max@evil.test/3", "Max"], [CAROL, "Carol"]);
    set(f, ALICE, "<item affiliation='member' jid='max@evil.test'/>");
    const out = ban(f, "evil.test", "Spam server");
    const r = f.service.room(ROOM)!;
    expect([...r.occupants.keys()].sort()).toEqual(["Alice", "Carol", "Max"]);
    expect(statuses(to(out, "eve@evil.test/1")[0]!).sort()).toEqual(["110", "301"]);
    expect(errorCondition(f.join("newcomer@evil.test/x", "lobby", "New")[0]!)).toBe("forbidden");
    expect(errorCondition(f.join("evil.test", "lobby", "Server")[0]!)).toBe("forbidden");
    // Users of other domains, and of subdomains, are not affected.
    expect(r.affiliationOf("x@sub.evil.test")).toBe("none");
    set(f, ALICE, "<item affiliation='none' jid='evil.test'/>");
    expect(r.affiliationOf("eve@evil.test")).toBe("none");
    expect(to(f.join("eve@evil.test/1", "lobby", "Eve"), "eve@evil.test/1").some((s) => statuses(s).includes("110"))).toBe(true);
  });

  test("a domain ban in a list and its own reason", () => {
    const f = room();
    ban(f, "evil.test", "Spam server");
    const list = f.iq(ALICE, ROOM, "get", `<query xmlns='${MUC_ADMIN}'><item affiliation='outcast'/></query>`)[0]!.getChild("query")!.getChildren("item");
    expect(list.map((i) => [i.attrs.jid, i.getChildText("reason")])).toEqual([["evil.test", "Spam server"]]);
  });
});
