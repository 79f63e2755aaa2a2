import { describe, expect, test } from "bun:test";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { DOMAIN, MUC_ADMIN, errorCondition, errorType, fixture, itemOf, lobby, statuses, to, type Fixture } from "./fixture.ts";

/** XEP-0045 §9.3–§9.5, §10.3–§10.8: affiliations set and listed over muc#admin. */

const ALICE = "alice@a.test/phone"; // owner (created the room)
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/home";
const ROOM = `lobby@${DOMAIN}`;

const set = (f: Fixture, from: string, items: string, id = "a1") => f.iq(from, ROOM, "set", `<query xmlns='${MUC_ADMIN}'>${items}</query>`, id);
const get = (f: Fixture, from: string, item: string) => f.iq(from, ROOM, "get", `<query xmlns='${MUC_ADMIN}'>${item}</query>`);
const listOf = (out: ReturnType<Fixture["send"]>): Record<string, string | undefined>[] =>
  out[0]!.getChild("query", MUC_ADMIN)!.getChildren("item").map((i) => ({ ...i.attrs, reason: i.getChildText("reason") ?? undefined }));
const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"], [CAROL, "Carol"]);
const affiliation = (f: Fixture, jid: string) => f.service.room(ROOM)!.affiliationOf(jid);

describe("granting and revoking affiliations", () => {
  test("an owner makes a user a member: result, then everyone sees the new affiliation in one presence", () => {
    const f = room();
    const out = set(f, ALICE, "<item affiliation='member' jid='bob@b.test'><reason>Worthy</reason></item>", "m1");
    expect(out[0]!.attrs).toEqual({ type: "result", from: ROOM, to: ALICE, id: "m1" });
    const notices = out.slice(1);
    expect(notices.map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB, CAROL].sort());
    for (const notice of notices) {
      expect(notice.attrs.from).toBe(`${ROOM}/Bob`);
      expect(notice.attrs.type).toBeUndefined();
      expect(itemOf(notice)!.attrs).toMatchObject({ affiliation: "member", role: "participant" });
    }
    expect(statuses(to(out, BOB)[0]!)).toEqual(["110"]);
    expect(affiliation(f, "bob@b.test")).toBe("member");
  });

  test("a full JID stands for its bare JID (§10.3)", () => {
    const f = room();
    set(f, ALICE, `<item affiliation='member' jid='${BOB}'/>`);
    expect(affiliation(f, "bob@b.test")).toBe("member");
    expect([...f.service.room(ROOM)!.affiliations.keys()]).not.toContain(BOB);
  });

  test("an occupant made admin becomes a moderator in the same presence, and sees real JIDs from then on", () => {
    const f = room();
    const out = set(f, ALICE, "<item affiliation='admin' jid='carol@c.test'/>");
    const mine = to(out, CAROL);
    expect(mine.filter((s) => s.attrs.from === `${ROOM}/Carol`)).toHaveLength(1);
    expect(itemOf(mine[0]!)!.attrs).toMatchObject({ affiliation: "admin", role: "moderator", jid: CAROL });
    expect(mine.slice(1).map((s) => itemOf(s)!.attrs.jid).sort()).toEqual([ALICE, BOB].sort());
    expect(f.service.room(ROOM)!.occupants.get("Carol")!.role).toBe("moderator");
  });

  test("an admin demoted to none stops moderating; one made member keeps a role granted by hand", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='admin' jid='carol@c.test'/>");
    set(f, ALICE, "<item affiliation='none' jid='carol@c.test'/>");
    expect(f.service.room(ROOM)!.occupants.get("Carol")!.role).toBe("participant");
    set(f, ALICE, "<item nick='Bob' role='moderator'/>");
    set(f, ALICE, "<item affiliation='member' jid='bob@b.test'/>");
    expect(f.service.room(ROOM)!.occupants.get("Bob")!.role).toBe("moderator");
  });

  test("a user who is not in the room can be given an affiliation; the room shows nothing", () => {
    const f = room();
    const out = set(f, ALICE, "<item affiliation='admin' jid='dave@d.test'/>");
    expect(out).toHaveLength(1);
    expect(affiliation(f, "dave@d.test")).toBe("admin");
    const joined = to(f.join("dave@d.test/x", "lobby", "Dave"), "dave@d.test/x").find((s) => statuses(s).includes("110"))!;
    expect(itemOf(joined)!.attrs).toMatchObject({ affiliation: "admin", role: "moderator" });
  });

  test("several items in one request are applied together", () => {
    const f = room();
    const out = set(f, ALICE, "<item affiliation='member' jid='bob@b.test'/><item affiliation='admin' jid='dave@d.test'/><item affiliation='owner' jid='erin@e.test'/>");
    expect(out[0]!.attrs.type).toBe("result");
    expect([affiliation(f, "bob@b.test"), affiliation(f, "dave@d.test"), affiliation(f, "erin@e.test")]).toEqual(["member", "admin", "owner"]);
  });

  test("a request with one refused item changes nothing (all or nothing)", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='admin' jid='carol@c.test'/>");
    // Carol is an admin: she may make members, not owners.
    const out = set(f, CAROL, "<item affiliation='member' jid='bob@b.test'/><item affiliation='owner' jid='dave@d.test'/>");
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("forbidden");
    expect(affiliation(f, "bob@b.test")).toBe("none");
    expect(affiliation(f, "dave@d.test")).toBe("none");
  });

  test("the only owner cannot give up ownership (conflict); with another owner it may", () => {
    const f = room();
    const out = set(f, ALICE, "<item affiliation='admin' jid='alice@a.test'/>");
    expect(errorCondition(out[0]!)).toBe("conflict");
    expect(errorType(out[0]!)).toBe("cancel");
    expect(affiliation(f, "alice@a.test")).toBe("owner");
    // Handing over and stepping down in one request leaves an owner: allowed.
    expect(set(f, ALICE, "<item affiliation='owner' jid='bob@b.test'/><item affiliation='member' jid='alice@a.test'/>")[0]!.attrs.type).toBe("result");
    expect([affiliation(f, "alice@a.test"), affiliation(f, "bob@b.test")]).toEqual(["member", "owner"]);
  });

  test("owners removing every owner at once get conflict", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='owner' jid='bob@b.test'/>");
    const out = set(f, ALICE, "<item affiliation='none' jid='bob@b.test'/><item affiliation='none' jid='alice@a.test'/>");
    expect(errorCondition(out[0]!)).toBe("conflict");
    expect(affiliation(f, "bob@b.test")).toBe("owner");
  });

  test("admins manage members below them; owner and admin status is for owners (§5.2)", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='admin' jid='carol@c.test'/><item affiliation='admin' jid='dave@d.test'/>");
    expect(set(f, CAROL, "<item affiliation='member' jid='bob@b.test'/>")[0]!.attrs.type).toBe("result");
    expect(set(f, CAROL, "<item affiliation='none' jid='bob@b.test'/>")[0]!.attrs.type).toBe("result");
    expect(errorCondition(set(f, CAROL, "<item affiliation='admin' jid='bob@b.test'/>")[0]!)).toBe("forbidden");
    expect(errorCondition(set(f, CAROL, "<item affiliation='none' jid='dave@d.test'/>")[0]!)).toBe("forbidden");
    expect(errorCondition(set(f, CAROL, "<item affiliation='member' jid='alice@a.test'/>")[0]!)).toBe("forbidden");
    expect(affiliation(f, "dave@d.test")).toBe("admin");
  });

  test("participants and strangers may not change affiliations (forbidden)", () => {
    const f = room();
    expect(errorCondition(set(f, BOB, "<item affiliation='member' jid='carol@c.test'/>")[0]!)).toBe("forbidden");
    expect(errorCondition(set(f, "mallory@m.test/x", "<item affiliation='member' jid='mallory@m.test'/>")[0]!)).toBe("forbidden");
    expect(affiliation(f, "carol@c.test")).toBe("none");
  });

  test("an owner not in the room still manages affiliations (§9: by bare JID)", () => {
    const f = room();
    f.leave(ALICE, "lobby", "Alice");
    expect(set(f, "alice@a.test/laptop", "<item affiliation='member' jid='bob@b.test'/>")[0]!.attrs.type).toBe("result");
    expect(affiliation(f, "bob@b.test")).toBe("member");
  });

  test("malformed items: bad-request or jid-malformed, nothing applied", () => {
    const f = room();
    expect(errorCondition(set(f, ALICE, "<item affiliation='member'/>")[0]!)).toBe("bad-request");
    expect(errorCondition(set(f, ALICE, "<item affiliation='boss' jid='bob@b.test'/>")[0]!)).toBe("bad-request");
    expect(errorCondition(set(f, ALICE, "<item jid='bob@b.test'/>")[0]!)).toBe("bad-request");
    expect(errorCondition(set(f, ALICE, "<item affiliation='member' jid='@@'/>")[0]!)).toBe("jid-malformed");
    expect(affiliation(f, "bob@b.test")).toBe("none");
  });

  test("an affiliation item may name an occupant by nick instead of JID", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='member' nick='Carol'/>");
    expect(affiliation(f, "carol@c.test")).toBe("member");
    expect(errorCondition(set(f, ALICE, "<item affiliation='member' nick='Nobody'/>")[0]!)).toBe("item-not-found");
  });

  test("granting membership with a nick reserves it (§9.4); an empty nick releases it (§9.5)", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='member' jid='dave@d.test' nick='Dave'/>");
    expect(f.service.room(ROOM)!.registrationOf("dave@d.test")).toBe("Dave");
    expect(errorCondition(f.join("eve@e.test/x", "lobby", "Dave")[0]!)).toBe("conflict");
    // Someone else's reserved nick cannot be given.
    expect(errorCondition(set(f, ALICE, "<item affiliation='member' jid='erin@e.test' nick='Dave'/>")[0]!)).toBe("conflict");
    set(f, ALICE, "<item affiliation='member' jid='dave@d.test' nick=''/>");
    expect(f.service.room(ROOM)!.registrationOf("dave@d.test")).toBeUndefined();
    expect(affiliation(f, "dave@d.test")).toBe("member");
  });
});

