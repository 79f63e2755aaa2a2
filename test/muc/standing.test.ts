import { describe, expect, test } from "bun:test";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { DOMAIN, MUC, fixture, itemOf, to } from "./fixture.ts";

/**
 * A join admitted with a standing (README "Join authorization": the gate's
 * affiliation and role), in the core: the affiliation is an ordinary §9
 * change — shown to the account's other occupants, stored, kept after the
 * user leaves — and the role is this occupancy's only.
 */

const ROOM = `club@${DOMAIN}`;
const join = (from: string, nick: string) => `<presence from='${from}' to='${ROOM}/${nick}'><x xmlns='${MUC}'/></presence>`;

describe("a join with a standing", () => {
  test("the affiliation is stored and outlives the occupancy; the role does not", () => {
    const storage = new MemoryStorage();
    const f = fixture({ storage });
    f.join("olga@a.test/x", "club", "Olga");
    f.iq("olga@a.test/x", ROOM, "set", `<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query>`);
    f.send(join("bob@b.test/y", "Bob"), { standing: { affiliation: "member", role: "visitor" } });
    expect(f.service.room(ROOM)!.occupants.get("Bob")!.role).toBe("visitor");
    f.leave("bob@b.test/y", "club", "Bob");
    f.restart();
    expect(f.service.room(ROOM)!.affiliationOf("bob@b.test")).toBe("member");
    // Joining again without a standing: the stored affiliation, and the role it gives.
    const out = f.join("bob@b.test/y", "club", "Bob");
    const self = to(out, "bob@b.test/y").find((s) => s.name === "presence" && s.attrs.from === `${ROOM}/Bob`)!;
    expect(itemOf(self)!.attrs).toMatchObject({ affiliation: "member", role: "participant" });
  });

  test("the account's occupant under another nick sees its new affiliation", () => {
    const f = fixture();
    f.join("olga@a.test/x", "club", "Olga");
    f.join("bob@b.test/y", "club", "Bob");
    const out = f.send(join("bob@b.test/z", "Bobby"), { standing: { affiliation: "admin" } });
    const update = to(out, "olga@a.test/x").find((s) => s.attrs.from === `${ROOM}/Bob`)!;
    expect(itemOf(update)!.attrs.affiliation).toBe("admin");
    expect(f.service.room(ROOM)!.occupants.get("Bobby")!.role).toBe("moderator");
  });

  test("an outcast stays out even when the backend gives an affiliation: a ban holds whatever the gate says (§9.1)", () => {
    const f = fixture();
    f.join("olga@a.test/x", "club", "Olga");
    f.service.setAffiliation(ROOM, "eve@e.test", "outcast", undefined, []);
    const refused = f.join("eve@e.test/x", "club", "Eve");
    expect(refused[0]!.attrs.type).toBe("error");
    const again = f.send(join("eve@e.test/x", "Eve"), { standing: { affiliation: "member" } });
    expect(again[0]!.getChild("error")!.getChild("forbidden")).toBeDefined();
    expect(f.service.room(ROOM)!.occupants.has("Eve")).toBe(false);
  });
});
