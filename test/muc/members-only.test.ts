import { describe, expect, test } from "bun:test";
import type { Affiliation } from "../../src/muc/occupant.ts";
import { Turn } from "../../src/muc/turn.ts";
import { DATA, DISCO_INFO, DOMAIN, MUC_USER, REGISTER, errorCondition, fixture, itemOf, statuses, to, xml, type Fixture } from "./fixture.ts";

/** XEP-0045 §7.2.5 members-only rooms, §9.4 (321), §10.2 (322), §7.8 invitations into them. */

const OWNER = "owner@a.test/phone";
const MEMBER = "member@b.test/pc";
const STRANGER = "stranger@c.test/x";
const ROOM = `club@${DOMAIN}`;

/** Set an affiliation as the room's own method does (muc#admin is another feature's); returns what was sent. */
function grant(f: Fixture, bare: string, affiliation: Affiliation): ReturnType<Fixture["send"]> {
  const turn = new Turn(f.now());
  f.service.room(ROOM)!.setAffiliation(bare, affiliation, {}, turn);
  return turn.out;
}

function membersOnlyClub(): Fixture {
  const f = fixture();
  f.join(OWNER, "club", "Owner");
  expect(f.configure(OWNER, "club", { "muc#roomconfig_membersonly": "1" })[0]!.attrs.type).toBe("result");
  return f;
}

const features = (f: Fixture, from: string) =>
  f.iq(from, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChildren("feature").map((x) => x.attrs.var);

const invite = (from: string, invitee: string) => `<message from='${from}' to='${ROOM}'><x xmlns='${MUC_USER}'><invite to='${invitee}'/></x></message>`;

describe("members-only rooms", () => {
  test("a user who is not a member gets registration-required and does not enter; disco says muc_membersonly", () => {
    const f = membersOnlyClub();
    const out = f.join(STRANGER, "club", "Stranger");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs.to).toBe(STRANGER);
    expect(errorCondition(out[0]!)).toBe("registration-required");
    expect(out[0]!.getChild("error")!.attrs.type).toBe("auth");
    expect(f.service.room(ROOM)!.occupants.has("Stranger")).toBe(false);
    expect(features(f, STRANGER)).toContain("muc_membersonly");
    expect(features(f, STRANGER)).not.toContain("muc_open");
  });

  test("members, admins and owners enter", () => {
    const f = membersOnlyClub();
    grant(f, "member@b.test", "member");
    grant(f, "admin@d.test", "admin");
    expect(statuses(to(f.join(MEMBER, "club", "Member"), MEMBER).at(-2)!)).toContain("110");
    expect(f.join("admin@d.test/x", "club", "Admin").some((s) => s.name === "presence" && statuses(s).includes("110"))).toBe(true);
    expect([...f.service.room(ROOM)!.occupants.keys()].sort()).toEqual(["Admin", "Member", "Owner"]);
  });

  test("an open room admits anyone and says muc_open", () => {
    const f = fixture();
    f.join(OWNER, "club", "Owner");
    expect(f.join(STRANGER, "club", "Stranger").some((s) => statuses(s).includes("110"))).toBe(true);
    expect(features(f, STRANGER)).toContain("muc_open");
  });

  test("a member whose affiliation drops to none is removed with 321, everyone told", () => {
    const f = membersOnlyClub();
    grant(f, "member@b.test", "member");
    f.join(MEMBER, "club", "Member");
    const out = grant(f, "member@b.test", "none");
    // One presence each: the removal, not the new affiliation first (§9.4).
    expect(out.map((s) => [s.attrs.to, s.attrs.type])).toEqual(expect.arrayContaining([[MEMBER, "unavailable"], [OWNER, "unavailable"]]));
    expect(out).toHaveLength(2);
    const gone = out.filter((s) => s.attrs.type === "unavailable");
    expect(gone.map((s) => s.attrs.to).sort()).toEqual([MEMBER, OWNER].sort());
    for (const p of gone) {
      expect(p.attrs.from).toBe(`${ROOM}/Member`);
      expect(statuses(p)).toContain("321");
      expect(itemOf(p)!.attrs).toMatchObject({ affiliation: "none", role: "none" });
    }
    expect(f.service.room(ROOM)!.occupants.has("Member")).toBe(false);
  });

  test("in an open room an affiliation dropped to none removes nobody", () => {
    const f = fixture();
    f.join(OWNER, "club", "Owner");
    grant(f, "member@b.test", "member");
    f.join(MEMBER, "club", "Member");
    expect(grant(f, "member@b.test", "none").some((s) => s.attrs.type === "unavailable")).toBe(false);
    expect(f.service.room(ROOM)!.occupants.has("Member")).toBe(true);
  });

  test("a room that becomes members-only removes the non-members inside with 322: the removed first, then the owner's result, then the room", () => {
    const f = fixture();
    f.join(OWNER, "club", "Owner");
    grant(f, "member@b.test", "member");
    f.join(MEMBER, "club", "Member");
    f.join(STRANGER, "club", "Stranger");
    const out = f.configure(OWNER, "club", { "muc#roomconfig_membersonly": "1" });
    expect(out[0]!.attrs).toMatchObject({ to: STRANGER, type: "unavailable" });
    expect(out[1]!.name).toBe("iq");
    const gone = out.filter((s) => s.attrs.type === "unavailable");
    expect(gone.map((s) => s.attrs.to).sort()).toEqual([MEMBER, OWNER, STRANGER].sort());
    for (const p of gone) {
      expect(p.attrs.from).toBe(`${ROOM}/Stranger`);
      expect(statuses(p)).toContain("322");
    }
    expect([...f.service.room(ROOM)!.occupants.keys()].sort()).toEqual(["Member", "Owner"]);
  });

  test("the refusal is decided before the HTTP gate: entryRequest has no question for a non-member, handle refuses it", () => {
    const f = membersOnlyClub();
    const join = `<presence from='${STRANGER}' to='${ROOM}/Stranger'><x xmlns='http://jabber.org/protocol/muc'/></presence>`;
    expect(f.service.entryRequest(xml(join))).toBeUndefined();
    expect(errorCondition(f.send(join)[0]!)).toBe("registration-required");
    grant(f, "member@b.test", "member");
    expect(f.service.entryRequest(xml(join.replaceAll(STRANGER, MEMBER)))?.kind).toBe("join");
  });

  test("an outcast gets forbidden: the ban check answers first", () => {
    const f = membersOnlyClub();
    grant(f, "stranger@c.test", "outcast");
    expect(errorCondition(f.join(STRANGER, "club", "Stranger")[0]!)).toBe("forbidden");
  });

  test("a non-member cannot make itself a member by registering (§7.10); a member can register a nick", () => {
    const f = membersOnlyClub();
    const form = `<query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'><field var='muc#register_roomnick'><value>Me</value></field></x></query>`;
    expect(errorCondition(f.iq(STRANGER, ROOM, "set", form)[0]!)).toBe("registration-required");
    expect(f.service.room(ROOM)!.affiliationOf("stranger@c.test")).toBe("none");
    grant(f, "member@b.test", "member");
    expect(f.iq(MEMBER, ROOM, "set", form)[0]!.attrs.type).toBe("result");
  });
});

