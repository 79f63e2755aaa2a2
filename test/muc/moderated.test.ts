import { describe, expect, test } from "bun:test";
import { DEFAULT_ROOM_CONFIG } from "../../src/muc/room-config.ts";
import { DATA, DISCO_INFO, DOMAIN, MUC_ADMIN, MUC_OWNER, MUC_ROOMCONFIG, errorCondition, fixture, itemOf, statuses, to, type Fixture } from "./fixture.ts";

/** XEP-0045 §10.2 moderated rooms, §7.13 voice requests and their §8.6 approval. */

const ALICE = "alice@a.test/phone"; // owner
const ALICE2 = "alice@a.test/laptop";
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/home";
const ROOM = `lobby@${DOMAIN}`;
const REQUEST = "http://jabber.org/protocol/muc#request";

const configure = (f: Fixture, fields: Record<string, string>) =>
  f.iq(
    ALICE,
    ROOM,
    "set",
    `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field>${Object.entries(fields)
      .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
      .join("")}</x></query>`,
  );
const features = (f: Fixture) => f.iq(BOB, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChildren("feature").map((x) => x.attrs.var);
const roleOf = (f: Fixture, nick: string) => f.service.room(ROOM)!.occupants.get(nick)?.role;

function moderated(): Fixture {
  const f = fixture();
  f.join(ALICE, "lobby", "Alice");
  f.join(ALICE2, "lobby", "Alice");
  expect(configure(f, { "muc#roomconfig_moderatedroom": "1" })[0]!.attrs.type).toBe("result");
  return f;
}

const voiceRequest = (from: string, role = "participant") =>
  `<message from='${from}' to='${ROOM}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${REQUEST}</value></field><field var='muc#role'><value>${role}</value></field></x></message>`;

const fieldsOf = (x: import("@xmpp/xml").Element) => Object.fromEntries(x.getChildren("field").map((fl) => [fl.attrs.var, fl.getChildText("value")]));

describe("moderated rooms", () => {
  test("the form offers moderatedroom; disco says muc_moderated or muc_unmoderated", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const form = f.iq(ALICE, ROOM, "get", `<query xmlns='${MUC_OWNER}'/>`)[0]!.getChild("query")!.getChild("x", DATA)!;
    expect(fieldsOf(form)["muc#roomconfig_moderatedroom"]).toBe("0");
    f.join(BOB, "lobby", "Bob");
    expect(features(f)).toContain("muc_unmoderated");
    configure(f, { "muc#roomconfig_moderatedroom": "1" });
    expect(features(f)).toContain("muc_moderated");
    expect(features(f)).not.toContain("muc_unmoderated");
  });

  test("newcomers without affiliation enter as visitors, members as participants, admins as moderators", () => {
    const f = moderated();
    f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item affiliation='member' jid='carol@c.test'/><item affiliation='admin' jid='dave@d.test'/></query>`);
    const self = to(f.join(BOB, "lobby", "Bob"), BOB).find((s) => statuses(s).includes("110"))!;
    expect(itemOf(self)!.attrs).toMatchObject({ affiliation: "none", role: "visitor" });
    f.join(CAROL, "lobby", "Carol");
    f.join("dave@d.test/x", "lobby", "Dave");
    expect([roleOf(f, "Bob"), roleOf(f, "Carol"), roleOf(f, "Dave")]).toEqual(["visitor", "participant", "moderator"]);
  });

  test("a visitor's groupchat message gets forbidden and is delivered to nobody", () => {
    const f = moderated();
    f.join(BOB, "lobby", "Bob");
    const out = f.say(BOB, "lobby", "may I?");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: BOB });
    expect(errorCondition(out[0]!)).toBe("forbidden");
  });

  test("revoking membership in a moderated room takes the voice that came with it", () => {
    const f = moderated();
    f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item affiliation='member' jid='carol@c.test'/></query>`);
    f.join(CAROL, "lobby", "Carol");
    f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item affiliation='none' jid='carol@c.test'/></query>`);
    expect(roleOf(f, "Carol")).toBe("visitor");
  });

  test("muc_room_default_moderated: a service whose rooms start moderated", () => {
    const f = fixture({ roomDefaults: { ...DEFAULT_ROOM_CONFIG, moderated: true } });
    f.join(ALICE, "lobby", "Alice");
    f.join(BOB, "lobby", "Bob");
    expect(roleOf(f, "Bob")).toBe("visitor");
    expect(features(f)).toContain("muc_moderated");
  });
});

describe("voice requests", () => {
  test("a visitor's request reaches every session of every moderator as the approval form, and nobody else", () => {
    const f = moderated();
    f.join(BOB, "lobby", "Bob");
    f.join(CAROL, "lobby", "Carol");
    const out = f.send(voiceRequest(BOB));
    expect(out.map((s) => s.attrs.to).sort()).toEqual([ALICE, ALICE2].sort());
    for (const message of out) {
      expect(message.attrs.from).toBe(ROOM);
      const form = message.getChild("x", DATA)!;
      expect(form.attrs.type).toBe("form");
      expect(fieldsOf(form)).toEqual({ FORM_TYPE: REQUEST, "muc#role": "participant", "muc#jid": BOB, "muc#roomnick": "Bob", "muc#request_allow": "false" });
    }
  });

  test("a moderator who submits the form with request_allow true grants voice; everyone sees it", () => {
    const f = moderated();
    f.join(BOB, "lobby", "Bob");
    const form = f.send(voiceRequest(BOB))[0]!.getChild("x", DATA)!;
    const answer = fieldsOf(form);
    answer["muc#request_allow"] = "true";
    const fields = Object.entries(answer).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join("");
    const out = f.send(`<message from='${ALICE}' to='${ROOM}'><x xmlns='${DATA}' type='submit'>${fields}</x></message>`);
    expect(roleOf(f, "Bob")).toBe("participant");
    const notice = to(out, BOB)[0]!;
    expect(itemOf(notice)!.attrs.role).toBe("participant");
    expect(itemOf(notice)!.getChild("actor")!.attrs.nick).toBe("Alice");
    expect(to(f.say(BOB, "lobby", "thanks"), ALICE)).toHaveLength(1);
  });

  test("a denial (request_allow false) changes nothing; a participant may not approve (forbidden)", () => {
    const f = moderated();
    f.join(BOB, "lobby", "Bob");
    f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item affiliation='member' jid='carol@c.test'/></query>`);
    f.join(CAROL, "lobby", "Carol");
    const approval = (from: string, allow: string) =>
      `<message from='${from}' to='${ROOM}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${REQUEST}</value></field><field var='muc#roomnick'><value>Bob</value></field><field var='muc#request_allow'><value>${allow}</value></field></x></message>`;
    expect(f.send(approval(ALICE, "false"))).toEqual([]);
    expect(roleOf(f, "Bob")).toBe("visitor");
    expect(errorCondition(f.send(approval(CAROL, "true"))[0]!)).toBe("forbidden");
    expect(roleOf(f, "Bob")).toBe("visitor");
  });

  test("a request from someone with voice is dropped; from a stranger, not-acceptable; for another role, not-acceptable", () => {
    const f = moderated();
    f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_ADMIN}'><item affiliation='member' jid='carol@c.test'/></query>`);
    f.join(CAROL, "lobby", "Carol");
    expect(f.send(voiceRequest(CAROL))).toEqual([]);
    expect(errorCondition(f.send(voiceRequest("mallory@m.test/x"))[0]!)).toBe("not-acceptable");
    f.join(BOB, "lobby", "Bob");
    expect(errorCondition(f.send(voiceRequest(BOB, "moderator"))[0]!)).toBe("not-acceptable");
  });
});
