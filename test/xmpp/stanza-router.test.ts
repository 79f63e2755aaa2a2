import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import fc from "fast-check";
import type { AuthQuestion, Decision, JoinAuthorizer } from "../../src/auth/types.ts";
import { silentLogger } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";
import { MucService } from "../../src/muc/service.ts";
import { StanzaRouter } from "../../src/xmpp/stanza-router.ts";
import {
  DATA,
  DELAY,
  DOMAIN,
  MUC,
  PING,
  REGISTER,
  RosterViews,
  errorCondition,
  errorType,
  statuses,
  viewMismatches,
  xml,
} from "../muc/fixture.ts";

/**
 * The router between the component connection and the MUC core, with a
 * join gate whose answers the tests hand out one by one (and a cache that
 * answers synchronously, as the real decision cache does on a hit).
 */

const ROOM = `lobby@${DOMAIN}`;
const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const BOB2 = "bob@b.test/laptop";
const CAROL = "carol@c.test/home";
const DAVE = "dave@d.test/x";

const keyOf = (q: AuthQuestion) => `${q.userJID}|${q.mucJID}|${q.nickname}`;

/** A JoinAuthorizer whose decisions are resolved by hand. */
class HandGate implements JoinAuthorizer {
  readonly asked: AuthQuestion[] = [];
  readonly pending: { question: AuthQuestion; resolve: (d: Decision) => void; reject: (e: unknown) => void }[] = [];
  /** Answers given synchronously, like cache hits. */
  readonly cached = new Map<string, boolean>();
  gated: (roomNode: string, userHost: string) => boolean = () => true;

  mustAuthorize(roomNode: string, userHost: string): boolean {
    return this.gated(roomNode, userHost);
  }

  decide(question: AuthQuestion): Decision | Promise<Decision> {
    this.asked.push(question);
    const cached = this.cached.get(keyOf(question));
    if (cached !== undefined) return decision(cached, "cache");
    return new Promise((resolve, reject) => this.pending.push({ question, resolve, reject }));
  }

  /** Answer the oldest pending question matching `match` (default: the oldest). */
  answer(allowed: boolean, match: (q: AuthQuestion) => boolean = () => true): AuthQuestion {
    const i = this.pending.findIndex((p) => match(p.question));
    if (i === -1) throw new Error("no such pending question");
    const [p] = this.pending.splice(i, 1);
    p!.resolve(decision(allowed, "fetch"));
    return p!.question;
  }
}

function decision(allowed: boolean, source: Decision["source"]): Decision {
  return allowed ? { allowed, failure: false, reason: "", source } : { allowed, failure: false, reason: "no", source };
}

/** Let promise callbacks (the router's #settle) run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function harness(options: { authorizer?: JoinAuthorizer | null; authorizeRegistration?: boolean; maxHeld?: { stanzas: number; bytes: number } } = {}) {
  const metrics = new Metrics();
  const service = new MucService({ domain: DOMAIN, now: () => Date.parse("2026-01-01T00:00:00Z"), secret: "test", metrics });
  const gate = new HandGate();
  const sent: Element[] = [];
  const router = new StanzaRouter({
    service,
    authorizer: options.authorizer === null ? undefined : (options.authorizer ?? gate),
    authorizeRegistration: options.authorizeRegistration ?? false,
    maxHeld: options.maxHeld,
    send: (stanzas) => sent.push(...stanzas),
    logger: silentLogger,
    metrics,
  });
  let mark = 0;
  return {
    service,
    gate,
    router,
    sent,
    metrics,
    route(stanza: string): void {
      router.route(xml(stanza));
    },
    join(from: string, nick: string, id = "j") {
      router.route(xml(`<presence id='${id}' from='${from}' to='${ROOM}/${nick}'><x xmlns='${MUC}'/></presence>`));
    },
    say(from: string, id: string) {
      router.route(xml(`<message type='groupchat' id='${id}' from='${from}' to='${ROOM}'><body>${id}</body></message>`));
    },
    leave(from: string, nick: string) {
      router.route(xml(`<presence type='unavailable' from='${from}' to='${ROOM}/${nick}'/>`));
    },
    /** What was sent since the last call. */
    fresh(): Element[] {
      const out = sent.slice(mark);
      mark = sent.length;
      return out;
    },
    to(jid: string): Element[] {
      return sent.filter((s) => s.attrs.to === jid);
    },
  };
}

