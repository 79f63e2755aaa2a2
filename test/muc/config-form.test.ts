import { describe, expect, test } from "bun:test";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { GAJIM_PRIVATE } from "../support/gajim-presets.ts";
import { DATA, DOMAIN, MUC_OWNER, errorCondition, fixture, statuses, type Fixture } from "./fixture.ts";

/** XEP-0045 §10.2 form rules and §10.2.1 notices (104). */

const OWNER = "owner@a.test/phone";
const BOB = "bob@b.test/pc";
const ROOM = `hall@${DOMAIN}`;

function hall(): Fixture {
  const f = fixture();
  f.join(OWNER, "hall", "Owner");
  f.join(BOB, "hall", "Bob");
  return f;
}

/** Every field of the form the owner gets, with its value(s). */
function offered(f: Fixture): Record<string, string[]> {
  const form = f.iq(OWNER, ROOM, "get", `<query xmlns='${MUC_OWNER}'/>`)[0]!.getChild("query")!.getChild("x", DATA)!;
  const fields: Record<string, string[]> = {};
  for (const x of form.getChildren("field")) if (x.attrs.type !== "hidden") fields[x.attrs.var!] = x.getChildren("value").map((v) => v.getText());
  return fields;
}

const notices = (out: ReturnType<Fixture["send"]>, code: string) =>
  out.filter((s) => s.name === "message" && s.attrs.from === ROOM && statuses(s).includes(code)).map((s) => s.attrs.to).sort();

describe("the configuration form", () => {
  test("the form sent back unchanged, every field, is accepted and changes nothing, and no 104 goes out", () => {
    const f = hall();
    const before = f.service.room(ROOM)!.config;
    const out = f.configure(OWNER, "hall", offered(f));
    expect(out.map((s) => s.name)).toEqual(["iq"]);
    expect(out[0]!.attrs.type).toBe("result");
    expect(f.service.room(ROOM)!.config).toEqual(before);
  });

  test("every boolean field offered is honoured: flipped, the setting changes", () => {
    const f = hall();
    for (const [name, values] of Object.entries(offered(f))) {
      if (values[0] !== "0" && values[0] !== "1") continue;
      if (name === "muc#roomconfig_passwordprotectedroom") continue; // needs a secret: password.test.ts
      const before = JSON.stringify(f.service.room(ROOM)!.config);
      const out = f.configure(OWNER, "hall", { [name]: values[0] === "1" ? "0" : "1" });
      expect(out.find((s) => s.name === "iq")!.attrs.type).toBe("result");
      expect(JSON.stringify(f.service.room(ROOM)!.config)).not.toBe(before);
      expect(offered(f)[name]).toEqual([values[0] === "1" ? "0" : "1"]);
    }
  });

  test("fields the form never offered (other servers' extensions) are ignored, and the rest applies", () => {
    const f = hall();
    const out = f.configure(OWNER, "hall", { public_list: "0", allow_voice_requests: "maybe", "x-custom#thing": "1", "muc#roomconfig_roomname": "Hall" });
    expect(out[0]!.attrs.type).toBe("result");
    expect(f.service.room(ROOM)!.config.name).toBe("Hall");
  });

  test("a boolean field with a value that is not a boolean refuses the whole form, naming the field", () => {
    const f = hall();
    const out = f.configure(OWNER, "hall", { "muc#roomconfig_roomname": "Hall", "muc#roomconfig_persistentroom": "yes please" })[0]!;
    expect(errorCondition(out)).toBe("not-acceptable");
    expect(out.toString()).toContain("muc#roomconfig_persistentroom");
    expect(f.service.room(ROOM)!.config.name).toBe("");
  });

  test("a change disco#info shows sends 104 to every occupant, after the owner's result", () => {
    const f = hall();
    const out = f.configure(OWNER, "hall", { "muc#roomconfig_roomname": "Great Hall" });
    expect(out[0]!.name).toBe("iq");
    expect(notices(out, "104")).toEqual([BOB, OWNER].sort());
    expect(notices(f.configure(OWNER, "hall", { "muc#roomconfig_publicroom": "0" }), "104")).toEqual([BOB, OWNER].sort());
  });

  test("a change nobody can see (a new password for a room already protected, the history length) sends no 104", () => {
    const f = hall();
    f.configure(OWNER, "hall", { "muc#roomconfig_roomsecret": "one" });
    expect(notices(f.configure(OWNER, "hall", { "muc#roomconfig_roomsecret": "two" }), "104")).toEqual([]);
    expect(notices(f.configure(OWNER, "hall", { "muc#roomconfig_historylength": "5" }), "104")).toEqual([]);
  });

  test("the Gajim 'private group' preset, submitted as Gajim does (every field it got, its values set), makes the room private", () => {
    const f = hall();
    const preset = GAJIM_PRIVATE;
    const form = offered(f);
    for (const name of Object.keys(form)) if (name in preset) form[name] = [preset[name]!];
    const out = f.configure(OWNER, "hall", form);
    expect(out.find((s) => s.name === "iq")!.attrs.type).toBe("result");
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false); // not a member: out with 322
    expect(f.service.room(ROOM)!.config).toMatchObject({ public: false, membersOnly: true, whois: "anyone", persistent: true, allowInvites: true, name: "Friends" });
    expect(errorCondition(f.join("stranger@c.test/x", "hall", "Stranger")[0]!)).toBe("registration-required");
  });

  test("a persistent room keeps its kind across a restart: members-only, password, whois, maxusers, allowpm, allowinvites", () => {
    const f = fixture({ storage: new MemoryStorage() });
    f.join(OWNER, "hall", "Owner");
    const kind = {
      "muc#roomconfig_persistentroom": "1",
      "muc#roomconfig_membersonly": "1",
      "muc#roomconfig_allowinvites": "1",
      "muc#roomconfig_roomsecret": "s3cret",
      "muc#roomconfig_whois": "anyone",
      "muc#roomconfig_maxusers": "10",
      "muc#roomconfig_allowpm": "moderators",
    };
    expect(f.configure(OWNER, "hall", kind)[0]!.attrs.type).toBe("result");
    const before = f.service.room(ROOM)!.config;
    f.leave(OWNER, "hall", "Owner");
    f.restart();
    expect(errorCondition(f.join(BOB, "hall", "Bob", "<password>s3cret</password>")[0]!)).toBe("registration-required");
    expect(f.service.room(ROOM)!.config).toEqual(before);
    expect(f.service.room(ROOM)!.config).toMatchObject({ membersOnly: true, allowInvites: true, password: "s3cret", whois: "anyone", maxUsers: 10, allowPm: "moderators" });
  });
});
