import { describe, expect, test } from "bun:test";
import { DATA, DISCO_INFO, DOMAIN, MUC_OWNER, MUC_ROOMCONFIG, errorCondition, errorType, lobby, occupantIds, to } from "./fixture.ts";

/** XEP-0045 §8.1 modifying the room subject, and its delivery on entering (§7.2.16). */

const ALICE = "alice@a.test/phone"; // owner, moderator
const BOB = "bob@b.test/pc"; // participant
const ROOM = `lobby@${DOMAIN}`;

const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"]);

const subject = (from: string, text: string, id = "s1") =>
  `<message type='groupchat' id='${id}' from='${from}' to='${ROOM}'><subject>${text}</subject></message>`;

describe("the room subject", () => {
  test("a moderator's change is broadcast to every occupant from its occupant JID", () => {
    const f = room();
    const out = f.send(subject(ALICE, "Fire Burn and Cauldron Bubble!"));
    expect(out.map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB].sort());
    for (const m of out) {
      expect(m.attrs).toMatchObject({ type: "groupchat", from: `${ROOM}/Alice` });
      expect(m.getChildText("subject")).toBe("Fire Burn and Cauldron Bubble!");
      expect(m.getChild("body")).toBeUndefined();
      expect(occupantIds(m)).toHaveLength(1);
    }
  });

  test("a participant's change is refused with forbidden (auth) and changes nothing", () => {
    const f = room();
    const out = f.send(subject(BOB, "mine now", "s2"));
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: BOB, id: "s2" });
    expect(errorCondition(out[0]!)).toBe("forbidden");
    expect(errorType(out[0]!)).toBe("auth");
    expect(f.service.room(ROOM)!.subject).toBeUndefined();
  });

  test("participants may change it once the owner allows it (muc#roomconfig_changesubject)", () => {
    const f = room();
    f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field><field var='muc#roomconfig_changesubject'><value>1</value></field></x></query>`);
    const out = f.send(subject(BOB, "ours"));
    expect(out).toHaveLength(2);
    expect(out[0]!.attrs.from).toBe(`${ROOM}/Bob`);
  });

  test("a non-occupant cannot set it (not-acceptable)", () => {
    const f = room();
    expect(errorCondition(f.send(subject("mallory@m.test/x", "spam"))[0]!)).toBe("not-acceptable");
  });

  test("a newcomer gets the current subject last, from whoever set it", () => {
    const f = room();
    f.send(subject(ALICE, "Plans"));
    const out = to(f.join("carol@c.test/home", "lobby", "Carol"), "carol@c.test/home");
    const last = out.at(-1)!;
    expect(last.attrs).toMatchObject({ type: "groupchat", from: `${ROOM}/Alice` });
    expect(last.getChildText("subject")).toBe("Plans");
  });

  test("an empty subject clears it; newcomers then get an empty <subject/>", () => {
    const f = room();
    f.send(subject(ALICE, "Plans"));
    f.send(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><subject/></message>`);
    const last = to(f.join("carol@c.test/home", "lobby", "Carol"), "carol@c.test/home").at(-1)!;
    expect(last.getChild("subject")).toBeDefined();
    expect(last.getChildText("subject")).toBe("");
  });

  test("disco#info shows occupants the current subject in muc#roominfo", () => {
    const f = room();
    f.send(subject(ALICE, "Plans"));
    const info = f.iq(BOB, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!;
    const field = info.getChild("x", DATA)!.getChildren("field").find((x) => x.attrs.var === "muc#roominfo_subject")!;
    expect(field.getChildText("value")).toBe("Plans");
  });
});