const isSelf = (s: Element) => s.name === "presence" && s.attrs.type === undefined && statuses(s).includes("110");

describe("the stanza router and the join gate", () => {
  test("an allowed join is held until the gate answers, then handled as usual", async () => {
    const h = harness();
    h.join(ALICE, "Alice");
    expect(h.sent).toEqual([]);
    expect(h.router.pending).toBe(1);
    expect(h.gate.asked).toEqual([{ userJID: "alice@a.test", mucJID: ROOM, nickname: "Alice" }]);
    h.gate.answer(true);
    await flush();
    expect(h.router.pending).toBe(0);
    expect(h.sent.map((s) => s.name)).toEqual(["presence", "message"]);
    expect(statuses(h.sent[0]!).sort()).toEqual(["110", "201"]);
    expect(h.metrics.joins.allowed.value).toBe(1);
  });

  test("the gate is asked with the nick as the service prepares it", async () => {
    const h = harness();
    h.join(ALICE, "\u00A0Alice");
    expect(h.gate.asked[0]!.nickname).toBe("Alice");
  });

  test("a denied join gets <error type='auth'><not-authorized/></error>; the room and its occupants see nothing", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.join(ALICE, "Alice");
    h.fresh();
    h.join(BOB, "Bob", "bj");
    h.gate.answer(false);
    await flush();
    const out = h.fresh();
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "error", to: BOB, from: `${ROOM}/Bob`, id: "bj" });
    expect(out[0]!.getChild("x", MUC)).toBeDefined();
    expect(errorType(out[0]!)).toBe("auth");
    expect(errorCondition(out[0]!)).toBe("not-authorized");
    expect(h.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
    expect(h.metrics.joins.denied.value).toBe(1);
  });

  test("a denied first join creates no room", async () => {
    const h = harness();
    h.join(ALICE, "Alice");
    h.gate.answer(false);
    await flush();
    expect(h.service.rooms.size).toBe(0);
  });

  test("a message sent while the join is pending is refused (not-acceptable) after the join's self-presence, and reaches nobody", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.join(ALICE, "Alice");
    h.fresh();
    h.join(BOB, "Bob");
    h.say(BOB, "early");
    expect(h.fresh()).toEqual([]);
    h.gate.answer(true);
    await flush();
    const out = h.fresh();
    const bobs = out.filter((s) => s.attrs.to === BOB);
    const self = bobs.findIndex(isSelf);
    const refusal = bobs.findIndex((s) => s.attrs.type === "error");
    expect(self).toBeGreaterThanOrEqual(0);
    expect(refusal).toBeGreaterThan(self);
    expect(bobs[refusal]!.attrs.id).toBe("early");
    expect(errorCondition(bobs[refusal]!)).toBe("not-acceptable");
    expect(out.some((s) => s.name === "message" && s.attrs.type === "groupchat" && s.attrs.id === "early")).toBe(false);
    // Sent after the join was decided, a message flows.
    h.say(BOB, "later");
    expect(h.fresh().filter((s) => s.attrs.id === "later").map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB].sort());
  });

  test("an IQ sent while the join is pending is answered as from a non-occupant", async () => {
    const h = harness();
    h.join(BOB, "Bob");
    h.route(`<iq type='get' id='sp' from='${BOB}' to='${ROOM}/Bob'><ping xmlns='${PING}'/></iq>`);
    h.gate.answer(true);
    await flush();
    const answer = h.to(BOB).find((s) => s.attrs.id === "sp")!;
    expect(errorCondition(answer)).toBe("not-acceptable");
  });

  test("a leave sent while the join is pending cancels it: the room never sees the user, who gets unavailable with 110", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.join(ALICE, "Alice");
    h.fresh();
    h.join(BOB, "Bob");
    h.leave(BOB, "Bob");
    const out = h.fresh();
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toMatchObject({ type: "unavailable", to: BOB, from: `${ROOM}/Bob` });
    expect(statuses(out[0]!)).toEqual(["110"]);
    expect(h.router.pending).toBe(0);
    h.gate.answer(true); // the answer comes late: it must not bring Bob in
    await flush();
    expect(h.fresh()).toEqual([]);
    expect(h.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
    expect(h.metrics.joins.cancelled.value).toBe(1);
  });

  test("messages queued behind a cancelled join are refused before the unavailable", async () => {
    const h = harness();
    h.join(BOB, "Bob");
    h.say(BOB, "q1");
    h.leave(BOB, "Bob");
    const out = h.fresh();
    expect(out.map((s) => `${s.name}:${s.attrs.type}`)).toEqual(["message:error", "presence:unavailable"]);
  });

  test("a nick taken while the join was pending is a conflict when the answer comes", async () => {
    const h = harness();
    h.join(BOB, "Sam");
    h.gate.cached.set(`carol@c.test|${ROOM}|Sam`, true);
    h.join(CAROL, "Sam");
    expect(h.service.room(ROOM)!.occupants.get("Sam")!.bare).toBe("carol@c.test");
    h.fresh();
    h.gate.answer(true);
    await flush();
    const out = h.fresh();
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs.to).toBe(BOB);
    expect(errorCondition(out[0]!)).toBe("conflict");
    expect(h.service.room(ROOM)!.occupants.get("Sam")!.bare).toBe("carol@c.test");
  });

  test("two sessions of one account joining at once are both admitted, whatever order the answers come in", async () => {
    const h = harness();
    h.join(BOB, "Bob");
    h.join(BOB2, "Bob");
    expect(h.router.pending).toBe(2);
    h.gate.answer(true, () => true);
    h.gate.answer(true);
    await flush();
    const r = h.service.room(ROOM)!;
    expect([...r.occupants.get("Bob")!.sessions.keys()].sort()).toEqual([BOB, BOB2].sort());
    expect(h.to(BOB).some(isSelf)).toBe(true);
    expect(h.to(BOB2).some(isSelf)).toBe(true);
  });

  test("other users, other sessions and other rooms are not held behind a pending join", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.gate.cached.set(`bob@b.test|${ROOM}|Bob`, true);
    h.gate.cached.set(`bob@b.test|other@${DOMAIN}|Bob`, true);
    h.join(ALICE, "Alice");
    h.join(BOB2, "Bob");
    h.fresh();
    h.join(BOB, "Bobby"); // pending
    h.say(ALICE, "a1");
    h.say(BOB2, "b1");
    h.route(`<presence from='${BOB}' to='other@${DOMAIN}/Bob'/>`);
    const out = h.fresh();
    expect(out.filter((s) => s.attrs.id === "a1")).toHaveLength(2);
    expect(out.filter((s) => s.attrs.id === "b1")).toHaveLength(2);
    expect(out.some((s) => s.attrs.from === `other@${DOMAIN}/Bob` && isSelf(s))).toBe(true);
    expect(h.router.pending).toBe(1);
  });

  test("stanzas queued behind a pending entry keep their order", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.join(ALICE, "Alice");
    h.fresh();
    h.route(`<presence from='${ALICE}' to='${ROOM}/Alicia'/>`); // a nick change: gated, pending
    h.say(ALICE, "m1");
    h.route(`<presence from='${ALICE}' to='${ROOM}/Alicia'><show>away</show></presence>`);
    h.say(ALICE, "m2");
    expect(h.fresh()).toEqual([]);
    h.gate.answer(true);
    await flush();
    const out = h.to(ALICE);
    const order = out.map((s) => (s.name === "message" ? `msg:${s.attrs.id}:${s.attrs.from}` : `pres:${s.attrs.type ?? ""}:${s.getChildText("show") ?? ""}`));
    expect(order.slice(-5)).toEqual(["pres:unavailable:", "pres::", `msg:m1:${ROOM}/Alicia`, "pres::away", `msg:m2:${ROOM}/Alicia`]);
  });

  test("a denied nick change is not-authorized; the occupant keeps its nick and the room sees nothing", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.gate.cached.set(`bob@b.test|${ROOM}|Bob`, true);
    h.join(ALICE, "Alice");
    h.join(BOB, "Bob");
    h.fresh();
    h.route(`<presence from='${BOB}' to='${ROOM}/Boss'/>`);
    h.gate.answer(false);
    await flush();
    const out = h.fresh();
    expect(out.map((s) => s.attrs.to)).toEqual([BOB]);
    expect(errorCondition(out[0]!)).toBe("not-authorized");
    expect(h.service.room(ROOM)!.occupants.has("Bob")).toBe(true);
  });

  test("a presence update is not a question for the gate", () => {
    const h = harness();
    h.gate.cached.set(`bob@b.test|${ROOM}|Bob`, true);
    h.join(BOB, "Bob");
    h.route(`<presence from='${BOB}' to='${ROOM}/Bob'><show>dnd</show></presence>`);
    expect(h.gate.asked).toHaveLength(1);
    expect(h.router.pending).toBe(0);
  });

  test("cached answers are applied synchronously, without a hold", () => {
    const h = harness();
    h.gate.cached.set(`bob@b.test|${ROOM}|Bob`, true);
    h.join(BOB, "Bob");
    expect(h.router.pending).toBe(0);
    expect(h.to(BOB).some(isSelf)).toBe(true);
    h.gate.cached.set(`carol@c.test|${ROOM}|Carol`, false);
    h.join(CAROL, "Carol");
    expect(errorCondition(h.to(CAROL)[0]!)).toBe("not-authorized");
  });

  test("a malformed nick never reaches the gate", () => {
    const h = harness();
    h.join(CAROL, "bad\u202Enick");
    expect(h.gate.asked).toHaveLength(0);
    expect(h.to(CAROL).map(errorCondition)).toEqual(["jid-malformed"]);
  });

  test("a taken nick is settled after the gate, so a denied user cannot probe the roster", () => {
    const h = harness();
    h.gate.cached.set(`bob@b.test|${ROOM}|Bob`, true);
    h.join(BOB, "Bob");
    h.gate.cached.set(`carol@c.test|${ROOM}|Bob`, false);
    h.join(CAROL, "Bob");
    expect(h.to(CAROL).map(errorCondition)).toEqual(["not-authorized"]);
    h.gate.cached.set(`dave@d.test|${ROOM}|Bob`, true);
    h.join(DAVE, "Bob");
    expect(h.to(DAVE).map(errorCondition)).toEqual(["conflict"]);
  });

  test("when mustAuthorize says no, no question is asked and the join is immediate", () => {
    const h = harness();
    h.gate.gated = (roomNode, userHost) => !(roomNode === "lobby" && userHost === "b.test");
    h.join(BOB, "Bob");
    expect(h.gate.asked).toEqual([]);
    expect(h.to(BOB).some(isSelf)).toBe(true);
    h.join(CAROL, "Carol");
    expect(h.gate.asked).toHaveLength(1);
  });

  test("without a gate, everyone is admitted", () => {
    const h = harness({ authorizer: null });
    h.join(BOB, "Bob");
    expect(h.to(BOB).some(isSelf)).toBe(true);
  });

  test("a gate that rejects (a bug) fails closed", async () => {
    const h = harness();
    h.join(BOB, "Bob");
    h.gate.pending.shift()!.reject(new Error("boom"));
    await flush();
    expect(errorCondition(h.to(BOB)[0]!)).toBe("not-authorized");
    expect(h.service.rooms.size).toBe(0);
  });

  describe("registration (§7.10)", () => {
    const register = (from: string, nick: string) =>
      `<iq type='set' id='reg' from='${from}' to='${ROOM}'><query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'><field var='muc#register_roomnick'><value>${nick}</value></field></x></query></iq>`;

    test("passes the gate only when authorizeRegistration is on", async () => {
      const off = harness();
      off.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
      off.join(ALICE, "Alice");
      off.route(register(BOB, "Bobby"));
      expect(off.gate.asked.map((q) => q.nickname)).toEqual(["Alice"]);
      expect(off.to(BOB).map((s) => s.attrs.type)).toEqual(["result"]);

      const on = harness({ authorizeRegistration: true });
      on.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
      on.join(ALICE, "Alice");
      on.route(register(BOB, "Bobby"));
      expect(on.gate.asked.at(-1)).toEqual({ userJID: "bob@b.test", mucJID: ROOM, nickname: "Bobby" });
      expect(on.to(BOB)).toEqual([]);
      on.gate.answer(false);
      await flush();
      expect(on.to(BOB).map((s) => [s.name, s.attrs.type, errorCondition(s)])).toEqual([["iq", "error", "not-authorized"]]);
      expect(on.service.room(ROOM)!.registrations.size).toBe(0);
    });

    test("an allowed registration is applied when the answer comes", async () => {
      const h = harness({ authorizeRegistration: true });
      h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
      h.join(ALICE, "Alice");
      h.route(register(BOB, "Bobby"));
      h.gate.answer(true);
      await flush();
      expect(h.to(BOB).map((s) => s.attrs.type)).toEqual(["result"]);
      expect(h.service.room(ROOM)!.registrations.get("bob@b.test")).toBe("Bobby");
    });
  });

  describe("close()", () => {
    test("refuses new joins with service-unavailable, while everything else still flows", () => {
      const h = harness();
      h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
      h.join(ALICE, "Alice");
      h.router.close();
      h.fresh();
      h.join(BOB, "Bob", "late");
      const out = h.fresh();
      expect(out).toHaveLength(1);
      expect(out[0]!.attrs).toMatchObject({ type: "error", to: BOB, id: "late" });
      expect(errorCondition(out[0]!)).toBe("service-unavailable");
      expect(h.gate.asked).toHaveLength(1);
      h.say(ALICE, "still");
      expect(h.fresh()).toHaveLength(1);
    });

    test("a join still pending at close() is not admitted when its answer comes after the shutdown", async () => {
      const h = harness();
      h.join(BOB, "Bob");
      h.router.close();
      const out: Element[] = [];
      h.service.shutdown(out);
      h.gate.answer(true);
      await flush();
      expect(h.service.rooms.size).toBe(0);
      expect(h.to(BOB).some(isSelf)).toBe(false);
      expect(errorCondition(h.to(BOB)[0]!)).toBe("service-unavailable");
    });
  });
});

