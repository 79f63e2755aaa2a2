import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import type { AuthQuestion, Decision, JoinAuthorizer } from "../../src/auth/types.ts";
import { silentLogger } from "../../src/log.ts";
import { MucService } from "../../src/muc/service.ts";
import { Turn } from "../../src/muc/turn.ts";
import { StanzaRouter } from "../../src/xmpp/stanza-router.ts";
import { DATA, DOMAIN, MUC, MUC_OWNER, MUC_ROOMCONFIG, errorCondition, statuses, xml } from "../muc/fixture.ts";

/**
 * The order of the checks at a join (docs/join-checks.md), through the
 * router with a gate whose answers the test hands out: which refusals come
 * before the gate is asked, and that a user the gate denies learns nothing
 * of the room's kind from the refusal.
 */

const OWNER = "owner@a.test/phone";
const ROOM = `club@${DOMAIN}`;

class HandGate implements JoinAuthorizer {
  readonly asked: AuthQuestion[] = [];
  readonly pending: ((d: Decision) => void)[] = [];
  mustAuthorize(roomNode: string): boolean {
    return roomNode === "club" || roomNode === "open";
  }
  decide(question: AuthQuestion): Promise<Decision> {
    this.asked.push(question);
    return new Promise((resolve) => this.pending.push(resolve));
  }
  answer(allowed: boolean): void {
    this.pending.shift()!({ allowed, failure: false, reason: allowed ? "" : "no", source: "fetch" });
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(config: Record<string, string>) {
  const service = new MucService({ domain: DOMAIN, secret: "test" });
  const gate = new HandGate();
  const sent: Element[] = [];
  const router = new StanzaRouter({ service, authorizer: gate, send: (s) => sent.push(...s), logger: silentLogger });
  const join = (from: string, room: string, nick: string, extra = "") =>
    router.route(xml(`<presence id='j' from='${from}' to='${room}@${DOMAIN}/${nick}'><x xmlns='${MUC}'>${extra}</x></presence>`));
  const configure = (room: string, fields: Record<string, string>) => {
    const body = Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join("");
    router.route(
      xml(`<iq type='set' id='c' from='${OWNER}' to='${room}@${DOMAIN}'><query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field>${body}</x></query></iq>`),
    );
  };
  return { service, gate, sent, join, configure, setup: async () => {
    for (const room of ["club", "open"]) {
      join(OWNER, room, "Owner");
      gate.answer(true);
      await flush();
    }
    configure("club", config);
    sent.length = 0;
    gate.asked.length = 0;
  } };
}

/** A refusal without what differs by room (its addresses). */
const shape = (s: Element) => s.toString().replaceAll("club@", "ROOM@").replaceAll("open@", "ROOM@");

describe("checks at a join and the gate", () => {
  test("a non-member's join to a members-only room is refused at once, without asking the gate", async () => {
    const h = setup({ "muc#roomconfig_membersonly": "1" });
    await h.setup();
    h.join("stranger@c.test/x", "club", "Stranger");
    expect(h.gate.asked).toEqual([]);
    expect(h.sent).toHaveLength(1);
    expect(errorCondition(h.sent[0]!)).toBe("registration-required");
  });

  test("a member's join is gated as usual, and checked again when the gate's answer lands", async () => {
    const h = setup({ "muc#roomconfig_membersonly": "1" });
    await h.setup();
    const room = h.service.room(ROOM)!;
    room.setAffiliation("member@b.test", "member", {}, new Turn(0));
    h.join("member@b.test/pc", "club", "Member");
    expect(h.gate.asked).toHaveLength(1);
    // The membership goes while the gate decides: the join, once allowed, is refused.
    room.setAffiliation("member@b.test", "none", {}, new Turn(0));
    h.gate.answer(true);
    await flush();
    expect(errorCondition(h.sent.at(-1)!)).toBe("registration-required");
    expect(room.occupants.has("Member")).toBe(false);
  });

  test("a wrong password is checked after the gate: a user the gate denies gets the very refusal an open room gives", async () => {
    const h = setup({ "muc#roomconfig_roomsecret": "s3cret" });
    await h.setup();
    h.join("mallory@m.test/x", "club", "Mallory", "<password>guess</password>");
    expect(h.gate.asked).toHaveLength(1);
    h.gate.answer(false);
    await flush();
    h.join("mallory@m.test/x", "open", "Mallory", "<password>guess</password>");
    h.gate.answer(false);
    await flush();
    expect(h.sent).toHaveLength(2);
    expect(errorCondition(h.sent[0]!)).toBe("not-authorized");
    expect(shape(h.sent[0]!)).toBe(shape(h.sent[1]!));
  });

  test("a user the gate allows then meets the password check; the right password enters", async () => {
    const h = setup({ "muc#roomconfig_roomsecret": "s3cret" });
    await h.setup();
    h.join("bob@b.test/pc", "club", "Bob");
    h.gate.answer(true);
    await flush();
    expect(errorCondition(h.sent[0]!)).toBe("not-authorized");
    expect(h.sent[0]!.toString()).toContain("password");
    h.join("bob@b.test/pc", "club", "Bob", "<password>s3cret</password>");
    h.gate.answer(true);
    await flush();
    expect(h.sent.some((s) => s.name === "presence" && statuses(s).includes("110"))).toBe(true);
  });

  test("a full room is checked after the gate: a denied user cannot tell it is full", async () => {
    const h = setup({ "muc#roomconfig_maxusers": "1" });
    await h.setup();
    h.join("mallory@m.test/x", "club", "Mallory");
    expect(h.gate.asked).toHaveLength(1);
    h.gate.answer(false);
    await flush();
    expect(errorCondition(h.sent[0]!)).toBe("not-authorized");
  });
});
