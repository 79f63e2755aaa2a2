import { describe, expect, test } from "bun:test";
import { DOMAIN, PING, errorCondition, errorType, fixture } from "./fixture.ts";

/** XEP-0199 pings to the service and to rooms; XEP-0410 MUC self-ping answered by the room. */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const ROOM = `lobby@${DOMAIN}`;
const ping = `<ping xmlns='${PING}'/>`;

describe("XEP-0199 ping", () => {
  test("the service answers with an empty result", () => {
    const f = fixture();
    const out = f.iq(ALICE, DOMAIN, "get", ping, "p1");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toEqual({ type: "result", from: DOMAIN, to: ALICE, id: "p1" });
    expect(out[0]!.children).toHaveLength(0);
  });

  test("a room answers with an empty result, to anyone", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const out = f.iq(BOB, ROOM, "get", ping, "p2");
    expect(out[0]!.attrs).toEqual({ type: "result", from: ROOM, to: BOB, id: "p2" });
  });
});

describe("XEP-0410 self-ping", () => {
  test("a joined session pinging its own occupant JID gets a result from the room, not forwarded to itself", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.join("alice@a.test/laptop", "lobby", "Alice");
    const out = f.iq(ALICE, `${ROOM}/Alice`, "get", ping, "sp1");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toEqual({ type: "result", from: `${ROOM}/Alice`, to: ALICE, id: "sp1" });
  });

  test("a session that is not joined gets not-acceptable (cancel)", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const out = f.iq("alice@a.test/tablet", `${ROOM}/Alice`, "get", ping, "sp2");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: "alice@a.test/tablet", id: "sp2" });
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
    expect(errorType(out[0]!)).toBe("cancel");
  });

  test("a session that left gets not-acceptable", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.join(BOB, "lobby", "Bob");
    f.leave(BOB, "lobby", "Bob");
    expect(errorCondition(f.iq(BOB, `${ROOM}/Bob`, "get", ping)[0]!)).toBe("not-acceptable");
  });

  test("after the room is gone, a self-ping is not-acceptable, not item-not-found (the client must rejoin, §3.2)", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.leave(ALICE, "lobby", "Alice");
    const out = f.iq(ALICE, `${ROOM}/Alice`, "get", ping);
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
  });

  test("after a nick change the self-ping to the new nick succeeds", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.presence(ALICE, "lobby", "Alicia");
    expect(f.iq(ALICE, `${ROOM}/Alicia`, "get", ping)[0]!.attrs.type).toBe("result");
  });
});
