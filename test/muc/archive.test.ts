import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { DATA, DELAY, DISCO_INFO, DOMAIN, MUC_OWNER, MUC_ROOMCONFIG, errorCondition, fixture, to, type FixtureOptions } from "./fixture.ts";

/** The room archive: XEP-0313 (mam:2, #extended) on XEP-0359 stanza-ids, paged with XEP-0059. */

const MAM = "urn:xmpp:mam:2";
const SID = "urn:xmpp:sid:0";
const RSM = "http://jabber.org/protocol/rsm";
const FORWARD = "urn:xmpp:forward:0";
const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const STRANGER = "eve@e.test/x";
const ROOM = `lobby@${DOMAIN}`;

function talkative(count: number, options: FixtureOptions = {}) {
  let n = 0;
  const f = fixture({ storage: new MemoryStorage(), newId: () => `id-${String(++n).padStart(4, "0")}`, ...options });
  f.join(ALICE, "lobby", "Alice");
  f.join(BOB, "lobby", "Bob");
  for (let i = 1; i <= count; i++) {
    f.advance(1000);
    f.say(i % 2 ? ALICE : BOB, "lobby", `m${i}`, `client-${i}`);
  }
  return f;
}

const form = (fields: Record<string, string | string[]>) =>
  `<x xmlns='${DATA}' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM}</value></field>${Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'>${(Array.isArray(v) ? v : [v]).map((x) => `<value>${x}</value>`).join("")}</field>`)
    .join("")}</x>`;
const rsm = (set: string) => `<set xmlns='${RSM}'>${set}</set>`;

interface Page {
  iq: Element;
  bodies: string[];
  ids: string[];
  results: Element[];
  fin: Element | undefined;
}

function mam(f: ReturnType<typeof talkative>, from: string, inner = "", queryid = "q1"): Page {
  const out = f.iq(from, ROOM, "set", `<query xmlns='${MAM}' queryid='${queryid}'>${inner}</query>`, "mam1");
  const results = out.filter((s) => s.name === "message");
  const forwarded = results.map((m) => m.getChild("result", MAM)!.getChild("forwarded", FORWARD)!.getChild("message")!);
  return {
    iq: out.at(-1)!,
    results,
    bodies: forwarded.map((m) => m.getChildText("body")!),
    ids: results.map((m) => m.getChild("result", MAM)!.attrs.id!),
    fin: out.at(-1)!.getChild("fin", MAM),
  };
}

const rsmOf = (page: Page) => page.fin!.getChild("set", RSM)!;

describe("archiving a message (XEP-0359)", () => {
  test("every occupant's copy carries the room's stanza-id, and the archive finds it under that id", () => {
    const f = talkative(0);
    const out = f.say(ALICE, "lobby", "hello", "c1");
    const ids = out.map((m) => m.getChild("stanza-id", SID)!.attrs);
    expect(ids).toEqual([
      { xmlns: SID, by: ROOM, id: "id-0001" },
      { xmlns: SID, by: ROOM, id: "id-0001" },
    ]);
    const page = mam(f, BOB);
    expect(page.ids).toEqual(["id-0001"]);
    expect(page.bodies).toEqual(["hello"]);
  });

  test("a stanza-id a sender forged in the room's name is dropped; one by another entity passes", () => {
    const f = talkative(0);
    const out = f.send(
      `<message type='groupchat' from='${ALICE}' to='${ROOM}'><body>x</body><stanza-id xmlns='${SID}' by='${ROOM}' id='forged'/><stanza-id xmlns='${SID}' by='alice@a.test' id='own'/></message>`,
    );
    const seen = to(out, BOB)[0]!.getChildren("stanza-id", SID).map((s) => `${s.attrs.by}:${s.attrs.id}`);
    expect(seen).toEqual(["alice@a.test:own", `${ROOM}:id-0001`]);
  });

  test("a room with archiving switched off adds no stanza-id, advertises no mam, and answers queries service-unavailable", () => {
    const f = talkative(0);
    f.iq(
      ALICE,
      ROOM,
      "set",
      `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field><field var='muc#roomconfig_enablearchiving'><value>0</value></field></x></query>`,
    );
    expect(f.say(ALICE, "lobby", "off the record")[0]!.getChild("stanza-id", SID)).toBeUndefined();
    const features = f.iq(BOB, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChildren("feature").map((x) => x.attrs.var);
    expect(features).not.toContain(MAM);
    expect(errorCondition(mam(f, BOB).iq)).toBe("service-unavailable");
  });

  test("an archived room advertises mam:2, #extended and sid:0; the query form is discoverable", () => {
    const f = talkative(0);
    const features = f.iq(BOB, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChildren("feature").map((x) => x.attrs.var);
    expect(features).toEqual(expect.arrayContaining([MAM, `${MAM}#extended`, SID]));
    const fields = f.iq(BOB, ROOM, "get", `<query xmlns='${MAM}'/>`)[0]!.getChild("query", MAM)!.getChild("x", DATA)!.getChildren("field");
    expect(fields.map((x) => x.attrs.var)).toEqual(["FORM_TYPE", "start", "end", "with", "before-id", "after-id", "ids"]);
  });
});

