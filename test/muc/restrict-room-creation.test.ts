import { describe, expect, test } from "bun:test";
import { parentDomain } from "../../src/muc/features/restrict-room-creation.ts";
import type { ServiceSettings } from "../../src/muc/hooks.ts";
import { DOMAIN, MUC, MUC_OWNER, DATA, MUC_ROOMCONFIG, STANZAS, errorCondition, errorType, fixture, statuses, xml, type Fixture } from "./fixture.ts";

/**
 * Prosody's restrict_room_creation: who may create a room by joining it
 * (§10.1.1). The service is rooms.test, so its parent domain is `test`.
 */

const LOCAL = "lena@test/x";
const STRANGER = "sam@elsewhere.example/x";
const ADMIN = "root@ops.example/x";
const entered = (out: ReturnType<Fixture["send"]>) => out.some((s) => s.name === "presence" && s.attrs.type === undefined && statuses(s).includes("110"));

function restricted(restrictRoomCreation: ServiceSettings["restrictRoomCreation"]): Fixture {
  return fixture({ settings: { restrictRoomCreation, admins: new Set(["root@ops.example"]) } });
}

describe("restrict_room_creation", () => {
  test("true: anyone but a service admin gets cancel/not-allowed with Prosody's text, and no room is made", () => {
    const f = restricted(true);
    for (const user of [STRANGER, LOCAL]) {
      const out = f.join(user, "new", "Someone");
      expect(out).toHaveLength(1);
      expect(errorCondition(out[0]!)).toBe("not-allowed");
      expect(errorType(out[0]!)).toBe("cancel");
      expect(out[0]!.getChild("error")!.getChildText("text", STANZAS)).toBe("Room creation is restricted");
      expect(f.service.room(`new@${DOMAIN}`)).toBeUndefined();
    }
    expect(entered(f.join(ADMIN, "new", "Root"))).toBe(true);
  });

  test("a room that exists is joinable by anyone, as before", () => {
    const f = restricted(true);
    f.join(ADMIN, "lobby", "Root");
    expect(entered(f.join(STRANGER, "lobby", "Sam"))).toBe(true);
  });

  test('"local": users of the parent domain and service admins create rooms, others do not', () => {
    const f = restricted("local");
    expect(entered(f.join(LOCAL, "mine", "Lena"))).toBe(true);
    expect(errorCondition(f.join(STRANGER, "theirs", "Sam")[0]!)).toBe("not-allowed");
    expect(errorCondition(f.join("sub@sub.test/x", "theirs", "Sub")[0]!)).toBe("not-allowed");
    expect(entered(f.join(ADMIN, "admins", "Root"))).toBe(true);
    expect(entered(f.join(STRANGER, "mine", "Sam"))).toBe(true);
  });

  test("the parent domain is the service's without its first label, as Prosody computes it", () => {
    expect(parentDomain("rooms.example.org")).toBe("example.org");
    expect(parentDomain("conference.localhost")).toBe("localhost");
    expect(parentDomain("localhost")).toBe("localhost");
  });

  test("false (the core's default): anyone creates rooms", () => {
    expect(entered(fixture().join(STRANGER, "new", "Sam"))).toBe(true);
  });

  test("decided before the HTTP gate: entryRequest has no question for a creation refused, and asks for an existing room", () => {
    const f = restricted(true);
    const join = (room: string) => xml(`<presence from='${STRANGER}' to='${room}@${DOMAIN}/Sam'><x xmlns='${MUC}'/></presence>`);
    expect(f.service.entryRequest(join("new"))).toBeUndefined();
    f.join(ADMIN, "lobby", "Root");
    expect(f.service.entryRequest(join("lobby"))?.kind).toBe("join");
  });

  test("a stored room nobody is in is loaded first, so joining it is no creation", () => {
    const f = restricted(true);
    f.join(ADMIN, "kept", "Root");
    const form = `<x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x>`;
    expect(f.iq(ADMIN, `kept@${DOMAIN}`, "set", `<query xmlns='${MUC_OWNER}'>${form}</query>`)[0]!.attrs.type).toBe("result");
    f.leave(ADMIN, "kept", "Root");
    f.restart();
    expect(f.service.room(`kept@${DOMAIN}`)).toBeUndefined();
    expect(entered(f.join(STRANGER, "kept", "Sam"))).toBe(true);
  });

  test("the operator's create_room (MucService.openRoom) is not held to it", () => {
    const f = restricted(true);
    expect(f.service.openRoom(`made@${DOMAIN}`, [])).toBeDefined();
    expect(entered(f.join(STRANGER, "made", "Sam"))).toBe(true);
  });
});
