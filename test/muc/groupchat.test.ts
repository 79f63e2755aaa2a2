import { describe, expect, test } from "bun:test";
import { DOMAIN, OCCUPANT_ID, errorCondition, errorType, lobby, occupantIds, recipients, to } from "./fixture.ts";

/**
 * XEP-0045 §7.4 sending a message to all occupants: reflected to every
 * session, the sender's included, from the sender's occupant JID, keeping the
 * sender's id (§17.1 muc#stable_id), with the room's occupant-id in place of
 * anything the client claimed (XEP-0421 §4).
 */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const ROOM = `lobby@${DOMAIN}`;

const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"], ["bob@b.test/phone", "Bob"]);

describe("groupchat messages", () => {
  test("reach every session in the room exactly once, the sender's own included", () => {
    const f = room();
    const out = f.say(BOB, "lobby", "hello", "abc");
    expect(out.map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB, "bob@b.test/phone"].sort());
    for (const m of out) {
      expect(m.attrs).toMatchObject({ type: "groupchat", from: `${ROOM}/Bob`, id: "abc" });
      expect(m.getChildText("body")).toBe("hello");
    }
  });

  test("the echo to the sender is identical to what others get (same id: muc#stable_id)", () => {
    const f = room();
    const out = f.say(BOB, "lobby", "hello", "stable-1");
    const { to: _a, ...mine } = to(out, BOB)[0]!.attrs;
    const { to: _b, ...theirs } = to(out, ALICE)[0]!.attrs;
    expect(mine).toEqual(theirs);
    expect(to(out, BOB)[0]!.toString().replace(BOB, "X")).toBe(to(out, ALICE)[0]!.toString().replace(ALICE, "X"));
  });

  test("carry the sender's occupant id, replacing any the client sent", () => {
    const f = room();
    const real = occupantIds(to(f.say(BOB, "lobby", "a"), ALICE)[0]!);
    expect(real).toHaveLength(1);
    const out = f.send(
      `<message type='groupchat' id='x' from='${BOB}' to='${ROOM}'><body>spoof</body><occupant-id xmlns='${OCCUPANT_ID}' id='forged'/></message>`,
    );
    for (const m of out) expect(occupantIds(m)).toEqual(real);
  });

  test("a client's occupant-id is stripped even when written with a namespace prefix", () => {
    const f = room();
    const real = occupantIds(to(f.say(BOB, "lobby", "a"), ALICE)[0]!);
    const out = f.send(
      `<message type='groupchat' id='x' from='${BOB}' to='${ROOM}'><body>spoof</body><o:occupant-id xmlns:o='${OCCUPANT_ID}' id='forged'/></message>`,
    );
    for (const m of out) {
      const ids = m.children.filter((c) => typeof c !== "string" && c.getName() === "occupant-id" && c.getNS() === OCCUPANT_ID);
      expect(ids.map((c) => (c as { attrs: Record<string, string> }).attrs.id)).toEqual(real);
    }
  });

  test("without an id the reflection has none either", () => {
    const f = room();
    const out = f.send(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><body>x</body></message>`);
    expect(out.every((m) => m.attrs.id === undefined)).toBe(true);
  });

  test("a message with a subject and a body is an ordinary message, not a subject change (§8.1)", () => {
    const f = room();
    const out = f.send(`<message type='groupchat' from='${BOB}' to='${ROOM}'><subject>not a topic</subject><body>x</body></message>`);
    expect(out).toHaveLength(3);
    expect(f.service.room(ROOM)!.subject).toBeUndefined();
  });

  test("from someone not in the room: not-acceptable, and no occupant hears it", () => {
    const f = room();
    const out = f.say("mallory@m.test/x", "lobby", "let me in", "q1");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: "mallory@m.test/x", id: "q1", from: ROOM });
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
    expect(errorType(out[0]!)).toBe("cancel");
  });

  test("from another session of an occupant's account that did not join: not-acceptable", () => {
    const f = room();
    const out = f.say("alice@a.test/tablet", "lobby", "hi");
    expect(out.map((s) => s.attrs.to)).toEqual(["alice@a.test/tablet"]);
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
  });

  test("to a room that does not exist: not-acceptable, so a client that believes it is joined rejoins (XEP-0410 §3.2)", () => {
    const f = room();
    const out = f.say(ALICE, "nowhere", "hello?");
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
  });

  test("a message to the room that is neither groupchat nor an invitation is refused", () => {
    const f = room();
    const out = f.send(`<message type='chat' from='${BOB}' to='${ROOM}'><body>x</body></message>`);
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("bad-request");
  });

  test("a message to the service itself is service-unavailable", () => {
    const f = room();
    const out = f.send(`<message from='${BOB}' to='${DOMAIN}'><body>x</body></message>`);
    expect(errorCondition(out[0]!)).toBe("service-unavailable");
  });

  test("the recipients are exactly the room's sessions: nobody outside hears", () => {
    const f = room();
    f.join("carol@c.test/home", "other", "Carol");
    expect(recipients(f.say(ALICE, "lobby", "x")).sort()).toEqual([ALICE, BOB, "bob@b.test/phone"].sort());
  });
});
