import { describe, expect, test } from "bun:test";
import { DATA, DOMAIN, MUC_OWNER, MUC_ROOMCONFIG, errorCondition, itemOf, lobby, to, type Fixture } from "./fixture.ts";

/** XEP-0045 §10.2 muc#roomconfig_roomowners and muc#roomconfig_roomadmins: the full lists, in the form. */

const ALICE = "alice@a.test/phone"; // owner
const BOB = "bob@b.test/pc";
const ROOM = `lobby@${DOMAIN}`;
const OWNERS = "muc#roomconfig_roomowners";
const ADMINS = "muc#roomconfig_roomadmins";

const submit = (f: Fixture, fields: Record<string, readonly string[]>) =>
  f.iq(
    ALICE,
    ROOM,
    "set",
    `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field>${Object.entries(fields)
      .map(([k, vs]) => `<field var='${k}'>${vs.map((v) => `<value>${v}</value>`).join("")}</field>`)
      .join("")}</x></query>`,
  );
const formValues = (f: Fixture, name: string) =>
  f.iq(ALICE, ROOM, "get", `<query xmlns='${MUC_OWNER}'/>`)[0]!.getChild("query")!.getChild("x", DATA)!.getChildren("field").find((x) => x.attrs.var === name)!;
const affiliation = (f: Fixture, jid: string) => f.service.room(ROOM)!.affiliationOf(jid);
const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"]);

describe("owner and admin lists in the configuration form", () => {
  test("the form shows them as jid-multi, one <value/> per JID", () => {
    const f = room();
    submit(f, { [ADMINS]: ["ada@a.test", "bob@b.test"] });
    const field = formValues(f, ADMINS);
    expect(field.attrs.type).toBe("jid-multi");
    expect(field.getChildren("value").map((v) => v.getText()).sort()).toEqual(["ada@a.test", "bob@b.test"]);
    expect(formValues(f, OWNERS).getChildren("value").map((v) => v.getText())).toEqual(["alice@a.test"]);
  });

  test("submitting the lists grants and revokes to match; an occupant's presence shows it", () => {
    const f = room();
    const out = submit(f, { [ADMINS]: ["bob@b.test"], [OWNERS]: ["alice@a.test", "carol@c.test"] });
    expect(out[0]!.attrs.type).toBe("result");
    expect(itemOf(to(out, ALICE).find((s) => s.name === "presence" && s.attrs.from === `${ROOM}/Bob`)!)!.attrs).toMatchObject({ affiliation: "admin", role: "moderator" });
    expect([affiliation(f, "bob@b.test"), affiliation(f, "carol@c.test")]).toEqual(["admin", "owner"]);
    submit(f, { [ADMINS]: [""], [OWNERS]: ["carol@c.test", "bob@b.test"] });
    expect([affiliation(f, "alice@a.test"), affiliation(f, "bob@b.test"), affiliation(f, "carol@c.test")]).toEqual(["none", "owner", "owner"]);
  });

  test("a JID moved from the owner list to the admin list ends an admin", () => {
    const f = room();
    submit(f, { [OWNERS]: ["alice@a.test", "carol@c.test"] });
    submit(f, { [OWNERS]: ["alice@a.test"], [ADMINS]: ["carol@c.test"] });
    expect(affiliation(f, "carol@c.test")).toBe("admin");
    // The admin list alone never demotes an owner.
    submit(f, { [ADMINS]: ["alice@a.test"] });
    expect(affiliation(f, "alice@a.test")).toBe("owner");
  });

  test("a form that would leave no owner is refused whole (not-acceptable naming the field)", () => {
    const f = room();
    for (const owners of [[], [""]]) {
      const out = submit(f, { "muc#roomconfig_roomname": ["Renamed"], [ADMINS]: ["bob@b.test"], [OWNERS]: owners });
      expect(out).toHaveLength(1);
      expect(errorCondition(out[0]!)).toBe("not-acceptable");
      expect(out[0]!.getChild("error")!.getChildText("text")).toContain(OWNERS);
    }
    expect(affiliation(f, "alice@a.test")).toBe("owner");
    expect(affiliation(f, "bob@b.test")).toBe("none");
    expect(f.service.room(ROOM)!.config.name).toBe("");
  });

  test("a value that is not a JID is refused, naming the field", () => {
    const f = room();
    const out = submit(f, { [ADMINS]: ["not a jid@@"] });
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
    expect(out[0]!.getChild("error")!.getChildText("text")).toContain(ADMINS);
  });
});
