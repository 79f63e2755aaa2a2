import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { silentLogger } from "../../src/log.ts";
import { MucService } from "../../src/muc/service.ts";
import { serialize } from "../../src/xmpp/serialize.ts";
import { ROOM_ADDITIONS, StanzaLimits, type StanzaLimitsOptions } from "../../src/xmpp/stanza-limits.ts";
import { StanzaRouter } from "../../src/xmpp/stanza-router.ts";
import { DATA, DOMAIN, MUC, MUC_OWNER, errorCondition, errorType, xml } from "../muc/fixture.ts";

/** Limits on what one incoming stanza may carry, as the router applies them before anything else. */

const ROOM = `lobby@${DOMAIN}`;
const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";

const LIMITS: StanzaLimitsOptions = { stanzaBytes: 64 * 1024, body: 100, subject: 50, status: 20, id: 30, roomName: 10, roomDescription: 40 };

function harness(limits: Partial<StanzaLimitsOptions> = {}) {
  const service = new MucService({ domain: DOMAIN, now: () => 0, secret: "test" });
  const sent: Element[] = [];
  const router = new StanzaRouter({ service, limits: new StanzaLimits({ ...LIMITS, ...limits }), send: (s) => sent.push(...s), logger: silentLogger });
  const route = (text: string) => {
    const before = sent.length;
    router.route(xml(text));
    return sent.slice(before);
  };
  route(`<presence from='${ALICE}' to='${ROOM}/Alice'><x xmlns='${MUC}'/></presence>`);
  route(`<presence from='${BOB}' to='${ROOM}/Bob'><x xmlns='${MUC}'/></presence>`);
  return { service, route };
}

const refused = (out: Element[], to = ALICE) => {
  expect(out).toHaveLength(1);
  expect(out[0]!.attrs).toMatchObject({ type: "error", to });
  expect(errorType(out[0]!)).toBe("modify");
  return errorCondition(out[0]!);
};

describe("stanza limits", () => {
  test("a body, subject, status or id over its cap is refused with policy-violation to its sender only", () => {
    const h = harness();
    expect(refused(h.route(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><body>${"x".repeat(101)}</body></message>`))).toBe("policy-violation");
    expect(refused(h.route(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><subject>${"x".repeat(51)}</subject></message>`))).toBe("policy-violation");
    expect(refused(h.route(`<presence from='${ALICE}' to='${ROOM}/Alice'><status>${"x".repeat(21)}</status></presence>`))).toBe("policy-violation");
    expect(refused(h.route(`<message type='groupchat' id='${'"'.repeat(31)}' from='${ALICE}' to='${ROOM}'><body>x</body></message>`))).toBe("policy-violation");
  });

  test("at the cap, the stanza goes through as before", () => {
    const h = harness();
    const out = h.route(`<message type='groupchat' id='${'"'.repeat(30)}' from='${ALICE}' to='${ROOM}'><body>${"x".repeat(100)}</body></message>`);
    expect(out.map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB]);
    expect(out.every((s) => s.attrs.type === "groupchat")).toBe(true);
  });

  test("a stanza that would leave the room over the server's limit is refused, whatever makes it large", () => {
    const h = harness({ body: 1_000_000 });
    const budget = 64 * 1024 - ROOM_ADDITIONS;
    // `&` is written back as `&amp;`: five bytes each.
    const amps = "&amp;".repeat(Math.ceil(budget / 5) + 1);
    expect(refused(h.route(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><body>${amps}</body></message>`))).toBe("policy-violation");
    const extra = xml(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><body>x</body><x xmlns='urn:x'>${"<y/>".repeat(budget / 4)}</x></message>`);
    expect(Buffer.byteLength(serialize(extra))).toBeGreaterThan(budget);
    expect(refused(h.route(serialize(extra)))).toBe("policy-violation");
    // Just under the budget: delivered.
    const fits = "y".repeat(budget - 200);
    expect(h.route(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><body>${fits}</body></message>`)).toHaveLength(2);
  });

  test("a room name or description over its cap refuses the whole configuration form", () => {
    const h = harness();
    const form = (name: string, desc: string) =>
      `<iq type='set' id='c' from='${ALICE}' to='${ROOM}'><query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'>` +
      `<field var='muc#roomconfig_roomname'><value>${name}</value></field><field var='muc#roomconfig_roomdesc'><value>${desc}</value></field></x></query></iq>`;
    expect(refused(h.route(form("x".repeat(11), "")))).toBe("policy-violation");
    expect(refused(h.route(form("", "x".repeat(41))))).toBe("policy-violation");
    expect(h.service.room(ROOM)!.config.name).toBe("");
    expect(h.route(form("x".repeat(10), "x".repeat(40)))[0]!.attrs.type).toBe("result");
    expect(h.service.room(ROOM)!.config.name).toBe("x".repeat(10));
  });

  test("an error stanza over a cap is dropped, never answered", () => {
    const h = harness();
    expect(h.route(`<message type='error' from='${ALICE}' to='${ROOM}'><body>${"x".repeat(101)}</body></message>`)).toEqual([]);
  });

  test("arguments are checked", () => {
    expect(() => new StanzaLimits({ ...LIMITS, body: 0 })).toThrow(TypeError);
    expect(() => new StanzaLimits({ ...LIMITS, stanzaBytes: ROOM_ADDITIONS })).toThrow(TypeError);
  });
});