describe("querying the archive (XEP-0313 §4)", () => {
  test("results come as forwarded messages from the occupant JID with their delay and the queryid; fin counts them and is complete", () => {
    const f = talkative(3);
    const page = mam(f, BOB);
    expect(page.iq.attrs).toMatchObject({ type: "result", id: "mam1", to: BOB });
    expect(page.bodies).toEqual(["m1", "m2", "m3"]);
    const first = page.results[0]!;
    expect(first.attrs).toMatchObject({ from: ROOM, to: BOB });
    expect(first.getChild("result", MAM)!.attrs.queryid).toBe("q1");
    const forwarded = first.getChild("result", MAM)!.getChild("forwarded", FORWARD)!;
    expect(forwarded.getChild("delay", DELAY)!.attrs.stamp).toBe("2026-01-01T00:00:01Z");
    expect(forwarded.getChild("message")!.attrs).toMatchObject({ from: `${ROOM}/Alice`, type: "groupchat", id: "client-1" });
    expect(page.fin!.attrs.complete).toBe("true");
    expect(rsmOf(page).getChildText("count")).toBe("3");
    expect(rsmOf(page).getChildText("first")).toBe("id-0001");
    expect(rsmOf(page).getChildText("last")).toBe("id-0003");
  });

  test("RSM: forward pages with <after/>, the last page with an empty <before/>, backwards with <before/>; complete only at the end", () => {
    const f = talkative(5);
    const one = mam(f, BOB, rsm("<max>2</max>"));
    expect(one.bodies).toEqual(["m1", "m2"]);
    expect(one.fin!.attrs.complete).toBeUndefined();
    const two = mam(f, BOB, rsm(`<max>2</max><after>${rsmOf(one).getChildText("last")}</after>`));
    expect(two.bodies).toEqual(["m3", "m4"]);
    const three = mam(f, BOB, rsm(`<max>2</max><after>${rsmOf(two).getChildText("last")}</after>`));
    expect(three.bodies).toEqual(["m5"]);
    expect(three.fin!.attrs.complete).toBe("true");
    const last = mam(f, BOB, rsm("<max>2</max><before/>"));
    expect(last.bodies).toEqual(["m4", "m5"]);
    expect(last.fin!.attrs.complete).toBeUndefined();
    const earlier = mam(f, BOB, rsm(`<max>3</max><before>${rsmOf(last).getChildText("first")}</before>`));
    expect(earlier.bodies).toEqual(["m1", "m2", "m3"]);
    expect(earlier.fin!.attrs.complete).toBe("true");
    expect(rsmOf(earlier).getChildText("count")).toBe("5");
  });

  test("#extended flip-page returns the page newest first", () => {
    const f = talkative(3);
    expect(mam(f, BOB, `${rsm("<max>2</max><before/>")}<flip-page/>`).bodies).toEqual(["m3", "m2"]);
  });

  test("max is capped by max_archive_query_results", () => {
    const f = talkative(4, { settings: { maxArchiveQueryResults: 3 } });
    const page = mam(f, BOB, rsm("<max>100</max>"));
    expect(page.bodies).toEqual(["m1", "m2", "m3"]);
    expect(mam(f, BOB).bodies).toHaveLength(3);
  });

  test("filters: with (an occupant JID), start and end (inclusive), after-id and before-id, ids", () => {
    const f = talkative(6);
    expect(mam(f, BOB, form({ with: `${ROOM}/Bob` })).bodies).toEqual(["m2", "m4", "m6"]);
    expect(mam(f, BOB, form({ start: "2026-01-01T00:00:02Z", end: "2026-01-01T00:00:04Z" })).bodies).toEqual(["m2", "m3", "m4"]);
    expect(mam(f, BOB, form({ "after-id": "id-0002", "before-id": "id-0005" })).bodies).toEqual(["m3", "m4"]);
    expect(mam(f, BOB, form({ ids: ["id-0006", "id-0001"] })).bodies).toEqual(["m1", "m6"]);
    expect(mam(f, BOB, form({ with: `${ROOM}/Alice`, start: "2026-01-01T00:00:02Z" })).bodies).toEqual(["m3", "m5"]);
  });

  test("an RSM id that is not in the archive is item-not-found; a bad date, an unknown field, a bad max are bad-request", () => {
    const f = talkative(2);
    expect(errorCondition(mam(f, BOB, rsm("<after>nope</after>")).iq)).toBe("item-not-found");
    expect(errorCondition(mam(f, BOB, form({ start: "yesterday" })).iq)).toBe("bad-request");
    expect(errorCondition(mam(f, BOB, form({ colour: "red" })).iq)).toBe("bad-request");
    expect(errorCondition(mam(f, BOB, rsm("<max>many</max>")).iq)).toBe("bad-request");
  });

  test("who may read: occupants, and in a room that is not members-only anyone who is not an outcast", () => {
    const f = talkative(2);
    expect(mam(f, STRANGER).bodies).toEqual(["m1", "m2"]);
    f.service.setAffiliation(ROOM, "eve@e.test", "outcast", undefined, []);
    expect(errorCondition(mam(f, STRANGER).iq)).toBe("forbidden");
  });

  test("in a members-only room: occupants, members, admins and owners; not strangers", () => {
    const f = talkative(2);
    f.iq(
      ALICE,
      ROOM,
      "set",
      `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field><field var='muc#roomconfig_membersonly'><value>1</value></field></x></query>`,
    );
    expect(errorCondition(mam(f, STRANGER).iq)).toBe("forbidden");
    f.service.setAffiliation(ROOM, "eve@e.test", "member", undefined, []);
    expect(mam(f, STRANGER).bodies).toEqual(["m1", "m2"]);
  });

  test("subject changes are archived too, with their stanza-id", () => {
    const f = talkative(1);
    f.send(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><subject>Topic</subject></message>`);
    const page = mam(f, BOB);
    const last = page.results.at(-1)!.getChild("result", MAM)!.getChild("forwarded", FORWARD)!.getChild("message")!;
    expect(last.getChildText("subject")).toBe("Topic");
  });

  test("the archive survives a restart, and new messages continue it", () => {
    const f = talkative(2);
    f.restart();
    f.say(ALICE, "lobby", "after");
    expect(mam(f, BOB).bodies).toEqual(["m1", "m2", "after"]);
  });
});
