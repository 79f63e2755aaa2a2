import { describe, expect, test } from "bun:test";
import { DOMAIN, MUC_ADMIN, errorCondition, errorType, itemOf, lobby, statuses, to, type Fixture } from "./fixture.ts";

/** XEP-0045 §8.3–§8.5 voice, §9.6–§9.8 moderator status, with the §5.1 rules. */

const ALICE = "alice@a.test/phone"; // owner
const ADA = "ada@a.test/pc"; // admin
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/home";
const ROOM = `lobby@${DOMAIN}`;

const set = (f: Fixture, from: string, items: string, id = "r1") => f.iq(from, ROOM, "set", `<query xmlns='${MUC_ADMIN}'>${items}</query>`, id);
const get = (f: Fixture, from: string, item: string) => f.iq(from, ROOM, "get", `<query xmlns='${MUC_ADMIN}'>${item}</query>`);
const roleOf = (f: Fixture, nick: string) => f.service.room(ROOM)!.occupants.get(nick)?.role;

function room(): Fixture {
  const f = lobby([ALICE, "Alice"], [BOB, "Bob"], [CAROL, "Carol"]);
  set(f, ALICE, "<item affiliation='admin' jid='ada@a.test'/>");
  f.join(ADA, "lobby", "Ada");
  return f;
}

describe("voice", () => {
  test("a moderator revokes voice: result, then everyone sees the visitor role with the reason and actor", () => {
    const f = room();
    const out = set(f, ALICE, "<item nick='Bob' role='visitor'><reason>Calm down</reason></item>", "v1");
    expect(out[0]!.attrs).toEqual({ type: "result", from: ROOM, to: ALICE, id: "v1" });
    const notices = out.slice(1);
    expect(notices.map((s) => s.attrs.to).sort()).toEqual([ADA, ALICE, BOB, CAROL].sort());
    for (const n of notices) {
      expect(n.attrs.from).toBe(`${ROOM}/Bob`);
      expect(itemOf(n)!.attrs.role).toBe("visitor");
      expect(itemOf(n)!.getChildText("reason")).toBe("Calm down");
    }
    expect(statuses(to(out, BOB)[0]!)).toEqual(["110"]);
    expect(roleOf(f, "Bob")).toBe("visitor");
  });

  test("a visitor's groupchat message is forbidden and reaches nobody; voice granted back, it speaks", () => {
    const f = room();
    set(f, ALICE, "<item nick='Bob' role='visitor'/>");
    const refused = f.say(BOB, "lobby", "hello?");
    expect(refused).toHaveLength(1);
    expect(errorCondition(refused[0]!)).toBe("forbidden");
    set(f, ALICE, "<item nick='Bob' role='participant'/>");
    expect(roleOf(f, "Bob")).toBe("participant");
    expect(to(f.say(BOB, "lobby", "thanks"), CAROL)).toHaveLength(1);
  });

  test("nobody revokes the voice of an admin or owner (not-allowed)", () => {
    const f = room();
    for (const [actor, nick] of [[ALICE, "Ada"], [ADA, "Alice"], [ALICE, "Alice"]] as const) {
      const out = set(f, actor, `<item nick='${nick}' role='visitor'/>`);
      expect(errorCondition(out[0]!)).toBe("not-allowed");
      expect(errorType(out[0]!)).toBe("cancel");
    }
    expect(roleOf(f, "Ada")).toBe("moderator");
  });

  test("a moderator without affiliation cannot revoke voice from a member (at or above its level)", () => {
    const f = room();
    set(f, ALICE, "<item nick='Carol' role='moderator'/><item affiliation='member' jid='bob@b.test'/>");
    expect(errorCondition(set(f, CAROL, "<item nick='Bob' role='visitor'/>")[0]!)).toBe("not-allowed");
    expect(roleOf(f, "Bob")).toBe("participant");
  });

  test("participants may not change roles (forbidden); someone outside the room not at all", () => {
    const f = room();
    expect(errorCondition(set(f, BOB, "<item nick='Carol' role='visitor'/>")[0]!)).toBe("forbidden");
    expect(errorCondition(set(f, BOB, "<item nick='Bob' role='moderator'/>")[0]!)).toBe("forbidden");
    expect(set(f, "mallory@m.test/x", "<item nick='Carol' role='visitor'/>")[0]!.attrs.type).toBe("error");
    expect(roleOf(f, "Carol")).toBe("participant");
  });

  test("the voice list (§8.5) shows the participants with nick, role, affiliation and real JID, to moderators only", () => {
    const f = room();
    set(f, ALICE, "<item nick='Carol' role='visitor'/>");
    const items = get(f, ALICE, "<item role='participant'/>")[0]!.getChild("query", MUC_ADMIN)!.getChildren("item");
    expect(items.map((i) => i.attrs)).toEqual([{ affiliation: "none", jid: BOB, nick: "Bob", role: "participant" }]);
    expect(errorCondition(get(f, BOB, "<item role='participant'/>")[0]!)).toBe("forbidden");
    expect(errorCondition(get(f, ALICE, "<item role='none'/>")[0]!)).toBe("bad-request");
  });

  test("several role items in one request are all or nothing", () => {
    const f = room();
    const out = set(f, ALICE, "<item nick='Bob' role='visitor'/><item nick='Ada' role='visitor'/>");
    expect(errorCondition(out[0]!)).toBe("not-allowed");
    expect(roleOf(f, "Bob")).toBe("participant");
    expect(set(f, ALICE, "<item nick='Bob' role='visitor'/><item nick='Carol' role='visitor'/>")[0]!.attrs.type).toBe("result");
    expect([roleOf(f, "Bob"), roleOf(f, "Carol")]).toEqual(["visitor", "visitor"]);
  });

  test("an unknown role or nick", () => {
    const f = room();
    expect(errorCondition(set(f, ALICE, "<item nick='Bob' role='king'/>")[0]!)).toBe("bad-request");
    expect(errorCondition(set(f, ALICE, "<item nick='Nobody' role='visitor'/>")[0]!)).toBe("item-not-found");
  });
});

