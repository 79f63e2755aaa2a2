import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { Room } from "../../src/muc/room.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { DATA, DISCO_INFO, DOMAIN, MUC_OWNER, MUC_REGISTER, MUC_ROOMCONFIG, REGISTER, fixture } from "./fixture.ts";

/**
 * Property: whatever happened in a room, the room a new process loads from
 * storage is the room that was in memory — occupants with their roles,
 * sessions and presence, affiliations, registrations, configuration, subject
 * and the §7.2.15 history.
 */

const USERS = ["ann@a.test", "ben@b.test", "cat@c.test"] as const;
const SESSIONS = USERS.flatMap((u) => [`${u}/one`, `${u}/two`]);
const NICKS = ["Ann", "Ben", "Cat"] as const;
const ROOM = `lobby@${DOMAIN}`;

type Op =
  | { kind: "presence"; s: string; nick: string; status: string }
  | { kind: "leave"; s: string; nick: string }
  | { kind: "say"; s: string; body: string }
  | { kind: "subject"; s: string; text: string }
  | { kind: "register"; s: string; nick: string }
  | { kind: "configure"; s: string; name: string; persistent: boolean; history: number }
  | { kind: "kick"; s: string; nick: string }
  | { kind: "restart" };

const s = fc.constantFrom(...SESSIONS);
const nick = fc.constantFrom(...NICKS);
const text = fc.constantFrom("hi", "a & b", "<tag>", "ünïcode", "");

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("presence" as const), s, nick, status: text }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("leave" as const), s, nick }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("say" as const), s, body: text.filter((t) => t !== "") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("subject" as const), s, text }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("register" as const), s, nick }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("configure" as const), s, name: text, persistent: fc.boolean(), history: fc.integer({ min: 0, max: 5 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("kick" as const), s, nick }) },
  { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
);

const field = (k: string, v: string) => `<field var='${k}'><value>${v}</value></field>`;
const escape = (t: string) => t.replaceAll("&", "&amp;").replaceAll("<", "&lt;");

function apply(f: ReturnType<typeof fixture>, op: Op): void {
  switch (op.kind) {
    case "presence":
      f.join(op.s, "lobby", op.nick, "");
      f.presence(op.s, "lobby", op.nick, op.status ? `<status>${escape(op.status)}</status>` : "");
      return;
    case "leave":
      f.leave(op.s, "lobby", op.nick);
      return;
    case "say":
      f.say(op.s, "lobby", escape(op.body));
      return;
    case "subject":
      f.send(`<message type='groupchat' from='${op.s}' to='${ROOM}'><subject>${escape(op.text)}</subject></message>`);
      return;
    case "register":
      f.iq(
        op.s,
        ROOM,
        "set",
        `<query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'>${field("FORM_TYPE", MUC_REGISTER)}${field("muc#register_roomnick", op.nick)}</x></query>`,
      );
      return;
    case "configure":
      f.iq(
        op.s,
        ROOM,
        "set",
        `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'>${field("FORM_TYPE", MUC_ROOMCONFIG)}${field("muc#roomconfig_roomname", escape(op.name))}${field("muc#roomconfig_persistentroom", op.persistent ? "1" : "0")}${field("muc#roomconfig_historylength", String(op.history))}</x></query>`,
      );
      return;
    case "kick":
      f.kick(op.s, "lobby", op.nick);
      return;
    case "restart":
      f.restart();
      return;
  }
}

/** Everything about a room that users can see, as plain data. */
function snapshot(room: Room | undefined) {
  if (!room) return undefined;
  return {
    config: room.config,
    subject: room.subject && { text: room.subject.text, from: room.subject.from, by: room.subject.by, stamp: room.subject.stamp },
    affiliations: [...room.affiliations].sort(),
    registrations: [...room.registrations].sort(),
    // Joins within one millisecond may come back in another order.
    occupants: [...room.occupants.values()].sort((a, b) => (a.nick < b.nick ? -1 : 1)).map((o) => ({
      nick: o.nick,
      bare: o.bare,
      role: o.role,
      affiliation: o.affiliation,
      sessions: [...o.sessions].sort(),
      payload: o.payload.map(String).join(""),
    })),
    history: room.history.select({}, Number.MAX_SAFE_INTEGER).map((e) => e.message.toString()),
  };
}

describe("storage", () => {
  test("any sequence of room changes, reloaded from storage, equals the room in memory", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        const f = fixture({ storage: new MemoryStorage(), historySize: 5, settings: { maxHistoryLength: 5 } });
        for (const op of ops) apply(f, op);
        // Whatever is still there: in memory, or waiting in storage (a probe loads it).
        f.iq(SESSIONS[0]!, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`);
        const before = snapshot(f.service.room(ROOM));
        f.restart();
        f.iq(SESSIONS[0]!, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`);
        expect(snapshot(f.service.room(ROOM))).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});
