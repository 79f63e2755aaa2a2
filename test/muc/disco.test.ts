import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
const RSM = "http://jabber.org/protocol/rsm";
import { DATA, DISCO_INFO, DISCO_ITEMS, DOMAIN, MUC_OWNER, MUC_ROOMCONFIG, errorCondition, fixture } from "./fixture.ts";

/** XEP-0030 discovery of the service (XEP-0045 §6.1-6.3) and of a room (§6.4-6.5). */

const ALICE = "alice@a.test/phone";
const STRANGER = "stranger@s.test/x";
const ROOM = `lobby@${DOMAIN}`;

const features = (query: Element) => query.getChildren("feature").map((f) => f.attrs.var);
const formValue = (query: Element, name: string) =>
  query.getChild("x", DATA)!.getChildren("field").find((f) => f.attrs.var === name)?.getChildText("value");

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

  test("only occupants learn the head count and subject from disco#info; outsiders see what the owner published", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const outsider = f.iq(STRANGER, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!;
    expect(formValue(outsider, "muc#roominfo_occupants")).toBeUndefined();
    expect(formValue(outsider, "muc#roominfo_subject")).toBeUndefined();
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

  test("disco#items on the service lists the public rooms with their names, by JID", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.join(ALICE, "kitchen", "Alice");
    f.iq(ALICE, `kitchen@${DOMAIN}`, "set", `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='muc#roomconfig_roomname'><value>The Kitchen</value></field></x></query>`);
    const items = f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'/>`)[0]!.getChild("query", DISCO_ITEMS)!;
    expect(items.getChildren("item").map((i) => [i.attrs.jid, i.attrs.name])).toEqual([
      [`kitchen@${DOMAIN}`, "The Kitchen"],
      [ROOM, "lobby"],
    ]);
    expect(items.getChild("set", RSM)).toBeUndefined();
  });

  describe("disco#items pages (XEP-0059)", () => {
    const rooms = (f: ReturnType<typeof fixture>, n: number) => {
      for (let i = 0; i < n; i++) f.join(ALICE, `r${String(i).padStart(3, "0")}`, "Alice");
    };
    const page = (f: ReturnType<typeof fixture>, set = "") => {
      const query = f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'>${set}</query>`)[0]!.getChild("query", DISCO_ITEMS)!;
      const rsm = query.getChild("set", RSM);
      return {
        jids: query.getChildren("item").map((i) => i.attrs.jid!.split("@")[0]),
        first: rsm?.getChildText("first"),
        index: rsm?.getChild("first")?.attrs.index,
        last: rsm?.getChildText("last"),
        count: rsm?.getChildText("count"),
      };
    };

    test("without <set/> the list stops at 100 items and says how many there are", () => {
      const f = fixture();
      rooms(f, 130);
      const p = page(f);
      expect(p.jids).toHaveLength(100);
      expect(p.jids[0]).toBe("r000");
      expect(p).toMatchObject({ first: `r000@${DOMAIN}`, index: "0", last: `r099@${DOMAIN}`, count: "130" });
    });

    test("<max> and <after> walk the list; the page after the last is empty with the count", () => {
      const f = fixture();
      rooms(f, 25);
      const one = page(f, `<set xmlns='${RSM}'><max>10</max></set>`);
      expect(one.jids).toEqual(Array.from({ length: 10 }, (_, i) => `r${String(i).padStart(3, "0")}`));
      const two = page(f, `<set xmlns='${RSM}'><max>10</max><after>${one.last}</after></set>`);
      expect(two).toMatchObject({ first: `r010@${DOMAIN}`, index: "10", last: `r019@${DOMAIN}`, count: "25" });
      const three = page(f, `<set xmlns='${RSM}'><max>10</max><after>${two.last}</after></set>`);
      expect(three.jids).toHaveLength(5);
      const none = page(f, `<set xmlns='${RSM}'><max>10</max><after>${three.last}</after></set>`);
      expect(none).toMatchObject({ jids: [], first: null, count: "25" });
    });

    test("<before/> gives the last page, <before>X</before> the page before X; <max>0</max> only counts", () => {
      const f = fixture();
      rooms(f, 25);
      expect(page(f, `<set xmlns='${RSM}'><max>10</max><before/></set>`)).toMatchObject({ first: `r015@${DOMAIN}`, index: "15", last: `r024@${DOMAIN}` });
      expect(page(f, `<set xmlns='${RSM}'><max>10</max><before>r015@${DOMAIN}</before></set>`)).toMatchObject({ first: `r005@${DOMAIN}`, last: `r014@${DOMAIN}` });
      expect(page(f, `<set xmlns='${RSM}'><max>0</max></set>`)).toMatchObject({ jids: [], count: "25" });
    });

    test("a <max> over 100 still gets 100; a <max> that is no number is bad-request", () => {
      const f = fixture();
      rooms(f, 120);
      expect(page(f, `<set xmlns='${RSM}'><max>1000</max></set>`).jids).toHaveLength(100);
      expect(errorCondition(f.iq(STRANGER, DOMAIN, "get", `<query xmlns='${DISCO_ITEMS}'><set xmlns='${RSM}'><max>lots</max></set></query>`)[0]!)).toBe("bad-request");
    });
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
