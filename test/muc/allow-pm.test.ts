import { describe, expect, test } from "bun:test";
import { Turn } from "../../src/muc/turn.ts";
import { DOMAIN, errorCondition, fixture, type Fixture } from "./fixture.ts";

/** XEP-0045 §10.2 allowpm (Prosody's values) over §7.5 private messages. */

const OWNER = "owner@a.test/phone";
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/x";
const ROOM = `chat@${DOMAIN}`;

function room(allowpm: string): Fixture {
  const f = fixture();
  f.join(OWNER, "chat", "Owner");
  f.join(BOB, "chat", "Bob");
  f.join(CAROL, "chat", "Carol");
  expect(f.configure(OWNER, "chat", { "muc#roomconfig_allowpm": allowpm })[0]!.attrs.type).toBe("result");
  return f;
}

const delivered = (out: ReturnType<Fixture["send"]>, to: string) => out.some((s) => s.name === "message" && s.attrs.to === to && s.attrs.type !== "error");

describe("who may send private messages", () => {
  test("anyone (the default): every occupant", () => {
    const f = room("anyone");
    expect(delivered(f.whisper(BOB, "chat", "Carol", "hi"), CAROL)).toBe(true);
  });

  test("participants: visitors are forbidden, participants and moderators pass", () => {
    const f = room("participants");
    expect(delivered(f.whisper(BOB, "chat", "Carol", "hi"), CAROL)).toBe(true);
    const r = f.service.room(ROOM)!;
    r.setRole(r.occupants.get("Bob")!, "visitor", {}, new Turn(f.now()));
    const out = f.whisper(BOB, "chat", "Carol", "hi");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs.to).toBe(BOB);
    expect(errorCondition(out[0]!)).toBe("forbidden");
  });

  test("moderators: participants are forbidden, the owner (a moderator) passes", () => {
    const f = room("moderators");
    expect(errorCondition(f.whisper(BOB, "chat", "Carol", "hi")[0]!)).toBe("forbidden");
    expect(delivered(f.whisper(OWNER, "chat", "Carol", "hi"), CAROL)).toBe(true);
  });

  test("none: nobody, moderators included; groupchat is untouched", () => {
    const f = room("none");
    expect(errorCondition(f.whisper(OWNER, "chat", "Bob", "hi")[0]!)).toBe("forbidden");
    expect(errorCondition(f.whisper(BOB, "chat", "Carol", "hi")[0]!)).toBe("forbidden");
    expect(delivered(f.say(BOB, "chat", "hello all"), CAROL)).toBe(true);
  });

  test("a value Prosody does not offer is not-acceptable naming the field", () => {
    const f = fixture();
    f.join(OWNER, "chat", "Owner");
    const out = f.configure(OWNER, "chat", { "muc#roomconfig_allowpm": "everybody" })[0]!;
    expect(errorCondition(out)).toBe("not-acceptable");
    expect(out.toString()).toContain("muc#roomconfig_allowpm");
  });
});
