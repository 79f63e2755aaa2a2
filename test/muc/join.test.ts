import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { DATA, DELAY, DOMAIN, MUC, MUC_USER, REGISTER, brief, errorCondition, errorType, fixture, itemOf, occupantIds, statuses, to } from "./fixture.ts";

describe("joining a room (XEP-0045 §7.2)", () => {
  test("the first occupant creates the room, becomes owner and gets 110 + 201, then an empty subject", () => {
    const f = fixture();
    const out = f.join("alice@a.test/phone", "lobby", "Alice");
    expect(out.map((s) => s.name)).toEqual(["presence", "message"]);
    const [self, subject] = out;
    expect(self!.attrs).toMatchObject({ from: `lobby@${DOMAIN}/Alice`, to: "alice@a.test/phone" });
    expect(statuses(self!).sort()).toEqual(["110", "201"]);
    const item = self!.getChild("x", MUC_USER)!.getChild("item")!;
    expect(item.attrs).toMatchObject({ affiliation: "owner", role: "moderator" });
    expect(self!.getChild("occupant-id", "urn:xmpp:occupant-id:0")?.attrs.id).toBeTruthy();
    expect(subject!.attrs).toMatchObject({ type: "groupchat", from: `lobby@${DOMAIN}` });
    expect(subject!.getChild("subject")!.getText()).toBe("");
  });

  test("a later occupant sees existing occupants first, then itself with 110, then the subject", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    const out = f.join("bob@b.test/pc", "lobby", "Bob");
    const bobs = to(out, "bob@b.test/pc");
    expect(bobs.map((s) => `${s.name}:${s.attrs.from}`)).toEqual([
      `presence:lobby@${DOMAIN}/Alice`,
      `presence:lobby@${DOMAIN}/Bob`,
      `message:lobby@${DOMAIN}`,
    ]);
    expect(statuses(bobs[1]!)).toEqual(["110"]);
    // semi-anonymous: a participant does not see Alice's real JID…
    expect(bobs[0]!.getChild("x", MUC_USER)!.getChild("item")!.attrs.jid).toBeUndefined();
    // …but Alice, a moderator, sees Bob's.
    const alices = to(out, "alice@a.test/phone");
    expect(alices).toHaveLength(1);
    expect(alices[0]!.getChild("x", MUC_USER)!.getChild("item")!.attrs.jid).toBe("bob@b.test/pc");
  });

  test("a nick held by another user is a conflict and changes nothing", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    const out = f.join("mallory@m.test/x", "lobby", "Alice");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: "mallory@m.test/x" });
    expect(errorCondition(out[0]!)).toBe("conflict");
    expect(f.service.room(`lobby@${DOMAIN}`)!.occupants.size).toBe(1);
  });

  test("a second session of the same user shares the nick (multi-session)", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    f.join("bob@b.test/pc", "lobby", "Bob");
    const out = f.join("alice@a.test/laptop", "lobby", "Alice");
    expect(to(out, "bob@b.test/pc")).toHaveLength(0);
    expect(to(out, "alice@a.test/laptop").map((s) => s.name)).toEqual(["presence", "presence", "message"]);
    const said = f.say("bob@b.test/pc", "lobby", "hi");
    expect(to(said, "alice@a.test/phone")).toHaveLength(1);
    expect(to(said, "alice@a.test/laptop")).toHaveLength(1);
  });

  test("a presence without a nick is jid-malformed", () => {
    const f = fixture();
    const out = f.send(`<presence from='a@a.test/r' to='lobby@${DOMAIN}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    expect(errorCondition(out[0]!)).toBe("jid-malformed");
  });

  test("the service trims a nick and says so with 210", () => {
    const f = fixture();
    const out = f.join("a@a.test/r", "lobby", "  Al  ice ");
    expect(out[0]!.attrs.from).toBe(`lobby@${DOMAIN}/Al ice`);
    expect(statuses(out[0]!).sort()).toEqual(["110", "201", "210"]);
  });

  test("history is replayed with delay stamps, honouring maxstanzas", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    for (let i = 0; i < 5; i++) f.say("alice@a.test/phone", "lobby", `m${i}`, `id${i}`);
    const out = f.join("bob@b.test/pc", "lobby", "Bob", "<history maxstanzas='2'/>");
    const history = out.filter((s) => s.name === "message" && s.getChild("body"));
    expect(history.map((m) => m.getChildText("body"))).toEqual(["m3", "m4"]);
    expect(history[0]!.getChild("delay", "urn:xmpp:delay")!.attrs.from).toBe(`lobby@${DOMAIN}`);
  });
});

describe("joining a room: order and content (XEP-0045 §7.2.3, §7.2.15, §7.2.16)", () => {
  test("the joiner gets occupants, then itself, then history, then the subject — and nothing about the room before its self-presence", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    f.join("carol@c.test/home", "lobby", "Carol");
    f.say("alice@a.test/phone", "lobby", "one", "h1");
    f.send(`<message type='groupchat' from='alice@a.test/phone' to='lobby@${DOMAIN}'><subject>Plans</subject></message>`);
    const out = to(f.join("bob@b.test/pc", "lobby", "Bob"), "bob@b.test/pc");
    expect(out.map(brief)).toEqual([
      `presence:lobby@${DOMAIN}/Alice`,
      `presence:lobby@${DOMAIN}/Carol`,
      `presence:lobby@${DOMAIN}/Bob`,
      `message(groupchat):lobby@${DOMAIN}/Alice`,
      `message(groupchat):lobby@${DOMAIN}/Alice`,
    ]);
    expect(statuses(out[2]!)).toEqual(["110"]);
    expect(out[3]!.getChildText("body")).toBe("one");
    expect(out[3]!.getChild("delay", DELAY)).toBeDefined();
    expect(out[4]!.getChildText("subject")).toBe("Plans");
    expect(out[4]!.getChild("body")).toBeUndefined();
  });

  test("every existing occupant (all sessions) learns of the newcomer after the newcomer got the roster", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    f.join("alice@a.test/laptop", "lobby", "Alice");
    f.join("carol@c.test/home", "lobby", "Carol");
    const out = f.join("bob@b.test/pc", "lobby", "Bob");
    const announcements = out.filter((s) => s.name === "presence" && s.attrs.from === `lobby@${DOMAIN}/Bob`);
    expect(announcements.map((s) => s.attrs.to).sort()).toEqual(
      ["alice@a.test/laptop", "alice@a.test/phone", "bob@b.test/pc", "carol@c.test/home"].sort(),
    );
    const lastRoster = out.findLastIndex((s) => s.attrs.to === "bob@b.test/pc" && s.attrs.from !== `lobby@${DOMAIN}/Bob` && s.name === "presence");
    const firstAnnouncement = out.findIndex((s) => s.attrs.from === `lobby@${DOMAIN}/Bob`);
    expect(lastRoster).toBeLessThan(firstAnnouncement);
  });

  test("the self-presence shows the occupant its own real JID, role and affiliation", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    const self = to(f.join("bob@b.test/pc", "lobby", "Bob"), "bob@b.test/pc").find((s) => statuses(s).includes("110"))!;
    expect(itemOf(self)!.attrs).toEqual({ affiliation: "none", role: "participant", jid: "bob@b.test/pc" });
  });

  test("the joiner's show and status are relayed; muc and muc#user elements it sent are not", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    const out = f.send(
      `<presence from='bob@b.test/pc' to='lobby@${DOMAIN}/Bob'><x xmlns='${MUC}'/><show>away</show><status>brb</status>` +
        `<x xmlns='${MUC_USER}'><item role='moderator' affiliation='owner'/></x></presence>`,
    );
    const seen = to(out, "alice@a.test/phone")[0]!;
    expect(seen.getChildText("show")).toBe("away");
    expect(seen.getChildText("status")).toBe("brb");
    expect(seen.getChildren("x", MUC_USER)).toHaveLength(1);
    expect(seen.getChild("x", MUC)).toBeUndefined();
    expect(itemOf(seen)!.attrs).toMatchObject({ role: "participant", affiliation: "none" });
  });

  test("occupant ids (XEP-0421) are stable per user and room, and differ between users and rooms", () => {
    const f = fixture();
    const idIn = (out: Element[], session: string) => occupantIds(to(out, session).find((s) => statuses(s).includes("110"))!);
    const a1 = idIn(f.join("alice@a.test/phone", "lobby", "Alice"), "alice@a.test/phone");
    const a2 = idIn(f.join("alice@a.test/laptop", "lobby", "Alice"), "alice@a.test/laptop");
    const b = idIn(f.join("bob@b.test/pc", "lobby", "Bob"), "bob@b.test/pc");
    const elsewhere = idIn(f.join("alice@a.test/phone", "other", "Alice"), "alice@a.test/phone");
    expect(a1).toHaveLength(1);
    expect(a2).toEqual(a1);
    expect(b).not.toEqual(a1);
    expect(elsewhere).not.toEqual(a1);
    f.leave("alice@a.test/phone", "lobby", "Alice");
    f.leave("alice@a.test/laptop", "lobby", "Alice");
    expect(idIn(f.join("alice@a.test/phone", "lobby", "Alice2"), "alice@a.test/phone")).toEqual(a1);
  });

  test("a nick registered by another user is a conflict (§7.2.9, §7.10)", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    f.iq("bob@b.test/pc", `lobby@${DOMAIN}`, "set", `<query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'><field var='muc#register_roomnick'><value>Bobby</value></field></x></query>`);
    const out = f.join("mallory@m.test/x", "lobby", "Bobby");
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("conflict");
    expect(errorType(out[0]!)).toBe("cancel");
    expect(to(f.join("bob@b.test/pc", "lobby", "Bobby"), "bob@b.test/pc").some((s) => statuses(s).includes("110"))).toBe(true);
  });

  test("a conflict error keeps the request's id and muc x, comes from the occupant JID asked for, and reaches nobody else", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    const out = f.send(`<presence id='j1' from='mallory@m.test/x' to='lobby@${DOMAIN}/Alice'><x xmlns='${MUC}'/></presence>`);
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toEqual({ type: "error", from: `lobby@${DOMAIN}/Alice`, to: "mallory@m.test/x", id: "j1" });
    expect(out[0]!.getChild("x", MUC)).toBeDefined();
  });
});
