import { describe, expect, test } from "bun:test";
import { DEFAULT_ROOM_CONFIG } from "../../src/muc/room-config.ts";
import { DATA, DISCO_INFO, DOMAIN, MUC_OWNER, MUC_ROOMCONFIG, MUC_USER, errorCondition, lobby, recipients, statuses, to } from "./fixture.ts";

/** XEP-0045 §10 owner use cases: instant rooms (§10.1.2), configuration (§10.2), destruction (§10.9). */

const ALICE = "alice@a.test/phone"; // owner
const BOB = "bob@b.test/pc";
const ROOM = `lobby@${DOMAIN}`;

const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"]);

const owner = (body: string) => `<query xmlns='${MUC_OWNER}'>${body}</query>`;
const submit = (fields: Record<string, string>) =>
  owner(
    `<x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field>${Object.entries(fields)
      .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
      .join("")}</x>`,
  );

describe("room configuration", () => {
  test("the owner gets the configuration form", () => {
    const f = room();
    const out = f.iq(ALICE, ROOM, "get", owner(""), "c1");
    expect(out[0]!.attrs).toEqual({ type: "result", from: ROOM, to: ALICE, id: "c1" });
    const form = out[0]!.getChild("query", MUC_OWNER)!.getChild("x", DATA)!;
    expect(form.attrs.type).toBe("form");
    const vars = form.getChildren("field").map((x) => x.attrs.var);
    expect(vars).toEqual(expect.arrayContaining(["FORM_TYPE", "muc#roomconfig_roomname", "muc#roomconfig_publicroom", "muc#roomconfig_changesubject"]));
  });

  test("an empty submitted form (instant room, §10.1.2) is accepted and changes nothing", () => {
    const f = room();
    const out = f.iq(ALICE, ROOM, "set", owner(`<x xmlns='${DATA}' type='submit'/>`), "c2");
    expect(out).toEqual([expect.objectContaining({ name: "iq" })]);
    expect(out[0]!.attrs).toEqual({ type: "result", from: ROOM, to: ALICE, id: "c2" });
    expect(f.service.room(ROOM)!.config).toEqual(DEFAULT_ROOM_CONFIG);
  });

  test("a cancelled form is accepted", () => {
    const f = room();
    expect(f.iq(ALICE, ROOM, "set", owner(`<x xmlns='${DATA}' type='cancel'/>`))[0]!.attrs.type).toBe("result");
  });

  test("a submitted form changes the name and description, visible in disco", () => {
    const f = room();
    f.iq(ALICE, ROOM, "set", submit({ "muc#roomconfig_roomname": "The Lobby", "muc#roomconfig_roomdesc": "Come in" }));
    const info = f.iq(BOB, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!;
    expect(info.getChild("identity")!.attrs.name).toBe("The Lobby");
    const field = (name: string) => info.getChild("x", DATA)!.getChildren("field").find((x) => x.attrs.var === name)!.getChildText("value");
    expect(field("muc#roominfo_description")).toBe("Come in");
  });

  test("a persistent room (§10.2 persistentroom) says so in disco and outlives its last occupant", () => {
    const f = room();
    expect(f.iq(ALICE, ROOM, "set", submit({ "muc#roomconfig_persistentroom": "1" }))[0]!.attrs.type).toBe("result");
    const features = () => f.iq(ALICE, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChildren("feature").map((x) => x.attrs.var);
    expect(features()).toContain("muc_persistent");
    expect(features()).not.toContain("muc_temporary");
    f.leave(BOB, "lobby", "Bob");
    f.leave(ALICE, "lobby", "Alice");
    expect(f.service.room(ROOM)).toBeUndefined(); // evicted from memory; without storage it is gone with it
  });

  test("a form of another FORM_TYPE, or no form at all, is bad-request", () => {
    const f = room();
    const other = owner(`<x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x>`);
    expect(errorCondition(f.iq(ALICE, ROOM, "set", other)[0]!)).toBe("bad-request");
    expect(errorCondition(f.iq(ALICE, ROOM, "set", owner(""))[0]!)).toBe("bad-request");
    expect(errorCondition(f.iq(ALICE, ROOM, "set", owner(`<x xmlns='${DATA}' type='form'/>`))[0]!)).toBe("bad-request");
  });

  test("only owners may configure: participants and strangers are forbidden", () => {
    const f = room();
    expect(errorCondition(f.iq(BOB, ROOM, "get", owner(""))[0]!)).toBe("forbidden");
    expect(errorCondition(f.iq(BOB, ROOM, "set", owner(`<x xmlns='${DATA}' type='submit'/>`))[0]!)).toBe("forbidden");
    expect(errorCondition(f.iq("mallory@m.test/x", ROOM, "get", owner(""))[0]!)).toBe("forbidden");
  });
});

describe("destroying a room (§10.9)", () => {
  test("every session gets one unavailable presence with <destroy/>, reason and alternate venue; the owner gets a result; the room is gone", () => {
    const f = room();
    f.join("bob@b.test/phone", "lobby", "Bob");
    const out = f.iq(ALICE, ROOM, "set", owner(`<destroy jid='new@${DOMAIN}'><reason>Moving</reason></destroy>`), "d1");
    const presences = out.filter((s) => s.name === "presence");
    expect(recipients(presences).sort()).toEqual([ALICE, BOB, "bob@b.test/phone"].sort());
    expect(presences).toHaveLength(3); // one each: nobody hears of the others
    for (const p of presences) {
      expect(p.attrs.type).toBe("unavailable");
      const x = p.getChild("x", MUC_USER)!;
      expect(x.getChild("item")!.attrs.role).toBe("none");
      expect(x.getChild("destroy")!.attrs.jid).toBe(`new@${DOMAIN}`);
      expect(x.getChild("destroy")!.getChildText("reason")).toBe("Moving");
      expect(statuses(p)).toContain("110");
    }
    expect(to(presences, BOB)[0]!.attrs.from).toBe(`${ROOM}/Bob`);
    const result = out.find((s) => s.name === "iq")!;
    expect(result.attrs).toEqual({ type: "result", from: ROOM, to: ALICE, id: "d1" });
    expect(f.service.room(ROOM)).toBeUndefined();
  });

  test("a participant may not destroy the room", () => {
    const f = room();
    expect(errorCondition(f.iq(BOB, ROOM, "set", owner("<destroy/>"))[0]!)).toBe("forbidden");
    expect(f.service.room(ROOM)).toBeDefined();
  });
});
