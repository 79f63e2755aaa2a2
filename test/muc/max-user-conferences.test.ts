import { describe, expect, test } from "bun:test";
import { DOMAIN, MUC, STANZAS, errorCondition, errorType, fixture, statuses, xml, type Fixture } from "./fixture.ts";

/**
 * ejabberd's max_user_conferences: how many rooms of the service one user
 * (bare JID) may be an occupant of at once, the rooms it creates included;
 * over it, wait/resource-constraint with ejabberd's text, decided before the
 * HTTP gate (docs/join-checks.md).
 */

const ALICE = "alice@a.test/phone";
const ADMIN = "root@ops.test/x";
const entered = (out: ReturnType<Fixture["send"]>) => out.some((s) => s.name === "presence" && s.attrs.type === undefined && statuses(s).includes("110"));
const joinStanza = (from: string, room: string, nick: string) => xml(`<presence from='${from}' to='${room}@${DOMAIN}/${nick}'><x xmlns='${MUC}'/></presence>`);

function limited(max: number, admins: string[] = []): Fixture {
  return fixture({ settings: { maxUserConferences: max, admins: new Set(admins) } });
}

describe("max_user_conferences", () => {
  test("the join into one room more gets wait/resource-constraint with ejabberd's text; nobody in the room hears of it", () => {
    const f = limited(2);
    f.join("bob@b.test/x", "third", "Bob");
    expect(entered(f.join(ALICE, "one", "Alice"))).toBe(true);
    expect(entered(f.join(ALICE, "two", "Alice"))).toBe(true);
    const out = f.join(ALICE, "third", "Alice");
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("resource-constraint");
    expect(errorType(out[0]!)).toBe("wait");
    expect(out[0]!.getChild("error")!.getChildText("text", STANZAS)).toBe("You have joined too many conferences");
    expect(f.service.room(`third@${DOMAIN}`)!.occupants.size).toBe(1);
  });

  test("creating a room is joining it: at the limit the room is not created", () => {
    const f = limited(1);
    f.join(ALICE, "one", "Alice");
    expect(errorCondition(f.join(ALICE, "new", "Alice")[0]!)).toBe("resource-constraint");
    expect(f.service.room(`new@${DOMAIN}`)).toBeUndefined();
  });

  test("it counts users, not sessions: another resource of the same account is held to the same count", () => {
    const f = limited(1);
    f.join(ALICE, "one", "Alice");
    expect(errorCondition(f.join("alice@a.test/laptop", "two", "Alice")[0]!)).toBe("resource-constraint");
  });

  test("another session or another nick in a room the user is already in adds no room", () => {
    const f = limited(1);
    f.join(ALICE, "one", "Alice");
    expect(entered(f.join("alice@a.test/laptop", "one", "Alice"))).toBe(true);
    expect(entered(f.join("alice@a.test/tablet", "one", "Alice2"))).toBe(true);
    expect(f.service.userRooms.count("alice@a.test")).toBe(1);
  });

  test("leaving, being kicked and the room being destroyed each free a place", () => {
    const f = limited(1);
    f.join(ALICE, "one", "Alice");
    f.leave(ALICE, "one", "Alice");
    expect(entered(f.join(ALICE, "two", "Alice"))).toBe(true);
    f.service.kickFrom(`two@${DOMAIN}`, { nick: "Alice" }, undefined, []);
    f.join("bob@b.test/x", "three", "Bob");
    expect(entered(f.join(ALICE, "three", "Alice"))).toBe(true);
    f.service.destroy(`three@${DOMAIN}`, {}, []);
    expect(entered(f.join(ALICE, "four", "Alice"))).toBe(true);
  });

  test("a nick change stays in the same room and is never refused", () => {
    const f = limited(1);
    f.join(ALICE, "one", "Alice");
    const out = f.presence(ALICE, "one", "Alicia");
    expect(out.some((s) => statuses(s).includes("303"))).toBe(true);
    expect(f.service.userRooms.rooms("alice@a.test")).toEqual([`one@${DOMAIN}`]);
  });

  test("service admins (admins) are exempt", () => {
    const f = limited(1, ["root@ops.test"]);
    f.join(ADMIN, "one", "Root");
    expect(entered(f.join(ADMIN, "two", "Root"))).toBe(true);
    expect(f.service.userRooms.count("root@ops.test")).toBe(2);
  });

  test("0 is no limit", () => {
    const f = limited(0);
    for (let i = 0; i < 5; i++) expect(entered(f.join(ALICE, `r${i}`, "Alice"))).toBe(true);
  });

  test("decided before the HTTP gate: entryRequest has no question for a join over it, and still asks for one that adds no room", () => {
    const f = limited(1);
    f.join(ALICE, "one", "Alice");
    f.join("bob@b.test/x", "two", "Bob");
    expect(f.service.entryRequest(joinStanza(ALICE, "two", "Alice"))).toBeUndefined();
    expect(f.service.entryRequest(joinStanza(ALICE, "nowhere", "Alice"))).toBeUndefined();
    expect(f.service.entryRequest(joinStanza("alice@a.test/laptop", "one", "Alice"))?.kind).toBe("join");
    expect(f.service.entryRequest(joinStanza("carol@c.test/x", "two", "Carol"))?.kind).toBe("join");
  });

  test("a banned user over the limit is told of its ban first", () => {
    const f = limited(1);
    f.join("bob@b.test/x", "two", "Bob");
    f.service.setAffiliation(`two@${DOMAIN}`, "alice@a.test", "outcast", undefined, []);
    f.join(ALICE, "one", "Alice");
    expect(errorCondition(f.join(ALICE, "two", "Alice")[0]!)).toBe("forbidden");
  });

  test("rooms brought back with their occupants after a restart count", () => {
    const f = limited(2);
    f.join(ALICE, "one", "Alice");
    f.join(ALICE, "two", "Alice");
    f.restart();
    expect(f.service.userRooms.count("alice@a.test")).toBe(2);
    expect(f.service.roomsOf("alice@a.test").sort()).toEqual([`one@${DOMAIN}`, `two@${DOMAIN}`]);
    expect(errorCondition(f.join(ALICE, "three", "Alice")[0]!)).toBe("resource-constraint");
  });
});