describe("held stanzas and chained entries", () => {
  test("a message queued behind a pending join stays refused even when a queued nick change holds it again", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.join(ALICE, "Alice");
    h.fresh();
    h.join(BOB, "Bob"); // pending join
    h.route(`<presence from='${BOB}' to='${ROOM}/Robert'/>`); // queued: becomes a nick change once Bob is in
    h.say(BOB, "early"); // sent before Bob was an occupant
    h.gate.answer(true, (q) => q.nickname === "Bob");
    await flush();
    h.gate.answer(true, (q) => q.nickname === "Robert");
    await flush();
    const out = h.fresh();
    expect(out.some((s) => s.name === "message" && s.attrs.type === "groupchat" && s.attrs.id === "early")).toBe(false);
    const refusal = h.to(BOB).find((s) => s.attrs.id === "early")!;
    expect(errorCondition(refusal)).toBe("not-acceptable");
  });

  test("a leave cancelling a pending join also undoes an entry a queued presence made meanwhile", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.gate.cached.set(`bob@b.test|${ROOM}|Robert`, true); // Bob was admitted as Robert a moment ago
    h.join(ALICE, "Alice");
    h.join(BOB, "Bob"); // pending: asks the service
    h.route(`<presence from='${BOB}' to='${ROOM}/Robert'/>`); // queued; its answer is cached
    h.leave(BOB, "Bob");
    await flush();
    // Whatever happened in between, after the leave Bob is not in the room…
    expect(h.service.room(ROOM)!.sessions.has(BOB)).toBe(false);
    // …and every client's view agrees with the room.
    const views = new RosterViews();
    views.feed(h.sent);
    expect(viewMismatches(views, h.service)).toEqual([]);
  });
});

