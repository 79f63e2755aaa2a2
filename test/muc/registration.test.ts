import { describe, expect, test } from "bun:test";
import { DATA, DOMAIN, MUC_REGISTER, REGISTER, errorCondition, fixture, itemOf, lobby, statuses, to } from "./fixture.ts";

/** XEP-0045 §7.10 registering with a room (XEP-0077 in the room), which reserves a nick and grants membership. */

const ALICE = "alice@a.test/phone"; // owner
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/home";
const ROOM = `lobby@${DOMAIN}`;

const get = `<query xmlns='${REGISTER}'/>`;
const submit = (nick: string) =>
  `<query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_REGISTER}</value></field><field var='muc#register_roomnick'><value>${nick}</value></field></x></query>`;
const remove = `<query xmlns='${REGISTER}'><remove/></query>`;

const room = () => lobby([ALICE, "Alice"]);

describe("registration", () => {
  test("asking for requirements returns a muc#register form with a required roomnick field", () => {
    const f = room();
    const out = f.iq(BOB, ROOM, "get", get, "r1");
    expect(out[0]!.attrs).toEqual({ type: "result", from: ROOM, to: BOB, id: "r1" });
    const form = out[0]!.getChild("query", REGISTER)!.getChild("x", DATA)!;
    expect(form.attrs.type).toBe("form");
    const fields = form.getChildren("field");
    expect(fields.find((x) => x.attrs.var === "FORM_TYPE")!.getChildText("value")).toBe(MUC_REGISTER);
    expect(fields.find((x) => x.attrs.var === "muc#register_roomnick")!.getChild("required")).toBeDefined();
  });

  test("submitting reserves the nick and makes the user a member; asking again says registered", () => {
    const f = room();
    const out = f.iq(BOB, ROOM, "set", submit("Bobby"), "r2");
    expect(out).toEqual([expect.objectContaining({ name: "iq" })]);
    expect(out[0]!.attrs).toEqual({ type: "result", from: ROOM, to: BOB, id: "r2" });
    const again = f.iq(BOB, ROOM, "get", get)[0]!.getChild("query", REGISTER)!;
    expect(again.getChild("registered")).toBeDefined();
    expect(again.getChildText("username")).toBe("Bobby");
    const self = to(f.join(BOB, "lobby", "Bobby"), BOB).find((s) => statuses(s).includes("110"))!;
    expect(itemOf(self)!.attrs.affiliation).toBe("member");
  });

  test("a nick registered by someone else is a conflict", () => {
    const f = room();
    f.iq(BOB, ROOM, "set", submit("Bobby"));
    const out = f.iq(CAROL, ROOM, "set", submit("Bobby"));
    expect(errorCondition(out[0]!)).toBe("conflict");
  });

  test("a nick held by another occupant is a conflict", () => {
    const f = room();
    expect(errorCondition(f.iq(BOB, ROOM, "set", submit("Alice"))[0]!)).toBe("conflict");
  });

  test("re-registering changes the reserved nick and frees the old one", () => {
    const f = room();
    f.iq(BOB, ROOM, "set", submit("Bobby"));
    f.iq(BOB, ROOM, "set", submit("Robert"));
    expect(f.iq(CAROL, ROOM, "set", submit("Bobby"))[0]!.attrs.type).toBe("result");
  });

  test("removing the registration frees the nick and ends the membership", () => {
    const f = room();
    f.iq(BOB, ROOM, "set", submit("Bobby"));
    expect(f.iq(BOB, ROOM, "set", remove)[0]!.attrs.type).toBe("result");
    expect(f.iq(CAROL, ROOM, "set", submit("Bobby"))[0]!.attrs.type).toBe("result");
    const self = to(f.join(BOB, "lobby", "Bob"), BOB).find((s) => statuses(s).includes("110"))!;
    expect(itemOf(self)!.attrs.affiliation).toBe("none");
  });

  test("removing a registration that does not exist is item-not-found", () => {
    const f = room();
    expect(errorCondition(f.iq(BOB, ROOM, "set", remove)[0]!)).toBe("item-not-found");
  });

  test("a submission without a nick is not-acceptable; a bad nick jid-malformed; no form bad-request", () => {
    const f = room();
    const empty = `<query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'/></query>`;
    expect(errorCondition(f.iq(BOB, ROOM, "set", empty)[0]!)).toBe("not-acceptable");
    expect(errorCondition(f.iq(BOB, ROOM, "set", submit("a\u202Eb"))[0]!)).toBe("jid-malformed");
    expect(errorCondition(f.iq(BOB, ROOM, "set", `<query xmlns='${REGISTER}'/>`)[0]!)).toBe("bad-request");
  });

  test("registering with a room that does not exist is item-not-found", () => {
    const f = fixture();
    expect(errorCondition(f.iq(BOB, `nowhere@${DOMAIN}`, "get", get)[0]!)).toBe("item-not-found");
  });

  test("the owner registering keeps its owner affiliation", () => {
    const f = room();
    f.iq(ALICE, ROOM, "set", submit("Alice"));
    expect(f.service.room(ROOM)!.affiliationOf("alice@a.test")).toBe("owner");
  });

  test("an occupant who registers becomes a member in the room at once: everyone gets its updated presence (§7.10)", () => {
    const f = room();
    f.join(BOB, "lobby", "Bob");
    f.join(CAROL, "lobby", "Carol");
    const out = f.iq(BOB, ROOM, "set", submit("Bob"), "r3");
    const result = out.find((s) => s.name === "iq")!;
    expect(result.attrs).toEqual({ type: "result", from: ROOM, to: BOB, id: "r3" });
    const presences = out.filter((s) => s.name === "presence");
    expect(presences.map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB, CAROL].sort());
    for (const p of presences) {
      expect(p.attrs.from).toBe(`${ROOM}/Bob`);
      expect(p.attrs.type).toBeUndefined();
      expect(itemOf(p)!.attrs).toMatchObject({ affiliation: "member", role: "participant" });
    }
    expect(statuses(to(presences, BOB)[0]!)).toContain("110");
    // The result comes first, then the presence update (§7.10 order).
    expect(out.indexOf(result)).toBe(0);
    expect(f.service.room(ROOM)!.occupants.get("Bob")!.affiliation).toBe("member");
  });

  test("an occupant whose registration is removed is shown with affiliation none again", () => {
    const f = room();
    f.join(BOB, "lobby", "Bob");
    f.iq(BOB, ROOM, "set", submit("Bob"));
    const out = f.iq(BOB, ROOM, "set", remove);
    const presences = out.filter((s) => s.name === "presence");
    expect(presences.map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB].sort());
    for (const p of presences) expect(itemOf(p)!.attrs.affiliation).toBe("none");
    expect(f.service.room(ROOM)!.occupants.get("Bob")!.affiliation).toBe("none");
  });
});
