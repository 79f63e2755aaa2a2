import { describe, expect, test } from "bun:test";
import { Element } from "@xmpp/xml";
import { DOMAIN, errorCondition, errorType, fixture, presenceTo, statuses, to } from "./fixture.ts";

/**
 * Room nicknames (XEP-0045 §7.2.2: the RFC 8266 Nickname profile; §7.2.8
 * jid-malformed for a nick the service cannot accept), and 210 when the
 * service changed the nick it was asked for (§7.2.3).
 */

const ROOM = `lobby@${DOMAIN}`;
const ALICE = "alice@a.test/phone";

function joinAs(nick: string) {
  const f = fixture();
  f.join(ALICE, "lobby", "Alice");
  const out = f.send(presenceTo("bob@b.test/pc", `${ROOM}/${nick}`));
  return { f, out };
}

function expectMalformed(nick: string) {
  const { f, out } = joinAs(nick);
  expect(out).toHaveLength(1);
  expect(out[0]!.attrs).toMatchObject({ type: "error", to: "bob@b.test/pc" });
  expect(errorCondition(out[0]!)).toBe("jid-malformed");
  expect(errorType(out[0]!)).toBe("modify");
  expect([...f.service.room(ROOM)!.occupants.keys()]).toEqual(["Alice"]);
  // …and the room goes on serving everyone else.
  expect(f.say(ALICE, "lobby", "still fine")).toHaveLength(1);
}

describe("nicknames the service refuses (jid-malformed)", () => {
  test("longer than 1023 bytes of UTF-8", () => expectMalformed("n".repeat(1024)));
  test("multi-byte characters over 1023 bytes", () => expectMalformed("é".repeat(512)));
  test("a nick that only grows past 1023 bytes under NFKC", () => expectMalformed("\uFDFA".repeat(300)));
  test("right-to-left override U+202E", () => expectMalformed("evil\u202Egnp.exe"));
  test("left-to-right / right-to-left marks", () => expectMalformed("a\u200Fb"));
  test("private use U+E000", () => expectMalformed("x\uE000"));
  test("a control character", () => expectMalformed("bell\u0007"));
  test("a tab", () => expectMalformed("a\tb"));
  test("a line separator U+2028", () => expectMalformed("a\u2028b"));
  test("a non-character U+FDD0", () => expectMalformed("a\uFDD0"));
  test("an unassigned code point", () => expectMalformed("a\u0378"));
  test("only spaces", () => expectMalformed("   "));
  test("an empty nick", () => {
    const f = fixture();
    const out = f.send(presenceTo("bob@b.test/pc", `${ROOM}/`));
    expect(errorCondition(out[0]!)).toBe("jid-malformed");
  });
});

describe("nicknames the service accepts", () => {
  test("exactly 1023 bytes", () => {
    const { out } = joinAs("n".repeat(1023));
    expect(to(out, "bob@b.test/pc").some((s) => statuses(s).includes("110"))).toBe(true);
  });

  test("ordinary Unicode letters, emoji and inner spaces, unchanged (no 210)", () => {
    for (const nick of ["Zoë", "山田 太郎", "🦊 fox", "a b"]) {
      const { out } = joinAs(nick);
      const self = to(out, "bob@b.test/pc").find((s) => statuses(s).includes("110"))!;
      expect(self.attrs.from).toBe(`${ROOM}/${nick}`);
      expect(statuses(self)).toEqual(["110"]);
    }
  });

  test.each([
    ["\u00A0Bob", "Bob"],
    ["Bo\u3000b", "Bo b"],
    ["\uFB01sh", "fish"],
    ["\uFF22\uFF4F\uFF42", "Bob"],
    ["Bo   b", "Bo b"],
  ])("%j is normalised to %j and the self-presence says 210", (requested, prepared) => {
    const { out } = joinAs(requested);
    const self = to(out, "bob@b.test/pc").find((s) => statuses(s).includes("110"))!;
    expect(self.attrs.from).toBe(`${ROOM}/${prepared}`);
    expect(statuses(self).sort()).toEqual(["110", "210"]);
    // Others see the prepared nick, without 210.
    const seen = to(out, ALICE)[0]!;
    expect(seen.attrs.from).toBe(`${ROOM}/${prepared}`);
    expect(statuses(seen)).toEqual([]);
  });

  test("a nick that normalises to someone else's is a conflict, not a second holder", () => {
    const { f, out } = joinAs("\uFF21lice"); // fullwidth A + "lice" → "Alice"
    expect(errorCondition(out[0]!)).toBe("conflict");
    expect(f.service.room(ROOM)!.occupants.get("Alice")!.bare).toBe("alice@a.test");
  });

  test("the occupant is addressable by its prepared nick afterwards", () => {
    const { f } = joinAs("\u00A0Bob");
    const pm = f.whisper(ALICE, "lobby", "Bob", "hi");
    expect(pm.map((s) => s.attrs.to)).toEqual(["bob@b.test/pc"]);
  });
});

test("a presence without <x xmlns='…muc'/> is still a join (older clients)", () => {

  const f = fixture();
  const out = f.send(presenceTo("bob@b.test/pc", `${ROOM}/ok`, [new Element("status").t("hi")]));
  expect(statuses(out[0]!).sort()).toEqual(["110", "201"]);
});
