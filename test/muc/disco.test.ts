import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { DATA, DISCO_INFO, DISCO_ITEMS, DOMAIN, MUC_OWNER, MUC_ROOMCONFIG, errorCondition, fixture } from "./fixture.ts";

/** XEP-0030 discovery of the service (XEP-0045 §6.1-6.3) and of a room (§6.4-6.5). */

const ALICE = "alice@a.test/phone";
const STRANGER = "stranger@s.test/x";
const ROOM = `lobby@${DOMAIN}`;

const features = (query: Element) => query.getChildren("feature").map((f) => f.attrs.var);
const formValue = (query: Element, name: string) =>
  query.getChild("x", DATA)!.getChildren("field").find((f) => f.attrs.var === name)?.getChildText("value");

const RSM = "http://jabber.org/protocol/rsm";

describe("service discovery", () => {
  test("the service is a conference/text service supporting MUC, disco, ping and occupant ids", () => {
    const f = fixture();
    const out = f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_INFO}'/>`, "d1");
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toEqual({ type: "result", from: DOMAIN, to: STRANGER, id: "d1" });
    const query = out[0]!.getChild("query", DISCO_INFO)!;
    expect(query.getChild("identity")!.attrs).toMatchObject({ category: "conference", type: "text" });
    expect(features(query)).toEqual(
      expect.arrayContaining([DISCO_INFO, DISCO_ITEMS, "http://jabber.org/protocol/muc", "urn:xmpp:ping", "urn:xmpp:occupant-id:0"]),
    );
  });

  test("a room has the features of an open, public, semi-anonymous, temporary room with self-ping, occupant ids and stable ids", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const out = f.iq(STRANGER, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`);
    expect(out[0]!.attrs).toMatchObject({ type: "result", from: ROOM, to: STRANGER });
    const query = out[0]!.getChild("query", DISCO_INFO)!;
    expect(query.getChild("identity")!.attrs).toMatchObject({ category: "conference", type: "text", name: "lobby" });
    expect(features(query)).toEqual(
      expect.arrayContaining([
        "http://jabber.org/protocol/muc",
        "muc_open",
        "muc_public",
        "muc_semianonymous",
        "muc_temporary",
        "http://jabber.org/protocol/muc#self-ping-optimization",
        "urn:xmpp:occupant-id:0",
        "http://jabber.org/protocol/muc#stable_id",
      ]),
    );
    for (const contradiction of ["muc_hidden", "muc_nonanonymous", "muc_persistent", "muc_membersonly", "muc_passwordprotected"]) {
      expect(features(query)).not.toContain(contradiction);
    }
    expect(formValue(query, "FORM_TYPE")).toBe("http://jabber.org/protocol/muc#roominfo");
  });

  test("a public room shows its head count and subject to anyone (room browsers, as Prosody); occupants see them too", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const outsider = f.iq(STRANGER, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!;
    expect(formValue(outsider, "muc#roominfo_occupants")).toBe("1");
    expect(formValue(outsider, "muc#roominfo_subject")).toBe("");
    expect(formValue(outsider, "muc#roominfo_description")).toBe("");
    const inside = f.iq(ALICE, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!;
    expect(formValue(inside, "muc#roominfo_occupants")).toBe("1");
    expect(formValue(inside, "muc#roominfo_subject")).toBe("");
  });

  test("a hidden room says muc_hidden and is not listed", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.join(ALICE, "secret", "Alice");
    f.iq(ALICE, `secret@${DOMAIN}`, "set", `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field><field var='muc#roomconfig_publicroom'><value>0</value></field></x></query>`);
    const info = f.iq(STRANGER, `secret@${DOMAIN}`, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!;
    expect(features(info)).toContain("muc_hidden");
    expect(features(info)).not.toContain("muc_public");
    const items = f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'/>`)[0]!.getChild("query", DISCO_ITEMS)!;
    expect(items.getChildren("item").map((i) => i.attrs.jid)).toEqual([ROOM]);
  });

  test("disco#items on the service lists the public rooms with their names, in JID order", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.join(ALICE, "kitchen", "Alice");
    f.iq(ALICE, `kitchen@${DOMAIN}`, "set", `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='muc#roomconfig_roomname'><value>The Kitchen</value></field></x></query>`);
    const items = f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'/>`)[0]!.getChild("query", DISCO_ITEMS)!;
    expect(items.getChildren("item").map((i) => [i.attrs.jid, i.attrs.name])).toEqual([
      [`kitchen@${DOMAIN}`, "The Kitchen"],
      [ROOM, "lobby"],
    ]);
    expect(items.getChild("set", RSM)).toBeUndefined(); // one page, nothing asked: no paging shown
  });

  test("disco#items lists persistent rooms nobody is in (from storage)", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query>`);
    f.leave(ALICE, "lobby", "Alice");
    f.restart();
    expect(f.service.room(ROOM)).toBeUndefined();
    const items = f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'/>`)[0]!.getChild("query", DISCO_ITEMS)!;
    expect(items.getChildren("item").map((i) => i.attrs.jid)).toEqual([ROOM]);
  });

  test("disco#items pages with XEP-0059: max, after, first/last/count; at most 100 a page whatever is asked", () => {
    const f = fixture();
    for (let i = 0; i < 105; i++) f.join(ALICE, `r${String(i).padStart(3, "0")}`, "Alice");
    const page = (set: string) => f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'>${set}</query>`)[0]!.getChild("query", DISCO_ITEMS)!;
    const jids = (q: ReturnType<typeof page>) => q.getChildren("item").map((i) => i.attrs.jid!.split("@")[0]);
    const first = page(`<set xmlns='${RSM}'><max>2</max></set>`);
    expect(jids(first)).toEqual(["r000", "r001"]);
    const set = first.getChild("set", RSM)!;
    expect([set.getChildText("first"), set.getChildText("last"), set.getChildText("count")]).toEqual([`r000@${DOMAIN}`, `r001@${DOMAIN}`, "105"]);
    expect(jids(page(`<set xmlns='${RSM}'><max>2</max><after>r001@${DOMAIN}</after></set>`))).toEqual(["r002", "r003"]);
    const unasked = page("");
    expect(unasked.getChildren("item")).toHaveLength(100);
    expect(unasked.getChild("set", RSM)!.getChildText("count")).toBe("105");
    expect(page(`<set xmlns='${RSM}'><max>1000</max></set>`).getChildren("item")).toHaveLength(100);
    expect(errorCondition(f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'><set xmlns='${RSM}'><max>lots</max></set></query>`)[0]!)).toBe(
      "bad-request",
    );
    // Backwards (XEP-0059 §2.5): the last page, then the one before it, in JID order.
    const last = page(`<set xmlns='${RSM}'><max>2</max><before/></set>`);
    expect(jids(last)).toEqual(["r103", "r104"]);
    expect(last.getChild("set", RSM)!.getChildText("first")).toBe(`r103@${DOMAIN}`);
    expect(jids(page(`<set xmlns='${RSM}'><max>2</max><before>r103@${DOMAIN}</before></set>`))).toEqual(["r101", "r102"]);
    const both = f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'><set xmlns='${RSM}'><after>r001@${DOMAIN}</after><before/></set></query>`)[0]!;
    expect(errorCondition(both)).toBe("bad-request");
  });

  test("disco#items on a room reveals no occupants", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const query = f.iq(STRANGER, ROOM, "get", `<query xmlns='${DISCO_ITEMS}'/>`)[0]!.getChild("query", DISCO_ITEMS)!;
    expect(query.children).toHaveLength(0);
  });

  test("a room that does not exist is item-not-found", () => {
    const f = fixture();
    const out = f.iq(STRANGER, `nowhere@${DOMAIN}`, "get", `<query xmlns='${DISCO_INFO}'/>`);
    expect(errorCondition(out[0]!)).toBe("item-not-found");
  });

  test("an unknown node is item-not-found, on the service and on a room", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    expect(errorCondition(f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_INFO}' node='x'/>`)[0]!)).toBe("item-not-found");
    expect(errorCondition(f.iq(STRANGER, ROOM, "get", `<query xmlns='${DISCO_INFO}' node='x'/>`)[0]!)).toBe("item-not-found");
  });

  test("disco sets are refused", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    expect(f.iq(STRANGER, ROOM, "set", `<query xmlns='${DISCO_INFO}'/>`)[0]!.attrs.type).toBe("error");
    expect(f.iq(STRANGER, DOMAIN, "set", `<query xmlns='${DISCO_INFO}'/>`)[0]!.attrs.type).toBe("error");
  });
});