describe("bounded holds", () => {
  test("an entry the gate refuses without asking (question budget spent) gets wait/resource-constraint, not not-authorized", () => {
    const limited: JoinAuthorizer = {
      mustAuthorize: () => true,
      decide: () => ({ allowed: false, failure: true, reason: "over budget", source: "fetch", limited: true }),
    };
    const h = harness({ authorizer: limited });
    h.join(ALICE, "Alice");
    const [refusal] = h.fresh();
    expect([refusal!.name, errorType(refusal!), errorCondition(refusal!)]).toEqual(["presence", "wait", "resource-constraint"]);
    expect(h.service.room(ROOM)?.sessions.has(ALICE) ?? false).toBe(false);
  });

  test("beyond the most stanzas a session may have waiting, more are refused with wait/resource-constraint at once", async () => {
    const h = harness({ maxHeld: { stanzas: 3, bytes: 1 << 20 } });
    h.join(ALICE, "Alice");
    for (const id of ["m1", "m2", "m3", "m4", "m5"]) h.say(ALICE, id);
    const refused = h.fresh();
    expect(refused.map((s) => [s.attrs.id, errorType(s), errorCondition(s)])).toEqual([
      ["m4", "wait", "resource-constraint"],
      ["m5", "wait", "resource-constraint"],
    ]);
    h.gate.answer(true);
    await flush();
    // The three held were handled (as sent before the join: not-acceptable), in order.
    expect(h.fresh().filter((s) => s.name === "message" && s.attrs.type === "error").map((s) => s.attrs.id)).toEqual(["m1", "m2", "m3"]);
  });

  test("the bytes held are bounded too", () => {
    const h = harness({ maxHeld: { stanzas: 100, bytes: 1200 } }); // about 510 bytes each
    h.join(ALICE, "Alice");
    const big = (id: string) => h.route(`<message type='groupchat' id='${id}' from='${ALICE}' to='${ROOM}'><body>${"x".repeat(400)}</body></message>`);
    big("b1");
    big("b2");
    expect(h.fresh()).toEqual([]);
    big("b3");
    expect(h.fresh().map((s) => [s.attrs.id, errorCondition(s)])).toEqual([["b3", "resource-constraint"]]);
  });

  test("an unavailable is never refused nor queued: it cancels the pending join even when the backlog is full", () => {
    const h = harness({ maxHeld: { stanzas: 1, bytes: 1 << 20 } });
    h.join(ALICE, "Alice");
    h.say(ALICE, "m1");
    h.say(ALICE, "m2");
    h.fresh();
    h.leave(ALICE, "Alice");
    expect(h.router.pending).toBe(0);
    expect(h.fresh().map((s) => `${s.name}:${s.attrs.type}`)).toEqual(["message:error", "presence:unavailable"]);
  });

  test("an unavailable behind a pending nick change is not queued: the occupant leaves at once, under its old nick", async () => {
    const h = harness();
    h.gate.cached.set(`alice@a.test|${ROOM}|Alice`, true);
    h.gate.cached.set(`bob@b.test|${ROOM}|Bob`, true);
    h.join(ALICE, "Alice");
    h.join(BOB, "Bob");
    h.route(`<presence from='${ALICE}' to='${ROOM}/Alicia'/>`); // pending nick change
    expect(h.router.pending).toBe(1);
    h.fresh();
    h.leave(ALICE, "Alicia");
    expect(h.router.pending).toBe(0);
    expect(h.service.room(ROOM)!.sessions.has(ALICE)).toBe(false);
    const gone = h.fresh().find((s) => s.attrs.to === BOB && s.attrs.type === "unavailable")!;
    expect(gone.attrs.from).toBe(`${ROOM}/Alice`);
    h.gate.answer(true);
    await flush();
    expect(h.fresh()).toEqual([]); // the late answer changes nothing
    expect(h.service.room(ROOM)!.sessions.has(ALICE)).toBe(false);
  });
});

