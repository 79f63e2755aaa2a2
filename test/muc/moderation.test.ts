import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { DISCO_INFO, DOMAIN, errorCondition, fixture, to, type Fixture } from "./fixture.ts";

/** XEP-0425 message moderation and XEP-0424 retraction by the author, on the room's archive. */

const OWNER = "owner@a.test/phone"; // a moderator
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/x";
const ROOM = `hall@${DOMAIN}`;
const RETRACT = "urn:xmpp:message-retract:1";
const MODERATE = "urn:xmpp:message-moderate:1";
const MAM = "urn:xmpp:mam:2";
const SID = "urn:xmpp:sid:0";

function hall(): Fixture {
  const f = fixture({ storage: new MemoryStorage() });
  f.join(OWNER, "hall", "Owner");
  f.join(BOB, "hall", "Bob");
  f.join(CAROL, "hall", "Carol");
  return f;
}

/** Bob says `body`; the stanza-id the room gave it. */
function said(f: Fixture, from: string, body: string, id = "m1"): string {
  const echo = to(f.say(from, "hall", body, id), from)[0]!;
  return echo.getChildren("stanza-id").find((s: Element) => s.attrs.xmlns === SID)!.attrs.id!;
}

const moderate = (f: Fixture, from: string, id: string, reason = "Spam") =>
  f.iq(from, ROOM, "set", `<moderate xmlns='${MODERATE}' id='${id}'><retract xmlns='${RETRACT}'/><reason>${reason}</reason></moderate>`, "mod1");

/** What the archive returns for the room: one forwarded message each. */
function archived(f: Fixture, from = OWNER): Element[] {
  const out = f.iq(from, ROOM, "set", `<query xmlns='${MAM}' queryid='q'/>`, "mam1");
  return out
    .filter((s) => s.name === "message")
    .map((m) => m.getChild("result", MAM)!.getChild("forwarded")!.getChild("message")!);
}

describe("message moderation (XEP-0425)", () => {
  test("a moderator retracts a message: everyone gets the retraction naming the moderator and the reason; the moderator a result", () => {
    const f = hall();
    const id = said(f, BOB, "buy cheap watches");
    const out = moderate(f, OWNER, id);
    expect(out.find((s) => s.name === "iq")!.attrs).toMatchObject({ type: "result", to: OWNER, id: "mod1" });
    const notices = out.filter((s) => s.name === "message");
    expect(notices.map((m) => m.attrs.to).sort()).toEqual([BOB, CAROL, OWNER].sort());
    for (const m of notices) {
      expect(m.attrs).toMatchObject({ type: "groupchat", from: ROOM });
      const retract = m.getChild("retract", RETRACT)!;
      expect(retract.attrs.id).toBe(id);
      expect(retract.getChild("moderated", MODERATE)!.attrs.by).toBe(`${ROOM}/Owner`);
      expect(retract.getChildText("reason")).toBe("Spam");
    }
  });

  test("the archive keeps a tombstone instead of the body, and the join history drops the message", () => {
    const f = hall();
    const id = said(f, BOB, "buy cheap watches");
    said(f, CAROL, "hello", "m2");
    moderate(f, OWNER, id);
    const messages = archived(f);
    const tomb = messages.find((m) => m.getChild("retracted", RETRACT))!;
    expect(tomb.attrs.from).toBe(`${ROOM}/Bob`);
    expect(tomb.getChild("body")).toBeUndefined();
    expect(tomb.getChild("retracted", RETRACT)!.getChild("moderated", MODERATE)!.attrs.by).toBe(`${ROOM}/Owner`);
    expect(JSON.stringify(messages.map(String))).not.toContain("cheap watches");
    expect(messages.some((m) => m.getChildText("body") === "hello")).toBe(true);
    const history = f.join("dave@d.test/x", "hall", "Dave").filter((s) => s.name === "message" && s.getChild("body"));
    expect(history.map((m) => m.getChildText("body"))).toEqual(["hello"]);
  });

  test("the tombstone outlives a restart: a persistent room's history comes back without the message", () => {
    const f = hall();
    f.configure(OWNER, "hall", { "muc#roomconfig_persistentroom": "1" });
    const id = said(f, BOB, "secret");
    moderate(f, OWNER, id);
    for (const [jid, nick] of [[OWNER, "Owner"], [BOB, "Bob"], [CAROL, "Carol"]] as const) f.leave(jid, "hall", nick);
    f.restart();
    const history = f.join("dave@d.test/x", "hall", "Dave").filter((s) => s.name === "message" && s.getChild("body"));
    expect(history).toEqual([]);
    expect(JSON.stringify(archived(f, "dave@d.test/x").map(String))).not.toContain("secret");
  });

  test("a participant is forbidden; an unknown id is item-not-found; nothing is retracted", () => {
    const f = hall();
    const id = said(f, BOB, "keep me");
    const refused = moderate(f, CAROL, id);
    expect(refused).toHaveLength(1);
    expect(errorCondition(refused[0]!)).toBe("forbidden");
    expect(errorCondition(moderate(f, OWNER, "no-such-id")[0]!)).toBe("item-not-found");
    expect(archived(f).some((m) => m.getChildText("body") === "keep me")).toBe(true);
  });

  test("a retracted message cannot be retracted twice", () => {
    const f = hall();
    const id = said(f, BOB, "once");
    moderate(f, OWNER, id);
    expect(errorCondition(moderate(f, OWNER, id)[0]!)).toBe("item-not-found");
  });

  test("room disco#info advertises moderation and retraction", () => {
    const f = hall();
    const vars = f.iq(BOB, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChildren("feature").map((x) => x.attrs.var);
    expect(vars).toEqual(expect.arrayContaining([MODERATE, RETRACT]));
  });
});

describe("retraction by the author (XEP-0424)", () => {
  const retract = (from: string, id: string) =>
    `<message type='groupchat' id='r1' from='${from}' to='${ROOM}'><retract xmlns='${RETRACT}' id='${id}'/><fallback xmlns='urn:xmpp:fallback:0' for='${RETRACT}'/><body>This person attempted to retract a previous message.</body></message>`;

  test("the author's retraction is relayed to everyone and the archive keeps a tombstone", () => {
    const f = hall();
    const id = said(f, BOB, "oops typo");
    const out = f.send(retract(BOB, id));
    expect(out.filter((s) => s.name === "message" && s.getChild("retract", RETRACT)).map((s) => s.attrs.to).sort()).toEqual([BOB, CAROL, OWNER].sort());
    const messages = archived(f);
    expect(JSON.stringify(messages.map(String))).not.toContain("oops typo");
    expect(messages.some((m) => m.getChild("retracted", RETRACT) && m.attrs.from === `${ROOM}/Bob`)).toBe(true);
  });

  test("a retraction of someone else's message is relayed but changes nothing in the archive", () => {
    const f = hall();
    const id = said(f, BOB, "mine");
    f.send(retract(CAROL, id));
    expect(archived(f).some((m) => m.getChildText("body") === "mine")).toBe(true);
  });

  test("corrections (XEP-0308) pass through untouched", () => {
    const f = hall();
    said(f, BOB, "helo");
    const out = f.send(`<message type='groupchat' id='c1' from='${BOB}' to='${ROOM}'><body>hello</body><replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>`);
    const relayed = to(out, CAROL)[0]!;
    expect(relayed.getChild("replace", "urn:xmpp:message-correct:0")!.attrs.id).toBe("m1");
    expect(relayed.getChildText("body")).toBe("hello");
  });
});
