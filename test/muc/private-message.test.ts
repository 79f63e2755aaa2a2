import { describe, expect, test } from "bun:test";
import { DOMAIN, MUC_USER, errorCondition, errorType, lobby, occupantIds, to } from "./fixture.ts";

/** XEP-0045 §7.5 sending a private message. */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const BOB2 = "bob@b.test/phone";
const ROOM = `lobby@${DOMAIN}`;

const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"], [BOB2, "Bob"]);

describe("private messages", () => {
  test("go to every session of the recipient, from the sender's occupant JID, marked with an empty muc#user x", () => {
    const f = room();
    const out = f.whisper(ALICE, "lobby", "Bob", "psst", "chat", "p1");
    expect(out.map((s) => s.attrs.to).sort()).toEqual([BOB, BOB2].sort());
    for (const m of out) {
      expect(m.attrs).toMatchObject({ type: "chat", id: "p1", from: `${ROOM}/Alice` });
      expect(m.getChildText("body")).toBe("psst");
      const x = m.getChild("x", MUC_USER)!;
      expect(x.children).toHaveLength(0);
      expect(occupantIds(m)).toHaveLength(1);
    }
  });

  test("never reveal the sender's real JID, and nobody else receives them", () => {
    const f = room();
    f.join("carol@c.test/home", "lobby", "Carol");
    const out = f.whisper(BOB, "lobby", "Carol", "hi");
    expect(out.map((s) => s.attrs.to)).toEqual(["carol@c.test/home"]);
    expect(out[0]!.toString()).not.toContain("bob@b.test");
  });

  test("may be of type normal (no type)", () => {
    const f = room();
    const out = f.send(`<message from='${ALICE}' to='${ROOM}/Bob'><body>x</body></message>`);
    expect(out).toHaveLength(2);
    expect(out[0]!.attrs.type).toBeUndefined();
  });

  test("of type groupchat are refused with bad-request and not delivered", () => {
    const f = room();
    const out = f.whisper(ALICE, "lobby", "Bob", "x", "groupchat");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: ALICE });
    expect(errorCondition(out[0]!)).toBe("bad-request");
    expect(errorType(out[0]!)).toBe("modify");
  });

  test("to a nick nobody holds: item-not-found", () => {
    const f = room();
    const out = f.whisper(ALICE, "lobby", "Nobody", "x");
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("item-not-found");
  });

  test("to an occupant of a room that does not exist: not-acceptable (not joined, XEP-0410 §3.2)", () => {
    const f = room();
    expect(errorCondition(f.whisper(ALICE, "nowhere", "Bob", "x")[0]!)).toBe("not-acceptable");
  });

  test("from someone not in the room: not-acceptable, not delivered", () => {
    const f = room();
    const out = f.whisper("mallory@m.test/x", "lobby", "Bob", "hey");
    expect(out.map((s) => s.attrs.to)).toEqual(["mallory@m.test/x"]);
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
  });

  test("a client-sent muc#user x or occupant-id is replaced by the room's", () => {
    const f = room();
    const out = f.send(
      `<message type='chat' from='${ALICE}' to='${ROOM}/Bob'><body>x</body><x xmlns='${MUC_USER}'><invite to='evil@e.test'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></message>`,
    );
    const m = to(out, BOB)[0]!;
    expect(m.getChildren("x", MUC_USER)).toHaveLength(1);
    expect(m.getChild("x", MUC_USER)!.children).toHaveLength(0);
    expect(occupantIds(m)).not.toContain("forged");
  });
});