describe("moderator status", () => {
  test("an admin grants and revokes moderator; the newly moderating occupant sees real JIDs in its own presence", () => {
    const f = room();
    const out = set(f, ADA, "<item nick='Bob' role='moderator'/>");
    expect(out[0]!.attrs.type).toBe("result");
    expect(itemOf(to(out, BOB)[0]!)!.attrs).toMatchObject({ role: "moderator", jid: BOB });
    expect(itemOf(to(out, CAROL)[0]!)!.attrs.jid).toBeUndefined();
    expect(set(f, ADA, "<item nick='Bob' role='participant'/>")[0]!.attrs.type).toBe("result");
    expect(roleOf(f, "Bob")).toBe("participant");
  });

  test("a moderator who is not an admin may neither grant nor revoke moderator (forbidden)", () => {
    const f = room();
    set(f, ALICE, "<item nick='Carol' role='moderator'/>");
    expect(errorCondition(set(f, CAROL, "<item nick='Bob' role='moderator'/>")[0]!)).toBe("forbidden");
    set(f, ALICE, "<item nick='Bob' role='moderator'/>");
    expect(errorCondition(set(f, CAROL, "<item nick='Bob' role='participant'/>")[0]!)).toBe("forbidden");
    expect(roleOf(f, "Bob")).toBe("moderator");
  });

  test("moderator status is not revoked from an admin or owner, even by an owner (not-allowed, §9.7)", () => {
    const f = room();
    expect(errorCondition(set(f, ADA, "<item nick='Alice' role='participant'/>")[0]!)).toBe("not-allowed");
    expect(errorCondition(set(f, ALICE, "<item nick='Ada' role='participant'/>")[0]!)).toBe("not-allowed");
  });

  test("the moderator list (§9.8) is for admins and owners", () => {
    const f = room();
    set(f, ALICE, "<item nick='Carol' role='moderator'/>");
    const nicks = get(f, ADA, "<item role='moderator'/>")[0]!.getChild("query", MUC_ADMIN)!.getChildren("item").map((i) => i.attrs.nick).sort();
    expect(nicks).toEqual(["Ada", "Alice", "Carol"]);
    expect(errorCondition(get(f, CAROL, "<item role='moderator'/>")[0]!)).toBe("forbidden");
  });
});

describe("kicks on the same table", () => {
  test("a moderator without affiliation cannot kick a member (§8.2: not by a lower affiliation)", () => {
    const f = room();
    set(f, ALICE, "<item nick='Carol' role='moderator'/><item affiliation='member' jid='bob@b.test'/>");
    expect(errorCondition(f.kick(CAROL, "lobby", "Bob")[0]!)).toBe("not-allowed");
    expect(errorCondition(f.kick(ADA, "lobby", "Alice")[0]!)).toBe("not-allowed");
    expect(f.kick(ADA, "lobby", "Bob")[0]!.attrs.type).toBe("unavailable");
  });
});

describe("a new moderator sees real JIDs (§4.2 semi-anonymous rooms)", () => {
  test("made moderator, it gets everyone else's presence again with their real JIDs, after its own", () => {
    const f = room();
    const out = set(f, ALICE, "<item nick='Bob' role='moderator'/>");
    const bob = to(out, BOB);
    expect(bob[0]!.attrs.from).toBe(`${ROOM}/Bob`);
    const others = bob.slice(1);
    expect(others.map((s) => s.attrs.from).sort()).toEqual([`${ROOM}/Ada`, `${ROOM}/Alice`, `${ROOM}/Carol`]);
    const jids = Object.fromEntries(others.map((s) => [s.attrs.from, itemOf(s)!.attrs.jid]));
    expect(jids).toEqual({ [`${ROOM}/Ada`]: ADA, [`${ROOM}/Alice`]: ALICE, [`${ROOM}/Carol`]: CAROL });
    // Nobody else is told anything more.
    expect(to(out, CAROL)).toHaveLength(1);
  });

  test("made admin (and so moderator), the same", () => {
    const f = room();
    const out = set(f, ALICE, "<item affiliation='admin' jid='carol@c.test'/>");
    expect(to(out, CAROL).slice(1).map((s) => itemOf(s)!.attrs.jid).sort()).toEqual([ADA, ALICE, BOB].sort());
    // A participant made a visitor learns no JIDs.
    expect(to(set(f, ALICE, "<item nick='Bob' role='visitor'/>"), BOB)).toHaveLength(1);
  });
});
