import { describe, expect, test } from "bun:test";
import { DEFAULT_ROOM_CONFIG } from "../../src/muc/room-config.ts";
import { DATA, DOMAIN, MUC_OWNER, errorCondition, fixture, statuses, type Fixture } from "./fixture.ts";

/** XEP-0045 §10.2 maxusers and §7.2.10 (room full), with the operator's cap (muc_max_occupants). */

const OWNER = "owner@a.test/phone";
const ROOM = `small@${DOMAIN}`;
const user = (i: number) => `user${i}@u.test/r`;
const entered = (out: ReturnType<Fixture["send"]>) => out.some((s) => s.name === "presence" && statuses(s).includes("110") && s.attrs.type !== "unavailable");

function small(max: string, cap = 0): Fixture {
  const f = fixture({ settings: { maxOccupants: cap } });
  f.join(OWNER, "small", "Owner");
  expect(f.configure(OWNER, "small", { "muc#roomconfig_maxusers": max })[0]!.attrs.type).toBe("result");
  return f;
}

const formField = (f: Fixture, name: string) =>
  f.iq(OWNER, ROOM, "get", `<query xmlns='${MUC_OWNER}'/>`)[0]!.getChild("query")!.getChild("x", DATA)!.getChildren("field").find((x) => x.attrs.var === name)!;

describe("maximum occupants", () => {
  test("the one too many gets service-unavailable (cancel) and does not enter", () => {
    const f = small("3");
    expect(entered(f.join(user(1), "small", "One"))).toBe(true);
    expect(entered(f.join(user(2), "small", "Two"))).toBe(true);
    const out = f.join(user(3), "small", "Three");
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("service-unavailable");
    expect(out[0]!.getChild("error")!.attrs.type).toBe("cancel");
    expect(f.service.room(ROOM)!.occupants.size).toBe(3);
  });

  test("someone leaving makes room again; another session of a nick inside is no newcomer", () => {
    const f = small("2");
    f.join(user(1), "small", "One");
    expect(errorCondition(f.join(user(2), "small", "Two")[0]!)).toBe("service-unavailable");
    expect(entered(f.join("user1@u.test/other", "small", "One"))).toBe(true);
    f.leave(user(1), "small", "One");
    f.leave("user1@u.test/other", "small", "One");
    expect(entered(f.join(user(2), "small", "Two"))).toBe(true);
  });

  test("owners and admins are never held to the limit", () => {
    const f = small("1");
    expect(entered(f.join("owner@a.test/laptop", "small", "Owner2"))).toBe(true);
    expect(errorCondition(f.join(user(1), "small", "One")[0]!)).toBe("service-unavailable");
  });

  test("a value above muc_max_occupants, none under a cap, or not a number is not-acceptable naming the field", () => {
    const f = fixture({ settings: { maxOccupants: 50 } });
    f.join(OWNER, "small", "Owner");
    for (const bad of ["51", "none", "0", "many", "-1"]) {
      const out = f.configure(OWNER, "small", { "muc#roomconfig_maxusers": bad })[0]!;
      expect(errorCondition(out)).toBe("not-acceptable");
      expect(out.toString()).toContain("muc#roomconfig_maxusers");
    }
    expect(f.configure(OWNER, "small", { "muc#roomconfig_maxusers": "50" })[0]!.attrs.type).toBe("result");
    expect(f.service.room(ROOM)!.config.maxUsers).toBe(50);
  });

  test("the form shows the limit that holds (the cap when the room has none) and offers no choice above the cap", () => {
    const f = fixture({ settings: { maxOccupants: 30 } });
    f.join(OWNER, "small", "Owner");
    const field = formField(f, "muc#roomconfig_maxusers");
    expect(field.getChildText("value")).toBe("30");
    const options = field.getChildren("option").map((o) => Number(o.getChildText("value")));
    expect(Math.max(...options)).toBe(30);
    expect(options).not.toContain(Number.NaN);
    // Sent back unchanged, the form is accepted (clients echo every field).
    expect(f.configure(OWNER, "small", { "muc#roomconfig_maxusers": field.getChildText("value")! })[0]!.attrs.type).toBe("result");
  });

  test("without a cap, 'none' lifts the limit", () => {
    const f = small("1");
    f.configure(OWNER, "small", { "muc#roomconfig_maxusers": "none" });
    expect(entered(f.join(user(1), "small", "One"))).toBe(true);
    expect(formField(f, "muc#roomconfig_maxusers").getChildText("value")).toBe("none");
  });

  test("service admins (admins) are never held to the limit", () => {
    const f = fixture({ settings: { admins: new Set(["root@ops.test"]) } });
    f.join(OWNER, "small", "Owner");
    f.configure(OWNER, "small", { "muc#roomconfig_maxusers": "1" });
    expect(entered(f.join("root@ops.test/x", "small", "Root"))).toBe(true);
    expect(errorCondition(f.join(user(1), "small", "One")[0]!)).toBe("service-unavailable");
  });

  test("new rooms start with the default limit (muc_room_default_max_occupants), and the form shows it", () => {
    const f = fixture({ roomDefaults: { ...DEFAULT_ROOM_CONFIG, maxUsers: 2 } });
    f.join(OWNER, "small", "Owner");
    expect(formField(f, "muc#roomconfig_maxusers").getChildText("value")).toBe("2");
    expect(entered(f.join(user(1), "small", "One"))).toBe(true);
    expect(errorCondition(f.join(user(2), "small", "Two")[0]!)).toBe("service-unavailable");
  });

  test("a room stored before keeps its own limit when the default changes", () => {
    const before = fixture();
    before.join(OWNER, "small", "Owner");
    before.configure(OWNER, "small", { "muc#roomconfig_persistentroom": "1" });
    before.leave(OWNER, "small", "Owner");
    const after = fixture({ storage: before.storage, roomDefaults: { ...DEFAULT_ROOM_CONFIG, maxUsers: 1 } });
    after.join(OWNER, "small", "Owner");
    expect(after.service.room(ROOM)!.config.maxUsers).toBe(0);
    expect(entered(after.join(user(1), "small", "One"))).toBe(true);
    after.join(OWNER, "fresh", "Owner");
    expect(after.service.room(`fresh@${DOMAIN}`)!.config.maxUsers).toBe(1);
  });

  test("the service's cap holds even for a room configured before a lower cap", () => {
    const f = fixture({ settings: { maxOccupants: 2 } });
    f.join(OWNER, "small", "Owner");
    f.join(user(1), "small", "One");
    expect(errorCondition(f.join(user(2), "small", "Two")[0]!)).toBe("service-unavailable");
  });
});
