import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { History, type HistoryEntry } from "../../src/muc/history.ts";
import { DATA, DELAY, DOMAIN, MUC_OWNER, MUC_ROOMCONFIG, OCCUPANT_ID, fixture, to, type Fixture } from "./fixture.ts";

/** XEP-0045 §7.2.15-§7.2.16: discussion history on entering, and the limits a joiner may ask for. */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";

/** Alice says m0…m(n-1), one per `gapMs`. */
function chatter(f: Fixture, n: number, gapMs = 0): void {
  f.join(ALICE, "lobby", "Alice");
  for (let i = 0; i < n; i++) {
    f.say(ALICE, "lobby", `m${i}`, `id${i}`);
    f.advance(gapMs);
  }
}

function historyFor(f: Fixture, historyElement = ""): Element[] {
  return to(f.join(BOB, "lobby", "Bob", historyElement), BOB).filter((s) => s.name === "message" && s.getChild("body"));
}

const bodies = (messages: Element[]) => messages.map((m) => m.getChildText("body"));

/** Characters of a history message as the room counts them: the stanza without the per-recipient `to`. */
function chars(message: Element): number {
  const { to: _to, ...attrs } = message.attrs;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(message)), message, { attrs });
  return copy.toString().length;
}

describe("discussion history", () => {
  test("without <history/>, the last 20 messages are sent, oldest first", () => {
    const f = fixture();
    chatter(f, 25);
    expect(bodies(historyFor(f))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 5}`));
  });

  test("the room keeps at most historySize (max_history_messages) messages", () => {
    const f = fixture({ historySize: 3 });
    chatter(f, 5);
    expect(bodies(historyFor(f, "<history maxstanzas='10'/>"))).toEqual(["m2", "m3", "m4"]);
  });

  test("historySize 0 keeps no history at all", () => {
    const f = fixture({ historySize: 0 });
    chatter(f, 3);
    expect(historyFor(f)).toEqual([]);
  });

  test("each history message comes from the sender's occupant JID, keeps its id and occupant-id, and carries a delay from the room", () => {
    const f = fixture();
    chatter(f, 1);
    const [m] = historyFor(f);
    expect(m!.attrs).toMatchObject({ type: "groupchat", from: `lobby@${DOMAIN}/Alice`, to: BOB, id: "id0" });
    expect(m!.getChild("occupant-id", OCCUPANT_ID)).toBeDefined();
    // §7.2.15: in a semi-anonymous room the delay's from MUST NOT be the sender's real JID.
    expect(m!.getChild("delay", DELAY)!.attrs).toEqual({ xmlns: DELAY, from: `lobby@${DOMAIN}`, stamp: "2026-01-01T00:00:00Z" });
  });

  test("maxstanzas limits the count; 0 sends none", () => {
    const f = fixture();
    chatter(f, 5);
    expect(bodies(historyFor(f, "<history maxstanzas='2'/>"))).toEqual(["m3", "m4"]);
    f.leave(BOB, "lobby", "Bob");
    expect(historyFor(f, "<history maxstanzas='0'/>")).toEqual([]);
  });

  test("maxchars='0' means no history", () => {
    const f = fixture();
    chatter(f, 5);
    expect(historyFor(f, "<history maxchars='0'/>")).toEqual([]);
  });

  test("maxchars sends the most complete stanzas whose total fits, never a truncated one", () => {
    const f = fixture();
    chatter(f, 5);
    const all = historyFor(f);
    const lastTwo = chars(all[3]!) + chars(all[4]!);
    f.leave(BOB, "lobby", "Bob");
    expect(bodies(historyFor(f, `<history maxchars='${lastTwo}'/>`))).toEqual(["m3", "m4"]);
    f.leave(BOB, "lobby", "Bob");
    expect(bodies(historyFor(f, `<history maxchars='${lastTwo - 1}'/>`))).toEqual(["m4"]);
  });

  test("seconds sends only what arrived in the last X seconds", () => {
    const f = fixture();
    chatter(f, 5, 60_000); // m0 at t0, m1 at t0+60s, … m4 at t0+240s; now t0+300s
    expect(bodies(historyFor(f, "<history seconds='120'/>"))).toEqual(["m3", "m4"]);
  });

  test("since sends only what arrived at or after the datetime", () => {
    const f = fixture();
    chatter(f, 5, 60_000);
    expect(bodies(historyFor(f, "<history since='2026-01-01T00:03:00Z'/>"))).toEqual(["m3", "m4"]);
    f.leave(BOB, "lobby", "Bob");
    expect(bodies(historyFor(f, "<history since='1970-01-01T00:00Z'/>"))).toHaveLength(5);
  });

  test("combined limits send the smallest history meeting all of them", () => {
    const f = fixture();
    chatter(f, 5, 60_000);
    expect(bodies(historyFor(f, "<history seconds='250' maxstanzas='2'/>"))).toEqual(["m3", "m4"]);
    f.leave(BOB, "lobby", "Bob");
    expect(bodies(historyFor(f, "<history seconds='100' maxstanzas='4'/>"))).toEqual(["m4"]);
  });

  test("malformed limits are ignored rather than refusing the join", () => {
    const f = fixture();
    chatter(f, 3);
    expect(bodies(historyFor(f, "<history maxstanzas='lots' seconds='-5' since='yesterday'/>"))).toEqual(["m0", "m1", "m2"]);
  });

  test("subject changes and body-less messages (chat states) are not history", () => {
    const f = fixture();
    chatter(f, 1);
    f.send(`<message type='groupchat' from='${ALICE}' to='lobby@${DOMAIN}'><subject>Topic</subject></message>`);
    f.send(`<message type='groupchat' from='${ALICE}' to='lobby@${DOMAIN}'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    const out = to(f.join(BOB, "lobby", "Bob"), BOB).filter((s) => s.name === "message");
    expect(out.map((m) => m.getChildText("body") ?? `subject:${m.getChildText("subject")}`)).toEqual(["m0", "subject:Topic"]);
  });

  test("history belongs to the room: an emptied room is gone, and so is its history", () => {
    const f = fixture();
    chatter(f, 2);
    f.leave(ALICE, "lobby", "Alice");
    expect(historyFor(f)).toEqual([]);
  });

  test("a second session joining an existing nick gets the history too", () => {
    const f = fixture();
    chatter(f, 2);
    const out = to(f.join("alice@a.test/laptop", "lobby", "Alice", "<history maxstanzas='1'/>"), "alice@a.test/laptop");
    expect(bodies(out.filter((s) => s.getChild("body")))).toEqual(["m1"]);
  });
});

