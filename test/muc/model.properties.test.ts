import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import fc from "fast-check";
import {
  DATA,
  DOMAIN,
  MUC_OWNER,
  PING,
  REGISTER,
  RosterViews,
  STANZAS,
  fixture,
  itemOf,
  statuses,
  viewMismatches,
  type Fixture,
} from "./fixture.ts";

/**
 * Properties of the MUC core under random sequences of what users do: a few
 * users with two resources each, two rooms, a handful of nicks (one that the
 * service normalises, one it refuses). After every step the invariants below
 * must hold; each session's roster is rebuilt only from the presence it was
 * sent and compared with the room's real state.
 */

const USERS = ["ann@a.test", "ben@b.test", "cat@c.test"] as const;
const SESSIONS = USERS.flatMap((u) => [`${u}/one`, `${u}/two`]);
const ROOMS = ["lobby", "den"] as const;
const NICKS = ["Ann", "Ben", "Cat", " Ann", "b\u202Ead"] as const;

type Op =
  | { kind: "presence"; s: string; room: string; nick: string; show: string }
  | { kind: "leave"; s: string; room: string; nick: string }
  | { kind: "say"; s: string; room: string }
  | { kind: "whisper"; s: string; room: string; nick: string; type: "chat" | "groupchat" }
  | { kind: "kick"; s: string; room: string; nick: string }
  | { kind: "httpKick"; room: string; nick: string }
  | { kind: "bounce"; s: string; room: string; stanza: "presence" | "message"; condition: string }
  | { kind: "subject"; s: string; room: string }
  | { kind: "register"; s: string; room: string; nick: string }
  | { kind: "unregister"; s: string; room: string }
  | { kind: "destroy"; s: string; room: string }
  | { kind: "iq"; s: string; room: string; nick: string; answer: boolean }
  | { kind: "selfPing"; s: string; room: string; nick: string };

const s = fc.constantFrom(...SESSIONS);
const room = fc.constantFrom(...ROOMS);
const nick = fc.constantFrom(...NICKS);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("presence" as const), s, room, nick, show: fc.constantFrom("", "away", "dnd") }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("leave" as const), s, room, nick }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("say" as const), s, room }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("whisper" as const), s, room, nick, type: fc.constantFrom("chat" as const, "groupchat" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("kick" as const), s, room, nick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("httpKick" as const), room, nick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("bounce" as const),
      s,
      room,
      stanza: fc.constantFrom("presence" as const, "message" as const),
      condition: fc.constantFrom("service-unavailable", "remote-server-not-found", "policy-violation"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("subject" as const), s, room }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("register" as const), s, room, nick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unregister" as const), s, room }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("destroy" as const), s, room }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("iq" as const), s, room, nick, answer: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("selfPing" as const), s, room, nick }) },
);

const roomJid = (r: string) => `${r}@${DOMAIN}`;
const bareOf = (session: string) => session.slice(0, session.indexOf("/"));

/** Sessions in a room right now (real full JIDs). */
function sessionsIn(f: Fixture, r: string): Set<string> {
  return new Set(f.service.rooms.get(roomJid(r))?.sessions.keys() ?? []);
}