describe("invitations into members-only rooms (§7.8)", () => {
  test("an owner's invitation makes the invitee a member, who may then enter", () => {
    const f = membersOnlyClub();
    const out = f.send(invite(OWNER, "guest@g.test"));
    expect(out.some((s) => s.name === "message" && s.attrs.to === "guest@g.test")).toBe(true);
    expect(f.service.room(ROOM)!.affiliationOf("guest@g.test")).toBe("member");
    expect(f.join("guest@g.test/x", "club", "Guest").some((s) => statuses(s).includes("110"))).toBe(true);
  });

  test("a member may not invite unless allowinvites is on; then the invitee becomes a member", () => {
    const f = membersOnlyClub();
    grant(f, "member@b.test", "member");
    f.join(MEMBER, "club", "Member");
    expect(errorCondition(f.send(invite(MEMBER, "guest@g.test"))[0]!)).toBe("forbidden");
    expect(f.service.room(ROOM)!.affiliationOf("guest@g.test")).toBe("none");
    f.configure(OWNER, "club", { "muc#roomconfig_allowinvites": "1" });
    expect(f.send(invite(MEMBER, "guest@g.test")).some((s) => s.attrs.to === "guest@g.test")).toBe(true);
    expect(f.service.room(ROOM)!.affiliationOf("guest@g.test")).toBe("member");
  });

  test("Prosody's allowmemberinvites field is read as allowinvites", () => {
    const f = membersOnlyClub();
    f.configure(OWNER, "club", { "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites": "1" });
    expect(f.service.room(ROOM)!.config.allowInvites).toBe(true);
  });

  test("an invitation never lowers or lifts an existing affiliation", () => {
    const f = membersOnlyClub();
    grant(f, "admin@d.test", "admin");
    grant(f, "banned@e.test", "outcast");
    f.send(invite(OWNER, "admin@d.test"));
    f.send(invite(OWNER, "banned@e.test"));
    expect(f.service.room(ROOM)!.affiliationOf("admin@d.test")).toBe("admin");
    expect(f.service.room(ROOM)!.affiliationOf("banned@e.test")).toBe("outcast");
  });

  test("in an open room any occupant invites and nobody's affiliation changes", () => {
    const f = fixture();
    f.join(OWNER, "club", "Owner");
    f.join(STRANGER, "club", "Stranger");
    expect(f.send(invite(STRANGER, "guest@g.test")).some((s) => s.attrs.to === "guest@g.test")).toBe(true);
    expect(f.service.room(ROOM)!.affiliationOf("guest@g.test")).toBe("none");
  });
});