/**
 * Random interleavings: users send joins, messages, presence updates and
 * leaves while the gate's answers arrive in any order; Cat is always
 * denied. Answers, once given, are cached and come back synchronously.
 */
describe("router properties", () => {
  const USERS = { "ann@a.test": true, "ben@b.test": true, "cat@c.test": false } as const;
  const SESSIONS = Object.keys(USERS).flatMap((u) => [`${u}/one`, `${u}/two`]);
  const NICKS = ["Ann", "Ben", "Cat", "Zed"];

  type Step =
    | { kind: "join"; s: string; nick: string }
    | { kind: "say"; s: string }
    | { kind: "update"; s: string; nick: string }
    | { kind: "leave"; s: string; nick: string }
    | { kind: "answer"; pick: number };

  const session = fc.constantFrom(...SESSIONS);
  const nick = fc.constantFrom(...NICKS);
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("join" as const), s: session, nick }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("say" as const), s: session }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("update" as const), s: session, nick }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("leave" as const), s: session, nick }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("answer" as const), pick: fc.nat() }) },
  );

  test("a denied user never appears in anyone's roster, nothing overtakes a pending join, and each session's answers keep its order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 50, size: "max" }), async (steps) => {
        const h = harness();
        const answerOne = (pick: number) => {
          const p = h.gate.pending.splice(pick % h.gate.pending.length, 1)[0]!;
          const allowed = USERS[p.question.userJID as keyof typeof USERS];
          h.gate.cached.set(keyOf(p.question), allowed);
          p.resolve(decision(allowed, "fetch"));
        };
        const seq = new Map<string, number>();
        const nextId = (s: string) => {
          const n = (seq.get(s) ?? 0) + 1;
          seq.set(s, n);
          return `${s}#${String(n).padStart(3, "0")}`;
        };
        /** Ids of messages sent while the sender had no decided join: they must never be delivered. */
        const early = new Set<string>();
        const joined = (s: string) => h.service.room(ROOM)?.sessions.has(s) ?? false;

        for (const step of steps) {
          switch (step.kind) {
            case "join":
              h.join(step.s, step.nick, nextId(step.s));
              break;
            case "update":
              h.route(`<presence id='${nextId(step.s)}' from='${step.s}' to='${ROOM}/${step.nick}'><show>away</show></presence>`);
              break;
            case "say": {
              const id = nextId(step.s);
              if (!joined(step.s)) early.add(id);
              h.say(step.s, id);
              break;
            }
            case "leave":
              h.leave(step.s, step.nick);
              break;
            case "answer":
              if (h.gate.pending.length > 0) answerOne(step.pick);
              break;
          }
          await flush();
        }
        while (h.gate.pending.length > 0) {
          answerOne(0);
          await flush();
        }
        expect(h.router.pending).toBe(0);

        const views = new RosterViews();
        views.feed(h.sent);
        // Every client's view agrees with the room, and Cat is in none of them.
        expect(viewMismatches(views, h.service)).toEqual([]);
        for (const rooms of views.views.values()) {
          for (const view of rooms.values()) {
            for (const seen of view.occupants.values()) expect(seen.jid ?? "").not.toStartWith("cat@");
          }
        }
        for (const occupant of h.service.room(ROOM)?.occupants.values() ?? []) expect(occupant.bare).not.toBe("cat@c.test");
        for (const s of h.sent) {
          if (s.attrs.to!.startsWith("cat@")) expect(s.attrs.type === "error" || s.attrs.type === "unavailable").toBe(true);
        }
        // Nothing sent before the sender was in the room is delivered to it.
        for (const s of h.sent) {
          if (s.name === "message" && s.attrs.type === "groupchat" && early.has(s.attrs.id ?? "")) {
            throw new Error(`${s.attrs.id} was sent before its sender's join was decided, yet delivered to ${s.attrs.to}`);
          }
        }
        // Per session, what comes back carrying that session's ids comes back in the order it was sent
        // (history replayed on a later join repeats old ids, and is left out).
        for (const target of SESSIONS) {
          const ids = h.sent
            .filter((s) => s.attrs.to === target && (s.attrs.id ?? "").startsWith(`${target}#`) && !s.getChild("delay", DELAY))
            .map((s) => s.attrs.id!);
          expect(ids).toEqual([...ids].sort());
        }
      }),
      { numRuns: 300 },
    );
  });
});
