import { describe, expect, test } from "bun:test";
import { DATA, DISCO_INFO, DOMAIN, fixture, type Fixture } from "./fixture.ts";

/** XEP-0045 §6.4 muc#roominfo: what a room shows of its inside, by the room's kind. */

const OWNER = "owner@a.test/phone";
const STRANGER = "stranger@c.test/x";
const ROOM = `den@${DOMAIN}`;
const INSIDE = ["muc#roominfo_description", "muc#roominfo_lang", "muc#roominfo_subject", "muc#roominfo_occupants"];

function den(fields: Record<string, string>): Fixture {
  const f = fixture();
  f.join(OWNER, "den", "Owner");
  f.configure(OWNER, "den", { "muc#roomconfig_roomdesc": "Our den", "muc#roomconfig_lang": "en", ...fields });
  f.send(`<message type='groupchat' from='${OWNER}' to='${ROOM}'><subject>Plans</subject></message>`);
  return f;
}

function info(f: Fixture, from: string): Map<string, string> {
  const form = f.iq(from, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChild("x", DATA)!;
  return new Map(form.getChildren("field").map((x) => [x.attrs.var!, x.getChildText("value") ?? ""]));
}

describe("muc#roominfo", () => {
  test("a public room shows description, language, subject and head count to anyone", () => {
    const fields = info(den({}), STRANGER);
    expect(fields.get("muc#roominfo_description")).toBe("Our den");
    expect(fields.get("muc#roominfo_lang")).toBe("en");
    expect(fields.get("muc#roominfo_subject")).toBe("Plans");
    expect(fields.get("muc#roominfo_occupants")).toBe("1");
  });

  for (const [kind, fields] of [
    ["hidden", { "muc#roomconfig_publicroom": "0" }],
    ["members-only", { "muc#roomconfig_membersonly": "1" }],
  ] as const) {
    test(`a ${kind} room shows them only to its occupants`, () => {
      const f = den(fields);
      const outside = info(f, STRANGER);
      for (const name of INSIDE) expect(outside.has(name)).toBe(false);
      expect(outside.get("FORM_TYPE")).toBe("http://jabber.org/protocol/muc#roominfo");
      const inside = info(f, OWNER);
      expect(inside.get("muc#roominfo_subject")).toBe("Plans");
      expect(inside.get("muc#roominfo_occupants")).toBe("1");
      expect(inside.get("muc#roominfo_description")).toBe("Our den");
    });
  }
});