/** Run one operation; returns what the service sent and the session that acted (if any). */
function run(f: Fixture, op: Op, step: number): { out: Element[]; sender?: string } {
  const R = roomJid(op.room);
  switch (op.kind) {
    case "presence":
      return { out: f.presence(op.s, op.room, op.nick, op.show ? `<show>${op.show}</show>` : ""), sender: op.s };
    case "leave":
      return { out: f.leave(op.s, op.room, op.nick), sender: op.s };
    case "say":
      return { out: f.say(op.s, op.room, `hello ${step}`, `g${step}`), sender: op.s };
    case "whisper":
      return { out: f.whisper(op.s, op.room, op.nick, `psst ${step}`, op.type, `p${step}`), sender: op.s };
    case "kick":
      return { out: f.kick(op.s, op.room, op.nick, "out", `k${step}`), sender: op.s };
    case "httpKick": {
      const out: Element[] = [];
      const r = f.service.room(R);
      const target = r?.occupants.get(op.nick);
      if (r && target) f.service.kick(r, [target], { reason: "http" }, out);
      return { out };
    }
    case "bounce":
      return {
        out: f.send(
          `<${op.stanza} type='error' from='${op.s}' to='${op.stanza === "presence" ? `${R}/x` : R}'><error type='cancel'><${op.condition} xmlns='${STANZAS}'/></error></${op.stanza}>`,
        ),
        sender: op.s,
      };
    case "subject":
      return { out: f.send(`<message type='groupchat' id='t${step}' from='${op.s}' to='${R}'><subject>topic ${step}</subject></message>`), sender: op.s };
    case "register":
      return {
        out: f.iq(op.s, R, "set", `<query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'><field var='muc#register_roomnick'><value>${op.nick}</value></field></x></query>`, `r${step}`),
        sender: op.s,
      };
    case "unregister":
      return { out: f.iq(op.s, R, "set", `<query xmlns='${REGISTER}'><remove/></query>`, `u${step}`), sender: op.s };
    case "destroy":
      return { out: f.iq(op.s, R, "set", `<query xmlns='${MUC_OWNER}'><destroy/></query>`, `d${step}`), sender: op.s };
    case "iq": {
      const out = f.iq(op.s, `${R}/${op.nick}`, "get", "<query xmlns='jabber:iq:version'/>", `v${step}`);
      const fwd = out.find((x) => x.name === "iq" && x.attrs.type === "get");
      if (op.answer && fwd) {
        // The target answers at once; the answer must come back to the asking session only.
        const back = f.send(`<iq type='result' id='${fwd.attrs.id}' from='${fwd.attrs.to}' to='${fwd.attrs.from}'/>`);
        out.push(...back);
      }
      return { out, sender: op.s };
    }
    case "selfPing":
      return { out: f.iq(op.s, `${R}/${op.nick}`, "get", `<ping xmlns='${PING}'/>`, `sp${step}`), sender: op.s };
  }
}

/** Every invariant for one step; returns the violations found. */
function check(f: Fixture, views: RosterViews, op: Op, step: number, out: Element[], sender: string | undefined, before: Set<string>): string[] {
  const problems: string[] = [];
  const R = roomJid(op.room);
  const after = sessionsIn(f, op.room);

  // Every session's roster, rebuilt from presence alone, matches the room.
  problems.push(...viewMismatches(views, f.service));

  for (const stanza of out) {
    const to = stanza.attrs.to!;
    const from = stanza.attrs.from ?? "";
    // Nothing goes from an address the service does not own.
    if (!(from === DOMAIN || from.endsWith(`@${DOMAIN}`) || from.includes(`@${DOMAIN}/`))) problems.push(`stanza from foreign address ${from}`);
    // Nothing goes to a real JID that is not (or was not just) in the room, except answers to the sender.
    if (to !== sender && !before.has(to) && !after.has(to)) problems.push(`${stanza.name} to ${to}, who is not in ${R}`);
    // Messages from the room only reach its occupants.
    if (stanza.name === "message" && stanza.attrs.type !== "error" && from.startsWith(`${R}/`) && !after.has(to)) {
      problems.push(`message ${stanza.attrs.id} from ${from} reached ${to}, not in the room`);
    }
    // Semi-anonymous: only moderators (and the occupant itself) see real JIDs.
    if (stanza.name === "presence" && stanza.attrs.type !== "error" && !statuses(stanza).includes("110")) {
      const viewer = f.service.rooms.get(R)?.sessions.get(to);
      if (viewer && !viewer.isModerator && itemOf(stanza)?.attrs.jid) problems.push(`participant ${to} was shown a real JID`);
    }
  }

  // A groupchat from an occupant reaches every session in the room exactly once; from anyone else, only an error.
  if (op.kind === "say") {
    const echoes = out.filter((m) => m.name === "message" && m.attrs.type === "groupchat" && m.attrs.id === `g${step}`).map((m) => m.attrs.to!);
    if (before.has(op.s)) {
      if (JSON.stringify(echoes.sort()) !== JSON.stringify([...after].sort())) problems.push(`groupchat g${step} reached [${echoes}] instead of [${[...after]}]`);
    } else if (echoes.length > 0 || out.length !== 1 || out[0]!.attrs.type !== "error") {
      problems.push(`groupchat from non-occupant ${op.s} was not refused alone`);
    }
  }

  // A private message reaches every session of its recipient once, and nobody else.
  if (op.kind === "whisper") {
    const delivered = out.filter((m) => m.name === "message" && m.attrs.type !== "error").map((m) => m.attrs.to!);
    const recipient = f.service.rooms.get(R)?.occupants.get(op.nick);
    if (before.has(op.s) && recipient && op.type === "chat") {
      if (JSON.stringify(delivered.sort()) !== JSON.stringify([...recipient.sessions.keys()].sort())) problems.push(`pm p${step} reached [${delivered}]`);
    } else if (delivered.length > 0) {
      problems.push(`pm p${step} should have been refused but reached [${delivered}]`);
    }
  }

  // An IQ answer returns to the asking session only.
  if (op.kind === "iq") {
    const answers = out.filter((x) => x.name === "iq" && x.attrs.type === "result" && x.attrs.id === `v${step}`);
    if (answers.some((a) => a.attrs.to !== op.s)) problems.push(`IQ answer v${step} went to ${answers.map((a) => a.attrs.to)}`);
  }

  // Errors are never answered with errors.
  if (op.kind === "bounce" && out.some((x) => x.attrs.type === "error")) problems.push("an error bounce was answered with an error");

  // The room's indexes agree with each other; a nick is held by one bare JID and never by someone other than its registrant.
  for (const r of f.service.rooms.values()) {
    if (r.isEmpty) problems.push(`empty room ${r.jid} still exists`);
    for (const [session, occupant] of r.sessions) {
      if (r.occupants.get(occupant.nick) !== occupant) problems.push(`${session} maps to an occupant not in the roster`);
      if (!occupant.sessions.has(session)) problems.push(`${session} is not among its occupant's sessions`);
      if (bareOf(session) !== occupant.bare) problems.push(`${session} sits in ${occupant.nick}, held by ${occupant.bare}`);
    }
    for (const [n, occupant] of r.occupants) {
      if (occupant.nick !== n || occupant.jid !== `${r.jid}/${n}`) problems.push(`occupant indexed as ${n} calls itself ${occupant.nick}`);
      if (occupant.sessions.size === 0) problems.push(`${n} has no sessions`);
      for (const session of occupant.sessions.keys()) if (r.sessions.get(session) !== occupant) problems.push(`${session} of ${n} is not indexed`);
      if (occupant.affiliation !== r.affiliationOf(occupant.bare)) problems.push(`${n} shows ${occupant.affiliation}, room says ${r.affiliationOf(occupant.bare)}`);
    }
    for (const [bare, registered] of r.registrations) {
      const holder = r.occupants.get(registered);
      if (holder && holder.bare !== bare) problems.push(`nick ${registered} registered by ${bare} is held by ${holder.bare}`);
    }
  }
  return problems;
}