describe("affiliation lists", () => {
  test("each list holds its JIDs with the reasons kept, and nothing else", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='member' jid='bob@b.test'><reason>Worthy</reason></item><item affiliation='member' jid='dave@d.test'/><item affiliation='admin' jid='carol@c.test'/><item affiliation='outcast' jid='mallory@m.test'><reason>Spam</reason></item>");
    const sorted = (xs: Record<string, string | undefined>[]) => [...xs].sort((a, b) => a.jid!.localeCompare(b.jid!));
    expect(sorted(listOf(get(f, ALICE, "<item affiliation='member'/>")))).toEqual([
      { affiliation: "member", jid: "bob@b.test", reason: "Worthy" },
      { affiliation: "member", jid: "dave@d.test", reason: undefined },
    ]);
    expect(listOf(get(f, ALICE, "<item affiliation='outcast'/>"))).toEqual([{ affiliation: "outcast", jid: "mallory@m.test", reason: "Spam" }]);
    expect(listOf(get(f, ALICE, "<item affiliation='admin'/>"))).toEqual([{ affiliation: "admin", jid: "carol@c.test", reason: undefined }]);
    expect(listOf(get(f, ALICE, "<item affiliation='owner'/>"))).toEqual([{ affiliation: "owner", jid: "alice@a.test", reason: undefined }]);
  });

  test("a member's list entry names its reserved nick", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='member' jid='dave@d.test' nick='Dave'/>");
    expect(listOf(get(f, ALICE, "<item affiliation='member'/>"))).toEqual([{ affiliation: "member", jid: "dave@d.test", nick: "Dave", reason: undefined }]);
  });

  test("admins see the member and ban lists, only owners the owner and admin lists, participants none", () => {
    const f = room();
    set(f, ALICE, "<item affiliation='admin' jid='carol@c.test'/><item affiliation='member' jid='bob@b.test'/>");
    expect(get(f, CAROL, "<item affiliation='member'/>")[0]!.attrs.type).toBe("result");
    expect(get(f, CAROL, "<item affiliation='outcast'/>")[0]!.attrs.type).toBe("result");
    expect(errorCondition(get(f, CAROL, "<item affiliation='owner'/>")[0]!)).toBe("forbidden");
    expect(errorCondition(get(f, CAROL, "<item affiliation='admin'/>")[0]!)).toBe("forbidden");
    // §5.2 ***: semi-anonymous rooms do not show members the member list.
    expect(errorCondition(get(f, BOB, "<item affiliation='member'/>")[0]!)).toBe("forbidden");
    expect(errorCondition(get(f, "mallory@m.test/x", "<item affiliation='outcast'/>")[0]!)).toBe("forbidden");
  });

  test("a list request names one affiliation or one role", () => {
    const f = room();
    expect(errorCondition(get(f, ALICE, "<item affiliation='none'/>")[0]!)).toBe("bad-request");
    expect(errorCondition(get(f, ALICE, "")[0]!)).toBe("bad-request");
    expect(errorCondition(get(f, ALICE, "<item affiliation='member' role='participant'/>")[0]!)).toBe("bad-request");
  });
});

describe("persistence", () => {
  test("affiliations and their reasons survive a restart, and roles given with them are kept", () => {
    const f = fixture({ storage: new MemoryStorage() });
    f.join(ALICE, "lobby", "Alice");
    f.join(BOB, "lobby", "Bob");
    set(f, ALICE, "<item affiliation='admin' jid='bob@b.test'><reason>Trusted</reason></item><item affiliation='outcast' jid='mallory@m.test'><reason>Spam</reason></item>");
    f.storage.commit();
    f.restart();
    expect(listOf(get(f, ALICE, "<item affiliation='outcast'/>"))).toEqual([{ affiliation: "outcast", jid: "mallory@m.test", reason: "Spam" }]);
    expect(f.service.room(ROOM)!.affiliations.get("bob@b.test")).toEqual({ affiliation: "admin", reason: "Trusted" });
    expect(f.service.room(ROOM)!.occupants.get("Bob")!.role).toBe("moderator");
    expect(errorCondition(f.join("mallory@m.test/x", "lobby", "M")[0]!)).toBe("forbidden");
  });
});
