import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { silentLogger } from "../../src/log.ts";
import { MucService } from "../../src/muc/service.ts";
import { EventRate } from "../../src/xmpp/event-rate.ts";
import { StanzaRouter } from "../../src/xmpp/stanza-router.ts";
import { DOMAIN, MUC, errorCondition, errorType, xml } from "../muc/fixture.ts";

describe("EventRate (mod_muc_limits' throttle)", () => {
  test("a burst of rate × burst, then one event per 1/rate seconds", () => {
    let now = 0;
    const r = new EventRate({ rate: 0.5, burst: 6, now: () => now });
    const takes = (n: number) => Array.from({ length: n }, () => r.take("k"));
    expect(takes(4)).toEqual([true, true, true, false]);
    now += 1999;
    expect(r.take("k")).toBe(false);
    now += 1;
    expect(takes(2)).toEqual([true, false]);
    expect(r.take("other")).toBe(true);
    now += 3_600_000; // refills to the burst, never beyond
    expect(takes(4)).toEqual([true, true, true, false]);
  });

  test("arguments are checked", () => {
    expect(() => new EventRate({ rate: 0, burst: 6 })).toThrow(TypeError);
    expect(() => new EventRate({ rate: 1, burst: 0.5 })).toThrow(TypeError);
  });
});

describe("the router with muc_event_rate", () => {
  const ROOM = `lobby@${DOMAIN}`;
  const ALICE = "alice@a.test/phone";
  const BOB = "bob@b.test/pc";

  test("an occupant over the rate gets wait/policy-violation and the room sees nothing; leaving always works", () => {
    let now = 0;
    const service = new MucService({ domain: DOMAIN, now: () => 0, secret: "t" });
    const sent: Element[] = [];
    const router = new StanzaRouter({ service, eventRate: new EventRate({ rate: 1, burst: 2, now: () => now }), send: (s) => sent.push(...s), logger: silentLogger });
    const route = (text: string) => {
      const before = sent.length;
      router.route(xml(text));
      return sent.slice(before);
    };
    route(`<presence from='${ALICE}' to='${ROOM}/Alice'><x xmlns='${MUC}'/></presence>`); // not yet an occupant: not counted
    route(`<presence from='${BOB}' to='${ROOM}/Bob'><x xmlns='${MUC}'/></presence>`);
    const say = (id: string) => route(`<message type='groupchat' id='${id}' from='${ALICE}' to='${ROOM}'><body>${id}</body></message>`);
    expect(say("m1")).toHaveLength(2);
    expect(say("m2")).toHaveLength(2);
    const refused = say("m3");
    expect(refused.map((s) => [s.attrs.to, errorType(s), errorCondition(s)])).toEqual([[ALICE, "wait", "policy-violation"]]);
    now += 1000;
    expect(say("m4")).toHaveLength(2);
    expect(say("m5")[0]!.attrs.type).toBe("error");
    const left = route(`<presence type='unavailable' from='${ALICE}' to='${ROOM}/Alice'/>`);
    expect(left.some((s) => s.attrs.to === BOB && s.attrs.type === "unavailable")).toBe(true);
  });
});