describe("the history's bytes (max_history_bytes)", () => {
  const ROOM = `lobby@${DOMAIN}`;
  /** Bytes the room counts for one of chatter()'s messages (all the same size: m0…m9). */
  function oneMessage(): number {
    const f = fixture();
    chatter(f, 1);
    return f.service.room(ROOM)!.history.bytes;
  }

  test("the room holds no more than the bound: the newest whole messages, the oldest going first", () => {
    const size = oneMessage();
    const f = fixture({ settings: { maxHistoryBytes: Math.floor(3.5 * size) } });
    chatter(f, 8);
    const history = f.service.room(ROOM)!.history;
    expect(history.length).toBe(3);
    expect(history.bytes).toBe(3 * size);
    expect(bodies(historyFor(f))).toEqual(["m5", "m6", "m7"]);
  });

  test("bytes, not characters: text outside ASCII counts as its UTF-8 bytes", () => {
    const f = fixture({ settings: { maxHistoryBytes: 1500 } });
    f.join(ALICE, "lobby", "Alice");
    for (let i = 0; i < 3; i++) f.say(ALICE, "lobby", "é".repeat(400), `id${i}`);
    // Each is 1144 bytes but 744 characters: two would fit by characters, one does by bytes.
    expect(f.service.room(ROOM)!.history.length).toBe(1);
    expect(historyFor(f)).toHaveLength(1);
  });

  test("a message larger than the bound on its own is not kept, and neither is anything older (the history stays unbroken)", () => {
    const f = fixture({ settings: { maxHistoryBytes: 2048 } });
    chatter(f, 3);
    f.say(ALICE, "lobby", "x".repeat(4096), "big");
    expect(f.service.room(ROOM)!.history.length).toBe(0);
    expect(historyFor(f)).toEqual([]);
    f.say(ALICE, "lobby", "after", "after");
    expect(bodies(historyFor(f, "<history maxstanzas='5'/>"))).toEqual(["after"]);
  });

  test("what a newcomer is sent stays within the bound, with the newest first kept, also when it asks for more", () => {
    const size = oneMessage();
    const f = fixture({ settings: { maxHistoryBytes: 2 * size } });
    chatter(f, 5);
    expect(bodies(historyFor(f, "<history maxstanzas='10' maxchars='100000'/>"))).toEqual(["m3", "m4"]);
  });

  test("history read back from the archive is held to it too", () => {
    const size = oneMessage();
    const before = fixture();
    before.join(ALICE, "lobby", "Alice");
    const form = `<x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x>`;
    before.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_OWNER}'>${form}</query>`);
    for (let i = 0; i < 6; i++) before.say(ALICE, "lobby", `m${i}`, `id${i}`);
    before.leave(ALICE, "lobby", "Alice");
    const after = fixture({ storage: before.storage, settings: { maxHistoryBytes: 2 * size } });
    expect(bodies(historyFor(after))).toEqual(["m4", "m5"]);
    expect(after.service.room(ROOM)!.history.bytes).toBeLessThanOrEqual(2 * size);
  });

  test("dropping a message (a retraction) gives its bytes back", () => {
    const entry = (id: string, bytes: number): HistoryEntry => ({ message: { attrs: { id } } as never, stamp: 0, chars: bytes, bytes });
    const history = new History(10, 100);
    for (const id of ["a", "b", "c"]) history.push(entry(id, 30));
    expect(history.bytes).toBe(90);
    history.drop((e) => e.message.attrs.id === "b");
    expect(history.bytes).toBe(60);
    history.push(entry("d", 40));
    expect([history.length, history.bytes]).toEqual([3, 100]);
    history.push(entry("e", 1));
    expect([history.length, history.bytes]).toEqual([3, 71]);
  });
});