describe("MUC core properties (random sequences of joins, leaves, nick changes, messages, kicks, bounces…)", () => {
  test("every invariant holds after every step, and shutdown empties every view", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80, size: "max" }), (ops) => {
        const f = fixture();
        const views = new RosterViews();
        ops.forEach((op, step) => {
          const before = sessionsIn(f, op.room);
          const { out, sender } = run(f, op, step);
          views.feed(out);
          const problems = check(f, views, op, step, out, sender, before);
          if (problems.length > 0) throw new Error(`step ${step} ${JSON.stringify(op)}:\n  ${problems.join("\n  ")}`);
        });
        const out: Element[] = [];
        f.service.shutdown(out);
        views.feed(out);
        expect(f.service.rooms.size).toBe(0);
        for (const rooms of views.views.values()) expect(rooms.size).toBe(0);
        for (const stanza of out) expect(statuses(stanza)).toContain("332");
      }),
      { numRuns: 400 },
    );
  });

  test("a nick is never held by two different bare JIDs, whatever the order of joins and nick changes", () => {
    // Narrower and denser than the model above: only presence, leaves and kicks in one room.
    const narrow = fc.oneof(
      fc.record({ kind: fc.constant("presence" as const), s, room: fc.constant("lobby"), nick, show: fc.constant("") }),
      fc.record({ kind: fc.constant("leave" as const), s, room: fc.constant("lobby"), nick }),
      fc.record({ kind: fc.constant("kick" as const), s, room: fc.constant("lobby"), nick }),
    );
    fc.assert(
      fc.property(fc.array(narrow, { minLength: 10, maxLength: 80, size: "max" }), (ops) => {
        const f = fixture();
        const holders = new Map<string, string>(); // nick → bare, as the roster views tell it
        const views = new RosterViews();
        ops.forEach((op, step) => {
          views.feed(run(f, op, step).out);
          holders.clear();
          for (const r of f.service.rooms.values()) {
            for (const occupant of r.occupants.values()) {
              const held = holders.get(occupant.nick);
              if (held !== undefined && held !== occupant.bare) throw new Error(`${occupant.nick} held by ${held} and ${occupant.bare}`);
              holders.set(occupant.nick, occupant.bare);
            }
          }
          expect(viewMismatches(views, f.service)).toEqual([]);
        });
      }),
      { numRuns: 300 },
    );
  });
});

