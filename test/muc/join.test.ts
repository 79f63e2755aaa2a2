import { describe, expect, test } from "bun:test";
import { DOMAIN, MUC_USER, errorCondition, fixture, statuses, to } from "./fixture.ts";

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
